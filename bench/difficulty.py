"""How hard Spaceship-v0 is: random and scripted policies over 100 seeded episodes.

python bench/difficulty.py [--episodes 100] [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np

from spaceship_env import WAVE_VALUE
from spaceship_env.baselines import random_policy, scripted_policy
from spaceship_env.evaluation import play_episodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    for name, policy in [("random", lambda obs: random_policy(obs, rng)), ("scripted (never dodges)", scripted_policy)]:
        results = play_episodes(policy, args.episodes, args.seed)
        print(f"{name:24s} {results.summary()}   ({results.returns.mean() / WAVE_VALUE:.0%} of {WAVE_VALUE})")


if __name__ == "__main__":
    main()
