"""Environment speed, in one process, as ratios against peers measured in the same run.

    python bench/env_speed.py [--seconds 3]

Targets: Spaceship features >= 2.5x ALE Space Invaders, pixels >= 1x ALE,
SpaceshipVecEnv(256) >= 10x CartPole-v1 (single env), all in game steps per second.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np

import spaceship_env


def single_env_rate(env: gym.Env, seconds: float) -> float:
    env.reset(seed=0)
    env.action_space.seed(0)
    steps, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(100):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                env.reset()
        steps += 100
    return steps / elapsed


def vec_env_rate(n_envs: int, seconds: float) -> float:
    venv = spaceship_env.SpaceshipVecEnv(n_envs)
    venv.reset()
    rng = np.random.default_rng(0)
    steps, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        venv.step(rng.integers(0, 3, n_envs))
        steps += n_envs
    return steps / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0, help="timing per environment")
    args = parser.parse_args()
    import ale_py

    gym.register_envs(ale_py)
    rates = {
        "Spaceship-v0 features": single_env_rate(gym.make("Spaceship-v0"), args.seconds),
        "Spaceship-v0 pixels": single_env_rate(gym.make("Spaceship-v0", obs_type="pixels"), args.seconds),
        "SpaceshipVecEnv N=256": vec_env_rate(256, args.seconds),
        "CartPole-v1": single_env_rate(gym.make("CartPole-v1"), args.seconds),
        "ALE/SpaceInvaders-v5": single_env_rate(gym.make("ALE/SpaceInvaders-v5"), args.seconds),
    }
    for name, rate in rates.items():
        print(f"{name:24s} {rate:12,.0f} steps/s")
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
