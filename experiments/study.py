"""``play.py study``: the same settings over many seeds, learners side by side, as Ray tasks.

Each run is :func:`experiments.run.train` on a Ray worker, then greedy play over
``episodes`` episodes from :data:`~experiments.evaluate.EVAL_SEED` (1,000,000 on, in
windows of 100, as ``play.py evaluate``), seeds that neither training nor a search uses.
The output folder holds ``results.csv`` (a row per run, written as each run ends),
``summary.md`` (per learner: mean and IQM with 95% bootstrap intervals, see
:mod:`experiments.stats`), ``curves.png`` (each learner's periodic evaluations, mean
and 95% band over seeds), ``study.json`` (the settings) and ``runs/<learner>-seed<k>/``.
``--resume`` runs what ``results.csv`` lacks.
"""

from __future__ import annotations

import csv
import json
import pathlib
import shlex
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from experiments.cluster import pack_run, ray_session, unpack_run
from experiments.config import TrainConfig, UsageError, default_hyperparams
from experiments.evaluate import EVAL_SEED, WINDOW

SETTINGS_FILE = "study.json"
RESULTS_FILE = "results.csv"
COLUMNS = (
    "learner", "seed", "timesteps", "episodes", "clear_rate", "mean_return", "return_std",
    "worst_window_clear_rate", "best_window_clear_rate", "wall_time_s", "steps_per_s", "run",
)  # fmt: skip
DEFAULT_TIMESTEPS = 1_000_000
#: Seconds an interrupted study waits for its running runs to stop and clean up.
CANCEL_WAIT = 15


@dataclass
class Learner:
    """One learner of a study: its settings, the same for every seed."""

    n_envs: int
    timesteps: int
    hyperparams: dict[str, Any]
    file: str | None = None
    reward_scale: float = 0.0  # 0: the observations' default


@dataclass
class StudyConfig:
    """A study's settings; ``study.json`` in the output folder, which ``--resume`` reads."""

    obs: str
    seeds: int
    episodes: int
    cpus_per_trial: int
    learners: dict[str, Learner] = field(default_factory=dict)

    def run_name(self, algo: str, seed: int) -> str:
        return f"{algo}-seed{seed}"

    def train_config(self, algo: str, seed: int) -> TrainConfig:
        learner = self.learners[algo]
        return TrainConfig(
            algo=algo,
            obs=self.obs,
            timesteps=learner.timesteps,
            n_envs=learner.n_envs,
            seed=seed,
            reward_scale=learner.reward_scale,
            torch_threads=self.cpus_per_trial,
            hyperparams=dict(learner.hyperparams),
        )

    def command(self) -> str:
        """The command line that makes this study."""
        words = ["python", "play.py", "study"]
        for algo, learner in self.learners.items():
            words += ["--algo", algo]
            if learner.file:
                words += ["--hyperparams", f"{algo}={learner.file}"]
        timesteps = {learner.timesteps for learner in self.learners.values()}
        if len(timesteps) == 1:
            words += ["--timesteps", str(timesteps.pop())]
        words += ["--obs", self.obs, "--seeds", str(self.seeds), "--episodes", str(self.episodes)]
        return shlex.join(words)

    def save(self, out: pathlib.Path) -> None:
        (out / SETTINGS_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, out: pathlib.Path) -> StudyConfig:
        path = out / SETTINGS_FILE
        if not path.is_file():
            raise UsageError(f"nothing to resume in {out}: no {SETTINGS_FILE}")
        try:
            values = json.loads(path.read_text())
            values["learners"] = {algo: Learner(**learner) for algo, learner in values["learners"].items()}
            return cls(**values)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise UsageError(f"{path} is not a study's settings: {e}") from e


def learner_settings(algo: str, obs: str, timesteps: int | None, file: pathlib.Path | None) -> Learner:
    """A learner's settings: play.py's tuned defaults, then its ``--hyperparams`` file, then ``--timesteps``."""
    hyperparams = default_hyperparams(algo, obs)
    n_envs, file_timesteps, reward_scale = TrainConfig.n_envs, None, 0.0
    if file is not None:
        from experiments import zoo

        settings = zoo.read(file, algo, obs)
        hyperparams.update(settings.hyperparams)
        n_envs = settings.n_envs or n_envs
        file_timesteps = settings.timesteps
        reward_scale = settings.reward_scale or reward_scale
    timesteps = timesteps or file_timesteps or DEFAULT_TIMESTEPS
    return Learner(n_envs, timesteps, hyperparams, str(file) if file else None, reward_scale)


def study_run(config: TrainConfig, episodes: int) -> dict[str, Any]:
    """One run of a study, on a Ray worker: train, play the held-out episodes, return the row and the run folder."""
    from experiments.evaluate import greedy, play_windows
    from experiments.run import train
    from spaceship_env.evaluation import Results
    from spaceship_env.params import make_params

    with tempfile.TemporaryDirectory(prefix="study-") as temp:
        run_dir = pathlib.Path(temp) / "run"
        start = time.perf_counter()
        model = train(config, run_dir, progress=False)
        wall = time.perf_counter() - start
        params = make_params(**config.game_kwargs())
        windows = play_windows(lambda: greedy(model), episodes, EVAL_SEED, params, config.obs)
        whole = Results.concatenate(windows)
        rates = [w.clear_rate for w in windows]
        row = {
            "learner": config.algo,
            "seed": config.seed,
            "timesteps": int(model.num_timesteps),
            "episodes": episodes,
            "clear_rate": whole.clear_rate,
            "mean_return": round(float(whole.returns.mean()), 2),
            "return_std": round(float(whole.returns.std()), 2),
            "worst_window_clear_rate": min(rates),
            "best_window_clear_rate": max(rates),
            "wall_time_s": round(wall, 1),
            "steps_per_s": round(model.num_timesteps / wall),
        }
        return {"row": row, "files": pack_run(run_dir)}


def read_results(out: pathlib.Path) -> list[dict[str, Any]]:
    path = out / RESULTS_FILE
    if not path.is_file():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def append_result(out: pathlib.Path, row: dict[str, Any]) -> None:
    path = out / RESULTS_FILE
    new = not path.is_file()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        if new:
            writer.writeheader()
        writer.writerow(row)


def run_study(study: StudyConfig, out: pathlib.Path, address: str | None) -> int:
    """Run every (learner, seed) that ``results.csv`` lacks; returns 0, 1 if a run failed, 130 if interrupted."""
    import ray

    done = {(r["learner"], int(r["seed"])) for r in read_results(out)}
    todo = [(a, s) for s in range(study.seeds) for a in study.learners if (a, s) not in done]  # seed by seed
    if not todo:
        print(f"all {len(done)} runs are in {out / RESULTS_FILE}", file=sys.stderr)
        write_report(study, out)
        return 0
    failed = interrupted = 0
    with ray_session(address):
        remote = ray.remote(study_run).options(num_cpus=study.cpus_per_trial, max_retries=0)
        pending = {remote.remote(study.train_config(a, s), study.episodes): (a, s) for a, s in todo}
        print(f"{len(todo)} runs to go ({len(done)} done)", file=sys.stderr)
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                algo, seed = pending.pop(ready[0])
                name = study.run_name(algo, seed)
                try:
                    result = ray.get(ready[0])
                except ray.exceptions.RayError as e:
                    failed += 1
                    cause = getattr(e, "cause", None) or e
                    print(f"{name}: failed: {type(cause).__name__}: {str(cause).splitlines()[0]}", file=sys.stderr)
                    continue
                unpack_run(result["files"], out / "runs" / name)
                append_result(out, {**result["row"], "run": f"runs/{name}"})
                row = result["row"]
                print(
                    f"{name}: clear rate {row['clear_rate']:.1%}, return {row['mean_return']:.1f} "
                    f"({row['timesteps']:,} steps in {row['wall_time_s']:.0f} s)",
                    file=sys.stderr,
                )
        except KeyboardInterrupt:
            interrupted = len(pending)
            print(f"interrupted: stopping {interrupted} runs (their results are dropped)", file=sys.stderr)
            for ref in pending:
                ray.cancel(ref)  # as Ctrl-C in the run: it stops, and its temporary folder goes
            try:
                ray.wait(list(pending), num_returns=len(pending), timeout=CANCEL_WAIT)
            except KeyboardInterrupt:
                pass
    write_report(study, out)
    if interrupted:
        print(f"interrupted with {interrupted} runs to go: python play.py study --resume {out}", file=sys.stderr)
        return 130
    return 1 if failed else 0


def write_report(study: StudyConfig, out: pathlib.Path) -> None:
    """``summary.md`` and ``curves.png`` from every run in ``results.csv``."""
    from experiments.plots import draw_study_curves

    rows = read_results(out)
    if not rows:
        return
    (out / "summary.md").write_text(summary(study, rows))
    runs = {algo: [out / r["run"] for r in rows if r["learner"] == algo] for algo in study.learners}
    draw_study_curves({a: r for a, r in runs.items() if r}, out / "curves.png")
    print(f"results: {out / RESULTS_FILE}, {out / 'summary.md'}, {out / 'curves.png'}", file=sys.stderr)


def summary(study: StudyConfig, rows: list[dict[str, Any]]) -> str:
    """The study as Markdown: the learners side by side, then a table per learner."""
    from experiments.stats import RESAMPLES, interval, iqm, mean

    def cell(values: np.ndarray, aggregate: Any, percent: bool) -> str:
        low, high = interval(values, aggregate)
        show = (lambda v: f"{v:.1%}") if percent else (lambda v: f"{v:.1f}")
        return f"{show(float(aggregate(values)))} [{show(low)}, {show(high)}]"

    metrics = (("clear rate", "clear_rate", True), ("mean return", "mean_return", False))
    lines = [
        f"# Spaceship-v0 ({study.obs}): {', '.join(study.learners)} over {study.seeds} seeds",
        "",
        f"`{study.command()}`",
        "",
        f"Each run trains with seed k (k = 0 … {study.seeds - 1}), then plays {study.episodes:,} greedy episodes "
        f"from seed {EVAL_SEED:,} on (windows of {WINDOW}), seeds no training uses. Mean and interquartile mean "
        f"(IQM) over runs, with 95% confidence intervals from a percentile bootstrap over runs ({RESAMPLES:,} "
        "resamples), as rliable computes them: Agarwal et al., *Deep Reinforcement Learning at the Edge of the "
        "Statistical Precipice*, NeurIPS 2021 (https://arxiv.org/abs/2108.13264).",
        "",
        "| learner | runs | steps per run | clear rate, IQM [95% CI] | mean return, IQM [95% CI] | steps/s |",
        "|---|---|---|---|---|---|",
    ]
    per_learner = []
    for algo in study.learners:
        mine = [r for r in rows if r["learner"] == algo]
        if not mine:
            continue
        values = {key: np.array([float(r[key]) for r in mine]) for _, key, _ in metrics}
        speed = np.array([float(r["steps_per_s"]) for r in mine])
        steps = f"{study.learners[algo].timesteps:,}"
        lines.append(
            f"| {algo} | {len(mine)} | {steps} | {cell(values['clear_rate'], iqm, True)} | "
            f"{cell(values['mean_return'], iqm, False)} | {speed.mean():,.0f} |"
        )
        per_learner += [
            "",
            f"## {algo}",
            "",
            f"Seeds {', '.join(sorted((r['seed'] for r in mine), key=int))}; "
            f"hyperparameters: `{json.dumps(study.learners[algo].hyperparams)}`, n_envs {study.learners[algo].n_envs}.",
            "",
            "| metric | runs | mean [95% CI] | IQM [95% CI] | per run |",
            "|---|---|---|---|---|",
        ]
        for label, key, percent in metrics:
            each = ", ".join(f"{v:.1%}" if percent else f"{v:.1f}" for v in values[key])
            per_learner.append(
                f"| {label} | {len(mine)} | {cell(values[key], mean, percent)} | "
                f"{cell(values[key], iqm, percent)} | {each} |"
            )
        each_speed = ", ".join(f"{v:,.0f}" for v in speed)
        per_learner.append(f"| steps/s | {len(mine)} | {speed.mean():,.0f} | | {each_speed} |")
    return "\n".join(lines + per_learner) + "\n"
