"""PPO2 against SB3's PPO (and PolicyGradient) on Spaceship-v0, in one run.

    python bench/learners.py [--timesteps 1000000] [--seeds 0 1 2]
    python bench/learners.py --speed [--timesteps 200000] [--repeats 3] [--threads 1]

Returns (default): final greedy return and clear rate over 100 seeded evaluation episodes,
wall time, and the PPO2 / SB3-PPO ratios. Training settings are play.py's defaults. The
order of the learners rotates from seed to seed, so none always runs first.

Speed (``--speed``): PPO2 and SB3's PPO train on ``SpaceshipVecEnv`` (in ``VecMonitor``, as
play.py's ``make_train_env``) with equal hyperparameters, taking turns, ``--repeats`` times
per configuration: play.py's defaults, ``small`` (64 envs, n_steps 128, batch 1024,
4 epochs, lr 1e-3) and ``first`` (the first search's defaults, minibatches of 256).
Each run prints the steps/s of ``learn`` by wall clock and by process CPU time (the
machine is shared, so CPU time is the steadier) and where its wall time goes:
``collect_rollouts`` (and within it the env's ``step``), ``train``, and the rest. The
summary gives the medians and the PPO2 / SB3 ratio of the medians.

Threads: torch runs ``--threads`` intra-op threads (default 1), set here for both learners,
as play.py does. On a busy 2-core machine, 2 threads under libgomp's default wait policy
make each large op wait for a descheduled thread (a 2048 x 59 -> 64 linear: 0.1 ms with 1
thread, 3-8 ms with 2); ``OMP_WAIT_POLICY=ACTIVE`` in the environment makes 2 threads pay,
at the price of a second core spinning.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch as th
from earlier_defaults import FIRST
from stable_baselines3 import PPO

from agent import PPO2, PolicyGradient
from experiments.config import REWARD_SCALE, default_hyperparams, learner_kwargs
from experiments.envs import make_train_env
from spaceship_env.evaluation import play_episodes

LEARNERS = {"PPO2": (PPO2, "ppo2"), "SB3 PPO": (PPO, "sb3-ppo"), "PolicyGradient": (PolicyGradient, "pg")}

#: Where a learner's wall time goes, in the speed comparison; "env" is part of "collect".
PARTS = ("collect", "env", "train", "other")

#: The speed configurations: (n_envs, hyperparameters).
SPEED_CONFIGS: dict[str, tuple[int, dict[str, Any]]] = {
    "default": (32, default_hyperparams("ppo2", "features")),
    "small": (64, {"n_steps": 128, "batch_size": 1024, "n_epochs": 4, "learning_rate": 1e-3, "ent_coef": 0.01}),
    "first": (32, FIRST["hyperparams"]),  # the defaults the first search chose
}


# --- returns -----------------------------------------------------------------------------
def run(name: str, seed: int, timesteps: int, n_envs: int) -> tuple[float, float, float]:
    cls, algo = LEARNERS[name]
    model = cls(
        "MlpPolicy",
        make_train_env("features", n_envs, seed, reward_scale=REWARD_SCALE["features"]),
        seed=seed,
        device="cpu",
        **learner_kwargs(default_hyperparams(algo, "features")),
    )
    start = time.perf_counter()
    model.learn(timesteps)
    wall = time.perf_counter() - start
    results = play_episodes(lambda obs: model.predict(obs, deterministic=True)[0], 100, seed=100_000)
    return results.returns.mean(), results.clear_rate, wall


def compare_returns(timesteps: int, seeds: list[int], n_envs: int) -> None:
    table: dict[str, list[tuple[float, float, float]]] = {name: [] for name in LEARNERS}
    names = list(LEARNERS)
    for k, seed in enumerate(seeds):
        # Each seed starts with the next learner, so no learner always runs first.
        for name in names[k % len(names) :] + names[: k % len(names)]:
            table[name].append(run(name, seed, timesteps, n_envs))
            ret, clear, wall = table[name][-1]
            print(f"seed {seed} {name:15s} return {ret:6.1f}  cleared {clear:4.0%}  {wall:6.1f} s", flush=True)
    print(f"\n{timesteps:,} steps, seeds {seeds}, 100 greedy evaluation episodes each")
    print("| learner | return (mean over seeds) | per seed | clear rate | wall time |\n|---|---|---|---|---|")
    for name, rows in table.items():
        r = np.array(rows)
        per_seed = ", ".join(f"{x:.0f}" for x in r[:, 0])
        print(f"| {name} | {r[:, 0].mean():.1f} | {per_seed} | {r[:, 1].mean():.0%} | {r[:, 2].mean():.1f} s |")
    ppo2, sb3 = np.array(table["PPO2"]), np.array(table["SB3 PPO"])
    print(
        f"\nPPO2 / SB3-PPO return ratio {ppo2[:, 0].mean() / sb3[:, 0].mean():.3f}, "
        f"wall-time ratio {ppo2[:, 2].mean() / sb3[:, 2].mean():.3f}"
    )


# --- speed -------------------------------------------------------------------------------
@dataclass
class SpeedRun:
    """One timed ``learn``: steps per second and the wall time of its parts."""

    steps: int
    wall: float
    cpu: float
    parts: dict[str, float] = field(default_factory=dict)

    @property
    def wall_rate(self) -> float:
        return self.steps / self.wall

    @property
    def cpu_rate(self) -> float:
        return self.steps / self.cpu

    def share(self, part: str) -> float:
        if part == "other":
            return 1.0 - (self.parts["collect"] + self.parts["train"]) / self.wall
        return self.parts[part] / self.wall

    def shares(self) -> str:
        return (
            f"collect {self.share('collect'):3.0%} (env {self.share('env'):3.0%}) "
            f"train {self.share('train'):3.0%} other {self.share('other'):3.0%}"
        )


def timing(parts: dict[str, float], name: str, method: Callable) -> Callable:
    """``method``, adding its wall time to ``parts[name]``."""
    parts[name] = 0.0

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            parts[name] += time.perf_counter() - start

    return timed


def speed_run(name: str, config: str, timesteps: int, seed: int) -> SpeedRun:
    cls, _ = LEARNERS[name]
    n_envs, hyperparams = SPEED_CONFIGS[config]
    venv = make_train_env("features", n_envs, seed)
    model = cls("MlpPolicy", venv, seed=seed, device="cpu", **learner_kwargs(hyperparams))
    parts: dict[str, float] = {}
    venv.step = timing(parts, "env", venv.step)
    model.collect_rollouts = timing(parts, "collect", model.collect_rollouts)
    model.train = timing(parts, "train", model.train)
    wall, cpu = time.perf_counter(), time.process_time()
    model.learn(timesteps)
    return SpeedRun(model.num_timesteps, time.perf_counter() - wall, time.process_time() - cpu, parts)


def compare_speed(timesteps: int, repeats: int, configs: list[str]) -> None:
    names = ["PPO2", "SB3 PPO"]
    print(f"torch threads {th.get_num_threads()}, {timesteps:,} steps per run, {repeats} runs each, turns alternate")
    summary = []
    for config in configs:
        runs: dict[str, list[SpeedRun]] = {name: [] for name in names}
        for k in range(repeats):
            for name in names[k % 2 :] + names[: k % 2]:
                r = speed_run(name, config, timesteps, seed=k)
                runs[name].append(r)
                rates = f"{r.wall_rate:7.0f} steps/s wall {r.cpu_rate:7.0f} CPU"
                print(f"{config:8s} run {k} {name:8s} {rates}  {r.shares()}", flush=True)
        summary.append((config, runs))
    print("\n| config | learner | steps/s wall (median) | steps/s CPU (median) | collect | (env) | train | other |")
    print("|---|---|---|---|---|---|---|---|")
    for config, runs in summary:
        for name in names:
            rs = runs[name]
            shares = " | ".join(f"{statistics.median(r.share(part) for r in rs):.0%}" for part in PARTS)
            print(
                f"| {config} | {name} | {statistics.median(r.wall_rate for r in rs):.0f} | "
                f"{statistics.median(r.cpu_rate for r in rs):.0f} | {shares} |"
            )
    for config, runs in summary:
        ppo2, sb3 = runs["PPO2"], runs["SB3 PPO"]
        wall = statistics.median(r.wall_rate for r in ppo2) / statistics.median(r.wall_rate for r in sb3)
        cpu = statistics.median(r.cpu_rate for r in ppo2) / statistics.median(r.cpu_rate for r in sb3)
        pairs = ", ".join(f"{a.wall_rate / b.wall_rate:.2f}" for a, b in zip(ppo2, sb3, strict=True))
        print(f"{config}: PPO2 / SB3 PPO steps/s {wall:.2f} wall ({pairs} per turn), {cpu:.2f} CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speed", action="store_true", help="time PPO2 against SB3's PPO instead of returns")
    parser.add_argument("--timesteps", type=int, help="per run; default 1,000,000 (returns) or 200,000 (speed)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-envs", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="speed: runs per learner and configuration")
    parser.add_argument("--configs", nargs="+", choices=list(SPEED_CONFIGS), default=list(SPEED_CONFIGS))
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads, for every learner")
    args = parser.parse_args()
    th.set_num_threads(args.threads)
    if args.speed:
        compare_speed(args.timesteps or 200_000, args.repeats, args.configs)
    else:
        compare_returns(args.timesteps or 1_000_000, args.seeds, args.n_envs)


if __name__ == "__main__":
    main()
