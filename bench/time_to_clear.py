"""Steps and wall-clock to a clear rate: play.py's defaults against the earlier ones, seed by seed.

    python bench/time_to_clear.py [--settings first new] [--seeds 5] [--timesteps 4000000]
                                  [--every 100000] [--episodes 200] [--final-episodes 1000]
                                  [--play greedy sampled] [--stop-after STEPS]

Each setting trains PPO2 from seeds 0, 1, ... as ``play.py train`` does (same env, reward
scale, hyperparameters, one torch thread), and every ``--every`` steps plays ``--episodes``
greedy episodes from seed 900,000 (the search's seeds, which no training uses). The first
time the clear rate reaches 90% and 95% is reported in steps and in seconds of training
(evaluation excluded). The final model is evaluated on ``--final-episodes`` seeds from
1,000,000. ``old`` is play.py's defaults before any search (5M steps cleared 84%),
``first`` the best of the first search (10 epochs of 256-sample minibatches), ``new``
today's; a path to an rl-zoo hyperparameter file is a setting too. Settings take turns
seed by seed, so a slow spell of the machine falls on all of them.

``--play sampled`` also measures the agent drawing its actions from its policy, as it
does in training (seeded, and without touching the training's random stream).
``--stop-after`` ends each run early, with the learning-rate schedule of the whole
``--timesteps``, for the start of a long run.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import time

import numpy as np
import torch as th
from earlier_defaults import EARLIER
from stable_baselines3.common.callbacks import BaseCallback

from experiments.config import TrainConfig, algo_class, default_hyperparams, learner_kwargs, policy_name
from experiments.envs import make_train_env
from experiments.evaluate import EVAL_SEED, SEARCH_SEED, play_greedy, play_sampled

TARGETS = (0.9, 0.95)
PLAY = {"greedy": play_greedy, "sampled": play_sampled}


def setting(name: str) -> TrainConfig:
    if name in EARLIER:
        earlier = EARLIER[name]
        return TrainConfig(
            n_envs=earlier["n_envs"], reward_scale=earlier["reward_scale"], hyperparams=dict(earlier["hyperparams"])
        )
    if name == "new":
        return TrainConfig(hyperparams=default_hyperparams("ppo2", "features"))
    from experiments import zoo

    settings = zoo.read(pathlib.Path(name), "ppo2", "features")
    return TrainConfig(
        n_envs=settings.n_envs or TrainConfig.n_envs,
        reward_scale=settings.reward_scale or 0.0,
        hyperparams={**default_hyperparams("ppo2", "features"), **settings.hyperparams},
    )


class Clock(BaseCallback):
    """Clear rates every ``every`` steps, per way of playing; training seconds exclude the evaluations."""

    def __init__(self, every: int, episodes: int, play: list[str], stop_after: int | None) -> None:
        super().__init__()
        self.every, self.episodes, self.stop_after = every, episodes, stop_after
        self.next, self.evaluating, self.start = every, 0.0, 0.0
        # play -> [(steps, training seconds, clear rate)]
        self.curves: dict[str, list[tuple[int, float, float]]] = {name: [] for name in play}

    def _on_training_start(self) -> None:
        self.start = time.perf_counter()

    def _on_step(self) -> bool:
        if self.num_timesteps >= self.next:
            self.next += self.every
            seconds = time.perf_counter() - self.start - self.evaluating
            began = time.perf_counter()
            for name, curve in self.curves.items():
                rate = PLAY[name](self.model, "features", self.episodes, SEARCH_SEED).clear_rate
                curve.append((self.num_timesteps, seconds, rate))
            self.evaluating += time.perf_counter() - began
        return self.stop_after is None or self.num_timesteps < self.stop_after

    def first(self, play: str, target: float) -> tuple[int, float] | None:
        return next(((steps, seconds) for steps, seconds, rate in self.curves[play] if rate >= target), None)


def run(config: TrainConfig, seed: int, args: argparse.Namespace) -> dict:
    config.seed = seed
    venv = make_train_env("features", config.n_envs, seed, reward_scale=config.reward_scale)
    model = algo_class("ppo2")(policy_name("features"), venv, seed=seed, device="cpu",
                               **learner_kwargs(config.hyperparams))  # fmt: skip
    clock = Clock(args.every, args.episodes, args.play, args.stop_after)
    model.learn(args.timesteps, callback=clock)
    final = {name: PLAY[name](model, "features", args.final_episodes, EVAL_SEED).clear_rate for name in args.play}
    return {"clock": clock, "final": final}


def cell(hits: list[tuple[int, float] | None]) -> str:
    reached = [h for h in hits if h is not None]
    if not reached:
        return f"0 of {len(hits)} seeds"
    steps = statistics.median(h[0] for h in reached)
    seconds = statistics.median(h[1] for h in reached)
    return f"{len(reached)} of {len(hits)}: median {steps / 1e6:.2f}M steps, {seconds:.0f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--settings", nargs="+", default=["first", "new"])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--timesteps", type=int, default=TrainConfig.timesteps)
    parser.add_argument("--every", type=int, default=100_000)
    parser.add_argument("--episodes", type=int, default=200)
    parser.add_argument("--final-episodes", type=int, default=1000)
    parser.add_argument("--play", nargs="+", choices=sorted(PLAY), default=["greedy"])
    parser.add_argument("--stop-after", type=int, default=None, help="steps; the schedule stays --timesteps'")
    args = parser.parse_args()
    th.set_num_threads(1)
    results: dict[str, list[dict]] = {name: [] for name in args.settings}
    for seed in range(args.seeds):
        for name in args.settings[seed % len(args.settings) :] + args.settings[: seed % len(args.settings)]:
            result = run(setting(name), seed, args)
            results[name].append(result)
            for play, curve in result["clock"].curves.items():
                points = " ".join(f"{s / 1e6:.1f}M:{r:.0%}" for s, _, r in curve)
                print(f"{name} seed {seed} {play}: final {result['final'][play]:.1%}  ({points})", flush=True)
    stopped = "" if args.stop_after is None else f", stopped after {args.stop_after:,}"
    print(
        f"\nPPO2, {args.timesteps:,}-step schedule{stopped}, clear rate every {args.every:,} steps"
        f" on {args.episodes} seeds from {SEARCH_SEED:,}; final on {args.final_episodes} from {EVAL_SEED:,}\n"
    )
    print("| setting | play | to 90% clear | to 95% clear | final clear rate (per seed) |\n|---|---|---|---|---|")
    for name, runs in results.items():
        for play in args.play:
            finals = [r["final"][play] for r in runs]
            per_seed = ", ".join(f"{f:.1%}" for f in finals)
            to = [cell([r["clock"].first(play, t) for r in runs]) for t in TARGETS]
            print(f"| {name} | {play} | {to[0]} | {to[1]} | {np.mean(finals):.1%} ({per_seed}) |")


if __name__ == "__main__":
    main()
