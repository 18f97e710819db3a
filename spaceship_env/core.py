"""The rules of Spaceship, written once, for a batch of games held in numpy arrays.

Every front (the Gymnasium env, the Gymnasium ``VectorEnv`` and the SB3 ``VecEnv``)
steps a :class:`SpaceshipCore`. Element ``i`` of every state array is game ``i``. The
core knows nothing of drawing, input, spaces or auto-reset; it only plays the game.
:mod:`spaceship_env.reference` plays the same rules for one game in plain Python, and
the tests hold the two to each other step by step.

A step of one frame, in order:

1. The ship moves (LEFT/RIGHT, ``SHIP_SPEED`` pixels, kept inside the margins).
2. FIRE, if the laser has cooled down, kills the lowest living alien in the column
   above the ship at once and scores its row's points.
3. The formation marches one pixel when its clock is due; at a wall it steps down
   ``DROP`` pixels and turns instead. If its lowest aliens reach the ship's row, the
   aliens have landed.
4. Bombs fall; one that meets the ship takes a life and clears the sky. Then, by
   chance, a bomb drops from the lowest alien of a column: the column nearest the
   ship (aimed) or any living column.
5. The episode ends when the ship has no lives left, the aliens have landed, or no
   alien is left.

Randomness is per game. At each reset a game draws a 64-bit key from its own
``np.random.Generator``; the random bits of frame ``t`` are SplitMix64 of
``key + t * golden``. A game therefore plays the same whatever batch it sits in, and
the draws of a frame are one vectorised hash.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np

from spaceship_env.params import GameParams
from spaceship_env.validation import check_int, check_seed

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
#: The formation's x range over every wave: only its right column alive, at the left
#: wall, to only its left column alive, at the right wall.
FORMATION_X_MIN = EDGE_MARGIN - (N_COLS - 1) * COL_PITCH
FORMATION_X_MAX = WIDTH - EDGE_MARGIN - ALIEN_W

# --- Ship and laser --------------------------------------------------------------
SHIP_Y = 184  # top of the ship
SHIP_H = 8
SHIP_HALF_W = 4
SHIP_SPEED = 4
SHIP_MIN_X, SHIP_MAX_X = EDGE_MARGIN, WIDTH - 1 - EDGE_MARGIN
#: FIRE needs this many frames of rest after a shot; FIRE during them does nothing.
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
#: A bomb hits the ship when one of its pixels is on one of the ship's rows (its top y is
#: in ``HIT_Y_MIN..HIT_Y_MAX``) and its x is within ``SHIP_HALF_W`` of the ship's.
HIT_Y_MIN, HIT_Y_MAX = SHIP_Y - BOMB_H + 1, SHIP_Y + SHIP_H - 1

# --- End of an episode -----------------------------------------------------------
RUNNING, DESTROYED, INVADED, CLEARED, TIME_LIMIT = range(5)
#: How an episode ended, by code; every front, the evaluator and the monitor use these.
END_REASONS = ("running", "destroyed", "invaded", "cleared", "time_limit")
#: Steps after which every front truncates an episode.
MAX_EPISODE_STEPS = 1000

# --- The random bits of a frame ------------------------------------------------------
#: A game's 64 bits per frame, read as little-endian fields: bits 0-15 roll for a drop,
#: 16-23 for aiming it, 24-31 for a sticky action, 32-63 pick an unaimed bomb's column.
_BITS = np.dtype("<u8")
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1, _MIX2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_SHIFT30, _SHIFT27, _SHIFT31 = np.uint64(30), np.uint64(27), np.uint64(31)


def mix(stream: np.ndarray) -> np.ndarray:
    """SplitMix64's output function: 64 well-mixed bits from each stream position."""
    z = stream ^ (stream >> _SHIFT30)
    z *= _MIX1
    z ^= z >> _SHIFT27
    z *= _MIX2
    z ^= z >> _SHIFT31
    return z


def random_fields(stream: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The four random fields of a frame at ``stream``: drop, aim, sticky and column rolls."""
    bits = mix(stream).astype(_BITS, copy=False)
    return bits.view("<u2")[0::4], bits.view("u1")[2::8], bits.view("u1")[3::8], bits.view("<u4")[1::2]


def chance_threshold(chance: float, bits: int) -> int:
    """A roll of ``bits`` random bits is a success when it is below this (a Python int, so 1.0 works)."""
    return int(chance * 2**bits)


def march_periods(march_period: int) -> np.ndarray:
    """Frames between marches, by aliens alive: ``march_period`` with a whole wave, down to 1."""
    alive = np.arange(N_ALIENS + 1)
    return np.where(alive > 0, 1 + (alive - 1) * march_period // N_ALIENS, 1).astype(np.int32)


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
LOWEST_ROW = lowest_alive_row(_ROW_SETS)
_FULL_COLUMN, _FULL_WAVE = np.uint8(2**N_ROWS - 1), np.uint8(2**N_COLS - 1)
#: The mask that clears bit k of a row or column mask, by k.
_CLEAR_BIT = ~(1 << np.arange(max(N_ROWS, N_COLS))).astype(np.uint8)
#: The formation's x range before it turns, by its living-column mask.
_LEFT_COL = _COL_SETS.argmax(axis=1)
_RIGHT_COL = N_COLS - 1 - _COL_SETS[:, ::-1].argmax(axis=1)
_X_MIN = (EDGE_MARGIN - _LEFT_COL * COL_PITCH).astype(np.int32)
_X_MAX = (WIDTH - EDGE_MARGIN - ALIEN_W - _RIGHT_COL * COL_PITCH).astype(np.int32)
#: Number of living columns, and the index of the k-th living column, by column mask.
_N_LIVING = _COL_SETS.sum(axis=1).astype(np.uint32)
_NTH_LIVING = (_COL_SETS.cumsum(axis=1)[:, None, :] > np.arange(N_COLS)[None, :, None]).argmax(axis=2)

# --- Lookup tables on the ship's x relative to the formation's, ``rel`` ------------------
# ``rel = ship_x - form_x`` can be negative; the tables are indexed by ``rel - REL_MIN``.
REL_MIN = SHIP_MIN_X - FORMATION_X_MAX
REL = np.arange(REL_MIN, SHIP_MAX_X - FORMATION_X_MIN + 1)
COL_OFFSETS = np.arange(N_COLS, dtype=np.int32) * COL_PITCH
COL_CENTRES = COL_OFFSETS + ALIEN_W / 2
ROW_BOTTOMS = np.arange(N_ROWS, dtype=np.int32) * ROW_PITCH + ALIEN_H
COL_MIDDLES = COL_OFFSETS + ALIEN_W // 2  # where a column's bombs start, from the formation's x
#: The column a laser at ``rel`` passes through; ``N_COLS`` (an always-empty extra
#: column) where it passes between or beside the columns.
COLUMN_AT = np.where((REL >= 0) & (REL // COL_PITCH < N_COLS) & (REL % COL_PITCH < ALIEN_W), REL // COL_PITCH, N_COLS)
#: The living column whose centre is nearest the ship, by living-column mask and ``rel``;
#: of two equally near, the left one.
_NEAREST_COLUMN = np.where(_COL_SETS[:, None, :], np.abs(COL_CENTRES - REL[:, None]), np.inf).argmin(axis=2)
#: The ship's x after each action, by action and x.
_NEXT_X = np.clip(np.arange(WIDTH) + np.array([[-SHIP_SPEED], [SHIP_SPEED], [0]]), SHIP_MIN_X, SHIP_MAX_X)

#: The most games a machine can hold: about this many bytes each (state, generator, observation).
BYTES_PER_GAME = 2600


def check_batch_size(n: int, name: str = "the number of games") -> int:
    """``n`` as a number of games, refused at once if it cannot fit in this machine's memory.

    ``name`` is how the error names ``n``: a front passes its argument's name.
    """
    n = check_int(name, n, 1)
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system: let numpy find out
        return n
    need = n * BYTES_PER_GAME
    if need > memory:
        raise ValueError(
            f"{name} = {n:,}: that many games need about {_size(need)} of memory, more than this machine's "
            f"{_size(memory)}"
        )
    return n


def _size(n_bytes: float) -> str:
    unit = min(int(math.log(n_bytes, 1024)), 6)
    return f"{n_bytes / 1024**unit:.1f} {('B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB')[unit]}"


class SpaceshipCore:
    """``n`` games of Spaceship stepped together; the state is public, one array per field.

    ``col_rows`` and ``col_bits`` are bit masks of the living aliens (rows per column,
    living columns), kept in step with ``alive``. Bombs have ``MAX_BOMBS`` slots per game,
    stored slot first (``bomb_x[k, i]`` is slot ``k`` of game ``i``), so that a test over
    the slots is a reduction over contiguous rows; a slot not ``bomb_on`` holds a stale
    position.
    """

    #: The per-game state arrays: game first, but the bombs' slot first.
    STATE = (
        "stream", "ship_x", "cooldown", "lives", "form_x", "form_y", "direction", "march_clock", "n_alive", "t",
        "score", "laser_top", "end_reason", "last_action", "alive", "col_rows", "col_bits", "bomb_x", "bomb_y",
        "bomb_on",
    )  # fmt: skip

    def __init__(self, n: int, params: GameParams | None = None) -> None:
        self.n = check_batch_size(n)
        self.params = GameParams() if params is None else params
        self._march_period = march_periods(self.params.march_period)
        self._bomb_threshold = chance_threshold(self.params.bomb_chance, 16)
        self._aimed_threshold = chance_threshold(self.params.aimed_chance, 8)
        self._sticky_threshold = chance_threshold(self.params.repeat_action_probability, 8)
        #: Each game's generator, created at its first reset unless seeded before.
        self.rngs: list[np.random.Generator | None] = [None] * self.n
        #: Each game's position in its random stream: its key plus one golden step per frame.
        self.stream = np.zeros(self.n, np.uint64)
        self.ship_x = np.zeros(self.n, np.int32)
        #: Frames until FIRE works again.
        self.cooldown = np.zeros(self.n, np.int32)
        self.lives = np.zeros(self.n, np.int32)
        #: Top left of the formation's top-left alien slot, and its march direction (-1, +1).
        self.form_x = np.zeros(self.n, np.int32)
        self.form_y = np.zeros(self.n, np.int32)
        self.direction = np.zeros(self.n, np.int32)
        #: Frames since the formation last marched.
        self.march_clock = np.zeros(self.n, np.int32)
        self.n_alive = np.zeros(self.n, np.int32)
        #: Steps played in this episode.
        self.t = np.zeros(self.n, np.int32)
        self.score = np.zeros(self.n, np.int32)
        #: Where this frame's laser stopped (its top y), or -1 where no shot was fired.
        self.laser_top = np.zeros(self.n, np.int32)
        #: How the episode ended on this step (``END_REASONS``), or ``RUNNING``.
        self.end_reason = np.zeros(self.n, np.int32)
        #: The action taken on the last frame, or -1 before the first (for sticky actions).
        self.last_action = np.zeros(self.n, np.int32)
        self.alive = np.zeros((self.n, N_ROWS, N_COLS), bool)
        #: Living rows of each column as a bit mask, plus an always-empty column ``N_COLS``.
        self.col_rows = np.zeros((self.n, N_COLS + 1), np.uint8)
        #: Living columns as a bit mask.
        self.col_bits = np.zeros(self.n, np.uint8)
        self.bomb_x = np.zeros((MAX_BOMBS, self.n), np.int32)
        self.bomb_y = np.zeros((MAX_BOMBS, self.n), np.int32)
        self.bomb_on = np.zeros((MAX_BOMBS, self.n), bool)
        self._games = np.arange(self.n)

    # --- reset -----------------------------------------------------------------------
    def seed(self, seed: int | None, games: Sequence[int] | np.ndarray | slice = slice(None)) -> None:
        """Give the k-th game of ``games`` a fresh generator seeded ``seed + k`` (or from entropy)."""
        check_seed(seed)
        for k, i in enumerate(self._games[games].tolist()):
            self.rngs[i] = np.random.default_rng(None if seed is None else seed + k)

    def reset(self, games: Sequence[int] | np.ndarray | slice = slice(None)) -> None:
        """Start a new episode in ``games`` (indices or a mask), drawing from their generators.

        Game by game: a step resets one or two games of a batch, where plain indexing is
        cheaper than fancy indexing.
        """
        for i in self._games[games].tolist():
            rng = self.rngs[i]
            if rng is None:
                rng = self.rngs[i] = np.random.default_rng()
            key, start = rng.bit_generator.random_raw(2)
            self.stream[i] = key
            self.ship_x[i] = START_X[int(start) % len(START_X)]
            self.cooldown[i] = 0
            self.lives[i] = self.params.lives
            self.form_x[i] = FORMATION_START_X
            self.form_y[i] = FORMATION_START_Y
            self.direction[i] = 1
            self.march_clock[i] = 0
            self.n_alive[i] = N_ALIENS
            self.t[i] = 0
            self.score[i] = 0
            self.laser_top[i] = -1
            self.end_reason[i] = RUNNING
            self.last_action[i] = -1
            self.alive[i] = True
            self.col_rows[i, :N_COLS] = _FULL_COLUMN
            self.col_bits[i] = _FULL_WAVE
            self.bomb_on[:, i] = False

    def snapshot(self, games: np.ndarray) -> dict[str, np.ndarray]:
        """A copy of the state of ``games``, for :meth:`restore`."""
        return {name: getattr(self, name)[self._where(name, games)] for name in self.STATE}

    def restore(self, games: np.ndarray, state: dict[str, np.ndarray]) -> None:
        """Put back the state of ``games`` that :meth:`snapshot` took."""
        for name, values in state.items():
            getattr(self, name)[self._where(name, games)] = values

    def _where(self, name: str, games: np.ndarray) -> tuple[slice | np.ndarray, ...]:
        return (slice(None), games) if name.startswith("bomb_") else (games,)

    # --- step ------------------------------------------------------------------------
    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advance every game by one step of ``frameskip`` frames; returns ``(rewards, terminated)``.

        ``actions`` must already be a valid int array of shape ``(n,)``; the fronts check it.
        Rewards are float32, summed over the frames.
        """
        self.t += 1
        self.end_reason.fill(RUNNING)
        rewards, ended = self._frame(actions)
        for _ in range(self.params.frameskip - 1):
            finished = ended.nonzero()[0]
            kept = self.snapshot(finished) if len(finished) else None
            more, ended_now = self._frame(actions)
            if kept is not None:  # games that ended stay as they ended
                self.restore(finished, kept)
            more[finished] = 0
            rewards += more
            ended |= ended_now
        return rewards, ended

    def _frame(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.stream += _GOLDEN
        drop_roll, aim_roll, sticky_roll, column_roll = random_fields(self.stream)
        if self._sticky_threshold:
            sticky = (sticky_roll < self._sticky_threshold) & (self.last_action >= 0)
            actions = np.where(sticky, self.last_action, actions)
        self.last_action[:] = actions
        self.ship_x[:] = _NEXT_X[actions, self.ship_x]
        rewards = self._fire(actions == FIRE)
        self._march()
        self._bombs(drop_roll, aim_roll, column_roll)
        return rewards, self._end()

    def rel_index(self, games: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Index of ``rel = ship_x - form_x`` into the ``rel`` tables, for ``games``."""
        return self.ship_x[games] - self.form_x[games] - REL_MIN

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
        col = COLUMN_AT.take(self.rel_index(g))
        row = LOWEST_ROW.take(self.col_rows[g, col])
        hit = row >= 0
        g, col, row = g[hit], col[hit], row[hit]
        self._kill(g, row, col)
        points = ROW_VALUES.take(row)
        rewards[g] = points
        self.score[g] += points
        self.laser_top[g] = self.form_y[g] + ROW_BOTTOMS.take(row)
        return rewards

    def _kill(self, g: np.ndarray, row: np.ndarray, col: np.ndarray) -> None:
        """Remove the alien at ``row``, ``col`` of games ``g``."""
        self.alive[g, row, col] = False
        self.n_alive[g] -= 1
        left = self.col_rows[g, col] & _CLEAR_BIT.take(row)
        self.col_rows[g, col] = left
        emptied = left == 0
        self.col_bits[g[emptied]] &= _CLEAR_BIT.take(col[emptied])

    def _march(self) -> None:
        """Move the formation one pixel when its clock is due; at a wall, step down and turn.

        A game whose lowest aliens come down to the ship's row ends ``INVADED``. A cleared
        wave, with no alien to come near a wall, stays where it is.
        """
        self.march_clock += 1
        due = (self.march_clock >= self._march_period.take(self.n_alive)) & (self.n_alive > 0)
        if not due.any():
            return
        self.march_clock[due] = 0
        x = self.form_x + self.direction
        at_wall = (x < _X_MIN.take(self.col_bits)) | (x > _X_MAX.take(self.col_bits))
        self.form_x += self.direction * (due & ~at_wall)
        g = (due & at_wall).nonzero()[0]
        if len(g):
            self.form_y[g] += DROP
            self.direction[g] *= -1
            lowest = LOWEST_ROW.take(np.bitwise_or.reduce(self.col_rows[g], axis=1))
            self.end_reason[g[self.form_y[g] + ROW_BOTTOMS.take(lowest) >= SHIP_Y]] = INVADED

    def _bombs(self, drop_roll: np.ndarray, aim_roll: np.ndarray, column_roll: np.ndarray) -> None:
        """Bombs fall, hit the ship or the ground, and new ones drop from the lowest aliens."""
        on, bomb_x, bomb_y = self.bomb_on, self.bomb_x, self.bomb_y  # (MAX_BOMBS, n)
        bomb_y += BOMB_SPEED  # empty slots fall too: harmless, and cheaper than a mask
        playing = self.n_alive > 0
        level = (bomb_y >= HIT_Y_MIN) & (bomb_y <= HIT_Y_MAX) & on
        level &= np.abs(bomb_x - self.ship_x) <= SHIP_HALF_W
        hit = level.any(axis=0) & playing
        on &= bomb_y < GROUND_Y
        self.lives -= hit
        on &= ~hit  # a hit clears the sky, as a respawn does

        drop = (drop_roll < self._bomb_threshold) & playing & (self.lives > 0) & ~on.all(axis=0)
        g = drop.nonzero()[0]
        if not len(g):
            return
        col_bits = self.col_bits[g]
        nearest = _NEAREST_COLUMN[col_bits, self.rel_index(g)]
        any_col = _NTH_LIVING[col_bits, column_roll[g] % _N_LIVING.take(col_bits)]
        col = np.where(aim_roll[g] < self._aimed_threshold, nearest, any_col)
        row = LOWEST_ROW.take(self.col_rows[g, col])
        slot = on[:, g].argmin(axis=0)  # the first free slot
        on[slot, g] = True
        bomb_x[slot, g] = self.form_x[g] + COL_MIDDLES.take(col)
        bomb_y[slot, g] = self.form_y[g] + ROW_BOTTOMS.take(row)

    def _end(self) -> np.ndarray:
        """Complete ``end_reason`` (an invasion is set by the march) and return which games ended."""
        reason = self.end_reason
        reason[self.lives <= 0] = DESTROYED
        reason[self.n_alive == 0] = CLEARED
        return reason != RUNNING


def start_positions(params: GameParams) -> SpaceshipCore:
    """One just-reset game per place the ship can start, game ``k`` at ``START_X[k]``.

    Every other part of a fresh game is the same whatever the seed, so an observation of a
    reset game can be looked up by where its ship starts: the fronts build those tables from this.
    """
    game = SpaceshipCore(len(START_X), params)
    game.seed(0)
    game.reset()
    game.ship_x[:] = START_X
    return game
