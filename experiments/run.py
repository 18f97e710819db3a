"""A training run: its folder, its lock, learning, saving on any exit, and resuming.

A run folder holds ``model.zip``, ``best_model.zip`` (periodic evaluation),
``checkpoints/``, TensorBoard logs in ``tb/``, ``episodes.monitor.csv``,
``evaluations.npz``, ``config.json`` and ``curve.png``.
"""

from __future__ import annotations

import contextlib
import math
import os
import pathlib
import shutil
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback

from experiments.callbacks import ProgressBar, evaluation
from experiments.config import TrainConfig, UsageError, algo_class, default_hyperparams, learner_kwargs, policy_name
from experiments.envs import make_train_env
from experiments.plots import MONITOR_FILE, draw_learning_curve
from spaceship_env.params import make_params

LOCK_FILE = ".lock"


@contextlib.contextmanager
def locked(run_dir: pathlib.Path) -> Iterator[None]:
    """Hold ``run_dir`` for this process: a second training into it is refused at once.

    An advisory ``flock`` on ``.lock``: the system releases it when the process ends in
    any way, so a lock left by a dead process is simply taken over. Where there is no
    ``fcntl`` (Windows), runs are not locked.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with (run_dir / LOCK_FILE).open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            raise UsageError(f"{run_dir} is in use by process {holder}: one training per run folder") from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        try:
            yield
        finally:
            lock.truncate(0)  # the flock goes with the file's closing


class Interrupts:
    """Ctrl-C and SIGTERM stop training; while the run saves, further ones wait their turn.

    The first signal raises ``KeyboardInterrupt`` as Ctrl-C does. Inside :meth:`saving`,
    signals are noted, not raised, so that a second Ctrl-C cannot cut the save short.
    Signal handlers belong to the main thread; elsewhere (a worker thread) this does nothing.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self._saving = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for s, handler in self._previous.items():
            signal.signal(s, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        if self._saving:
            print(f"\n{signal.Signals(signum).name}: still saving, one moment", file=sys.stderr)
            return
        raise KeyboardInterrupt

    @contextlib.contextmanager
    def saving(self) -> Iterator[None]:
        self._saving = True
        try:
            yield
        finally:
            self._saving = False


def train(
    config: TrainConfig,
    run_dir: pathlib.Path,
    resume: bool = False,
    after_evaluation: BaseCallback | None = None,
    progress: bool = True,
) -> Any:
    """Train into ``run_dir``; on Ctrl-C, SIGTERM or an error, save the model and curve first.

    A run folder this call created is removed again if training fails before anything
    was saved. Interrupted training re-raises ``KeyboardInterrupt`` once all is saved.
    ``after_evaluation`` runs after each periodic evaluation (a search reports there);
    ``progress=False`` leaves out the progress bar (a run among many, on a Ray worker).
    """
    params = make_params(**config.game_kwargs())  # bad game arguments fail before any folder exists
    created = not run_dir.exists()
    try:
        _prepare(run_dir)
        with Interrupts() as interrupts, locked(run_dir):
            return _train(config, run_dir, resume, params, interrupts, after_evaluation, progress)
    except BaseException:
        if created and not (run_dir / "model.zip").exists():
            shutil.rmtree(run_dir, ignore_errors=True)
        raise


def _prepare(run_dir: pathlib.Path) -> None:
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise UsageError(f"cannot write to run directory {run_dir}: {e.strerror or e}") from e


def _train(
    config: TrainConfig,
    run_dir: pathlib.Path,
    resume: bool,
    params: Any,
    interrupts: Interrupts,
    after_evaluation: BaseCallback | None,
    show_progress: bool,
) -> Any:
    import torch as th
    from stable_baselines3.common.callbacks import CallbackList, CheckpointCallback

    # Before the model is made: its orthogonal initialisation rounds differently with more
    # threads, so a run would depend on the machine's number of cores.
    th.set_num_threads(config.torch_threads)
    monitor = str(run_dir / MONITOR_FILE.removesuffix(".monitor.csv"))
    venv = make_train_env(
        config.obs, config.n_envs, config.seed, config.game_kwargs(), monitor, resume, config.reward_scale
    )
    try:
        model = resume_model(config, run_dir, venv) if resume else new_model(config, run_dir, venv)
        config.save(run_dir / "config.json")
        remaining = config.timesteps - model.num_timesteps
        rollout = model.n_steps * venv.num_envs
        if remaining % rollout:
            print(
                f"training {math.ceil(remaining / rollout) * rollout:,} steps: whole rollouts of {rollout:,} "
                f"({model.n_steps} steps x {venv.num_envs} games)"
            )
        every = max(config.timesteps // 10 // config.n_envs, model.n_steps)  # ten times a run, at most once a rollout
        progress = ProgressBar(remaining) if show_progress else None
        callbacks = CallbackList(
            [
                CheckpointCallback(every, str(run_dir / "checkpoints"), name_prefix="model"),
                evaluation(config, run_dir, every, resume, after_evaluation),
                *([progress] if progress else []),
            ]
        )
    except BaseException:
        venv.close()
        raise
    interrupted = False
    try:
        model.learn(remaining, callback=callbacks, reset_num_timesteps=not resume, tb_log_name=config.algo)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        with interrupts.saving():
            if progress:
                progress.close()
            if interrupted:
                print("\ninterrupted: saving what was learned", file=sys.stderr)
            _save_final(model, run_dir)
            venv.close()
            draw_learning_curve(run_dir, params)
    print(f"run folder: {run_dir}  (model.zip, best_model.zip, checkpoints/, tb/, {MONITOR_FILE}, curve.png)")
    if interrupted:
        raise KeyboardInterrupt
    return model


def _save_final(model: Any, run_dir: pathlib.Path) -> None:
    import torch as th

    if all(th.isfinite(p).all() for p in model.policy.parameters()):
        model.save(run_dir / "model.zip")
    else:  # never write a broken model over a good one; the checkpoints remain
        print("the weights are not finite: model.zip was not written", file=sys.stderr)


def new_model(config: TrainConfig, run_dir: pathlib.Path, venv: Any) -> Any:
    hyperparams = {**default_hyperparams(config.algo, config.obs), **config.hyperparams}
    config.hyperparams = hyperparams  # config.json records what the run used
    try:
        return algo_class(config.algo)(
            policy_name(config.obs),
            venv,
            seed=config.seed,
            tensorboard_log=str(run_dir / "tb"),
            device="cpu",
            **learner_kwargs(hyperparams),
        )
    except (AssertionError, TypeError, ValueError) as e:  # SB3 checks some arguments with assert
        raise UsageError(f"bad settings for --algo {config.algo}: {e}") from e


def saves_newest_first(run_dir: pathlib.Path) -> list[pathlib.Path]:
    """The run's saves: its checkpoints and model.zip, newest first."""
    saves = [*(run_dir / "checkpoints").glob("model_*_steps.zip"), run_dir / "model.zip"]
    return sorted((p for p in saves if p.is_file()), key=lambda p: p.stat().st_mtime_ns, reverse=True)


def resume_model(config: TrainConfig, run_dir: pathlib.Path, venv: Any) -> Any:
    """The newest intact save of the run, loaded onto ``venv``; a damaged one is skipped, with a word."""
    from agent import ModelLoadError

    saves = saves_newest_first(run_dir)
    if not saves:
        raise UsageError(f"nothing to resume in {run_dir}: no checkpoints/ and no model.zip")
    for save in saves:
        try:
            model = algo_class(config.algo).load(save, env=venv, device="cpu")
        except ModelLoadError as e:
            print(f"skipping {save}: {e}", file=sys.stderr)
            continue
        if save != saves[0]:
            print(f"resuming from {save}, the newest intact save")
        break
    else:
        raise UsageError(f"nothing to resume in {run_dir}: every save is damaged")
    if model.num_timesteps >= config.timesteps:
        raise UsageError(
            f"{run_dir} has already trained {model.num_timesteps:,} of its {config.timesteps:,} steps; "
            "pass a larger --timesteps to go on"
        )
    return model
