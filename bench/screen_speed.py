"""Batched small-screen observations against drawing each game's frame and shrinking it, same run.

    python bench/screen_speed.py [--n-envs 32] [--seconds 3] [--rounds 5]

Both step a ``SpaceshipVecEnv`` of ``--n-envs`` games with random actions, observations
included: ``small_screen`` (the 2 x 52 x 40 stack, painted for the batch at once from
the state) against the path ``--obs pixels`` trains on (each game's 210 x 160 frame
drawn in a Python loop, then ``GreyResize`` to grey 84 x 84, then ``VecFrameStack``),
and that path without the stacking. They take turns over
``--rounds`` rounds, each reporting its median. Rates are per second of this process's
CPU time: on a machine shared with others, a spell without the CPU then counts for
no one. Target: small_screen >= 20x.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Iterator

import numpy as np
from stable_baselines3.common.vec_env import VecFrameStack

from spaceship_env import SpaceshipVecEnv
from spaceship_env.wrappers import GreyResize

TARGET = 20.0


def steps(venv, n_envs: int) -> Iterator[int]:
    venv.seed(0)
    venv.reset()
    rng = np.random.default_rng(0)
    while True:
        venv.step(rng.integers(0, 3, n_envs))
        yield n_envs


def rate(game_steps: Iterator[int], seconds: float) -> float:
    done, start = 0, time.process_time()
    while (elapsed := time.process_time() - start) < seconds:
        done += next(game_steps)
    return done / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-envs", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=3.0, help="timing per path, over all rounds")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    n = args.n_envs
    runs = {
        "small_screen (batched)": steps(SpaceshipVecEnv(n, obs_type="small_screen"), n),
        "pixels + GreyResize(84)": steps(GreyResize(SpaceshipVecEnv(n, obs_type="pixels")), n),
        "... + VecFrameStack(4)": steps(VecFrameStack(GreyResize(SpaceshipVecEnv(n, obs_type="pixels")), 4), n),
        "features (for scale)": steps(SpaceshipVecEnv(n), n),
    }
    for game_steps in runs.values():  # warm up: tables, first reset
        rate(game_steps, 0.1)
    slices: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, game_steps in runs.items():
            slices[name].append(rate(game_steps, args.seconds / args.rounds))
    rates = {name: statistics.median(values) for name, values in slices.items()}
    print(f"SpaceshipVecEnv({n}), random actions, observations included:")
    for name, value in rates.items():
        print(f"{name:26s} {value:10,.0f} steps/s   (rounds: {min(slices[name]):,.0f} .. {max(slices[name]):,.0f})")
    print()
    for peer in ("pixels + GreyResize(84)", "... + VecFrameStack(4)"):
        ratio = rates["small_screen (batched)"] / rates[peer]
        verdict = "meets" if ratio >= TARGET else "MISSES"
        print(f"small_screen / {peer}: {ratio:.1f}x  (target >= {TARGET:g}x: {verdict})")


if __name__ == "__main__":
    main()
