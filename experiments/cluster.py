"""Where searches and studies run: a local Ray, or a Ray cluster named by ``--address``.

Nothing here assumes a filesystem shared with the workers. A run trains into a
temporary folder on whichever node runs it, and its small files (:data:`RUN_FILES`)
travel back to the driver as bytes, through Ray's object store, to be written under
``DIR/runs/<name>/`` on the machine that launched the command.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator

from experiments.config import INSTALL_HINT, UsageError

#: What comes back of a run folder; checkpoints/ and tb/ stay on the worker.
RUN_FILES = ("model.zip", "best_model.zip", "config.json", "evaluations.npz", "episodes.monitor.csv", "curve.png")
#: Seconds to wait for a cluster's address to answer before calling it unreachable.
CONNECT_TIMEOUT = 5.0


def require_scale(command: str) -> None:
    """A one-line error naming the extra if Ray Tune, Optuna, PyYAML or SciPy is missing."""
    try:
        import optuna  # noqa: F401
        import ray.tune  # noqa: F401
        import scipy.stats  # noqa: F401
        import yaml  # noqa: F401
    except ImportError as e:
        raise UsageError(f"play.py {command} needs Ray Tune and Optuna ({e.name} is missing): {INSTALL_HINT}") from None


def pack_run(run_dir: pathlib.Path) -> dict[str, bytes]:
    """The run folder's small files, by name, to send back to the driver."""
    return {name: (run_dir / name).read_bytes() for name in RUN_FILES if (run_dir / name).is_file()}


def unpack_run(files: dict[str, bytes], run_dir: pathlib.Path) -> None:
    """Write a packed run folder to ``run_dir``, replacing an older copy of it whole."""
    fresh = run_dir.with_name(run_dir.name + ".incoming")
    shutil.rmtree(fresh, ignore_errors=True)
    fresh.mkdir(parents=True)
    for name in RUN_FILES:  # only these names: nothing from a worker chooses a path
        if name in files:
            (fresh / name).write_bytes(files[name])
    shutil.rmtree(run_dir, ignore_errors=True)
    fresh.rename(run_dir)


def check_reachable(address: str) -> None:
    """Fail at once, in one line, if nothing answers at ``host:port`` (or ``ray://host:port``)."""
    if address == "auto":
        return
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise UsageError(f"--address {address}: expected HOST:PORT, such as 127.0.0.1:6379, or ray://HOST:PORT")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT).close()
    except OSError as e:
        reason = e.strerror or type(e).__name__.replace("Error", "").lower() or "no answer"
        raise UsageError(f"no Ray cluster at {address}: {reason}") from None


def project_modules() -> list[str]:
    """The project's package folders, which Ray ships to a cluster's workers (their dependencies must be there)."""
    import agent
    import experiments
    import spaceship_env

    return [str(pathlib.Path(package.__file__).parent) for package in (agent, experiments, spaceship_env)]


#: Ray's own messages stay in its logs: the commands say what happens.
QUIET = {"log_to_driver": False, "logging_level": "ERROR"}


def start_local_ray(cpus: int, temp_dir: str) -> None:
    """A new Ray on this machine with ``cpus`` CPUs, its sockets and logs in ``temp_dir``.

    Its workers run at the command's priority: Ray's default lowers them to nice 15,
    which on a machine shared with other work leaves the runs only the idle cores.
    """
    import ray

    ray.init(
        address="local",  # never join another Ray that happens to run on this machine
        num_cpus=cpus,
        include_dashboard=False,
        _temp_dir=temp_dir,
        _system_config={"worker_niceness": 0},
        **QUIET,
    )


@contextlib.contextmanager
def ray_session(address: str | None) -> Iterator[None]:
    """Ray for the duration of a command: a new local one on this machine's CPUs, or the cluster at ``address``.

    The local Ray keeps its sockets and logs in a new temporary folder (not under the
    output folder: Unix socket paths must stay short), removed when the command ends.
    """
    import ray

    if ray.is_initialized() and address is None:  # this process has a Ray (a notebook, a test): use it, leave it up
        yield
        return
    temp_dir = None
    if address is None:
        temp_dir = tempfile.mkdtemp(prefix="ray-")
        start_local_ray(os.cpu_count() or 1, temp_dir)
    else:
        check_reachable(address)
        try:
            ray.init(address=address, runtime_env={"py_modules": project_modules()}, **QUIET)
        except (ConnectionError, RuntimeError, ValueError, TimeoutError) as e:
            raise UsageError(f"cannot join the Ray cluster at {address}: {' '.join(str(e).split())}") from None
    print(f"Ray: {'local' if address is None else address}, {cluster_cpus()} CPUs", file=sys.stderr)
    try:
        yield
    finally:
        ray.shutdown()
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


def cluster_cpus() -> int:
    import ray

    return int(ray.cluster_resources().get("CPU", 0))
