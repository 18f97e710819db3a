"""PPO2 against SB3's PPO and PolicyGradient on Spaceship-v0, same seeds and budget, one run.

    python bench/learners.py [--timesteps 1000000] [--seeds 0 1 2]

Prints final greedy return and clear rate over 100 seeded evaluation episodes, wall
time, and the PPO2 / SB3-PPO ratios. Training settings are play.py's defaults. The
order of the learners rotates from seed to seed, so none always runs first.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch as th
from stable_baselines3 import PPO

from agent import PPO2, PolicyGradient
from play import default_hyperparams, make_train_env
from spaceship_env.evaluation import play_episodes

LEARNERS = {"PPO2": (PPO2, "ppo2"), "SB3 PPO": (PPO, "sb3-ppo"), "PolicyGradient": (PolicyGradient, "pg")}


def run(name: str, seed: int, timesteps: int, n_envs: int) -> tuple[float, float, float]:
    cls, algo = LEARNERS[name]
    model = cls(
        "MlpPolicy",
        make_train_env("features", n_envs, seed),
        seed=seed,
        device="cpu",
        **default_hyperparams(algo, "features"),
    )
    start = time.perf_counter()
    model.learn(timesteps)
    wall = time.perf_counter() - start
    results = play_episodes(lambda obs: model.predict(obs, deterministic=True)[0], 100, seed=100_000)
    return results.returns.mean(), results.clear_rate, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timesteps", type=int, default=1_000_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--n-envs", type=int, default=32)
    args = parser.parse_args()
    th.set_num_threads(1)
    table: dict[str, list[tuple[float, float, float]]] = {name: [] for name in LEARNERS}
    names = list(LEARNERS)
    for k, seed in enumerate(args.seeds):
        # Each seed starts with the next learner, so no learner always runs first.
        for name in names[k % len(names) :] + names[: k % len(names)]:
            table[name].append(run(name, seed, args.timesteps, args.n_envs))
            ret, clear, wall = table[name][-1]
            print(f"seed {seed} {name:15s} return {ret:6.1f}  cleared {clear:4.0%}  {wall:6.1f} s", flush=True)
    print(f"\n{args.timesteps:,} steps, seeds {args.seeds}, 100 greedy evaluation episodes each")
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


if __name__ == "__main__":
    main()
