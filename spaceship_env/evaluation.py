"""Play many seeded episodes at once on the batched core and summarise them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from spaceship_env import core as C
from spaceship_env.vector import MAX_EPISODE_STEPS

Policy = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Results:
    """Per-episode returns, lengths and end reasons."""

    returns: np.ndarray
    lengths: np.ndarray
    reasons: np.ndarray

    @property
    def clear_rate(self) -> float:
        return float((self.reasons == C.CLEARED).mean())

    def summary(self) -> str:
        return (
            f"return {self.returns.mean():6.1f} ± {self.returns.std():5.1f}   "
            f"clear rate {self.clear_rate:4.0%}   length {self.lengths.mean():6.1f}"
        )


def play_episodes(policy: Policy, n_episodes: int = 100, seed: int = 0, lives: int = 3) -> Results:
    """Play episode ``i`` from seed ``seed + i`` (as ``reset(seed=seed + i)`` does) until each ends.

    ``policy`` maps a batch of feature observations to a batch of actions.
    """
    game = C.SpaceshipCore(n_episodes, lives=lives)
    game.seed(seed)
    game.reset()
    returns = np.zeros(n_episodes)
    lengths = np.zeros(n_episodes, np.int64)
    reasons = np.zeros(n_episodes, np.int8)
    running = np.ones(n_episodes, bool)
    for _ in range(MAX_EPISODE_STEPS):
        rewards, terminated = game.step(np.asarray(policy(game.features()), np.int64))
        returns += np.where(running, rewards, 0)
        lengths += running
        reasons = np.where(running & terminated, game.end_reason, reasons)
        running &= ~terminated
        if not running.any():
            break
    return Results(returns, lengths, reasons)
