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
_COL_CENTRES = _COL_OFFSETS + ALIEN_W / 2
_ROW_BOTTOMS = np.arange(N_ROWS, dtype=np.int32) * ROW_PITCH + ALIEN_H
_BOMB_THRESHOLD = np.uint64(int(BOMB_CHANCE * 2**16))
_AIMED_THRESHOLD = np.uint64(int(AIMED_CHANCE * 2**8))
_SLOTS = np.arange(MAX_BOMBS, dtype=np.int32)  # MAX_BOMBS <= 8: a slot fits in 3 bits
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_SHIFT30, _SHIFT27, _SHIFT31 = np.uint64(30), np.uint64(27), np.uint64(31)


def _hash(key: np.ndarray, t: np.ndarray) -> np.ndarray:
    """SplitMix64 of ``key + t * golden``: 64 well-mixed bits per game and step."""
    z = t.astype(np.uint64)
    z *= _GOLDEN
    z += key
    z ^= z >> _SHIFT30
    z *= _MIX1
    z ^= z >> _SHIFT27
    z *= _MIX2
    z ^= z >> _SHIFT31
    return z


def lowest_alive_row(alive: np.ndarray) -> np.ndarray:
    """Index of the lowest ``True`` in each row of a ``(k, N_ROWS)`` mask, or -1 if none."""
    lowest = N_ROWS - 1 - alive[:, ::-1].argmax(axis=1)
    return np.where(alive.any(axis=1), lowest, -1)


def _subsets(k: int) -> np.ndarray:
    """Row ``m`` is bit mask ``m`` as ``k`` booleans (bit ``j`` is element ``j``)."""
    return (np.arange(2**k)[:, None] >> np.arange(k)) & 1 == 1


# --- Lookup tables on bit masks, so that a step never scans the alive grid ------------
# A column's living rows are a bit mask (bit r: row r); the living columns are another.
_ROW_SETS, _COL_SETS = _subsets(N_ROWS), _subsets(N_COLS)
#: Lowest living row of a column, by its row mask (-1 if empty).
_LOWEST_ROW = lowest_alive_row(_ROW_SETS)
_ROW_BIT = (1 << np.arange(N_ROWS)).astype(np.uint8)
_COL_BIT = (1 << np.arange(N_COLS)).astype(np.uint8)
_FULL_COLUMN, _FULL_WAVE = np.uint8(2**N_ROWS - 1), np.uint8(2**N_COLS - 1)
#: The formation's x range before it turns, by its living-column mask.
_LEFT_COL = _COL_SETS.argmax(axis=1)
_RIGHT_COL = N_COLS - 1 - _COL_SETS[:, ::-1].argmax(axis=1)
_X_MIN = (EDGE_MARGIN - _LEFT_COL * COL_PITCH).astype(np.int32)
_X_MAX = (WIDTH - EDGE_MARGIN - ALIEN_W - _RIGHT_COL * COL_PITCH).astype(np.int32)
#: Number of living columns, and the index of the n-th living column, by column mask.
_N_LIVING = _COL_SETS.sum(axis=1).astype(np.uint64)
_NTH_LIVING = (_COL_SETS.cumsum(axis=1)[:, None, :] > np.arange(N_COLS)[None, :, None]).argmax(axis=2)
#: The column a laser at ``rel`` = ship x - formation x (clipped, + 1) passes through;
#: ``N_COLS`` (an always-empty extra column) where it passes between or beside them.
_REL = np.arange(-1, N_COLS * COL_PITCH + 1)
_COLUMN_AT = np.where(
    (_REL >= 0) & (_REL // COL_PITCH < N_COLS) & (_REL % COL_PITCH < ALIEN_W), _REL // COL_PITCH, N_COLS
)
_SPEED = (1.0 / MARCH_PERIOD).astype(np.float32)
#: Bit layout of the bomb sort keys (see ``SpaceshipCore._bomb_features``).
_DX_BIAS, _DX_MASK = 1 << 10, (1 << 11) - 1
_DY_SHIFT, _DY_BIAS, _DY_MASK = 14, 1 << 31, (1 << 32) - 1
_GAME_SHIFT = 46
_BOMB_KEY_BASE = ((SHIP_Y + _DY_BIAS) << _DY_SHIFT) + (_SLOTS.astype(np.int64)[:, None] << 11) + _DX_BIAS
#: The first features are ``(ints[:, :5] - _SCALED_LOW) / span``, with ``lives`` at index 2.
_SCALED_LOW = np.array([SHIP_MIN_X, 0, 0, _FORM_X_MIN, FORMATION_START_Y], np.int32)


class SpaceshipCore:
    """``n`` games of Spaceship stepped together; all state is public arrays.

    The per-game ints are columns of one ``(n, 8)`` array and the bombs are stored slot
    first; the public names are views. ``col_rows`` and ``col_bits`` are bit masks of the
    living aliens (rows per column, living columns), kept in step with ``alive``.
    """

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
        self.ints = np.zeros((n, 8), np.int32)
        (
            self.ship_x,
            self.cooldown,
            self.lives,
            self.form_x,
            self.form_y,
            self.direction,
            self.march_clock,
            self.n_alive,
        ) = self.ints.T
        self.score = np.zeros(n, np.int64)
        self.alive = np.zeros((n, N_ROWS, N_COLS), bool)
        #: Living rows of each column as a bit mask, plus an always-empty column ``N_COLS``.
        self.col_rows = np.zeros((n, N_COLS + 1), np.uint8)
        #: Living columns as a bit mask.
        self.col_bits = np.zeros(n, np.uint8)
        self._bomb_x = np.zeros((MAX_BOMBS, n), np.int32)
        self._bomb_y = np.zeros((MAX_BOMBS, n), np.int32)
        self._bomb_on = np.zeros((MAX_BOMBS, n), bool)
        self.bomb_x, self.bomb_y, self.bomb_on = self._bomb_x.T, self._bomb_y.T, self._bomb_on.T
        #: Where this step's laser stopped (its top y), or -1 where no shot was fired.
        self.laser_top = np.full(n, -1, np.int32)
        self.end_reason = np.zeros(n, np.int8)
        #: Whether the lowest living alien has come down to the ship's row.
        self.invaded = np.zeros(n, bool)
        self._rows = np.arange(n)
        self._cell0 = self._rows * (N_COLS + 1)  # flat index of each game's column 0 in col_rows
        self._fresh = np.array([0, 0, self.max_lives, FORMATION_START_X, FORMATION_START_Y, 1, 0, N_ALIENS], np.int32)
        self._span = np.array(
            [
                SHIP_MAX_X - SHIP_MIN_X,
                LASER_COOLDOWN,
                self.max_lives,
                _FORM_X_MAX - _FORM_X_MIN,
                SHIP_Y - FORMATION_START_Y,
            ],
            float,
        )

    # --- reset -----------------------------------------------------------------------
    def reset(self, games: np.ndarray | slice = slice(None)) -> None:
        """Start a new episode in ``games`` (indices or a mask), drawing from their generators."""
        idx = self._rows[games]
        draws = np.array([self.rngs[i].integers(0, 2**63, size=2) for i in idx], np.uint64)
        draws = draws.reshape(len(idx), 2)
        self.key[idx] = draws[:, 0]
        gap = (draws[:, 1] % np.uint64(N_COLS - 1)).astype(np.int32)
        self.t[idx] = 0
        self.ints[idx] = self._fresh
        self.ship_x[idx] = FORMATION_START_X + gap * COL_PITCH + SHIP_START_OFFSET
        self.score[idx] = 0
        self.alive[idx] = True
        self.col_rows[idx, :N_COLS] = _FULL_COLUMN
        self.col_bits[idx] = _FULL_WAVE
        self._bomb_on[:, idx] = False
        self._bomb_y[:, idx] = 0
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
        np.subtract(self.cooldown, 1, out=self.cooldown, where=self.cooldown > 0)
        self.laser_top.fill(-1)
        if not fire.any():
            return rewards
        g = np.flatnonzero(fire)
        self.cooldown[g] = LASER_COOLDOWN
        self.laser_top[g] = 0
        col = self._column_under_ship(g)
        row = _LOWEST_ROW[self.col_rows[g, col]]
        hit = row >= 0
        g, col, row = g[hit], col[hit], row[hit]
        self._kill(g, row, col)
        rewards[g] = ROW_VALUES[row]
        self.score[g] += rewards[g]
        self.laser_top[g] = self.form_y[g] + _ROW_BOTTOMS[row]
        return rewards

    def _kill(self, g: np.ndarray, row: np.ndarray, col: np.ndarray) -> None:
        """Remove the alien at ``(row, col)`` of each game ``g`` from ``alive`` and its masks."""
        self.alive[g, row, col] = False
        self.n_alive[g] -= 1
        left = self.col_rows[g, col] & ~_ROW_BIT[row]
        self.col_rows[g, col] = left
        emptied = left == 0
        self.col_bits[g[emptied]] &= ~_COL_BIT[col[emptied]]

    def _column_under_ship(self, g: np.ndarray) -> np.ndarray:
        """The column the laser of games ``g`` would pass through, or ``N_COLS`` for none."""
        return self._column_at(self.ship_x[g] - self.form_x[g])

    @staticmethod
    def _column_at(rel: np.ndarray) -> np.ndarray:
        """The column at ``rel`` pixels right of the formation's left edge, or ``N_COLS``."""
        return _COLUMN_AT.take(rel + 1, mode="clip")

    def _march(self) -> None:
        """Move the formation one pixel when its clock is due; at a wall, step down and turn."""
        self.march_clock += 1
        due = self.march_clock >= MARCH_PERIOD[self.n_alive]
        if not due.any():
            return
        self.march_clock[due] = 0
        x = self.form_x + self.direction
        at_wall = (x < _X_MIN[self.col_bits]) | (x > _X_MAX[self.col_bits])
        np.copyto(self.form_x, x, where=due & ~at_wall)
        turn = due & at_wall
        if turn.any():
            g = np.flatnonzero(turn)
            self.form_y[g] += DROP
            self.direction[g] *= -1
            lowest = lowest_alive_row(self.alive[g].any(axis=2))
            self.invaded[g] = self.form_y[g] + _ROW_BOTTOMS[lowest] >= SHIP_Y

    def _bombs(self) -> None:
        """Bombs fall, hit the ship or the ground, and new ones drop from the lowest aliens."""
        on, bomb_x, bomb_y = self._bomb_on, self._bomb_x, self._bomb_y  # (MAX_BOMBS, n)
        np.add(bomb_y, BOMB_SPEED, out=bomb_y, where=on)
        any_alive = self.n_alive > 0
        hit = (
            on & (bomb_y > SHIP_Y - BOMB_H) & (bomb_y < SHIP_Y + SHIP_H) & (np.abs(bomb_x - self.ship_x) <= SHIP_HALF_W)
        ).any(axis=0) & any_alive
        on &= bomb_y < GROUND_Y
        if hit.any():
            self.lives[hit] -= 1
            on[:, hit] = False  # a hit clears the sky, as a respawn does

        bits = _hash(self.key, self.t)
        drop = (bits & np.uint64(0xFFFF)) < _BOMB_THRESHOLD
        drop &= ~on.all(axis=0) & any_alive & (self.lives > 0)
        if not drop.any():
            return
        g = np.flatnonzero(drop)
        bits = bits[g]
        col_bits = self.col_bits[g]
        form_x = self.form_x[g]
        centres = form_x[:, None] + _COL_OFFSETS + ALIEN_W // 2
        distance = np.where(_COL_SETS[col_bits], np.abs(centres - self.ship_x[g, None]), WIDTH * 2)
        nearest = distance.argmin(axis=1)
        nth = (bits >> np.uint64(32)) % _N_LIVING[col_bits]
        any_col = _NTH_LIVING[col_bits, nth]
        aimed = ((bits >> np.uint64(16)) & np.uint64(0xFF)) < _AIMED_THRESHOLD
        col = np.where(aimed, nearest, any_col)
        row = _LOWEST_ROW[self.col_rows[g, col]]
        slot = on[:, g].argmin(axis=0)
        on[slot, g] = True
        bomb_x[slot, g] = form_x + col * COL_PITCH + ALIEN_W // 2
        bomb_y[slot, g] = self.form_y[g] + _ROW_BOTTOMS[row]

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
        return self.col_rows[rows, self._column_under_ship(rows)] != 0

    def features(self, out: np.ndarray | None = None, g: np.ndarray | slice = slice(None)) -> np.ndarray:
        """The feature observation of games ``g``, scaled into ``FEATURE_LOW..FEATURE_HIGH``.

        With ``out``, rows ``g`` of ``out`` are written in place and ``out`` is returned.
        """
        if out is not None and not isinstance(g, slice):
            out[g] = self.features(g=g)
            return out
        ints = self.ints[g]
        n = len(ints)
        obs = np.empty((n, len(FEATURES)), np.float32) if out is None else out[g]
        np.divide(ints[:, 0:5] - _SCALED_LOW, self._span, out=obs[:, 0:5])
        obs[:, 5] = ints[:, 5]
        np.take(_SPEED, ints[:, 7], out=obs[:, 6])
        rel = ints[:, 0] - ints[:, 3]
        cells = self._column_at(rel)
        cells += self._cell0[:n]
        np.not_equal(self.col_rows[g].ravel().take(cells), 0, out=obs[:, 7])
        np.divide(np.subtract(_COL_CENTRES, rel[:, None]), WIDTH, out=obs[:, _COLDX0 : _COLDX0 + N_COLS])
        obs[:, _ALIVE0 : _ALIVE0 + N_ALIENS] = self.alive[g].reshape(n, N_ALIENS)
        self._bomb_features(g, obs[:, _BOMB0:])
        return obs if out is None else out

    def _bomb_features(self, g: np.ndarray | slice, out: np.ndarray) -> None:
        """Write the nearest ``N_BOMB_SLOTS`` bombs as ``(dx, dy, on)`` triples, nearest first.

        One sort orders every bomb of every game: an int64 key packs, from high bits to low,
        the game, ``dy`` (height above the ship, biased), the slot and ``dx`` (+1024). An
        empty slot gets ``dy = SHIP_Y`` and ``dx = 0``: it sorts after every bomb in flight
        (those are above the ground, so ``dy < SHIP_Y``), and its features are ``(0, 1, 0)``.
        """
        on = self._bomb_on[:, g]  # (MAX_BOMBS, k)
        k = on.shape[1]
        base = _BOMB_KEY_BASE + (self._rows[:k] << _GAME_SHIFT)
        keys = np.subtract(self._bomb_x[:, g], self.ship_x[g], dtype=np.int64)
        keys -= self._bomb_y[:, g].astype(np.int64) << _DY_SHIFT
        keys *= on
        keys += base
        nearest = np.sort(keys.ravel()).reshape(k, MAX_BOMBS)[:, :N_BOMB_SLOTS]
        dy = ((nearest >> _DY_SHIFT) & _DY_MASK) - _DY_BIAS
        dx = (nearest & _DX_MASK) - _DX_BIAS
        np.divide(dx, WIDTH, out=out[:, 0::3])
        np.divide(dy, SHIP_Y, out=out[:, 1::3])
        np.less(dy, SHIP_Y, out=out[:, 2::3])
