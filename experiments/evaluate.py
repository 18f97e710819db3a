"""Evaluate an agent: greedy play on seeds no training uses, beside the random policy.

A clear rate over 100 episodes can differ by several points from the next 100, so
:func:`evaluate` plays windows of 100 seeds and reports the spread across them.
"""

from __future__ import annotations

import pathlib
from typing import Any

import numpy as np

from experiments.config import OBS_TYPES, UsageError
from experiments.envs import observer, policy_space
from spaceship_env.baselines import random_policy
from spaceship_env.evaluation import Results, play_episodes
from spaceship_env.params import GameParams, make_params

#: Evaluation seeds start here by default; training seeds game i with ``seed + i`` from 0.
EVAL_SEED = 1_000_000
#: A search's objective plays from here: seeds no training uses, kept apart from EVAL_SEED's,
#: so that the figures reported at the end come from seeds the search never chose by.
SEARCH_SEED = 900_000
WINDOW = 100


def load_agent(path: pathlib.Path) -> tuple[Any, str]:
    """Load any of the project's models (no pickle runs), and name the observations it plays from."""
    from agent import PPO2

    model = PPO2.load(path, device="cpu")
    for obs in OBS_TYPES:
        if model.observation_space == policy_space(obs):
            return model, obs
    raise UsageError(
        f"{path} was trained on observations of shape {model.observation_space.shape}, but Spaceship-v0 gives "
        + ", ".join(f"{policy_space(obs).shape} ({obs})" for obs in OBS_TYPES)
    )


def greedy(model: Any):
    """The model's most probable action for each row of a batch of observations."""
    return lambda obs: model.predict(obs, deterministic=True)[0]


def sampling(model: Any):
    """An action drawn from the model's policy for each row of a batch of observations."""
    return lambda obs: model.predict(obs, deterministic=False)[0]


def play_sampled(model: Any, obs: str, episodes: int, seed: int, params: GameParams | None = None) -> Results:
    """The model's play with actions drawn from its policy, as during training.

    The draws come from torch's generator seeded with ``seed``; its state is put back
    afterwards, so a run that evaluates this way trains as one that does not.
    """
    import torch as th

    with th.random.fork_rng(devices=[]):
        th.manual_seed(seed)
        return Results.concatenate(play_windows(lambda: sampling(model), episodes, seed, params, obs))


def play_windows(policy_for_window, episodes: int, seed: int, params: GameParams | None, obs: str) -> list[Results]:
    """Play ``episodes`` from seeds ``seed``, ``seed + 1``, ... in windows of ``WINDOW`` episodes."""
    windows = []
    for start in range(0, episodes, WINDOW):
        n = min(WINDOW, episodes - start)
        windows.append(play_episodes(policy_for_window(), n, seed + start, params, observer(obs)))
    return windows


def play_greedy(model: Any, obs: str, episodes: int, seed: int, params: GameParams | None = None) -> Results:
    """The model's greedy play over ``episodes`` episodes from seeds ``seed``, ``seed + 1``, ..."""
    return Results.concatenate(play_windows(lambda: greedy(model), episodes, seed, params, obs))


def summary(windows: list[Results]) -> str:
    """Mean ± std return, clear rate (with its range across windows) and length."""
    whole = Results.concatenate(windows)
    text = whole.summary()
    if len(windows) > 1:
        rates = [w.clear_rate for w in windows]
        text += f"   windows of {WINDOW}: clear rate {min(rates):.0%} to {max(rates):.0%}"
    return text


def evaluate(model_path: pathlib.Path, episodes: int, seed: int, game: dict[str, Any] | None = None) -> Results:
    """Print the model's and the random policy's results over ``episodes`` seeded episodes.

    ``game`` holds the game's arguments (difficulty, lives, ...).
    """
    model, obs = load_agent(model_path)
    params = make_params(**(game or {}))
    print(f"{episodes} episodes from seeds {seed}..{seed + episodes - 1} (greedy)")
    agent = play_windows(lambda: greedy(model), episodes, seed, params, obs)
    print(f"{'agent':8s} {summary(agent)}")
    rng = np.random.default_rng(seed)
    baseline = play_windows(lambda: lambda o: random_policy(o, rng), episodes, seed, params, "features")
    print(f"{'random':8s} {summary(baseline)}")
    return Results.concatenate(agent)
