"""``play.py tune``: a hyperparameter search on Ray Tune, sampled by Optuna's TPE, pruned by ASHA.

Each trial is :func:`experiments.run.train`, the training ``play.py train`` runs, on a
Ray worker. After each of its periodic evaluations the trial plays ``episodes`` greedy
episodes from seed :data:`~experiments.evaluate.SEARCH_SEED` (900,000 on: seeds no
training run uses, apart from the 1,000,000 on that ``evaluate`` and ``study`` report
on) and reports to Tune:

    score = clear_rate + (mean_return / WAVE_VALUE) / (episodes + 1)

A lexicographic scalar: one more cleared episode (1/episodes) always outweighs any
difference of mean return, which only breaks ties. ASHA stops the trials whose score
trails at its rungs; TPE proposes the next trials from the scores so far.

By default a trial's budget is ``--timesteps`` and ASHA compares trials at equal steps.
With ``--seconds S``, a trial trains for S seconds of its own CPU time (its worker's
process time: one core, whatever else the machine runs) and ASHA compares trials at
equal CPU time: the best trial is then the one that reaches the highest clear rate
fastest, the objective when wall-clock time matters more than samples.

The output folder holds ``trials.csv`` (a row per trial), ``best.yml`` (rl-zoo's
format), ``search.json`` (the settings, for ``--resume``), ``runs/<trial>/`` (each
trial's run folder, as of its last report) and ``tune/`` (Ray Tune's own state).
"""

from __future__ import annotations

import csv
import json
import math
import os
import pathlib
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from experiments.cluster import cluster_cpus, pack_run, ray_session, unpack_run
from experiments.config import (
    ALGOS,
    MAX_TIMESTEPS,
    OBS_TYPES,
    TrainConfig,
    UsageError,
    count,
    default_hyperparams,
    option,
)
from experiments.evaluate import SEARCH_SEED
from experiments.space import trial_settings
from spaceship_env import WAVE_VALUE

SETTINGS_FILE = "search.json"
TUNE_DIR = "tune"
#: The Ray actor that holds each trial's newest run folder until the driver writes it.
FOLDERS_ACTOR = "spaceship-run-folders"
#: ASHA: the first rung at this share of a trial's budget, each next one this many times further.
GRACE_SHARE, REDUCTION = 1 / 8, 2
METRICS = ("score", "clear_rate", "mean_return", "timesteps", "cpu_s", "wall_time_s")


@dataclass
class SearchConfig:
    """A search's settings; ``search.json`` in the output folder, which ``--resume`` reads."""

    algo: str = option("ppo2", "learner to tune", choices=ALGOS)
    obs: str = option("features", "observations", choices=OBS_TYPES)
    trials: int = option(32, "trials (training runs) in all", type=count(1))
    timesteps: int = option(1_000_000, "environment steps per trial, at most (ASHA stops weak trials sooner)",
                            type=count(1, MAX_TIMESTEPS))  # fmt: skip
    seed: int = option(0, "seed of every trial's training (trials differ by hyperparameters only) and of TPE",
                       type=count(0))  # fmt: skip
    seconds: int = option(0, "CPU seconds per trial, at most; 0: --timesteps alone sets the budget. ASHA then "
                          "compares trials at equal CPU time", type=count(0))  # fmt: skip
    episodes: int = option(100, f"greedy episodes of the objective, from seed {SEARCH_SEED:,}", type=count(1, 99_999))
    cpus_per_trial: int = option(1, "CPUs, and torch threads, per trial", type=count(1, 256))

    def score(self, clear_rate: float, mean_return: float) -> float:
        """The objective: the clear rate, with the mean return breaking ties (module docstring)."""
        return clear_rate + mean_return / WAVE_VALUE / (self.episodes + 1)

    def train_config(self, sample: dict[str, Any]) -> TrainConfig:
        n_envs, hyperparams = trial_settings(self.algo, sample, self.timesteps)
        return TrainConfig(
            algo=self.algo,
            obs=self.obs,
            timesteps=self.timesteps,
            n_envs=n_envs,
            seed=self.seed,
            reward_scale=sample.get("reward_scale", 0.0),
            torch_threads=self.cpus_per_trial,
            hyperparams=hyperparams,
        )


def run_trial(sample: dict[str, Any], settings: dict[str, Any]) -> None:
    """One Tune trial: train, and after each evaluation report the score and hand over the run folder."""
    import ray
    from ray import tune

    from experiments.callbacks import HeldOutPlay
    from experiments.evaluate import play_greedy
    from experiments.plots import draw_learning_curve
    from experiments.run import train
    from spaceship_env.params import make_params

    search = SearchConfig(**settings)
    config = search.train_config(sample)
    trial = tune.get_context().get_trial_id()
    folders = ray.get_actor(FOLDERS_ACTOR)
    params = make_params(**config.game_kwargs())
    start, start_cpu = time.perf_counter(), time.process_time()
    reported = {"timesteps": -1}
    # ASHA ends a trial by stopping its worker in the middle of a report, so nothing after it runs:
    # the run folder lives in the trial's working directory, which Ray keeps in its own session folder.
    run_dir = pathlib.Path.cwd() / f"run-{trial}"

    def report(model: Any, results: Any) -> bool:
        """Report to Tune; False (stop training) once the trial has had its CPU seconds."""
        metrics = {
            "score": round(search.score(results.clear_rate, float(results.returns.mean())), 6),
            "clear_rate": results.clear_rate,
            "mean_return": float(results.returns.mean()),
            "timesteps": int(model.num_timesteps),
            "cpu_s": round(time.process_time() - start_cpu, 1),
            "wall_time_s": round(time.perf_counter() - start, 1),
        }
        model.save(run_dir / "model.zip")  # the folder as of this report, should ASHA stop the trial here
        draw_learning_curve(run_dir, params)
        ray.get(folders.put.remote(trial, pack_run(run_dir)))
        reported.update(metrics)
        tune.report(metrics)
        return not search.seconds or metrics["cpu_s"] < search.seconds

    held_out = HeldOutPlay(config, search.episodes, SEARCH_SEED, report)
    model = train(config, run_dir, after_evaluation=held_out, progress=False)
    if model.num_timesteps > reported["timesteps"]:  # the last rollout came after the last evaluation
        report(model, play_greedy(model, config.obs, search.episodes, SEARCH_SEED, params))


class RunFolders:
    """A Ray actor: the newest run folder of each trial, from the worker that trained it to the driver."""

    def __init__(self) -> None:
        self.folders: dict[str, dict[str, bytes]] = {}

    def put(self, trial: str, files: dict[str, bytes]) -> None:
        self.folders[trial] = files

    def take(self, trial: str) -> dict[str, bytes] | None:
        return self.folders.pop(trial, None)


@dataclass
class TrialRecord:
    """What ``trials.csv`` and ``best.yml`` need of a Tune trial: its state, sampled values and last report."""

    trial: str
    status: str
    sample: dict[str, Any]
    result: dict[str, Any]

    @property
    def score(self) -> float:
        return self.result.get("score", -math.inf)


def _live_ledger() -> Any:
    from ray.tune import Callback

    return Ledger.live or Callback()


def _ledger_class() -> type:
    """The Tune callback class, made on first use so that this module imports without Ray."""
    from ray.tune import Callback

    class _Ledger(Callback):
        """Keeps the output folder current: each trial's run folder, ``trials.csv`` and ``best.yml``.

        Tune pickles its callbacks with the experiment; unpickled (``Tuner.restore``), this
        becomes the ledger of the driver now running, which knows the output folder.
        """

        def __init__(self, search: SearchConfig, out: pathlib.Path) -> None:
            self.search = search
            self.out = out
            self.ended: dict[str, str] = {}  # trial id: how Tune ended it, "completed", "stopped early" or "error"
            self.seen_restored = False

        def __reduce__(self) -> tuple:
            return _live_ledger, ()

        def on_step_begin(self, iteration: int, trials: list, **info: Any) -> None:
            self._note_restored(trials)

        def on_trial_result(self, iteration: int, trials: list, trial: Any, result: dict, **info: Any) -> None:
            self._note_restored(trials)
            self._update(trials, [trial])

        def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            self._note_restored(trials)
            self.ended[trial.trial_id] = self._how_it_ended(trial)
            self._update(trials, [trial])
            self._say(trial)

        def on_trial_error(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
            self._note_restored(trials)
            self.ended[trial.trial_id] = "error"
            self._update(trials, [trial])
            self._say(trial, f" (see {trial.path}/error.txt)")

        def on_experiment_end(self, trials: list, **info: Any) -> None:
            self._note_restored(trials)
            self._update(trials, trials, final=True)

        def _note_restored(self, trials: list) -> None:
            """At the first event: the trials a resumed search had already ended."""
            if self.seen_restored:
                return
            self.seen_restored = True
            for trial in trials:
                if trial.status in ("TERMINATED", "ERROR"):
                    self.ended[trial.trial_id] = "error" if trial.status == "ERROR" else self._how_it_ended(trial)

        def _how_it_ended(self, trial: Any) -> str:
            """Completed: it had its whole budget, of steps or of CPU seconds; else ASHA stopped it."""
            result = trial.last_result or {}
            spent = self.search.seconds and result.get("cpu_s", 0) >= self.search.seconds
            return "completed" if spent or result.get("timesteps", 0) >= self.search.timesteps else "stopped early"

        def _say(self, trial: Any, more: str = "") -> None:
            result = trial.last_result or {}
            figures = ""
            if "score" in result:
                figures = (
                    f": clear rate {result['clear_rate']:.0%}, return {result['mean_return']:.1f} "
                    f"at {result['timesteps']:,} steps ({result['wall_time_s']:.0f} s)"
                )
            print(f"trial {trial.trial_id} {self.ended[trial.trial_id]}{figures}{more}", file=sys.stderr)

        def _update(self, trials: list, changed: list, final: bool = False) -> None:
            """Write the changed trials' run folders, then the tables of all trials."""
            import ray

            folders = ray.get_actor(FOLDERS_ACTOR)
            for trial in changed:
                files = ray.get(folders.take.remote(trial.trial_id))
                if files:
                    unpack_run(files, self.out / "runs" / trial.trial_id)
            Ledger.records = [self._record(t, final) for t in trials if t.config]
            write_tables(self.search, self.out, Ledger.records)

        def _record(self, trial: Any, final: bool) -> TrialRecord:
            result = {name: trial.last_result[name] for name in METRICS if name in (trial.last_result or {})}
            if trial.trial_id in self.ended:
                status = self.ended[trial.trial_id]
            elif final:  # Tune stopped it at the end of the experiment: Ctrl-C
                status = "interrupted" if result else "not started"
            else:
                status = trial.status.lower()  # running, pending, paused
            return TrialRecord(trial.trial_id, status, dict(trial.config), result)

    return _Ledger


class Ledger:
    """The driver's ledger: ``Ledger.live`` is the callback of the search now running."""

    live: ClassVar[Any] = None
    records: ClassVar[list[TrialRecord]] = []

    @classmethod
    def start(cls, search: SearchConfig, out: pathlib.Path) -> Any:
        cls.live = _ledger_class()(search, out)
        cls.records = []
        return cls.live

    @classmethod
    def cut_short(cls, search: SearchConfig, out: pathlib.Path) -> None:
        """After a SIGTERM or second Ctrl-C, which end the search before Tune can: the unfinished are interrupted."""
        for record in cls.records:
            if record.status in ("running", "pending", "paused"):
                record.status = "interrupted" if record.result else "not started"
        write_tables(search, out, cls.records)


def trial_row(search: SearchConfig, record: TrialRecord) -> dict[str, Any]:
    """A row of ``trials.csv``: the trial's figures as last reported, then the hyperparameters it trained with."""
    row: dict[str, Any] = {"trial": record.trial, "status": record.status}
    row |= {name: record.result.get(name, "") for name in METRICS}
    config = search.train_config(record.sample)
    row["n_envs"] = config.n_envs
    row["reward_scale"] = config.reward_scale
    for name, value in config.hyperparams.items():
        if name == "policy_kwargs":
            row["net_arch"] = "x".join(map(str, value["net_arch"]))
        else:
            row[name] = value
    return row


def write_tables(search: SearchConfig, out: pathlib.Path, records: list[TrialRecord]) -> None:
    """``trials.csv``, best score first, and ``best.yml`` from the best trial so far."""
    if not records:
        return
    rows = [trial_row(search, r) for r in sorted(records, key=table_order)]
    temporary = out / "trials.csv.tmp"
    with temporary.open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    temporary.replace(out / "trials.csv")
    best = best_trial(records)
    if best is not None:
        write_best(search, best, out / "best.yml", len(records))


def table_order(record: TrialRecord) -> tuple[float, str]:
    """Best score first; ties in the order of the trial ids, so the table and ``best.yml`` agree."""
    return -record.score, record.trial


def best_trial(records: list[TrialRecord]) -> TrialRecord | None:
    """The first completed trial in table order; if none has completed yet, the first that reported."""
    scored = [r for r in records if r.result]
    whole = [r for r in scored if r.status == "completed"]
    return min(whole or scored, key=table_order, default=None)


def write_best(search: SearchConfig, record: TrialRecord, path: pathlib.Path, n_trials: int) -> None:
    from experiments import zoo

    config = search.train_config(record.sample)
    hyperparams = {**default_hyperparams(search.algo, search.obs), **config.hyperparams}
    result = record.result
    notes = [
        f"play.py tune: the best of {n_trials} trials, {record.trial} ({record.status}, {result['timesteps']:,} "
        f"steps): clear rate {result['clear_rate']:.1%}, mean return {result['mean_return']:.1f} over "
        f"{search.episodes} greedy episodes from seed {SEARCH_SEED:,}",
        f"python play.py train --algo {search.algo} --obs {search.obs} --hyperparams {path.name}",
    ]
    if search.algo in ("ppo2", "sb3-ppo") and search.obs == "features":
        zoo_train = "python -m rl_zoo3.train --gym-packages spaceship_env --env Spaceship-v0 --algo ppo"
        notes.append(f"{zoo_train} --conf-file {path.name}")
    elif search.algo == "pg":
        notes.append("PolicyGradient has no rl-zoo algorithm: this file is for play.py train --algo pg")
    else:
        notes.append("rl-zoo does not build play.py's pixel observations: this file is for play.py train")
    temporary = path.with_suffix(".yml.tmp")
    timesteps = result["timesteps"] if search.seconds else search.timesteps  # what the trial had in its time
    zoo.write(temporary, config.n_envs, timesteps, search.obs, hyperparams, notes, config.reward_scale)
    temporary.replace(path)


def tune_search(search: SearchConfig, out: pathlib.Path, address: str | None, resume: bool) -> int:
    """Run (or go on with) the search into ``out``; returns the exit code: 0, or 130 if interrupted."""
    import optuna
    import ray
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler
    from ray.tune.search.optuna import OptunaSearch

    with ray_session(address):
        folders = ray.remote(num_cpus=0)(RunFolders).options(name=FOLDERS_ACTOR).remote()  # lives while referenced
        concurrent = max(1, cluster_cpus() // search.cpus_per_trial)
        trainable = tune.with_resources(
            tune.with_parameters(run_trial, settings=asdict(search)), {"cpu": search.cpus_per_trial}
        )
        ledger = Ledger.start(search, out)
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        # A resumed trial starts again from step 1, which Optuna has seen: it keeps the first report, and says so.
        warnings.filterwarnings("ignore", "The reported value is ignored", UserWarning)
        if resume:
            tuner = tune.Tuner.restore(str((out / TUNE_DIR).resolve()), trainable, restart_errored=True)
        else:
            from optuna.samplers import TPESampler

            from experiments.space import tune_space

            tuner = tune.Tuner(
                trainable,
                tune_config=tune.TuneConfig(
                    metric="score",
                    mode="max",
                    search_alg=OptunaSearch(
                        tune_space(search.algo), metric="score", mode="max", sampler=TPESampler(seed=search.seed)
                    ),
                    scheduler=ASHAScheduler(
                        time_attr="cpu_s" if search.seconds else "timesteps",
                        max_t=search.seconds or search.timesteps,
                        grace_period=max(1, int((search.seconds or search.timesteps) * GRACE_SHARE)),
                        reduction_factor=REDUCTION,
                    ),
                    num_samples=search.trials,
                    max_concurrent_trials=concurrent,
                    reuse_actors=True,  # a trial that ran to its end hands its worker, torch imported, to the next
                ),
                run_config=tune.RunConfig(
                    name=TUNE_DIR, storage_path=str(out.resolve()), callbacks=[ledger], verbose=0
                ),
            )
        print(f"{search.trials} trials of {search.timesteps:,} steps at most, {concurrent} at a time", file=sys.stderr)
        os.environ["RAY_AIR_NEW_OUTPUT"] = "0"  # Tune's older reporter, which verbose=0 silences; the ledger speaks
        try:
            tuner.fit()
        except KeyboardInterrupt:  # a second Ctrl-C, or SIGTERM: Tune's own handler takes only the first SIGINT
            Ledger.cut_short(search, out)
        del folders
    return finish(search, out, Ledger.records)


def finish(search: SearchConfig, out: pathlib.Path, records: list[TrialRecord]) -> int:
    """Say how the trials ended; 130 if the search has trials left to run (``--resume`` runs them)."""
    counts: dict[str, int] = {}
    for record in records:
        counts[record.status] = counts.get(record.status, 0) + 1
    print(", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "no trials", file=sys.stderr)
    print(f"results: {out / 'trials.csv'}, {out / 'best.yml'}, {out / 'runs'}/", file=sys.stderr)
    ended = sum(counts.get(name, 0) for name in ("completed", "stopped early", "error"))
    if ended < search.trials:
        print(f"interrupted: go on with python play.py tune --resume {out}", file=sys.stderr)
        return 130
    if not any(record.result for record in records):
        print(f"no trial reported a score: see {out / TUNE_DIR}/*/error.txt", file=sys.stderr)
        return 1
    return 0


def save_settings(search: SearchConfig, out: pathlib.Path) -> None:
    (out / SETTINGS_FILE).write_text(json.dumps(asdict(search), indent=2) + "\n")


def load_settings(out: pathlib.Path) -> SearchConfig:
    path = out / SETTINGS_FILE
    if not path.is_file() or not (out / TUNE_DIR).is_dir():
        raise UsageError(f"nothing to resume in {out}: no {SETTINGS_FILE} and {TUNE_DIR}/ of a search")
    try:
        return SearchConfig(**json.loads(path.read_text()))
    except (ValueError, TypeError) as e:
        raise UsageError(f"{path} is not a search's settings: {e}") from e
