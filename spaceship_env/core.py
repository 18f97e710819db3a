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

import functools

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
ROW_VALUES = np.arange(N_ROWS * 5, 0, -5, dtype=np.int32)
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
#: Where the ship may start: the gap right of each column but the last.
START_X = FORMATION_START_X + np.arange(N_COLS - 1, dtype=np.int32) * COL_PITCH + SHIP_START_OFFSET

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

#: The ship's x after each action, by action and x.
_NEXT_X = np.clip(np.arange(WIDTH) + np.array([[-SHIP_SPEED], [SHIP_SPEED], [0]]), SHIP_MIN_X, SHIP_MAX_X)
_COL_OFFSETS = np.arange(N_COLS, dtype=np.int32) * COL_PITCH
_COL_CENTRES = _COL_OFFSETS + ALIEN_W / 2
_ROW_BOTTOMS = np.arange(N_ROWS, dtype=np.int32) * ROW_PITCH + ALIEN_H
_COL_MIDDLES = _COL_OFFSETS + ALIEN_W // 2  # where a column's bombs start, from the formation's x
#: A bomb hits the ship when its y is in ``_HIT_Y_LOW .. _HIT_Y_LOW + _HIT_Y_SPAN`` (its
#: bottom is inside the ship) and its x is within ``SHIP_HALF_W`` of the ship's.
_HIT_Y_LOW, _HIT_Y_SPAN = SHIP_Y - BOMB_H + 1, SHIP_H + BOMB_H - 2
_HIT_X_SPAN = 2 * SHIP_HALF_W
#: A game's 64 random bits of a step, read as little-endian fields: bits 0-15 roll for a
#: drop, bits 16-23 for aiming it, and bits 32-63 pick the column of an unaimed bomb.
_RANDOM = np.dtype("<u8")
_BOMB_THRESHOLD = int(BOMB_CHANCE * 2**16)  # Python ints: a chance of 1.0 is out of the
_AIMED_THRESHOLD = int(AIMED_CHANCE * 2**8)  # field's range, and numpy compares it correctly
_SLOTS = np.arange(MAX_BOMBS, dtype=np.int32)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_SHIFT30, _SHIFT27, _SHIFT31 = np.uint64(30), np.uint64(27), np.uint64(31)


def _mix(stream: np.ndarray) -> np.ndarray:
    """SplitMix64's output function: 64 well-mixed bits from each stream position."""
    z = stream ^ (stream >> _SHIFT30)
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
#: Masks that clear one bit: row r of a column's mask, column c of the living columns.
_ROW_CLEAR = ~(1 << np.arange(N_ROWS)).astype(np.uint8)
_COL_CLEAR = ~(1 << np.arange(N_COLS)).astype(np.uint8)
_FULL_COLUMN, _FULL_WAVE = np.uint8(2**N_ROWS - 1), np.uint8(2**N_COLS - 1)
#: The formation's x range before it turns, by its living-column mask.
_LEFT_COL = _COL_SETS.argmax(axis=1)
_RIGHT_COL = N_COLS - 1 - _COL_SETS[:, ::-1].argmax(axis=1)
_X_MIN = (EDGE_MARGIN - _LEFT_COL * COL_PITCH).astype(np.int32)
_X_MAX = (WIDTH - EDGE_MARGIN - ALIEN_W - _RIGHT_COL * COL_PITCH).astype(np.int32)
_X_SPAN = (_X_MAX - _X_MIN).astype(np.uint32)  # x is inside when 0 <= x - _X_MIN <= _X_SPAN
#: Number of living columns, and the index of the n-th living column, by column mask.
_N_LIVING = _COL_SETS.sum(axis=1).astype(np.uint32)
_NTH_LIVING = (_COL_SETS.cumsum(axis=1)[:, None, :] > np.arange(N_COLS)[None, :, None]).argmax(axis=2)
# --- Lookup tables on the ship's x relative to the formation's, ``rel`` ------------------
# ``rel`` spans every ship x minus every formation x, and can be negative. The tables are
# laid out so that ``rel`` indexes them as Python does: entry ``rel`` when it is positive,
# entry ``rel`` counted from the end when it is negative. ``_REL`` holds each entry's ``rel``.
_REL_MIN = SHIP_MIN_X - _FORM_X_MAX
_REL = np.roll(np.arange(_REL_MIN, SHIP_MAX_X - _FORM_X_MIN + 1), _REL_MIN)
#: The column a laser at ``rel`` passes through; ``N_COLS`` (an always-empty extra
#: column) where it passes between or beside the columns.
_COLUMN_AT = np.where(
    (_REL >= 0) & (_REL // COL_PITCH < N_COLS) & (_REL % COL_PITCH < ALIEN_W), _REL // COL_PITCH, N_COLS
)
#: The living column whose centre is nearest the ship, by living-column mask and ``rel``.
_NEAREST_COLUMN = np.where(_COL_SETS[:, None, :], np.abs(_COL_CENTRES - _REL[:, None]), np.inf).argmin(axis=2)
#: The ``column_dx_j`` features: (centre of column j - ship x) / WIDTH, by j and ``rel``.
_COLUMN_DX = ((_COL_CENTRES[:, None] - _REL) / WIDTH).astype(np.float32)
_SPEED = (1.0 / MARCH_PERIOD).astype(np.float32)
#: The bomb sort keys (see ``SpaceshipCore._bomb_features``): int64s of four 16-bit fields,
#: low to high: dx, slot + 1, dy and the game within its sort chunk, read back little-endian.
_KEY, _KEY_FIELDS = np.dtype("<i8"), np.dtype("<i2")
_DY_SHIFT, _GAME_SHIFT = 32, 48
_SORT_CHUNK = 1 << 15  # games per sort, so that the game field stays a positive int16
_BOMB_KEY_BASE = (SHIP_Y << _DY_SHIFT) + ((_SLOTS.astype(np.int64)[:, None] + 1) << 16)
#: Each game's ints, with their values at the start of an episode (``ship_x`` is drawn and
#: ``lives`` is the core's). The first six are the first six features, ``(int - low) / span``.
_INTS = {
    "ship_x": 0,
    "cooldown": 0,
    "lives": 0,
    "form_x": FORMATION_START_X,
    "form_y": FORMATION_START_Y,
    "direction": 1,
    "march_clock": 0,
    "n_alive": N_ALIENS,
    "t": 0,
    "score": 0,
    "laser_top": -1,
    "end_reason": RUNNING,
}
_SCALED_LOW = np.array([SHIP_MIN_X, 0, 0, _FORM_X_MIN, FORMATION_START_Y, 0], np.int32)[:, None]


class SpaceshipCore:
    """``n`` games of Spaceship stepped together; all state is public arrays.

    The per-game ints are columns of one ``ints`` array and the bombs are stored slot
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
        #: Each game's position in its random stream: its key plus t golden-ratio steps.
        self.stream = np.zeros(n, np.uint64)
        self.ints = np.zeros((len(_INTS), n), np.int32).T  # column views are contiguous
        (
            self.ship_x,
            self.cooldown,
            self.lives,
            self.form_x,
            self.form_y,
            self.direction,
            self.march_clock,
            self.n_alive,
            self.t,
            self.score,
            #: Where this step's laser stopped (its top y), or -1 where no shot was fired.
            self.laser_top,
            self.end_reason,
        ) = self.ints.T
        self.alive = np.zeros((n, N_ROWS, N_COLS), bool)
        #: Living rows of each column as a bit mask, plus an always-empty column ``N_COLS``.
        self.col_rows = np.zeros((n, N_COLS + 1), np.uint8)
        #: Living columns as a bit mask.
        self.col_bits = np.zeros(n, np.uint8)
        self._bomb_x = np.zeros((MAX_BOMBS, n), np.int32)
        self._bomb_y = np.zeros((MAX_BOMBS, n), np.int32)
        self._bomb_on = np.zeros((MAX_BOMBS, n), bool)
        self.bomb_x, self.bomb_y, self.bomb_on = self._bomb_x.T, self._bomb_y.T, self._bomb_on.T
        self._rows = np.arange(n)
        self._cell0 = self._rows * (N_COLS + 1)  # flat index of each game's column 0 in col_rows
        self._bomb_key_base = _BOMB_KEY_BASE + ((self._rows % _SORT_CHUNK) << _GAME_SHIFT)
        self._fresh = np.array([lives if name == "lives" else v for name, v in _INTS.items()], np.int32)
        self._span = np.array(
            [
                SHIP_MAX_X - SHIP_MIN_X,
                LASER_COOLDOWN,
                self.max_lives,
                _FORM_X_MAX - _FORM_X_MIN,
                SHIP_Y - FORMATION_START_Y,
                1,  # direction is already -1 or +1
            ],
            np.float32,
        )[:, None]

    # --- reset -----------------------------------------------------------------------
    def reset(self, games: np.ndarray | slice = slice(None)) -> None:
        """Start a new episode in ``games`` (indices or a mask), drawing from their generators.

        Game by game: a step resets one or two games of a batch, where plain indexing is
        cheaper than fancy indexing.
        """
        for i in self._rows[games].tolist():
            key, start = self.rngs[i].bit_generator.random_raw(2)
            self.stream[i] = key
            self.ints[i] = self._fresh
            self.ship_x[i] = START_X[int(start) % len(START_X)]
            self.alive[i] = True
            self.col_rows[i, :N_COLS] = _FULL_COLUMN
            self.col_bits[i] = _FULL_WAVE
            self._bomb_on[:, i] = False

    def seed(self, seed: int | None, games: np.ndarray | slice = slice(None)) -> None:
        """Give game ``i`` of ``games`` a fresh generator seeded ``seed + i`` (or from entropy)."""
        for k, i in enumerate(self._rows[games]):
            self.rngs[i] = np.random.default_rng(None if seed is None else seed + k)

    # --- step ------------------------------------------------------------------------
    # At a few hundred games a numpy call costs far more than its arithmetic, so the step
    # counts calls: lookups are ``take`` (cheaper than ``[]``), and ``col_rows`` is read
    # and written through flat cell indices.
    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advance every game by one step; returns ``(rewards, terminated)``, float32 and bool.

        ``actions`` must already be a valid int array of shape ``(n,)``; the fronts check it.
        """
        self.t += 1
        self.stream += _GOLDEN
        self.end_reason.fill(RUNNING)
        self.ship_x[:] = _NEXT_X[actions, self.ship_x]
        rewards = self._fire(actions == FIRE)
        self._march()
        self._bombs()
        return rewards, self._end()

    def _fire(self, wants_fire: np.ndarray) -> np.ndarray:
        """The lecture's r(s_t, a_t): FIRE kills the lowest alien above the ship at once."""
        rewards = np.zeros(self.n, np.float32)
        ready = self.cooldown == 0
        self.cooldown -= ~ready
        self.laser_top.fill(-1)
        g = (wants_fire & ready).nonzero()[0]
        if not len(g):
            return rewards
        self.cooldown[g] = LASER_COOLDOWN
        self.laser_top[g] = 0
        cell = _COLUMN_AT.take(self._rel(g))
        cell += self._cell0[g]
        row = _LOWEST_ROW.take(self.col_rows.ravel().take(cell))
        hit = row >= 0
        g, cell, row = g[hit], cell[hit], row[hit]
        self._kill(g, row, cell)
        points = ROW_VALUES.take(row)
        rewards[g] = points
        self.score[g] += points
        self.laser_top[g] = self.form_y[g] + _ROW_BOTTOMS.take(row)
        return rewards

    def _kill(self, g: np.ndarray, row: np.ndarray, cell: np.ndarray) -> None:
        """Remove the alien in ``row`` of column ``cell`` (a flat index into ``col_rows``)."""
        col = cell - self._cell0[g]
        self.alive[g, row, col] = False
        self.n_alive[g] -= 1
        left = self.col_rows.ravel().take(cell) & _ROW_CLEAR.take(row)
        self.col_rows.ravel()[cell] = left
        emptied = (left == 0).nonzero()[0]
        if len(emptied):
            self.col_bits[g[emptied]] &= _COL_CLEAR.take(col[emptied])

    def _rel(self, g: np.ndarray | slice = slice(None)) -> np.ndarray:
        """``rel`` of games ``g``, the index into the ``rel`` tables: ship x - formation x."""
        return self.ship_x[g] - self.form_x[g]

    def _march(self) -> None:
        """Move the formation one pixel when its clock is due; at a wall, step down and turn.

        A game whose lowest aliens come down to the ship's row ends ``INVADED``.
        """
        self.march_clock += 1
        due = self.march_clock >= MARCH_PERIOD.take(self.n_alive)
        if not np.count_nonzero(due):
            return
        self.march_clock[due] = 0
        x = self.form_x + self.direction
        at_wall = (x - _X_MIN.take(self.col_bits)).view(np.uint32) > _X_SPAN.take(self.col_bits)
        self.form_x += self.direction * (due & ~at_wall)
        g = (due & at_wall).nonzero()[0]
        if len(g):
            self.form_y[g] += DROP
            self.direction[g] *= -1
            lowest = _LOWEST_ROW.take(np.bitwise_or.reduce(self.col_rows[g], axis=1))
            self.end_reason[g[self.form_y[g] + _ROW_BOTTOMS.take(lowest) >= SHIP_Y]] = INVADED

    def _bombs(self) -> None:
        """Bombs fall, hit the ship or the ground, and new ones drop from the lowest aliens."""
        on, bomb_x, bomb_y = self._bomb_on, self._bomb_x, self._bomb_y  # (MAX_BOMBS, n)
        bomb_y += BOMB_SPEED  # empty slots fall too: harmless, and cheaper than a mask
        playing = self.n_alive > 0
        # Range tests as one unsigned comparison each: 0 <= v - lo <= span.
        level = (bomb_y - _HIT_Y_LOW).view(np.uint32) <= _HIT_Y_SPAN
        level &= (bomb_x - (self.ship_x - SHIP_HALF_W)).view(np.uint32) <= _HIT_X_SPAN
        level &= on
        hit = level.any(axis=0)
        hit &= playing
        on &= bomb_y < GROUND_Y
        self.lives -= hit
        on &= ~hit  # a hit clears the sky, as a respawn does

        bits = _mix(self.stream).astype(_RANDOM, copy=False)
        drop = bits.view("<u2")[0::4] < _BOMB_THRESHOLD
        playing &= self.lives > 0
        drop &= playing
        drop &= ~on.all(axis=0)
        g = drop.nonzero()[0]
        if not len(g):
            return
        bits = bits[g]
        col_bits = self.col_bits[g]
        nearest = _NEAREST_COLUMN[col_bits, self._rel(g)]
        any_col = _NTH_LIVING[col_bits, bits.view("<u4")[1::2] % _N_LIVING.take(col_bits)]
        col = np.where(bits.view(np.uint8)[2::8] < _AIMED_THRESHOLD, nearest, any_col)
        row = _LOWEST_ROW.take(self.col_rows.ravel().take(self._cell0[g] + col))
        at = on[:, g].argmin(axis=0)  # the first free slot ...
        at *= self.n
        at += g  # ... as a flat index into the (MAX_BOMBS, n) arrays
        on.ravel()[at] = True
        bomb_x.ravel()[at] = self.form_x[g] + _COL_MIDDLES.take(col)
        bomb_y.ravel()[at] = self.form_y[g] + _ROW_BOTTOMS.take(row)

    def _end(self) -> np.ndarray:
        """Complete ``end_reason`` (an invasion is set by the march) and return which games ended."""
        reason = self.end_reason
        reason[self.lives <= 0] = DESTROYED
        reason[self.n_alive == 0] = CLEARED
        return reason != RUNNING

    # --- observations ------------------------------------------------------------------
    def features(self) -> np.ndarray:
        """The feature observation of every game, scaled into ``FEATURE_LOW..FEATURE_HIGH``.

        Apart from the alive mask, the blocks are built feature-major (a row per feature,
        contiguous over the games) and transposed into place, one copy per block.
        """
        obs = np.empty((self.n, len(FEATURES)), np.float32)
        obs[:, :_ALIVE0] = self._head_features().T
        obs[:, _ALIVE0:_BOMB0] = self.alive.reshape(self.n, N_ALIENS)
        obs[:, _BOMB0:] = self._bomb_features().T
        return obs

    def _head_features(self) -> np.ndarray:
        """The features before the alive mask (ship, formation, columns), one row each."""
        head = np.empty((_ALIVE0, self.n), np.float32)
        # Ints below 2**24 are exact in float32, and 53 >= 2 * 24 + 2 bits make the float32
        # quotient equal the float64 one rounded to float32.
        np.divide(self.ints.T[0:6] - _SCALED_LOW, self._span, out=head[0:6], dtype=np.float32)
        head[6] = _SPEED.take(self.n_alive)
        rel = self._rel()
        cells = _COLUMN_AT.take(rel)
        cells += self._cell0
        head[7] = self.col_rows.ravel().take(cells) != 0  # in_sight
        head[_COLDX0:] = _COLUMN_DX.take(rel, axis=1)
        return head

    def start_features(self, games: np.ndarray) -> np.ndarray:
        """The features of ``games`` right after their reset, from a table by start position.

        A fresh game differs from another only in where the ship starts, so this is a
        lookup, far cheaper than :meth:`features` for a few games of a large batch.
        """
        return _start_features()[np.searchsorted(START_X, self.ship_x[games])]

    def _bomb_features(self) -> np.ndarray:
        """The nearest ``N_BOMB_SLOTS`` bombs as ``(dx, dy, on)`` triples, nearest first.

        Rows are features and columns games, so each row is written in one contiguous pass.

        Each bomb gets the int64 key ``game * 2**48 + dy * 2**32 + (slot + 1) * 2**16 + dx``,
        where ``dy`` is its height above the ship. ``|dx|`` and ``|dy|`` are at most a screen
        and ``game < _SORT_CHUNK = 2**15``, so one sort orders the bombs by game, then ``dy``,
        then slot; larger batches are sorted a chunk of games at a time. The key's 16-bit
        words read back ``dx`` and ``dy`` exactly: a negative ``dx`` borrows from ``slot + 1``,
        which is never 0, so the borrow stops short of ``dy``. An empty slot has
        ``dy = SHIP_Y`` and ``dx = 0``: it sorts after every bomb in flight (those are above
        the ground, so ``dy < SHIP_Y``), and its features are ``(0, 1, 0)``.
        """
        keys = np.subtract(self._bomb_x, self.ship_x, dtype=np.int64)  # (MAX_BOMBS, n), slot first
        keys -= self._bomb_y.astype(np.int64) << _DY_SHIFT
        keys *= self._bomb_on
        keys += self._bomb_key_base
        chunks = [np.sort(keys[:, c : c + _SORT_CHUNK], axis=None) for c in range(0, self.n, _SORT_CHUNK)]
        ordered = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
        words = ordered.astype(_KEY, copy=False).view(_KEY_FIELDS)  # no copy on little-endian
        words = words.reshape(self.n, MAX_BOMBS, 4)[:, :N_BOMB_SLOTS].T
        dx, dy = words[0], words[2]  # (N_BOMB_SLOTS, n)
        out = np.empty((3 * N_BOMB_SLOTS, self.n), np.float32)
        np.divide(dx, WIDTH, out=out[0::3])
        np.divide(dy, SHIP_Y, out=out[1::3])
        np.less(dy, SHIP_Y, out=out[2::3])
        return out


@functools.cache
def _start_features() -> np.ndarray:
    """Row ``k``: the features of a fresh game whose ship starts at ``START_X[k]``."""
    game = SpaceshipCore(len(START_X))
    game.seed(0)
    game.reset()
    game.ship_x[:] = START_X
    return game.features()
