"""The rules of Spaceship, written once, for a batch of games held in numpy arrays.

Every front (the Gymnasium env, the SB3 ``VecEnv`` and the Gymnasium ``VectorEnv``)
steps a :class:`SpaceshipCore`. Row ``i`` of every array is game ``i``. The core knows
nothing of drawing, input, spaces or auto-reset; it only plays the game.

Randomness is per game. At each reset a game draws a 64-bit key from its own
``np.random.Generator``; during the episode the random numbers of step ``t`` are a
hash of ``(key, t)``. A game therefore plays the same whatever batch it sits in, and
the hash keeps the per-step draws vectorised.
"""

from __future__ import annotations

import numpy as np

# --- Playfield: the Atari 2600's 160 x 210 logical pixels --------------------------
WIDTH, HEIGHT = 160, 210
GROUND_Y = 196  # bombs vanish here; the ground line is drawn just below

# --- Actions: the lecture's three -------------------------------------------------
LEFT, RIGHT, FIRE = 0, 1, 2
ACTION_MEANINGS = ("LEFT", "RIGHT", "FIRE")

# --- Aliens ---------------------------------------------------------------------
N_ROWS, N_COLS = 6, 6
N_ALIENS = N_ROWS * N_COLS
ALIEN_W, ALIEN_H = 8, 8
COL_PITCH = 16  # an alien, then an 8-pixel gap the laser passes through
ROW_PITCH = 14
FORMATION_W = (N_COLS - 1) * COL_PITCH + ALIEN_W
#: Points per alien, indexed by row; row 0 is the top row. Bottom to top: 5, 10, ..., 30.
ROW_VALUES = np.arange(N_ROWS * 5, 0, -5, dtype=np.int64)
WAVE_VALUE = int(ROW_VALUES.sum() * N_COLS)  # 630
FORMATION_START_X = (WIDTH - FORMATION_W) // 2
FORMATION_START_Y = 30
EDGE_MARGIN = 8  # the formation turns when a living alien would come this close to a wall
DROP = 6  # pixels the formation steps down at each wall
#: Steps between one-pixel marches, indexed by aliens alive: 4 with 28-36 alive, ..., 1 with 1-9.
MARCH_PERIOD = np.array([1] + [1 + (n - 1) // 9 for n in range(1, N_ALIENS + 1)], np.int32)

# --- Ship and laser --------------------------------------------------------------
SHIP_Y = 184  # top of the ship
SHIP_H = 8
SHIP_HALF_W = 4
SHIP_SPEED = 4
SHIP_MIN_X, SHIP_MAX_X = EDGE_MARGIN, WIDTH - 1 - EDGE_MARGIN
#: FIRE needs this many steps of rest after a shot; FIRE during them does nothing.
LASER_COOLDOWN = 4
#: The ship starts in the gap right of a column; one step RIGHT carries it 2 pixels inside
#: the next column, where a one-pixel march of the aliens cannot take it out again.
SHIP_START_OFFSET = COL_PITCH - SHIP_SPEED + 2

# --- Bombs -----------------------------------------------------------------------
MAX_BOMBS = 6  # in flight at once, per game
BOMB_SPEED = 4
BOMB_H = 4
BOMB_CHANCE = 0.15  # per step, when a slot is free
AIMED_CHANCE = 0.7  # share of bombs dropped from the living column nearest the ship

# --- End of an episode -----------------------------------------------------------
RUNNING, DESTROYED, INVADED, CLEARED = 0, 1, 2, 3
END_REASONS = ("running", "destroyed", "invaded", "cleared")

# --- Feature observation: one source of truth for names and bounds -----------------
N_BOMB_SLOTS = 3
FEATURES: tuple[tuple[str, float, float], ...] = (
    ("ship_x", 0.0, 1.0),
    ("cooldown", 0.0, 1.0),
    ("lives", 0.0, 1.0),
    ("formation_x", 0.0, 1.0),
    ("formation_y", 0.0, 1.0),
    ("direction", -1.0, 1.0),
    ("speed", 0.0, 1.0),
    ("in_sight", 0.0, 1.0),
    *((f"column_dx_{j}", -1.0, 1.0) for j in range(N_COLS)),
    *((f"alive_{r}_{c}", 0.0, 1.0) for r in range(N_ROWS) for c in range(N_COLS)),
    *(
        item
        for k in range(N_BOMB_SLOTS)
        for item in ((f"bomb_{k}_dx", -1.0, 1.0), (f"bomb_{k}_dy", -0.1, 1.0), (f"bomb_{k}_on", 0.0, 1.0))
    ),
)
FEATURE_NAMES = tuple(name for name, _, _ in FEATURES)
FEATURE_LOW = np.array([lo for _, lo, _ in FEATURES], np.float32)
FEATURE_HIGH = np.array([hi for _, _, hi in FEATURES], np.float32)
_ALIVE0 = FEATURE_NAMES.index("alive_0_0")
_COLDX0 = FEATURE_NAMES.index("column_dx_0")
_BOMB0 = FEATURE_NAMES.index("bomb_0_dx")
_FORM_X_MIN = EDGE_MARGIN - (N_COLS - 1) * COL_PITCH
_FORM_X_MAX = WIDTH - EDGE_MARGIN - ALIEN_W

_MOVE = np.array([-SHIP_SPEED, SHIP_SPEED, 0], np.int32)
_COL_OFFSETS = np.arange(N_COLS, dtype=np.int32) * COL_PITCH
_ROW_BOTTOMS = np.arange(N_ROWS, dtype=np.int32) * ROW_PITCH + ALIEN_H
_BOMB_THRESHOLD = np.uint64(int(BOMB_CHANCE * 2**16))
_AIMED_THRESHOLD = np.uint64(int(AIMED_CHANCE * 2**8))
_SLOTS = np.arange(MAX_BOMBS, dtype=np.int32)  # MAX_BOMBS <= 8: a slot fits in 3 bits
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _hash(key: np.ndarray, t: np.ndarray) -> np.ndarray:
    """SplitMix64 of ``key + t * golden``: 64 well-mixed bits per game and step."""
    z = key + t.astype(np.uint64) * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def lowest_alive_row(alive: np.ndarray) -> np.ndarray:
    """Index of the lowest ``True`` in each row of a ``(k, N_ROWS)`` mask, or -1 if none."""
    lowest = N_ROWS - 1 - alive[:, ::-1].argmax(axis=1)
    return np.where(alive.any(axis=1), lowest, -1)


class SpaceshipCore:
    """``n`` games of Spaceship stepped together; all state is public arrays."""

    def __init__(self, n: int, lives: int = 3) -> None:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
            raise ValueError(f"the number of games must be a positive int, got {n!r}")
        if not isinstance(lives, (int, np.integer)) or isinstance(lives, bool) or lives < 1:
            raise ValueError(f"lives must be a positive int, got {lives!r}")
        self.n = int(n)
        self.max_lives = int(lives)
        self.rngs: list[np.random.Generator] = [np.random.default_rng() for _ in range(n)]
        self.key = np.zeros(n, np.uint64)
        self.t = np.zeros(n, np.int64)
        self.ship_x = np.zeros(n, np.int32)
        self.cooldown = np.zeros(n, np.int32)
        self.lives = np.zeros(n, np.int32)
        self.score = np.zeros(n, np.int64)
        self.alive = np.zeros((n, N_ROWS, N_COLS), bool)
        self.n_alive = np.zeros(n, np.int32)
        self.form_x = np.zeros(n, np.int32)
        self.form_y = np.zeros(n, np.int32)
        self.direction = np.ones(n, np.int32)
        self.march_clock = np.zeros(n, np.int32)
        self.bomb_x = np.zeros((n, MAX_BOMBS), np.int32)
        self.bomb_y = np.zeros((n, MAX_BOMBS), np.int32)
        self.bomb_on = np.zeros((n, MAX_BOMBS), bool)
        #: Where this step's laser stopped (its top y), or -1 where no shot was fired.
        self.laser_top = np.full(n, -1, np.int32)
        self.end_reason = np.zeros(n, np.int8)
        #: Whether the lowest living alien has come down to the ship's row.
        self.invaded = np.zeros(n, bool)
        self._rows = np.arange(n)

    # --- reset -----------------------------------------------------------------------
    def reset(self, games: np.ndarray | slice = slice(None)) -> None:
        """Start a new episode in ``games`` (indices or a mask), drawing from their generators."""
        idx = self._rows[games]
        draws = np.array([self.rngs[i].integers(0, 2**63, size=2) for i in idx], np.uint64)
        draws = draws.reshape(len(idx), 2)
        self.key[idx] = draws[:, 0]
        gap = (draws[:, 1] % np.uint64(N_COLS - 1)).astype(np.int32)
        self.t[idx] = 0
        self.ship_x[idx] = FORMATION_START_X + gap * COL_PITCH + SHIP_START_OFFSET
        self.cooldown[idx] = 0
        self.lives[idx] = self.max_lives
        self.score[idx] = 0
        self.alive[idx] = True
        self.n_alive[idx] = N_ALIENS
        self.form_x[idx] = FORMATION_START_X
        self.form_y[idx] = FORMATION_START_Y
        self.direction[idx] = 1
        self.march_clock[idx] = 0
        self.bomb_on[idx] = False
        self.bomb_y[idx] = 0
        self.laser_top[idx] = -1
        self.end_reason[idx] = RUNNING
        self.invaded[idx] = False

    def seed(self, seed: int | None, games: np.ndarray | slice = slice(None)) -> None:
        """Give game ``i`` of ``games`` a fresh generator seeded ``seed + i`` (or from entropy)."""
        for k, i in enumerate(self._rows[games]):
            self.rngs[i] = np.random.default_rng(None if seed is None else seed + k)

    # --- step ------------------------------------------------------------------------
    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advance every game by one step; returns ``(rewards, terminated)``.

        ``actions`` must already be a valid int array of shape ``(n,)``; the fronts check it.
        """
        self.t += 1
        np.clip(self.ship_x + _MOVE[actions], SHIP_MIN_X, SHIP_MAX_X, out=self.ship_x)
        rewards = self._fire(actions == FIRE)
        self._march()
        self._bombs()
        return rewards, self._end()

    def _fire(self, wants_fire: np.ndarray) -> np.ndarray:
        """The lecture's r(s_t, a_t): FIRE kills the lowest alien above the ship at once."""
        rewards = np.zeros(self.n, np.int64)
        fire = wants_fire & (self.cooldown == 0)
        np.maximum(self.cooldown - 1, 0, out=self.cooldown)
        self.laser_top.fill(-1)
        if not fire.any():
            return rewards
        g = np.flatnonzero(fire)
        self.cooldown[g] = LASER_COOLDOWN
        self.laser_top[g] = 0
        col, in_col = self._column_under_ship(g)
        row = lowest_alive_row(self.alive[g, :, col])
        hit = in_col & (row >= 0)
        g, col, row = g[hit], col[hit], row[hit]
        self.alive[g, row, col] = False
        self.n_alive[g] -= 1
        rewards[g] = ROW_VALUES[row]
        self.score[g] += rewards[g]
        self.laser_top[g] = self.form_y[g] + _ROW_BOTTOMS[row]
        return rewards

    def _column_under_ship(self, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The column the laser of games ``g`` would pass through, and whether it does."""
        rel = self.ship_x[g] - self.form_x[g]
        col = rel // COL_PITCH
        in_col = (rel >= 0) & (col < N_COLS) & (rel % COL_PITCH < ALIEN_W)
        return np.clip(col, 0, N_COLS - 1), in_col

    def _march(self) -> None:
        """Move the formation one pixel when its clock is due; at a wall, step down and turn."""
        self.march_clock += 1
        due = self.march_clock >= MARCH_PERIOD[self.n_alive]
        if not due.any():
            return
        self.march_clock[due] = 0
        cols = self.alive.any(axis=1)
        left = cols.argmax(axis=1)
        right = N_COLS - 1 - cols[:, ::-1].argmax(axis=1)
        x = self.form_x + self.direction
        at_wall = (x + left * COL_PITCH < EDGE_MARGIN) | (x + right * COL_PITCH + ALIEN_W > WIDTH - EDGE_MARGIN)
        turn = due & at_wall
        self.form_x[:] = np.where(due & ~at_wall, x, self.form_x)
        if turn.any():
            g = np.flatnonzero(turn)
            self.form_y[g] += DROP
            self.direction[g] *= -1
            lowest = lowest_alive_row(self.alive[g].any(axis=2))
            self.invaded[g] = self.form_y[g] + _ROW_BOTTOMS[lowest] >= SHIP_Y

    def _bombs(self) -> None:
        """Bombs fall, hit the ship or the ground, and new ones drop from the lowest aliens."""
        np.add(self.bomb_y, BOMB_SPEED, out=self.bomb_y, where=self.bomb_on)
        hit = (
            self.bomb_on
            & (self.bomb_y + BOMB_H > SHIP_Y)
            & (self.bomb_y < SHIP_Y + SHIP_H)
            & (np.abs(self.bomb_x - self.ship_x[:, None]) <= SHIP_HALF_W)
        ).any(axis=1) & (self.n_alive > 0)
        self.bomb_on &= self.bomb_y < GROUND_Y
        if hit.any():
            self.lives[hit] -= 1
            self.bomb_on[hit] = False  # a hit clears the sky, as a respawn does

        bits = _hash(self.key, self.t)
        drop = (bits & np.uint64(0xFFFF)) < _BOMB_THRESHOLD
        drop &= ~self.bomb_on.all(axis=1) & (self.n_alive > 0) & (self.lives > 0)
        if not drop.any():
            return
        g = np.flatnonzero(drop)
        bits = bits[g]
        cols = self.alive[g].any(axis=1)  # (k, N_COLS)
        centres = self.form_x[g, None] + _COL_OFFSETS + ALIEN_W // 2
        distance = np.where(cols, np.abs(centres - self.ship_x[g, None]), WIDTH * 2)
        nearest = distance.argmin(axis=1)
        nth = (bits >> np.uint64(32)) % cols.sum(axis=1).astype(np.uint64)
        any_col = (cols.cumsum(axis=1) > nth[:, None].astype(np.int64)).argmax(axis=1)
        aimed = ((bits >> np.uint64(16)) & np.uint64(0xFF)) < _AIMED_THRESHOLD
        col = np.where(aimed, nearest, any_col)
        row = lowest_alive_row(self.alive[g, :, col])
        slot = self.bomb_on[g].argmin(axis=1)
        self.bomb_on[g, slot] = True
        self.bomb_x[g, slot] = centres[np.arange(len(g)), col]
        self.bomb_y[g, slot] = self.form_y[g] + _ROW_BOTTOMS[row]

    def _end(self) -> np.ndarray:
        """Set ``end_reason`` and return which games terminated this step."""
        reason = self.end_reason
        reason.fill(RUNNING)
        reason[self.invaded] = INVADED
        reason[self.lives <= 0] = DESTROYED
        reason[self.n_alive == 0] = CLEARED
        return reason != RUNNING

    # --- observations ------------------------------------------------------------------
    def in_sight(self, g: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Whether FIRE would kill an alien now in games ``g`` (ignoring the cooldown)."""
        rows = self._rows[g]
        col, in_col = self._column_under_ship(rows)
        return in_col & self.alive[rows, :, col].any(axis=1)

    def features(self, out: np.ndarray | None = None, g: np.ndarray | slice = slice(None)) -> np.ndarray:
        """The feature observation of games ``g``, scaled into ``FEATURE_LOW..FEATURE_HIGH``.

        With ``out``, rows ``g`` of ``out`` are written in place and ``out`` is returned.
        """
        n = len(self._rows[g])
        obs = np.empty((n, len(FEATURES)), np.float32) if out is None else out
        rows = slice(None) if out is None else g
        ship_x = self.ship_x[g]
        obs[rows, 0] = (ship_x - SHIP_MIN_X) / (SHIP_MAX_X - SHIP_MIN_X)
        obs[rows, 1] = self.cooldown[g] / LASER_COOLDOWN
        obs[rows, 2] = self.lives[g] / self.max_lives
        obs[rows, 3] = (self.form_x[g] - _FORM_X_MIN) / (_FORM_X_MAX - _FORM_X_MIN)
        obs[rows, 4] = (self.form_y[g] - FORMATION_START_Y) / (SHIP_Y - FORMATION_START_Y)
        obs[rows, 5] = self.direction[g]
        obs[rows, 6] = 1.0 / MARCH_PERIOD[self.n_alive[g]]
        obs[rows, 7] = self.in_sight(g)
        centres = self.form_x[g, None] + _COL_OFFSETS + ALIEN_W / 2
        obs[rows, _COLDX0 : _COLDX0 + N_COLS] = (centres - ship_x[:, None]) / WIDTH
        obs[rows, _ALIVE0 : _ALIVE0 + N_ALIENS] = self.alive[g].reshape(n, N_ALIENS)
        obs[rows, _BOMB0:] = self._bomb_features(g)
        return obs

    def _bomb_features(self, g: np.ndarray | slice) -> np.ndarray:
        """The nearest ``N_BOMB_SLOTS`` bombs as ``(dx, dy, on)`` triples, nearest first."""
        bomb_on = self.bomb_on[g]
        # Sorting keys (distance * 8 + slot) is cheaper than argsort on short rows.
        dy = np.where(bomb_on, SHIP_Y - self.bomb_y[g], HEIGHT)
        keys = np.sort(dy * 8 + _SLOTS, axis=1)[:, :N_BOMB_SLOTS]
        order, dy = keys & 7, keys >> 3
        on = dy < HEIGHT
        dx = np.take_along_axis(self.bomb_x[g], order, axis=1) - self.ship_x[g, None]
        out = np.empty((len(dy), 3 * N_BOMB_SLOTS), np.float32)
        out[:, 0::3] = np.where(on, dx / WIDTH, 0.0)
        out[:, 1::3] = np.where(on, dy / SHIP_Y, 1.0)
        out[:, 2::3] = on
        return out
