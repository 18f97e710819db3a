"""How hard each difficulty of Spaceship-v0 is: the random and scripted policies, as a Markdown table.

Episode i is played from seed ``--seed + i``; the default seeds start at 1,000,000,
far from the seeds training and the tests use.

    python bench/difficulty.py [--episodes 1000] [--seed 1000000]
"""

from __future__ import annotations

import argparse

import numpy as np

from spaceship_env import WAVE_VALUE
from spaceship_env.baselines import random_policy, scripted_policy
from spaceship_env.evaluation import Results, play_episodes
from spaceship_env.params import DIFFICULTIES


def play(policy_name: str, difficulty: int, episodes: int, seed: int) -> Results:
    """``episodes`` seeded episodes of the random or the scripted policy at ``difficulty``."""
    params = DIFFICULTIES[difficulty]
    if policy_name == "random":
        rng = np.random.default_rng(seed)
        return play_episodes(lambda obs: random_policy(obs, rng), episodes, seed, params)
    return play_episodes(scripted_policy, episodes, seed, params)


def cell(results: Results) -> str:
    return f"{results.returns.mean():.1f} ± {results.returns.std():.1f} | {results.clear_rate:.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1_000_000)
    args = parser.parse_args()
    last_seed = args.seed + args.episodes - 1
    print(f"{args.episodes} episodes per cell, seeds {args.seed}..{last_seed}; a wave is worth {WAVE_VALUE}.")
    print()
    print(
        "| Difficulty | bomb_chance | aimed_chance | march_period "
        "| Random return | Random clears | Scripted return | Scripted clears |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for d, params in enumerate(DIFFICULTIES):
        random_results = play("random", d, args.episodes, args.seed)
        scripted_results = play("scripted", d, args.episodes, args.seed)
        print(
            f"| {d} | {params.bomb_chance} | {params.aimed_chance} | {params.march_period} "
            f"| {cell(random_results)} | {cell(scripted_results)} |"
        )


if __name__ == "__main__":
    main()
