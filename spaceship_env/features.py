"""The feature observation: 59 numbers that say what the screen shows.

:data:`FEATURE_GROUPS` is the one source of truth for the names, bounds and meanings;
the observation space, the table in ``SpaceshipEnv``'s docstring and the tests read it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from spaceship_env import core as C
from spaceship_env.params import GameParams

#: Bombs reported, nearest first.
N_BOMB_SLOTS = 3
#: ``column_dx_j``: (centre of column j - ship x) / WIDTH, by j and ``rel`` index. A
#: column's centre stays on the screen while it lives, but a dead one moves with the
#: formation, which can drift far out once a side's columns are gone.
_COLUMN_DX = ((C.COL_CENTRES[:, None] - C.REL) / C.WIDTH).astype(np.float32)
COLUMN_DX_BOUND = float(np.abs(_COLUMN_DX).max())
#: The lowest a bomb can be while it is in flight: just above the ground.
BOMB_DY_MIN = (C.SHIP_Y - (C.GROUND_Y - 1)) / C.SHIP_Y


@dataclass(frozen=True)
class FeatureGroup:
    """Features that share bounds and a meaning; ``label`` names them in the docs."""

    label: str
    low: float
    high: float
    meaning: str
    names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.names:
            object.__setattr__(self, "names", (self.label,))


def _bomb_groups() -> list[FeatureGroup]:
    return [
        FeatureGroup(f"bomb_{k}_{field}", low, high, meaning)
        for k in range(N_BOMB_SLOTS)
        for field, low, high, meaning in (
            ("dx", -1.0, 1.0, f"bomb {k}'s (x - ship x) / {C.WIDTH}; bombs nearest first"),
            ("dy", BOMB_DY_MIN, 1.0, f"bomb {k}'s height above the ship / {C.SHIP_Y} (1 if none)"),
            ("on", 0.0, 1.0, f"1 if there is a bomb {k}"),
        )
    ]


FEATURE_GROUPS: tuple[FeatureGroup, ...] = (
    FeatureGroup("ship_x", 0.0, 1.0, "ship position, left to right"),
    FeatureGroup("cooldown", 0.0, 1.0, f"frames until FIRE works again / {C.LASER_COOLDOWN}"),
    FeatureGroup("lives", 0.0, 1.0, "lives left / lives at the start"),
    FeatureGroup("formation_x", 0.0, 1.0, "formation's horizontal offset"),
    FeatureGroup("formation_y", 0.0, 1.0, "how far the formation has come down"),
    FeatureGroup("direction", -1.0, 1.0, "march direction, -1 left, +1 right"),
    FeatureGroup("speed", 0.0, 1.0, "march speed, pixels per frame"),
    FeatureGroup("in_sight", 0.0, 1.0, "1 if FIRE would kill an alien now"),
    FeatureGroup(
        "column_dx_j",
        -COLUMN_DX_BOUND,
        COLUMN_DX_BOUND,
        f"(centre of column j - ship x) / {C.WIDTH}",
        tuple(f"column_dx_{j}" for j in range(C.N_COLS)),
    ),
    FeatureGroup(
        "alive_r_c",
        0.0,
        1.0,
        "alive mask, row 0 (top, 30 points) first",
        tuple(f"alive_{r}_{c}" for r in range(C.N_ROWS) for c in range(C.N_COLS)),
    ),
    *_bomb_groups(),
)
FEATURE_NAMES: tuple[str, ...] = tuple(name for group in FEATURE_GROUPS for name in group.names)
N_FEATURES = len(FEATURE_NAMES)
FEATURE_LOW = np.array([g.low for g in FEATURE_GROUPS for _ in g.names], np.float32)
FEATURE_HIGH = np.array([g.high for g in FEATURE_GROUPS for _ in g.names], np.float32)
_COLUMN_DX0 = FEATURE_NAMES.index("column_dx_0")
_ALIVE0 = FEATURE_NAMES.index("alive_0_0")
_BOMB0 = FEATURE_NAMES.index("bomb_0_dx")


def feature_table() -> str:
    """The features as a Markdown table (Index, Name, Meaning, Min, Max), grouped as declared."""
    rows = ["| Index | Name | Meaning | Min | Max |", "|-------|------|---------|-----|-----|"]
    index = 0
    for g in FEATURE_GROUPS:
        where = str(index) if len(g.names) == 1 else f"{index}-{index + len(g.names) - 1}"
        rows.append(f"| {where} | `{g.label}` | {g.meaning} | {g.low:.4g} | {g.high:.4g} |")
        index += len(g.names)
    return "\n".join(rows)


def features(game: C.SpaceshipCore) -> np.ndarray:
    """The feature observation of every game of ``game``, shape ``(n, N_FEATURES)``, float32.

    The blocks are built feature-major (a row per feature, contiguous over the games) and
    copied into place transposed, one copy per block: far cheaper than writing columns.
    """
    n = game.n
    obs = np.empty((n, N_FEATURES), np.float32)
    obs[:, :_ALIVE0] = _head_features(game).T
    obs[:, _ALIVE0:_BOMB0] = game.alive.reshape(n, C.N_ALIENS)
    obs[:, _BOMB0:] = _bomb_features(game).T
    return obs


def _head_features(game: C.SpaceshipCore) -> np.ndarray:
    """The features before the alive mask (ship, formation, columns), one row each."""
    head = np.empty((_ALIVE0, game.n), np.float32)
    low, span = _scales(game.params)
    ints = np.array([game.ship_x, game.cooldown, game.lives, game.form_x, game.form_y, game.direction])
    ints -= low
    # Ints below 2**24 are exact in float32, and the float32 quotient is correctly rounded.
    np.divide(ints, span, out=head[: len(span)], dtype=np.float32)
    head[6] = _march_speed(game.params).take(game.n_alive)
    rel = game.rel_index()
    head[7] = game.col_rows.take(C.COLUMN_AT.take(rel) + _row_starts(game.n, C.N_COLS + 1)) != 0  # in_sight
    head[_COLUMN_DX0:] = _COLUMN_DX.take(rel, axis=1)
    return head


@functools.cache
def _scales(params: GameParams) -> tuple[np.ndarray, np.ndarray]:
    """``(low, span)`` columns that scale ship_x ... direction into their bounds."""
    rows = (
        (C.SHIP_MIN_X, C.SHIP_MAX_X - C.SHIP_MIN_X),  # ship_x
        (0, C.LASER_COOLDOWN),  # cooldown
        (0, params.lives),  # lives
        (C.FORMATION_X_MIN, C.FORMATION_X_MAX - C.FORMATION_X_MIN),  # formation_x
        (C.FORMATION_START_Y, C.SHIP_Y - C.FORMATION_START_Y),  # formation_y
        (0, 1),  # direction, already -1 or +1
    )
    low, span = zip(*rows, strict=True)
    return np.array(low, np.int32)[:, None], np.array(span, np.float32)[:, None]


@functools.cache
def _march_speed(params: GameParams) -> np.ndarray:
    """The ``speed`` feature by aliens alive: pixels per frame."""
    return (1.0 / C.march_periods(params.march_period)).astype(np.float32)


def _bomb_features(game: C.SpaceshipCore) -> np.ndarray:
    """The nearest ``N_BOMB_SLOTS`` bombs as ``(dx, dy, on)`` rows, shape ``(3 * N_BOMB_SLOTS, n)``.

    Bombs are ordered by their height above the ship, ``dy``, then by slot. An empty slot
    counts as ``dy = SHIP_Y``, ``dx = 0``: after every bomb in flight, as ``(0, 1, 0)``.
    """
    on = game.bomb_on  # (MAX_BOMBS, n), slot first
    dy = C.SHIP_Y - game.bomb_y * on  # SHIP_Y for an empty slot
    dx = (game.bomb_x - game.ship_x) * on
    nearest = np.argsort(dy, axis=0, kind="stable")[:N_BOMB_SLOTS]
    nearest *= game.n
    nearest += np.arange(game.n)  # flat indices: take beats take_along_axis
    out = np.empty((3 * N_BOMB_SLOTS, game.n), np.float32)
    np.divide(dx.take(nearest), C.WIDTH, out=out[0::3])
    np.divide(dy.take(nearest), C.SHIP_Y, out=out[1::3])
    out[2::3] = on.take(nearest)
    return out


@functools.cache
def _row_starts(n: int, width: int) -> np.ndarray:
    """The flat index of the first element of each row of an ``(n, width)`` array."""
    return np.arange(n) * width


@functools.cache
def _start_features(params: GameParams) -> np.ndarray:
    """Row ``k``: the features of a fresh game whose ship starts at ``START_X[k]``."""
    return features(C.start_positions(params))


def start_features(game: C.SpaceshipCore, games: np.ndarray) -> np.ndarray:
    """The features of ``games``, just reset, from a table by start position.

    A fresh game differs from another only in where the ship starts, so this is a
    lookup, far cheaper than :func:`features` for a few games of a large batch.
    """
    return _start_features(game.params)[np.searchsorted(C.START_X, game.ship_x[games])]
