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
#: Called after each step with the core, the actions taken and the rewards.
OnStep = Callable[[C.SpaceshipCore, np.ndarray, np.ndarray], None]


@dataclass(frozen=True)
class Results:
    """Per-episode returns, lengths and end reasons (codes of ``END_REASONS``)."""

    returns: np.ndarray
    lengths: np.ndarray
    reasons: np.ndarray

    @property
    def clear_rate(self) -> float:
        return float((self.reasons == C.CLEARED).mean())

    @classmethod
    def concatenate(cls, parts: list[Results]) -> Results:
        return cls(*(np.concatenate([getattr(p, name) for p in parts]) for name in ("returns", "lengths", "reasons")))

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
    on_step: OnStep | None = None,
) -> Results:
    """Play episode ``i`` from seed ``seed + i`` (as ``reset(seed=seed + i)`` does) until each ends.

    All episodes run as one batch; ``policy`` maps the batch of observations that
    ``observe`` makes (features by default) to a batch of actions. An episode still running
    after ``max_episode_steps`` ends as ``TIME_LIMIT``. ``on_step`` sees every step (to
    draw it, say); a game that has ended goes on stepping, but no longer counts.
    """
    game = C.SpaceshipCore(n_episodes, params)
    game.seed(seed)
    game.reset()
    returns = np.zeros(n_episodes)
    lengths = np.zeros(n_episodes, np.int64)
    reasons = np.full(n_episodes, C.TIME_LIMIT, np.int8)
    running = np.ones(n_episodes, bool)
    for _ in range(max_episode_steps):
        actions = np.asarray(policy(observe(game)), np.int64)
        rewards, terminated = game.step(actions)
        if on_step is not None:
            on_step(game, actions, rewards)
        returns += np.where(running, rewards, 0)
        lengths += running
        reasons = np.where(running & terminated, game.end_reason, reasons)
        running &= ~terminated
        if not running.any():
            break
    return Results(returns, lengths, reasons)
