"""The rules of Spaceship, one test per rule, on a core of one game set up where the rule acts.

Read top to bottom, in the order of a frame (:mod:`spaceship_env.core`), this is the
game's specification.
"""

from __future__ import annotations

import numpy as np
import pytest

from spaceship_env import core as C
from spaceship_env.params import DIFFICULTIES, GameParams, make_params

LEFT, RIGHT, FIRE = C.LEFT, C.RIGHT, C.FIRE
#: No bombs, and a whole wave marches only every 973 frames: nothing happens unless asked.
QUIET = GameParams(bomb_chance=0.0, march_period=1000)


def new_game(params: GameParams = QUIET, seed: int = 0) -> C.SpaceshipCore:
    game = C.SpaceshipCore(1, params)
    game.seed(seed)
    game.reset()
    return game


def step(game: C.SpaceshipCore, action: int) -> tuple[float, bool]:
    rewards, terminated = game.step(np.array([action]))
    return float(rewards[0]), bool(terminated[0])


def set_alive(game: C.SpaceshipCore, alive: np.ndarray) -> None:
    """Set game 0's alive grid, with ``n_alive``, ``col_rows`` and ``col_bits`` to match."""
    alive = np.asarray(alive, bool)
    game.alive[0] = alive
    game.n_alive[0] = alive.sum()
    game.col_rows[0] = 0
    game.col_rows[0, : C.N_COLS] = (alive << np.arange(C.N_ROWS)[:, None]).sum(axis=0)
    game.col_bits[0] = (alive.any(axis=0) << np.arange(C.N_COLS)).sum()


def grid(columns=range(C.N_COLS), rows=range(C.N_ROWS)) -> np.ndarray:
    """An alive grid with the aliens at ``rows`` x ``columns``."""
    alive = np.zeros((C.N_ROWS, C.N_COLS), bool)
    alive[np.ix_(list(rows), list(columns))] = True
    return alive


def put_ship_under(game: C.SpaceshipCore, col: int, offset: int = 3) -> None:
    """The ship ``offset`` pixels right of the left edge of column ``col``."""
    game.ship_x[0] = game.form_x[0] + col * C.COL_PITCH + offset


def put_bomb(game: C.SpaceshipCore, slot: int, x: int, y: int) -> None:
    game.bomb_on[slot, 0], game.bomb_x[slot, 0], game.bomb_y[slot, 0] = True, x, y


def march_times(game: C.SpaceshipCore, frames: int) -> list[int]:
    """The frames (1, 2, ...) on which the formation moved, standing still at the left margin."""
    game.ship_x[0] = C.SHIP_MIN_X
    moved = []
    for frame in range(1, frames + 1):
        before = (int(game.form_x[0]), int(game.form_y[0]))
        step(game, LEFT)
        if (int(game.form_x[0]), int(game.form_y[0])) != before:
            moved.append(frame)
    return moved


# --- 1. The ship moves ---------------------------------------------------------------
def test_left_and_right_move_the_ship_4_pixels_and_fire_leaves_it():
    game = new_game()
    x = int(game.ship_x[0])
    step(game, RIGHT)
    assert game.ship_x[0] == x + C.SHIP_SPEED == x + 4
    step(game, LEFT)
    step(game, LEFT)
    assert game.ship_x[0] == x - 4
    step(game, FIRE)
    assert game.ship_x[0] == x - 4


@pytest.mark.parametrize(("action", "margin"), [(LEFT, C.SHIP_MIN_X), (RIGHT, C.SHIP_MAX_X)])
def test_the_ship_stops_at_the_margins(action, margin):
    game = new_game()
    xs = []
    for _ in range(C.WIDTH // C.SHIP_SPEED):
        step(game, action)
        xs.append(int(game.ship_x[0]))
    assert xs[-1] == margin
    assert min(xs) >= C.SHIP_MIN_X and max(xs) <= C.SHIP_MAX_X
    assert (C.SHIP_MIN_X, C.SHIP_MAX_X) == (C.EDGE_MARGIN, C.WIDTH - 1 - C.EDGE_MARGIN)


# --- 2. FIRE -----------------------------------------------------------------------
@pytest.mark.parametrize("lowest", range(C.N_ROWS))
def test_fire_kills_the_lowest_living_alien_above_the_ship_at_once_and_scores_its_row(lowest):
    game = new_game()
    alive = grid()
    alive[lowest + 1 :, 2] = False
    set_alive(game, alive)
    put_ship_under(game, 2)
    reward, terminated = step(game, FIRE)
    assert reward == game.score[0] == 5 * (C.N_ROWS - lowest)  # 30 for the top row down to 5
    alive[lowest, 2] = False
    np.testing.assert_array_equal(game.alive[0], alive)
    assert game.n_alive[0] == alive.sum()
    assert game.laser_top[0] == game.form_y[0] + lowest * C.ROW_PITCH + C.ALIEN_H  # stopped at the alien
    assert not terminated


@pytest.mark.parametrize("offset", [0, C.ALIEN_W - 1])
def test_the_laser_hits_a_column_anywhere_across_its_8_pixels(offset):
    game = new_game()
    put_ship_under(game, 3, offset)
    assert step(game, FIRE)[0] == 5
    assert not game.alive[0, C.N_ROWS - 1, 3]


@pytest.mark.parametrize("offset", range(C.ALIEN_W, C.COL_PITCH))
def test_the_laser_passes_through_the_gap_between_columns(offset):
    game = new_game()
    put_ship_under(game, 2, offset)
    assert step(game, FIRE)[0] == 0
    assert game.n_alive[0] == C.N_ALIENS
    assert game.laser_top[0] == 0  # off the top of the screen


def test_the_laser_passes_through_a_column_with_no_alien_left():
    game = new_game()
    set_alive(game, grid(columns=[0, 1, 3, 4, 5]))
    put_ship_under(game, 2)
    assert step(game, FIRE)[0] == 0
    assert game.laser_top[0] == 0


def test_fire_during_the_cooldown_does_nothing():
    game = new_game()
    put_ship_under(game, 1)
    assert step(game, FIRE)[0] == 5
    cooldowns = []
    for _ in range(C.LASER_COOLDOWN):
        assert step(game, FIRE) == (0.0, False)
        assert game.laser_top[0] == -1  # no shot at all
        cooldowns.append(int(game.cooldown[0]))
    assert cooldowns == [3, 2, 1, 0]
    assert game.n_alive[0] == C.N_ALIENS - 1
    assert step(game, FIRE)[0] == 10  # cooled down: the next alien up


def test_a_missed_shot_also_starts_the_cooldown():
    game = new_game()
    put_ship_under(game, 1, C.ALIEN_W)
    step(game, FIRE)
    put_ship_under(game, 1)
    assert step(game, FIRE)[0] == 0
    assert game.cooldown[0] == C.LASER_COOLDOWN - 1


# --- 3. The march --------------------------------------------------------------------
@pytest.mark.parametrize("difficulty", range(len(DIFFICULTIES)))
def test_a_whole_wave_marches_one_pixel_every_march_period_frames(difficulty):
    params = DIFFICULTIES[difficulty]
    game = new_game(GameParams(bomb_chance=0.0, march_period=params.march_period))
    x = int(game.form_x[0])
    period = params.march_period
    assert march_times(game, 3 * period) == [period, 2 * period, 3 * period]
    assert game.form_x[0] == x + 3  # rightwards, one pixel each time
    assert game.form_y[0] == C.FORMATION_START_Y


@pytest.mark.parametrize(("n_alive", "period"), [(36, 4), (28, 4), (27, 3), (18, 2), (10, 2), (9, 1), (1, 1)])
def test_the_march_speeds_up_as_aliens_die(n_alive, period):
    """With ``march_period`` 4: every 4 frames with the whole wave, falling linearly to every frame."""
    game = new_game(GameParams(bomb_chance=0.0, march_period=4))
    alive = np.zeros(C.N_ALIENS, bool)
    alive[:n_alive] = True
    set_alive(game, alive.reshape(C.N_ROWS, C.N_COLS))
    assert march_times(game, 3 * period) == [period, 2 * period, 3 * period]


@pytest.mark.parametrize("direction", [1, -1])
def test_at_a_wall_the_formation_steps_down_6_pixels_and_turns(direction):
    game = new_game(GameParams(bomb_chance=0.0, march_period=1))
    wall_x = C.EDGE_MARGIN if direction < 0 else C.WIDTH - C.EDGE_MARGIN - C.FORMATION_W
    game.form_x[0], game.direction[0] = wall_x, direction
    step(game, LEFT)
    assert (game.form_x[0], game.form_y[0]) == (wall_x, C.FORMATION_START_Y + 6)
    assert game.direction[0] == -direction
    step(game, LEFT)
    assert (game.form_x[0], game.form_y[0]) == (wall_x - direction, C.FORMATION_START_Y + C.DROP)


@pytest.mark.parametrize("columns", [range(6), [0, 1, 2], [3, 4, 5], [2], [1, 4], [5]])
def test_the_walls_are_8_pixels_beyond_the_outermost_living_columns(columns):
    """The formation turns when its outermost living alien comes ``EDGE_MARGIN`` pixels from a wall."""
    game = new_game(GameParams(bomb_chance=0.0, march_period=1))
    set_alive(game, grid(columns=columns))
    turns = []
    for _ in range(2 * C.WIDTH):
        direction = int(game.direction[0])
        step(game, LEFT)
        if game.direction[0] != direction:
            turns.append((direction, int(game.form_x[0])))
    right_turn = next(x for d, x in turns if d > 0)
    left_turn = next(x for d, x in turns if d < 0)
    assert right_turn + max(columns) * C.COL_PITCH + C.ALIEN_W == C.WIDTH - C.EDGE_MARGIN
    assert left_turn + min(columns) * C.COL_PITCH == C.EDGE_MARGIN


def test_an_invasion_ends_the_episode_when_the_lowest_living_row_reaches_the_ships_row():
    game = new_game(GameParams(bomb_chance=0.0, march_period=1))
    bottom = (C.N_ROWS - 1) * C.ROW_PITCH + C.ALIEN_H  # of the formation's lowest row, from form_y
    game.form_x[0], game.direction[0] = C.WIDTH - C.EDGE_MARGIN - C.FORMATION_W, 1
    game.form_y[0] = C.SHIP_Y - bottom - C.DROP - 1  # one pixel short after this step down
    assert step(game, LEFT) == (0.0, False)
    assert game.form_y[0] + bottom == C.SHIP_Y - 1
    game.form_x[0], game.direction[0] = C.EDGE_MARGIN, -1
    game.form_y[0] = C.SHIP_Y - bottom - C.DROP  # level with the ship after this one
    assert step(game, LEFT) == (0.0, True)
    assert game.end_reason[0] == C.INVADED


def test_with_its_bottom_row_dead_the_formation_comes_a_row_lower_before_it_lands():
    game = new_game(GameParams(bomb_chance=0.0, march_period=1))
    set_alive(game, grid(rows=range(C.N_ROWS - 1)))
    bottom = (C.N_ROWS - 2) * C.ROW_PITCH + C.ALIEN_H  # of the lowest living row, from form_y
    for form_y, lands in [(C.SHIP_Y - bottom - C.DROP - C.ROW_PITCH, False), (C.SHIP_Y - bottom - C.DROP, True)]:
        game.form_x[0], game.direction[0], game.form_y[0] = C.EDGE_MARGIN, -1, form_y
        assert step(game, LEFT) == (0.0, lands)


# --- 4. Bombs --------------------------------------------------------------------------
def dropped_bombs(game: C.SpaceshipCore, frames: int, action: int = LEFT) -> list[tuple[int, int]]:
    """Each frame's new bomb as (column, row) of the alien it left, clearing the sky before each frame."""
    drops = []
    for _ in range(frames):
        game.bomb_on[:, 0] = False
        step(game, action)
        assert game.bomb_on[:, 0].sum() == 1 and game.bomb_on[0, 0]  # bomb_chance 1: always, in slot 0
        col, dx = divmod(int(game.bomb_x[0, 0] - game.form_x[0]), C.COL_PITCH)
        row, dy = divmod(int(game.bomb_y[0, 0] - game.form_y[0] - C.ALIEN_H), C.ROW_PITCH)
        assert (dx, dy) == (C.ALIEN_W // 2, 0)  # from the middle of an alien's bottom edge
        drops.append((col, row))
    return drops


def test_bombs_drop_only_from_the_lowest_alien_of_a_living_column():
    game = new_game(GameParams(bomb_chance=1.0, aimed_chance=0.0))
    alive = grid(columns=[0, 2, 3, 5])
    alive[3:, 2] = False
    alive[1:, 3] = False
    alive[5, 5] = False
    set_alive(game, alive)
    drops = dropped_bombs(game, 200)
    assert set(drops) == {(0, 5), (2, 2), (3, 0), (5, 4)}  # every living column, from its lowest alien


@pytest.mark.parametrize(("offset", "column"), [(0, 1), (36, 1), (44, 1), (45, 4), (120, 4)])
def test_aimed_bombs_come_from_the_living_column_nearest_the_ship(offset, column):
    """Columns 1 and 4 live (centres 20 and 68 pixels right of the formation); a tie goes left."""
    game = new_game(GameParams(bomb_chance=1.0, aimed_chance=1.0))
    set_alive(game, grid(columns=[1, 4]))
    game.form_x[0] = C.SHIP_MIN_X
    game.ship_x[0] = game.form_x[0] + offset
    game.march_clock[0] = -1000  # hold the formation still
    game.cooldown[0] = 1000  # and FIRE idle, to hold the ship still
    assert dropped_bombs(game, 1, FIRE) == [(column, C.N_ROWS - 1)]


def test_at_most_6_bombs_are_in_flight():
    game = new_game(GameParams(bomb_chance=1.0))
    for _ in range(C.MAX_BOMBS + 3):
        step(game, LEFT)
    assert game.bomb_on[:, 0].sum() == C.MAX_BOMBS == 6


def test_a_bomb_falls_4_pixels_a_frame():
    game = new_game()
    put_bomb(game, 2, 20, 100)
    step(game, LEFT)
    assert (game.bomb_on[2, 0], game.bomb_x[2, 0], game.bomb_y[2, 0]) == (True, 20, 104)


def test_a_bomb_that_meets_the_ship_takes_a_life_and_clears_every_bomb():
    game = new_game()
    x = int(game.ship_x[0])
    put_bomb(game, 1, x, C.SHIP_Y - C.BOMB_H - 2)  # lands on the ship's top row this frame
    put_bomb(game, 3, x + 1, C.SHIP_Y - C.BOMB_H - 2)  # a second one at once: still one life
    put_bomb(game, 5, 20, 60)
    assert step(game, FIRE) == (0.0, False)  # FIRE, from a gap: the ship stays where it is
    assert game.lives[0] == QUIET.lives - 1
    assert not game.bomb_on[:, 0].any()


@pytest.mark.parametrize(
    ("dx", "y", "hits"),
    [
        (0, C.SHIP_Y - 2, True),  # its bottom 2 pixels on the ship's top 2 rows
        (0, C.SHIP_Y - C.BOMB_H, False),  # just above: its bottom pixel on the row above the ship
        (0, C.SHIP_Y + C.SHIP_H - 2, True),  # its top 2 pixels on the ship's bottom 2 rows
        (0, C.SHIP_Y + C.SHIP_H, False),  # just below
        (C.SHIP_HALF_W, C.SHIP_Y, True),  # the ship is 9 pixels wide
        (-C.SHIP_HALF_W, C.SHIP_Y, True),
        (C.SHIP_HALF_W + 1, C.SHIP_Y, False),
        (-C.SHIP_HALF_W - 1, C.SHIP_Y, False),
    ],
)
def test_a_bomb_meets_the_ship_where_its_pixels_overlap_the_ships_box(dx, y, hits):
    """``y`` is where the bomb's top is after this frame's fall; bombs are always at even heights."""
    game = new_game()
    put_bomb(game, 0, int(game.ship_x[0]) + dx, y - C.BOMB_SPEED)
    step(game, FIRE)
    assert game.lives[0] == QUIET.lives - hits


def test_bombs_vanish_at_the_ground():
    game = new_game()
    put_bomb(game, 0, 20, C.GROUND_Y - C.BOMB_SPEED - 2)
    step(game, LEFT)
    assert game.bomb_on[0, 0] and game.bomb_y[0, 0] == C.GROUND_Y - 2
    step(game, LEFT)
    assert not game.bomb_on[0, 0]
    assert game.lives[0] == QUIET.lives


# --- 5. The end of an episode ------------------------------------------------------
def test_a_cleared_wave_ends_the_episode_as_cleared():
    game = new_game()
    alive = np.zeros((C.N_ROWS, C.N_COLS), bool)
    alive[0, 4] = True
    set_alive(game, alive)
    put_ship_under(game, 4)
    assert step(game, FIRE) == (30.0, True)
    assert game.end_reason[0] == C.CLEARED
    assert game.n_alive[0] == 0


def test_the_last_life_lost_ends_the_episode_as_destroyed():
    game = new_game(GameParams(lives=2, bomb_chance=0.0, march_period=1000))
    for lives in (1, 0):
        put_bomb(game, 0, int(game.ship_x[0]), C.SHIP_Y - C.BOMB_H)
        _, terminated = step(game, FIRE)
        assert game.lives[0] == lives
        assert terminated == (lives == 0)
    assert game.end_reason[0] == C.DESTROYED


def test_a_frame_that_both_lands_the_aliens_and_takes_the_last_life_ends_as_destroyed():
    game = new_game(GameParams(lives=1, bomb_chance=0.0, march_period=1))
    game.form_x[0], game.direction[0] = C.EDGE_MARGIN, -1
    game.form_y[0] = C.SHIP_Y - (C.N_ROWS - 1) * C.ROW_PITCH - C.ALIEN_H - C.DROP
    put_bomb(game, 0, int(game.ship_x[0]), C.SHIP_Y - C.BOMB_H)
    assert step(game, FIRE)[1]
    assert game.lives[0] == 0
    assert game.end_reason[0] == C.DESTROYED


def test_a_cleared_wave_meets_no_wall_on_its_last_frame():
    """An empty formation has no living alien to come near a wall, so it cannot step down or turn.

    On the frame that clears the wave the march is due (its period is 1), and the formation
    is outside a whole wave's range (``form_x`` in 8..64), as it often is when the last
    alien was in an outer column.
    """
    game = new_game(GameParams(bomb_chance=0.0, march_period=1))
    alive = np.zeros((C.N_ROWS, C.N_COLS), bool)
    alive[0, 5] = True
    set_alive(game, alive)
    game.form_x[0], game.direction[0] = 0, -1  # column 5 at x = 80..87, well inside the walls
    put_ship_under(game, 5)
    assert step(game, FIRE) == (30.0, True)
    assert (game.form_y[0], game.direction[0]) == (C.FORMATION_START_Y, -1)


# --- Sticky actions and frameskip ---------------------------------------------------
def test_sticky_actions_repeat_the_previous_frames_action_with_the_given_probability():
    games = C.SpaceshipCore(2000, GameParams(bomb_chance=0.0, repeat_action_probability=0.25))
    games.seed(0)
    games.reset()
    repeated, changes = 0, 0
    for action in [LEFT, RIGHT, FIRE, LEFT, RIGHT, LEFT, FIRE, FIRE, RIGHT]:
        before = games.last_action.copy()
        games.step(np.full(games.n, action))
        taken = games.last_action
        assert ((taken == action) | (taken == before)).all()
        changed = (before != action) & (before >= 0)  # before the first frame there is none to repeat
        repeated += (taken[changed] == before[changed]).sum()
        changes += changed.sum()
    assert abs(repeated / changes - 0.25) < 0.02


@pytest.mark.parametrize("probability", [1.0, 0.0])
def test_sticky_actions_never_apply_on_the_first_frame(probability):
    game = new_game(GameParams(bomb_chance=0.0, repeat_action_probability=probability))
    x = int(game.ship_x[0])
    step(game, RIGHT)
    assert game.ship_x[0] == x + C.SHIP_SPEED
    step(game, LEFT)
    assert game.ship_x[0] == x + (2 if probability else 0) * C.SHIP_SPEED
    game.reset()
    step(game, LEFT)
    assert game.last_action[0] == LEFT


@pytest.mark.parametrize("frameskip", [2, 4, 6])
def test_a_step_of_k_frames_plays_like_k_steps_of_one_frame_and_sums_their_rewards(frameskip):
    skipping = new_game(GameParams(lives=100, frameskip=frameskip), seed=5)
    single = new_game(GameParams(lives=100), seed=5)
    actions = np.random.default_rng(0).choice([LEFT, RIGHT, FIRE], 40, p=[0.2, 0.2, 0.6])
    for a in actions:
        reward, terminated = step(skipping, a)
        frames = [step(single, a) for _ in range(frameskip)]
        assert reward == sum(r for r, _ in frames)
        assert not terminated and not any(d for _, d in frames)
        for name in set(C.SpaceshipCore.STATE) - {"t"}:
            np.testing.assert_array_equal(getattr(skipping, name), getattr(single, name), err_msg=name)


def test_frameskip_sums_the_rewards_of_its_frames():
    game = new_game(GameParams(bomb_chance=0.0, march_period=1000, frameskip=C.LASER_COOLDOWN + 2))
    put_ship_under(game, 2)
    assert step(game, FIRE)[0] == 5 + 10  # fired on frames 1 and 6


def test_a_game_that_ends_mid_skip_stays_as_it_ended():
    ends_early, one_frame = new_game(GameParams(frameskip=4)), new_game(GameParams())
    for game in (ends_early, one_frame):
        alive = np.zeros((C.N_ROWS, C.N_COLS), bool)
        alive[2, 1] = True
        set_alive(game, alive)
        put_ship_under(game, 1)
        put_bomb(game, 0, 30, 100)
        assert step(game, FIRE) == (20.0, True)
    for name in C.SpaceshipCore.STATE:  # the clock, the bombs, the stream: all as after one frame
        np.testing.assert_array_equal(getattr(ends_early, name), getattr(one_frame, name), err_msg=name)


# --- The lecture's example ------------------------------------------------------------
@pytest.mark.parametrize("difficulty", range(len(DIFFICULTIES)))
def test_lecture_example_right_scores_0_then_fire_kills_a_bottom_alien_for_5(difficulty):
    games = C.SpaceshipCore(50, make_params(difficulty))
    games.seed(0)
    games.reset()
    assert set(games.ship_x.tolist()) == set(C.START_X.tolist())  # every start is tried
    rewards, _ = games.step(np.full(games.n, RIGHT))
    assert (rewards == 0).all()
    rewards, terminated = games.step(np.full(games.n, FIRE))
    assert (rewards == 5).all() and not terminated.any()
    assert (games.alive[:, C.N_ROWS - 1].sum(axis=1) == C.N_COLS - 1).all()
