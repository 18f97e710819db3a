"""Learning curves beside the random policy: a run's episode returns, a study's evaluations per learner."""

from __future__ import annotations

import csv
import functools
import pathlib

import numpy as np

from spaceship_env import WAVE_VALUE
from spaceship_env.baselines import random_policy
from spaceship_env.evaluation import play_episodes
from spaceship_env.params import GameParams

MONITOR_FILE = "episodes.monitor.csv"


def read_episodes(run_dir: pathlib.Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-episode (timesteps at its end, return, cleared) from the run's monitor CSV."""
    path = run_dir / MONITOR_FILE
    if not path.exists():
        return np.zeros(0), np.zeros(0), np.zeros(0, bool)
    with path.open() as f:
        next(f)  # the JSON header line
        rows = list(csv.DictReader(f))
    returns = np.array([float(r["r"]) for r in rows])
    lengths = np.array([int(r["l"]) for r in rows])
    cleared = np.array([r.get("end_reason") == "cleared" for r in rows])
    return np.cumsum(lengths), returns, cleared


@functools.lru_cache(maxsize=16)
def random_level(params: GameParams | None = None, episodes: int = 100) -> float:
    """The random policy's mean return, the level a learner must rise above (the same each call: seeded)."""
    rng = np.random.default_rng(0)
    return float(play_episodes(lambda obs: random_policy(obs, rng), episodes, params=params).returns.mean())


def draw_learning_curve(run_dir: pathlib.Path, params: GameParams | None = None) -> pathlib.Path | None:
    """Episode return against timesteps, with the random policy's level as a line; ``curve.png``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps, returns, _ = read_episodes(run_dir)
    if len(returns) == 0:
        return None
    level = random_level(params)
    window = max(1, min(100, len(returns) // 10))
    smooth = np.convolve(returns, np.ones(window) / window, mode="valid")
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(steps, returns, ".", alpha=0.15, color="tab:blue", markersize=2)
    ax.plot(steps[window - 1 :], smooth, color="tab:blue", label=f"episode return (mean of {window})")
    ax.axhline(level, color="tab:red", linestyle="--", label=f"random policy ({level:.0f})")
    ax.axhline(WAVE_VALUE, color="grey", linestyle=":", label=f"whole wave ({WAVE_VALUE})")
    ax.set_xlabel("timesteps")
    ax.set_ylabel("episode return R(τ)")
    ax.legend(loc="lower right")
    ax.set_title(run_dir.name)
    fig.tight_layout()
    path = run_dir / "curve.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def read_evaluations(run_dir: pathlib.Path) -> tuple[np.ndarray, np.ndarray]:
    """The run's periodic evaluations (``evaluations.npz``): timesteps, and the mean return at each."""
    path = run_dir / "evaluations.npz"
    if not path.is_file():
        return np.zeros(0), np.zeros(0)
    with np.load(path) as evaluations:
        return evaluations["timesteps"].astype(float), evaluations["results"].mean(axis=1)


def draw_study_curves(
    runs: dict[str, list[pathlib.Path]], path: pathlib.Path, params: GameParams | None = None
) -> None:
    """Evaluation return against timesteps: per learner, the mean over its runs and a 95% bootstrap band.

    Runs are compared at the timesteps of their evaluations, up to the shortest run's last;
    a run evaluated elsewhere is interpolated there.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from experiments.stats import interval

    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (learner, run_dirs) in enumerate(runs.items()):
        curves = [c for c in map(read_evaluations, run_dirs) if len(c[0])]
        if not curves:
            continue
        end = min(steps[-1] for steps, _ in curves)
        grid = np.unique(np.concatenate([steps[steps <= end] for steps, _ in curves]))
        returns = np.array([np.interp(grid, steps, values) for steps, values in curves])
        colour = f"C{i}"
        ax.plot(grid, returns.mean(axis=0), ".-", color=colour, label=f"{learner} ({len(curves)} runs)")
        if len(curves) > 1:
            band = np.array([interval(returns[:, j], np.mean, resamples=2_000) for j in range(len(grid))])
            ax.fill_between(grid, band[:, 0], band[:, 1], color=colour, alpha=0.2, linewidth=0)
    level = random_level(params)
    ax.axhline(level, color="tab:red", linestyle="--", label=f"random policy ({level:.0f})")
    ax.axhline(WAVE_VALUE, color="grey", linestyle=":", label=f"whole wave ({WAVE_VALUE})")
    ax.set_xlabel("timesteps")
    ax.set_ylabel("evaluation return (mean, 95% CI)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
