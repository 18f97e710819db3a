"""The command lines of ``play.py tune`` and ``play.py study``: options, output folder, resuming.

Both run on Ray (the ``scale`` extra): a new local Ray on this machine's CPUs, or the
running cluster that ``--address`` names. The work is in :mod:`experiments.search` and
:mod:`experiments.study`.
"""

from __future__ import annotations

import argparse
import contextlib
import pathlib
import shutil
import time
from collections.abc import Iterator
from typing import Any

from experiments.config import ALGOS, MAX_TIMESTEPS, OBS_TYPES, UsageError, config_options, count
from experiments.evaluate import EVAL_SEED

RUNS = pathlib.Path("runs")
#: Options that may change when a search or study goes on: where it runs, not what it computes.
RESUMABLE = {"address", "cpus_per_trial"}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_where(parser: argparse.ArgumentParser, kind: str) -> None:
    parser.add_argument("--address", default=argparse.SUPPRESS, metavar="HOST:PORT",
                        help="a running Ray cluster (ray start --head prints it); default: a local Ray")  # fmt: skip
    parser.add_argument("--out", type=pathlib.Path, metavar="DIR", help=f"output folder (default runs/{kind}-TIME)")
    parser.add_argument("--resume", type=pathlib.Path, metavar="DIR", help=f"go on with the {kind} in DIR")


def add_commands(sub: Any) -> None:
    """Add ``tune`` and ``study`` to ``play.py``'s subcommands."""
    from experiments.search import SearchConfig
    from experiments.space import table

    t = sub.add_parser(
        "tune",
        help="hyperparameter search on Ray Tune (Optuna TPE, ASHA)",
        description="A hyperparameter search: each trial a training run, scored by greedy play on held-out seeds.",
        epilog="search space for ppo2 and sb3-ppo:\n\n" + table("ppo2") + "\n\nfor pg:\n\n" + table("pg"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for name, default, help, extras in config_options(SearchConfig):
        t.add_argument(_flag(name), default=argparse.SUPPRESS, help=f"{help} (default {default})", **extras)
    _add_where(t, "tune")
    t.set_defaults(handler=tune_command)

    s = sub.add_parser(
        "study",
        help="learners side by side over many seeds, on Ray",
        description="Train each learner with seeds 0..K-1 and compare their greedy play on held-out seeds.",
    )
    s.add_argument("--algo", dest="algos", action="append", choices=ALGOS, default=argparse.SUPPRESS,
                   help="a learner; repeat for several (default ppo2)")  # fmt: skip
    s.add_argument("--obs", choices=OBS_TYPES, default=argparse.SUPPRESS, help="observations (default features)")
    s.add_argument("--seeds", type=count(1), default=argparse.SUPPRESS,
                   help="runs per learner, seeds 0..K-1 (default 5)")  # fmt: skip
    s.add_argument("--timesteps", type=count(1, MAX_TIMESTEPS), default=argparse.SUPPRESS,
                   help="steps per run (default: the --hyperparams file's n_timesteps, else 1,000,000)")  # fmt: skip
    s.add_argument("--episodes", type=count(1), default=argparse.SUPPRESS,
                   help=f"greedy episodes played after training, from seed {EVAL_SEED:,} (default 1000)")  # fmt: skip
    s.add_argument("--hyperparams", action="append", metavar="[ALGO=]FILE", default=argparse.SUPPRESS,
                   help="rl-zoo YAML for every learner, or for ALGO only; repeatable (default: play.py's)")  # fmt: skip
    s.add_argument("--cpus-per-trial", type=count(1, 256), default=argparse.SUPPRESS,
                   help="CPUs, and torch threads, per run (default 1)")  # fmt: skip
    _add_where(s, "study")
    s.set_defaults(handler=study_command)


def _given(args: argparse.Namespace) -> dict[str, Any]:
    return {k: v for k, v in vars(args).items() if k not in ("command", "handler", "out", "resume")}


def _resume_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The options given beside ``--resume``: only where the work runs may change."""
    if args.out is not None:
        raise UsageError("--out cannot be combined with --resume: the output folder is the one resumed")
    given = _given(args)
    refused = sorted(set(given) - RESUMABLE)
    if refused:
        raise UsageError(f"{_flag(refused[0])} cannot be combined with --resume: the work keeps its own settings")
    return given


def _check_address(given: dict[str, Any]) -> None:
    """An unreachable cluster fails before any output folder is made."""
    from experiments.cluster import check_reachable

    if "address" in given:
        check_reachable(given["address"])


@contextlib.contextmanager
def _removed_if_nothing_ran(out: pathlib.Path) -> Iterator[None]:
    """A new output folder goes again if the work fails before anything but its settings is written (no Ray)."""
    try:
        yield
    except UsageError:
        if len(list(out.iterdir())) <= 1:
            shutil.rmtree(out, ignore_errors=True)
        raise


def _new_folder(args: argparse.Namespace, kind: str) -> pathlib.Path:
    out = args.out or RUNS / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}"
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out} is not empty: choose a new --out, or go on with --resume {out}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot write to {out}: {e.strerror or e}") from e
    return out


def tune_command(args: argparse.Namespace) -> int:
    from experiments.cluster import require_scale

    require_scale("tune")
    if getattr(args, "address", "").startswith("ray://"):
        raise UsageError(
            "tune runs Ray Tune's driver here, which Ray Client (ray://) moves away: "
            "run tune on a node of the cluster with --address HOST:PORT"
        )
    from experiments.search import SearchConfig, load_settings, save_settings, tune_search

    if args.resume is not None:
        given = _resume_settings(args)
        search = load_settings(args.resume)
        if "cpus_per_trial" in given:
            search.cpus_per_trial = given["cpus_per_trial"]
            save_settings(search, args.resume)
        return tune_search(search, args.resume, given.get("address"), resume=True)
    given = _given(args)
    search = SearchConfig(**{k: v for k, v in given.items() if k != "address"})
    _check_address(given)
    out = _new_folder(args, "tune")
    save_settings(search, out)
    with _removed_if_nothing_ran(out):
        return tune_search(search, out, given.get("address"), resume=False)


def _hyperparams_files(entries: list[str], algos: list[str]) -> dict[str, pathlib.Path]:
    """``--hyperparams`` entries, ``FILE`` for every learner or ``ALGO=FILE``, as a file per learner."""
    files: dict[str, pathlib.Path] = {}
    for entry in entries:
        algo, sep, name = entry.partition("=")
        if sep and algo in ALGOS:
            if algo not in algos:
                raise UsageError(f"--hyperparams {entry}: {algo} is not one of the --algo given")
            files[algo] = pathlib.Path(name)
        else:
            files |= dict.fromkeys(algos, pathlib.Path(entry))
    return files


def study_command(args: argparse.Namespace) -> int:
    from experiments.cluster import require_scale

    require_scale("study")
    from experiments.study import StudyConfig, learner_settings, run_study

    if args.resume is not None:
        given = _resume_settings(args)
        study = StudyConfig.load(args.resume)
        study.cpus_per_trial = given.get("cpus_per_trial", study.cpus_per_trial)
        return run_study(study, args.resume, given.get("address"))
    given = _given(args)
    algos = list(dict.fromkeys(given.get("algos", ["ppo2"])))
    obs = given.get("obs", "features")
    files = _hyperparams_files(given.get("hyperparams", []), algos)
    learners = {algo: learner_settings(algo, obs, given.get("timesteps"), files.get(algo)) for algo in algos}
    study = StudyConfig(
        obs=obs,
        seeds=given.get("seeds", 5),
        episodes=given.get("episodes", 1000),
        cpus_per_trial=given.get("cpus_per_trial", 1),
        learners=learners,
    )
    _check_address(given)
    out = _new_folder(args, "study")
    study.save(out)
    with _removed_if_nothing_ran(out):
        return run_study(study, out, given.get("address"))
