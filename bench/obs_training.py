"""PPO2's training speed on each observation type, with play.py's defaults, as same-run ratios.

    python bench/obs_training.py [--rollouts 2] [--rounds 2] [--obs features grid small_screen pixels]

Each observation type trains ``play.py train --obs OBS`` would (its env, policy and tuned
hyperparameters, 32 games, one torch thread, no evaluation or checkpoints) for
``--rollouts`` whole rollouts, after one rollout of warm-up. The types take turns over
``--rounds`` rounds and each reports its best round, in steps per second of this
process's CPU time (one torch thread), so a slow spell of the machine (shared by
others) lands on none of them.

Targets: small_screen >= 6x (goal 10x) today's ``--obs pixels``; grid >= 0.3x the features.
"""

from __future__ import annotations

import argparse
import time

import torch as th

from experiments.config import TrainConfig, algo_class, default_hyperparams, learner_kwargs
from experiments.envs import make_train_env

TARGETS = (("small_screen", "pixels", 6.0), ("grid", "features", 0.3))


def model_for(obs: str, n_envs: int):
    config = TrainConfig(obs=obs, n_envs=n_envs)
    policy = "CnnPolicy" if obs == "pixels" else "MlpPolicy"
    venv = make_train_env(obs, n_envs, seed=0)
    hyperparams = learner_kwargs(default_hyperparams(config.algo, obs))
    return algo_class("ppo2")(policy, venv, seed=0, device="cpu", **hyperparams)


def steps_per_second(model, rollouts: int) -> float:
    steps = rollouts * model.n_steps * model.n_envs
    start = time.process_time()
    model.learn(steps, reset_num_timesteps=False)
    return steps / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rollouts", type=int, default=2, help="rollouts timed per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--n-envs", type=int, default=32)
    parser.add_argument("--obs", nargs="+", default=["features", "grid", "small_screen", "pixels"])
    args = parser.parse_args()
    th.set_num_threads(1)
    models = {obs: model_for(obs, args.n_envs) for obs in args.obs}
    for model in models.values():  # warm up: first reset, lazy tables, torch's first calls
        model.learn(model.n_steps * model.n_envs)
    rates: dict[str, list[float]] = {obs: [] for obs in models}
    for _ in range(args.rounds):
        for obs, model in models.items():
            rates[obs].append(steps_per_second(model, args.rollouts))
            print(f"  {obs:13s} {rates[obs][-1]:9,.0f} steps/s", flush=True)
    best = {obs: max(r) for obs, r in rates.items()}
    print(f"\nPPO2 training, play.py's defaults, {args.n_envs} games, best of {args.rounds} rounds:")
    for obs, rate in best.items():
        print(f"{obs:13s} {rate:9,.0f} steps/s")
    print()
    for obs, peer, target in TARGETS:
        if obs in best and peer in best:
            ratio = best[obs] / best[peer]
            verdict = "meets" if ratio >= target else "MISSES"
            print(f"{obs} / {peer}: {ratio:6.2f}x  (target >= {target}x: {verdict})")


if __name__ == "__main__":
    main()
