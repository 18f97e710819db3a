"""Environment speed, in one process, as ratios against peers measured in the same run.

    python bench/env_speed.py [--seconds 3] [--rounds 5]

Targets: Spaceship features >= 2.5x ALE Space Invaders, pixels >= 1x ALE,
SpaceshipVecEnv(256) >= 10x CartPole-v1 (single env), all in game steps per second.

Each environment is timed in ``--rounds`` slices of ``--seconds / --rounds``, the
environments taking turns, and its rate is the median of its slices. A slow spell of
the machine is then spread over the environments rather than landing on one of them.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Iterator

import gymnasium as gym
import numpy as np

import spaceship_env


def single_env_steps(env: gym.Env) -> Iterator[int]:
    """Step ``env`` with random actions, 100 steps per ``next``."""
    env.reset(seed=0)
    env.action_space.seed(0)
    while True:
        for _ in range(100):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
        yield 100


def vec_env_steps(n_envs: int) -> Iterator[int]:
    """Step a ``SpaceshipVecEnv(n_envs)`` with random actions, ``n_envs`` game steps per ``next``."""
    venv = spaceship_env.SpaceshipVecEnv(n_envs)
    venv.seed(0)
    venv.reset()
    rng = np.random.default_rng(0)
    while True:
        venv.step(rng.integers(0, 3, n_envs))
        yield n_envs


def rate(steps: Iterator[int], seconds: float) -> float:
    """Game steps per second of ``steps`` over about ``seconds``."""
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        done += next(steps)
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="timing per environment, over all rounds")
    parser.add_argument("--rounds", type=int, default=5, help="turns each environment gets")
    args = parser.parse_args()
    if args.seconds <= 0 or args.rounds < 1:
        parser.error("--seconds must be positive and --rounds at least 1")
    import ale_py

    gym.register_envs(ale_py)
    makers: dict[str, Callable[[], Iterator[int]]] = {
        "Spaceship-v0 features": lambda: single_env_steps(gym.make("Spaceship-v0")),
        "Spaceship-v0 pixels": lambda: single_env_steps(gym.make("Spaceship-v0", obs_type="pixels")),
        "SpaceshipVecEnv N=256": lambda: vec_env_steps(256),
        "CartPole-v1": lambda: single_env_steps(gym.make("CartPole-v1")),
        "ALE/SpaceInvaders-v5": lambda: single_env_steps(gym.make("ALE/SpaceInvaders-v5")),
    }
    runs = {name: make() for name, make in makers.items()}
    for steps in runs.values():  # warm up: first reset, caches, lazy imports
        rate(steps, 0.05)
    slices: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, steps in runs.items():
            slices[name].append(rate(steps, args.seconds / args.rounds))
    rates = {name: statistics.median(values) for name, values in slices.items()}
    for name, value in rates.items():
        spread = f"{min(slices[name]):,.0f} .. {max(slices[name]):,.0f}"
        print(f"{name:24s} {value:12,.0f} steps/s   (rounds: {spread})")
    ale, cartpole = rates["ALE/SpaceInvaders-v5"], rates["CartPole-v1"]
    print()
    for name, peer, value, target in [
        ("features / ALE", "ALE", rates["Spaceship-v0 features"] / ale, 2.5),
        ("pixels / ALE", "ALE", rates["Spaceship-v0 pixels"] / ale, 1.0),
        ("VecEnv(256) / CartPole", "CartPole", rates["SpaceshipVecEnv N=256"] / cartpole, 10.0),
    ]:
        verdict = "meets" if value >= target else "MISSES"
        print(f"{name:24s} {value:6.2f}x  (target >= {target}x vs {peer}: {verdict})")


if __name__ == "__main__":
    main()
