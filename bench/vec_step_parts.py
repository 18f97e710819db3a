"""Where a SpaceshipVecEnv step spends its time: CPU microseconds per step, by part.

    python bench/vec_step_parts.py [--n-envs 256]

Each part is timed on its own over the same recorded actions, best of 7 repeats:
the whole ``venv.step``, the core's rules (with the resets of finished games), the
feature observation, and the per-game ``info`` dicts of SB3's ``VecEnv`` API.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

import spaceship_env
from spaceship_env.env import game_infos


def cpu_us(step: Callable[[int], object], steps: int = 2000, repeats: int = 7) -> float:
    """Best CPU time of ``step(i)`` for ``i`` in ``range(steps)``, in microseconds per call."""
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        for i in range(steps):
            step(i)
        best = min(best, time.process_time() - start)
    return best / steps * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-envs", type=int, default=256)
    args = parser.parse_args()
    n = args.n_envs
    venv = spaceship_env.SpaceshipVecEnv(n)
    venv.seed(0)
    venv.reset()
    game = venv.batch.game
    actions = np.random.default_rng(0).integers(0, 3, (100, n))

    def rules(i: int) -> None:
        _, terminated = game.step(actions[i % 100])
        game.reset(terminated.nonzero()[0])

    parts = {
        "venv.step": lambda i: venv.step(actions[i % 100]),
        "rules and resets": rules,
        "features": lambda i: game.features(),
        "info dicts": lambda i: game_infos(game),
    }
    for name, step in parts.items():
        print(f"{name:18s} {cpu_us(step):7.1f} us per step of {n} games")


if __name__ == "__main__":
    main()
