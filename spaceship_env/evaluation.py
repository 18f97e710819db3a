"""Play many seeded episodes at once on the batched core and summarise them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from spaceship_env import core as C
from spaceship_env.features import features
from spaceship_env.params import GameParams

#: Maps a batch of observations to a batch of actions.
Policy = Callable[[np.ndarray], np.ndarray]
#: Maps a core to the observations of all its games.
Observe = Callable[[C.SpaceshipCore], np.ndarray]


@dataclass(frozen=True)
class Results:
    """Per-episode returns, lengths and end reasons (codes of ``END_REASONS``)."""

    returns: np.ndarray
    lengths: np.ndarray
    reasons: np.ndarray

    @property
    def clear_rate(self) -> float:
        return float((self.reasons == C.CLEARED).mean())

    def summary(self) -> str:
        return (
            f"return {self.returns.mean():6.1f} ± {self.returns.std():5.1f}   "
            f"clear rate {self.clear_rate:6.1%}   length {self.lengths.mean():6.1f}"
        )


def play_episodes(
    policy: Policy,
    n_episodes: int = 100,
    seed: int = 0,
    params: GameParams | None = None,
    observe: Observe = features,
    max_episode_steps: int = C.MAX_EPISODE_STEPS,
) -> Results:
    """Play episode ``i`` from seed ``seed + i`` (as ``reset(seed=seed + i)`` does) until each ends.

    All episodes run as one batch; ``policy`` maps the batch of observations that
    ``observe`` makes (features by default) to a batch of actions. An episode still running
    after ``max_episode_steps`` ends as ``TIME_LIMIT``.
    """
    game = C.SpaceshipCore(n_episodes, params)
    game.seed(seed)
    game.reset()
    returns = np.zeros(n_episodes)
    lengths = np.zeros(n_episodes, np.int64)
    reasons = np.full(n_episodes, C.TIME_LIMIT, np.int8)
    running = np.ones(n_episodes, bool)
    for _ in range(max_episode_steps):
        rewards, terminated = game.step(np.asarray(policy(observe(game)), np.int64))
        returns += np.where(running, rewards, 0)
        lengths += running
        reasons = np.where(running & terminated, game.end_reason, reasons)
        running &= ~terminated
        if not running.any():
            break
    return Results(returns, lengths, reasons)
