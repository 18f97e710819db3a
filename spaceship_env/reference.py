"""The rules of Spaceship for one game, in plain Python: the reference the fast core is held to.

:class:`~spaceship_env.core.SpaceshipCore` plays a batch of games in numpy arrays, through
lookup tables. :class:`Game` here plays one game with ints, a 6 x 6 list of lists of
bools and a list of bomb slots, and works everything out from the alive grid in plain
loops, one short method per rule, in the order of the core's module docstring. It
shares the core's constants, parameters and random stream (the same 64 bits per frame,
cut into the same fields), so the two agree bit for bit; ``tests/test_reference.py``
holds them to it step by step, as gymnax tests its MinAtar ports against the originals.

It is slow, and only the tests play it::

    game = Game.reset(np.random.default_rng(seed), params)
    reward, terminated = game.step(FIRE)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spaceship_env.core import (
    _GOLDEN,
    ALIEN_H,
    ALIEN_W,
    BOMB_H,
    BOMB_SPEED,
    CLEARED,
    COL_PITCH,
    DESTROYED,
    DROP,
    EDGE_MARGIN,
    FIRE,
    FORMATION_START_X,
    FORMATION_START_Y,
    FORMATION_X_MAX,
    FORMATION_X_MIN,
    GROUND_Y,
    INVADED,
    LASER_COOLDOWN,
    LEFT,
    MAX_BOMBS,
    N_ALIENS,
    N_COLS,
    N_ROWS,
    RIGHT,
    ROW_PITCH,
    ROW_VALUES,
    RUNNING,
    SHIP_H,
    SHIP_HALF_W,
    SHIP_MAX_X,
    SHIP_MIN_X,
    SHIP_SPEED,
    SHIP_Y,
    START_X,
    WIDTH,
    chance_threshold,
    mix,
)
from spaceship_env.features import N_BOMB_SLOTS
from spaceship_env.params import GameParams

_U64 = 2**64


@dataclass(frozen=True)
class Rolls:
    """The random numbers of one frame: its 64 random bits cut into little-endian fields."""

    drop: int  # bits 0-15: does a bomb drop?
    aim: int  # bits 16-23: is it aimed?
    sticky: int  # bits 24-31: is the last action repeated?
    column: int  # bits 32-63: which living column drops an unaimed bomb

    @classmethod
    def from_bits(cls, bits: int) -> Rolls:
        return cls(drop=bits & 0xFFFF, aim=(bits >> 16) & 0xFF, sticky=(bits >> 24) & 0xFF, column=bits >> 32)


@dataclass
class Bomb:
    x: int  # its one column of pixels
    y: int  # its top


def _full_wave() -> list[list[bool]]:
    return [[True] * N_COLS for _ in range(N_ROWS)]


@dataclass
class Game:
    """One game of Spaceship; ``alive[row][col]``, row 0 at the top; ``bombs`` has ``MAX_BOMBS`` slots."""

    params: GameParams
    stream: int  # position in the game's random stream
    ship_x: int
    lives: int
    cooldown: int = 0
    form_x: int = FORMATION_START_X
    form_y: int = FORMATION_START_Y
    direction: int = 1
    march_clock: int = 0
    t: int = 0
    score: int = 0
    laser_top: int = -1
    end_reason: int = RUNNING
    last_action: int = -1
    alive: list[list[bool]] = field(default_factory=_full_wave)
    bombs: list[Bomb | None] = field(default_factory=lambda: [None] * MAX_BOMBS)

    @classmethod
    def reset(cls, rng: np.random.Generator, params: GameParams | None = None) -> Game:
        """A new game: its stream's key and the ship's start are the generator's next two draws."""
        key, start = rng.bit_generator.random_raw(2)
        params = GameParams() if params is None else params
        return cls(params, stream=int(key), ship_x=int(START_X[int(start) % len(START_X)]), lives=params.lives)

    # --- what the alive grid says ----------------------------------------------------
    @property
    def n_alive(self) -> int:
        return sum(row.count(True) for row in self.alive)

    def living_columns(self) -> list[int]:
        return [c for c in range(N_COLS) if any(self.alive[r][c] for r in range(N_ROWS))]

    def lowest_alien(self, col: int) -> int | None:
        """The row of the lowest living alien in ``col``, or None."""
        for row in reversed(range(N_ROWS)):
            if self.alive[row][col]:
                return row
        return None

    def lowest_row(self) -> int | None:
        """The lowest row with a living alien, or None."""
        for row in reversed(range(N_ROWS)):
            if any(self.alive[row]):
                return row
        return None

    def column_above_ship(self) -> int | None:
        """The column whose 8 pixels the ship's laser passes through, or None (a gap, or beside)."""
        for col in range(N_COLS):
            left = self.form_x + col * COL_PITCH
            if left <= self.ship_x < left + ALIEN_W:
                return col
        return None

    def nearest_column(self) -> int:
        """The living column whose centre is nearest the ship; of two equally near, the left one."""
        best, best_distance = -1, float("inf")
        for col in self.living_columns():
            distance = abs(self.form_x + col * COL_PITCH + ALIEN_W / 2 - self.ship_x)
            if distance < best_distance:
                best, best_distance = col, distance
        return best

    def march_period(self) -> int:
        """Frames between marches: ``params.march_period`` with a whole wave, falling linearly to 1."""
        if self.n_alive == 0:
            return 1
        return 1 + (self.n_alive - 1) * self.params.march_period // N_ALIENS

    def wall_limits(self) -> tuple[int, int]:
        """The formation's x range before a living alien comes ``EDGE_MARGIN`` pixels from a wall."""
        living = self.living_columns()
        return EDGE_MARGIN - living[0] * COL_PITCH, WIDTH - EDGE_MARGIN - ALIEN_W - living[-1] * COL_PITCH

    # --- a step ----------------------------------------------------------------------
    def step(self, action: int) -> tuple[int, bool]:
        """``frameskip`` frames of ``action``; returns their summed reward and whether the game ended."""
        self.t += 1
        self.end_reason = RUNNING
        reward = 0
        for _ in range(self.params.frameskip):
            reward += self.frame(action)
            if self.end_reason != RUNNING:
                break  # a game that ends stays as it ended
        return reward, self.end_reason != RUNNING

    def frame(self, action: int) -> int:
        """One frame of the rules, in the core's order; returns its reward."""
        rolls = self._next_rolls()
        action = self._sticky(action, rolls.sticky)
        self._move(action)
        reward = self._fire(action == FIRE)
        self._march()
        self._bombs_fall()
        self._drop_bomb(rolls)
        self._end()
        return reward

    def _next_rolls(self) -> Rolls:
        """Advance the stream one golden step; SplitMix64 of the new position is the frame's bits."""
        self.stream = (self.stream + int(_GOLDEN)) % _U64
        return Rolls.from_bits(int(mix(np.array([self.stream], np.uint64))[0]))

    def _sticky(self, action: int, roll: int) -> int:
        """ALE's sticky actions: by chance the last frame's action is taken again; never on the first."""
        if self.last_action >= 0 and roll < chance_threshold(self.params.repeat_action_probability, 8):
            action = self.last_action
        self.last_action = action
        return action

    def _move(self, action: int) -> None:
        """1. LEFT and RIGHT move the ship ``SHIP_SPEED`` pixels, kept inside the margins."""
        if action == LEFT:
            self.ship_x = max(self.ship_x - SHIP_SPEED, SHIP_MIN_X)
        elif action == RIGHT:
            self.ship_x = min(self.ship_x + SHIP_SPEED, SHIP_MAX_X)

    def _fire(self, wants_fire: bool) -> int:
        """2. FIRE, once cooled down, kills the lowest living alien in the column above the ship."""
        self.laser_top = -1
        if self.cooldown > 0:
            self.cooldown -= 1
            return 0
        if not wants_fire:
            return 0
        self.cooldown = LASER_COOLDOWN
        self.laser_top = 0  # a miss flies off the top
        col = self.column_above_ship()
        row = None if col is None else self.lowest_alien(col)
        if row is None:
            return 0
        self.alive[row][col] = False
        points = int(ROW_VALUES[row])
        self.score += points
        self.laser_top = self.form_y + row * ROW_PITCH + ALIEN_H
        return points

    def _march(self) -> None:
        """3. When its clock is due the formation marches a pixel, or at a wall steps down and turns.

        A cleared wave stays where it is.
        """
        self.march_clock += 1
        if self.march_clock < self.march_period() or self.n_alive == 0:
            return
        self.march_clock = 0
        x_min, x_max = self.wall_limits()
        if x_min <= self.form_x + self.direction <= x_max:
            self.form_x += self.direction
            return
        self.form_y += DROP
        self.direction = -self.direction
        lowest = self.lowest_row()
        if lowest is not None and self.form_y + lowest * ROW_PITCH + ALIEN_H >= SHIP_Y:
            self.end_reason = INVADED

    def _bombs_fall(self) -> None:
        """4a. Bombs fall; one that meets the ship takes a life and clears the sky; the ground takes the rest."""
        hit = False
        for k, bomb in enumerate(self.bombs):
            if bomb is None:
                continue
            bomb.y += BOMB_SPEED
            hit |= self._meets_ship(bomb)
            if bomb.y >= GROUND_Y:
                self.bombs[k] = None
        if hit and self.n_alive > 0:
            self.lives -= 1
            self.bombs = [None] * MAX_BOMBS

    def _meets_ship(self, bomb: Bomb) -> bool:
        """The bomb's pixels overlap the ship's rows, within ``SHIP_HALF_W`` of its centre."""
        overlaps = bomb.y <= SHIP_Y + SHIP_H - 1 and bomb.y + BOMB_H - 1 >= SHIP_Y
        return overlaps and abs(bomb.x - self.ship_x) <= SHIP_HALF_W

    def _drop_bomb(self, rolls: Rolls) -> None:
        """4b. By chance, into the first free slot, a bomb drops from the lowest alien of a column.

        The column is, by chance, the living one nearest the ship (aimed), or else a living
        one picked by the column roll.
        """
        if rolls.drop >= chance_threshold(self.params.bomb_chance, 16):
            return
        if self.n_alive == 0 or self.lives <= 0 or None not in self.bombs:
            return
        if rolls.aim < chance_threshold(self.params.aimed_chance, 8):
            col = self.nearest_column()
        else:
            living = self.living_columns()
            col = living[rolls.column % len(living)]
        row = self.lowest_alien(col)
        x = self.form_x + col * COL_PITCH + ALIEN_W // 2
        self.bombs[self.bombs.index(None)] = Bomb(x, self.form_y + row * ROW_PITCH + ALIEN_H)

    def _end(self) -> None:
        """5. The episode ends: cleared before destroyed, destroyed before invaded."""
        if self.n_alive == 0:
            self.end_reason = CLEARED
        elif self.lives <= 0:
            self.end_reason = DESTROYED

    # --- what the agent sees -----------------------------------------------------------
    def features(self) -> np.ndarray:
        """The feature observation, in the order of :data:`spaceship_env.features.FEATURE_NAMES`."""
        col = self.column_above_ship()
        values = [
            (self.ship_x - SHIP_MIN_X) / (SHIP_MAX_X - SHIP_MIN_X),
            self.cooldown / LASER_COOLDOWN,
            self.lives / self.params.lives,
            (self.form_x - FORMATION_X_MIN) / (FORMATION_X_MAX - FORMATION_X_MIN),
            (self.form_y - FORMATION_START_Y) / (SHIP_Y - FORMATION_START_Y),
            self.direction,
            1 / self.march_period(),
            float(col is not None and self.lowest_alien(col) is not None),
        ]
        values += [(self.form_x + c * COL_PITCH + ALIEN_W / 2 - self.ship_x) / WIDTH for c in range(N_COLS)]
        values += [float(alive) for row in self.alive for alive in row]
        in_flight = [(SHIP_Y - bomb.y, k, bomb) for k, bomb in enumerate(self.bombs) if bomb is not None]
        for dy, _, bomb in sorted(in_flight, key=lambda b: b[:2])[:N_BOMB_SLOTS]:
            values += [(bomb.x - self.ship_x) / WIDTH, dy / SHIP_Y, 1.0]
        values += [0.0, 1.0, 0.0] * (N_BOMB_SLOTS - min(len(in_flight), N_BOMB_SLOTS))
        return np.array(values, np.float32)
