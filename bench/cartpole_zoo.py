"""PPO2 on CartPole-v1 with rl-baselines3-zoo's PPO hyperparameters: mean 500 at 100k steps?

python bench/cartpole_zoo.py [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import time

import torch as th
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy

from agent import PPO2


def linear(start: float):
    return lambda progress_remaining: progress_remaining * start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--timesteps", type=int, default=100_000)
    args = parser.parse_args()
    th.set_num_threads(1)
    reached = 0
    for seed in args.seeds:
        env = make_vec_env("CartPole-v1", n_envs=8, seed=seed)
        model = PPO2(
            "MlpPolicy",
            env,
            n_steps=32,
            batch_size=256,
            gae_lambda=0.8,
            gamma=0.98,
            n_epochs=20,
            ent_coef=0.0,
            learning_rate=linear(1e-3),
            clip_range=linear(0.2),
            seed=seed,
            device="cpu",
        )
        start = time.perf_counter()
        model.learn(args.timesteps)
        mean, std = evaluate_policy(model, make_vec_env("CartPole-v1", n_envs=1, seed=seed + 100), 20)
        reached += mean >= 500
        print(
            f"seed {seed}: mean return {mean:.1f} ± {std:.1f} after {args.timesteps:,} steps "
            f"({time.perf_counter() - start:.0f} s)",
            flush=True,
        )
    print(f"reached 500 in {reached} of {len(args.seeds)} seeds")


if __name__ == "__main__":
    main()
