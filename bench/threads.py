"""The README's five-line example with torch's default threads against one thread, same run.

    python bench/threads.py [--timesteps 8192] [--rounds 2]

A 64x64 network learns from one game: each update is small, so torch's threads spend
more time handing work to each other than doing it, the more so on a busy machine.
The two settings take turns, and each reports its best round.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import torch as th

import spaceship_env  # noqa: F401
from agent import PPO2


def seconds(threads: int, timesteps: int) -> float:
    th.set_num_threads(threads)
    model = PPO2("MlpPolicy", gym.make("Spaceship-v0"), seed=0, device="cpu")
    start = time.perf_counter()
    model.learn(timesteps)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timesteps", type=int, default=8192)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    default = th.get_num_threads()
    times: dict[int, list[float]] = {default: [], 1: []}
    for _ in range(args.rounds):
        for threads in times:
            times[threads].append(seconds(threads, args.timesteps))
    best = {threads: min(values) for threads, values in times.items()}
    print(f"{args.timesteps:,} steps of PPO2 on one game, best of {args.rounds} rounds:")
    for threads, value in best.items():
        print(f"  {threads} torch thread(s): {value:6.1f} s")
    print(f"default ({default}) / one thread: {best[default] / best[1]:.2f}x the time")


if __name__ == "__main__":
    main()
