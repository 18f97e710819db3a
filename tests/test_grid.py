"""The grid observation: each channel marks the cells where the state has such a thing, and nothing else."""

import gymnasium as gym
import numpy as np
import pytest
from test_observation_bounds import POLICIES

import spaceship_env
from spaceship_env import SpaceshipEnv, SpaceshipVecEnv
from spaceship_env import core as C
from spaceship_env import grid as G


def cells(boxes, shape=(G.GRID_H, G.GRID_W)):
    """The cells that pixel boxes ``(top, left, bottom, right)`` (inclusive) touch, the plain way."""
    marked = np.zeros(shape, bool)
    for top, left, bottom, right in boxes:
        for y in range(top, bottom + 1):
            for x in range(left, right + 1):
                marked[y // G.CELL_H, x // G.CELL_W] = True
    return marked


def expected_grid(game, i):
    """Game ``i``'s grid, box by box, from the state."""
    ship_x = int(game.ship_x[i])
    ship = cells([(C.SHIP_Y, ship_x - C.SHIP_HALF_W, C.SHIP_Y + C.SHIP_H - 1, ship_x + C.SHIP_HALF_W)])
    aliens = cells(
        (y, x, y + C.ALIEN_H - 1, x + C.ALIEN_W - 1)
        for r, c in np.argwhere(game.alive[i])
        for y, x in [(game.form_y[i] + r * C.ROW_PITCH, game.form_x[i] + c * C.COL_PITCH)]
    )
    laser = cells([(game.laser_top[i], ship_x, C.SHIP_Y - 1, ship_x)] if game.laser_top[i] >= 0 else [])
    bombs = cells(
        (game.bomb_y[k, i], game.bomb_x[k, i], min(game.bomb_y[k, i] + C.BOMB_H, C.GROUND_Y) - 1, game.bomb_x[k, i])
        for k in np.flatnonzero(game.bomb_on[:, i])
    )
    left = game.direction[i] < 0
    channels = [ship, aliens, aliens & left, aliens & ~left, laser, bombs, ship & (game.cooldown[i] > 0)]
    return np.stack(channels, axis=-1)


def test_the_grid_is_14_by_20_cells_of_the_alien_row_pitch_and_half_its_column_pitch_by_7_channels():
    assert G.GRID_SHAPE == (14, 20, 7)
    assert (G.CELL_H, G.CELL_W) == (C.ROW_PITCH, C.COL_PITCH // 2)
    assert G.GRID_H * G.CELL_H == C.GROUND_Y  # every bomb in flight is on the grid
    assert [c.name for c in G.GRID_CHANNELS] == [
        "ship", "alien", "alien_left", "alien_right", "laser", "bomb", "cooldown",
    ]  # fmt: skip


@pytest.mark.parametrize("policy", ["random", "empty the left, then flee right", "hug the left wall"])
def test_each_channel_marks_where_the_state_has_its_thing(policy):
    """Played states, features in lock step choosing the actions: ships, aliens both ways, bombs, lasers."""
    n = 8
    features = SpaceshipVecEnv(n, lives=10)
    grids = SpaceshipVecEnv(n, obs_type="grid", lives=10)
    for venv in (features, grids):
        venv.seed(4)
    obs, grid = features.reset(), grids.reset()
    rng = np.random.default_rng(0)
    seen = np.zeros(G.N_CHANNELS, bool)
    for _ in range(400):
        game = grids.batch.game
        for i in range(n):
            np.testing.assert_array_equal(grid[i], expected_grid(game, i))
        seen |= grid.any(axis=(0, 1, 2))
        actions = POLICIES[policy](obs, rng)
        obs, *_ = features.step(actions)
        grid, *_ = grids.step(actions)
    assert seen.all(), [c.name for c, s in zip(G.GRID_CHANNELS, seen, strict=True) if not s]


def test_a_laser_marks_its_column_from_where_it_stopped_down_to_the_ship():
    env = gym.make("Spaceship-v0", obs_type="grid")
    env.reset(seed=0)
    env.step(C.RIGHT)
    grid, reward, *_ = env.step(C.FIRE)
    game = env.unwrapped.game
    assert reward == 5
    column = grid[:, game.ship_x[0] // G.CELL_W, G.LASER]
    top = game.laser_top[0] // G.CELL_H
    assert not column[:top].any() and column[top : G.SHIP_ROW + 1].all()
    assert grid[..., G.LASER].sum() == column.sum()
    assert grid[G.SHIP_ROW, :, G.COOLDOWN].any()  # FIRE cools down now


def test_the_march_direction_marks_every_alien_in_one_channel_only():
    env = gym.make("Spaceship-v0", obs_type="grid")
    grid, _ = env.reset(seed=1)
    assert (grid[..., G.ALIEN_RIGHT] == grid[..., G.ALIEN]).all() and not grid[..., G.ALIEN_LEFT].any()
    game = env.unwrapped.game
    while game.direction[0] > 0:
        grid, *_ = env.step(C.LEFT)
    assert (grid[..., G.ALIEN_LEFT] == grid[..., G.ALIEN]).all() and not grid[..., G.ALIEN_RIGHT].any()


def test_the_docstring_table_lists_every_channel():
    doc = SpaceshipEnv.__doc__
    for k, channel in enumerate(G.GRID_CHANNELS):
        assert f"| {k} | `{channel.name}` |" in doc
    assert f"`{G.GRID_SHAPE}` bool array".replace(" ", "") in doc.replace(" ", "")


def test_grid_observations_stay_in_their_space_on_every_step_of_long_adversarial_games():
    for policy in POLICIES:
        features = SpaceshipVecEnv(16, lives=20, max_episode_steps=3000)
        grids = spaceship_env.SpaceshipVectorEnv(16, obs_type="grid", lives=20, max_episode_steps=3000)
        features.seed(7)
        obs = features.reset()
        grid, _ = grids.reset(seed=7)
        rng = np.random.default_rng(7)
        for _ in range(500):
            assert grids.observation_space.contains(grid)
            actions = POLICIES[policy](obs, rng)
            obs, *_ = features.step(actions)
            grid, *_ = grids.step(actions)
