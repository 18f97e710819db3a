"""Reference policies on feature observations: the levels a learner must beat."""

from __future__ import annotations

import numpy as np

from spaceship_env import core as C
from spaceship_env.features import FEATURE_NAMES

_IN_SIGHT = FEATURE_NAMES.index("in_sight")
_COLUMN_DX = slice(FEATURE_NAMES.index("column_dx_0"), FEATURE_NAMES.index("column_dx_0") + C.N_COLS)
_ALIVE = slice(FEATURE_NAMES.index("alive_0_0"), FEATURE_NAMES.index("alive_0_0") + C.N_ALIENS)


def random_policy(obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uniform over LEFT, RIGHT, FIRE, one action per row of ``obs``."""
    return rng.integers(0, 3, len(obs))


def scripted_policy(obs: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """Go under the nearest living column and fire; never dodge."""
    columns_alive = obs[:, _ALIVE].reshape(-1, C.N_ROWS, C.N_COLS).any(axis=1)
    dx = np.where(columns_alive, obs[:, _COLUMN_DX], np.inf)
    nearest = dx[np.arange(len(obs)), np.abs(dx).argmin(axis=1)]
    move = np.where(nearest > 0, C.RIGHT, C.LEFT)
    return np.where(obs[:, _IN_SIGHT] > 0, C.FIRE, move)
