"""The small screen: painted for a batch at once, it equals the full frame downsampled, exactly."""

import copy
import dataclasses
import pickle

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

from spaceship_env import SpaceshipVecEnv, SpaceshipVectorEnv
from spaceship_env import core as C
from spaceship_env import screens as S
from spaceship_env.params import DIFFICULTIES
from spaceship_env.render import BACKGROUND, draw_frame


def reference(game):
    """Each game's small frame the slow way: the full frame, drawn, then downsampled."""
    return np.stack([S.downsample(draw_frame(game, i)) for i in range(game.n)])


def assert_small_equals_downsampled(game, where=""):
    small, slow = S.small_screens(game), reference(game)
    bad = np.flatnonzero((small != slow).any(axis=(1, 2)))
    assert not len(bad), f"{where}: games {bad.tolist()} differ, at {np.argwhere(small[bad[0]] != slow[bad[0]])[:3]}"


def test_the_small_frame_is_52_by_40_and_the_downsampling_is_area_averaging_of_integer_luma():
    frame = np.zeros((C.HEIGHT, C.WIDTH, 3), np.uint8)
    frame[0:4, 0] = (255, 120, 60)  # a bomb's 4 pixels in block (0, 0): luma 154 each
    frame[0:2, 4:6] = (255, 255, 255)  # 4 white pixels in block (0, 1)
    small = S.downsample(frame)
    assert small.shape == (S.SCREEN_H, S.SCREEN_W) == (52, 40)
    assert S.grey(np.array((255, 120, 60), np.uint8)) == 154
    assert small[0, 0] == (4 * 154 + 8) // 16 == 39  # a one-pixel bomb stays visible
    assert small[0, 1] == 64 and small[1:].max() == 0


def test_the_layers_add_up_because_the_background_is_black():
    assert S.grey(np.array(BACKGROUND, np.uint8)) == 0


@pytest.mark.parametrize("difficulty", range(len(DIFFICULTIES)))
def test_small_frames_equal_downsampled_frames_over_many_played_states(difficulty):
    """Random play with many lives: bombs, lasers through the HUD, formation drops, invasions.

    Every third step is compared (with a phase per difficulty), which keeps the test fast.
    """
    n = 24
    game = C.SpaceshipCore(n, dataclasses.replace(DIFFICULTIES[difficulty], lives=30))
    game.seed(difficulty)
    game.reset()
    rng = np.random.default_rng(difficulty)
    bias = rng.dirichlet(np.ones(3), n)  # each game its own habits: wall huggers, fire-happy, ...
    tangled = 0
    for t in range(600):
        actions = (rng.random(n)[:, None] > bias.cumsum(axis=1)).sum(axis=1)
        _, ended = game.step(actions)
        if t % 3 == difficulty % 3:
            assert_small_equals_downsampled(game, f"step {t}")
        tangled += int((game.bomb_on & S._bomb_may_cover(game)).sum())
        if ended.any():
            game.reset(ended)
    assert tangled > 0  # the pixel-by-pixel bombs were exercised


def one_game():
    game = C.SpaceshipCore(1)
    game.seed(0)
    game.reset()
    return game


def drop_bomb(game, slot, x, y):
    game.bomb_on[slot, 0], game.bomb_x[slot, 0], game.bomb_y[slot, 0] = True, x, y


def test_a_bomb_on_an_alien_covers_its_pixels():
    game = one_game()
    drop_bomb(game, 0, game.form_x[0] + 3, game.form_y[0] + 5 * C.ROW_PITCH + 2)  # inside the bottom-left alien
    drop_bomb(game, 1, game.form_x[0] + C.COL_PITCH + 7, game.form_y[0] + 5 * C.ROW_PITCH + 6)  # its lower right edge
    assert_small_equals_downsampled(game)


def test_bombs_on_one_another_count_once():
    game = one_game()
    for slot, dy in enumerate((0, 2, 3, 8)):
        drop_bomb(game, slot, 77, 120 + dy)
    drop_bomb(game, 4, 78, 121)  # the next column of pixels, the same block
    assert_small_equals_downsampled(game)


def test_a_bomb_on_the_laser_covers_it_and_a_bomb_at_the_ground_is_cut():
    game = one_game()
    game.laser_top[0] = 0
    drop_bomb(game, 0, game.ship_x[0], 150)
    drop_bomb(game, 1, 30, C.GROUND_Y - 2)
    drop_bomb(game, 2, 31, C.GROUND_Y - 5)
    assert_small_equals_downsampled(game)


@pytest.mark.parametrize("ship_x", [8, 12, 20, 27, 100, 130, 140, 151])
@pytest.mark.parametrize("score", [0, 5, 95, 630])
def test_a_laser_that_missed_covers_the_hud_it_crosses(ship_x, score):
    game = one_game()
    game.ship_x[0], game.laser_top[0], game.score[0], game.lives[0] = ship_x, 0, score, 9
    assert_small_equals_downsampled(game)


def test_the_ship_over_landed_aliens_or_a_bomb_is_drawn_in_full():
    game = one_game()
    game.form_y[0] = C.SHIP_Y - 5 * C.ROW_PITCH - 3  # the bottom row reaches into the ship's rows
    game.ship_x[0] = game.form_x[0] + C.COL_PITCH + 2
    assert_small_equals_downsampled(game)
    game = one_game()
    game.alive[0] = False
    game.col_rows[0] = 0
    drop_bomb(game, 0, game.ship_x[0] + 2, C.SHIP_Y + 1)  # after the wave is cleared, no bomb hits
    assert_small_equals_downsampled(game)


def test_the_formation_may_hang_off_the_screen_by_its_dead_columns():
    game = one_game()
    for form_x in (C.FORMATION_X_MIN, C.FORMATION_X_MAX):
        keep = 0 if form_x == C.FORMATION_X_MAX else C.N_COLS - 1
        game.alive[0] = False
        game.alive[0, :, keep] = True
        game.col_rows[0] = 0
        game.col_rows[0, keep] = 2**C.N_ROWS - 1
        game.form_x[0], game.form_y[0] = form_x, 101
        assert_small_equals_downsampled(game, f"form_x {form_x}")


def test_the_env_observation_stacks_the_last_two_downsampled_renders():
    env = gym.make("Spaceship-v0", obs_type="small_screen", render_mode="rgb_array")
    obs, _ = env.reset(seed=3)
    first = S.downsample(env.render())
    assert obs.shape == (S.N_STACK, 52, 40) and (obs == first).all()  # nothing moved before the start
    previous = first
    for action in [C.RIGHT, C.FIRE, C.LEFT, C.FIRE, C.RIGHT] * 10:
        obs, *_ = env.step(action)
        newest = S.downsample(env.render())
        np.testing.assert_array_equal(obs[-1], newest)
        np.testing.assert_array_equal(obs[-2], previous)
        previous = newest


@pytest.mark.parametrize("obs_type", ["small_screen", "grid"])
def test_gymnasium_and_sb3_checkers_pass(obs_type):
    gym_check_env(gym.make("Spaceship-v0", obs_type=obs_type).unwrapped, skip_render_check=False)
    sb3_check_env(gym.make("Spaceship-v0", obs_type=obs_type))


@pytest.mark.parametrize("obs_type", ["small_screen", "grid"])
def test_every_front_returns_the_same_observations_inside_their_spaces(obs_type):
    """The SB3 batch, the Gymnasium batch and single envs agree, through episode ends and resets."""
    n, seed = 3, 20
    venv = SpaceshipVecEnv(n, obs_type=obs_type, lives=1)
    venv.seed(seed)
    sb3_obs = venv.reset()
    envs = SpaceshipVectorEnv(n, obs_type=obs_type, lives=1, autoreset_mode="SameStep")
    gym_obs, _ = envs.reset(seed=seed)
    singles = [gym.make("Spaceship-v0", obs_type=obs_type, lives=1) for _ in range(n)]
    single_obs = [e.reset(seed=seed + i)[0] for i, e in enumerate(singles)]
    ends = 0
    for a in np.random.default_rng(0).integers(0, 3, (300, n)):
        assert all(venv.observation_space.contains(o) for o in sb3_obs) and envs.observation_space.contains(gym_obs)
        for obs in (sb3_obs, gym_obs):
            np.testing.assert_array_equal(obs, np.stack(single_obs))
        sb3_obs, _, _, infos = venv.step(a)
        gym_obs, *_ = envs.step(a)
        for i, e in enumerate(singles):
            o, _, term, trunc, _ = e.step(a[i])
            assert e.observation_space.contains(o)
            if term or trunc:
                ends += 1
                np.testing.assert_array_equal(infos[i]["terminal_observation"], o)
                o, _ = e.reset()
            single_obs[i] = o
    assert ends >= n


def test_the_gymnasium_batch_next_step_autoreset_and_reset_mask_keep_each_stack_right():
    n = 3
    envs = SpaceshipVectorEnv(n, obs_type="small_screen", lives=1, autoreset_mode="Disabled")
    obs, _ = envs.reset(seed=1)
    rng = np.random.default_rng(5)
    dones = np.zeros(n, bool)
    while not dones.any():
        obs, _, term, trunc, _ = envs.step(rng.integers(0, 3, n))
        dones = term | trunc
    kept = obs[~dones].copy()
    obs, _ = envs.reset(options={"reset_mask": dones})
    np.testing.assert_array_equal(obs[~dones], kept)
    assert (obs[dones] == obs[dones][:, -1:]).all()  # a fresh stack: the first frame throughout
    envs = SpaceshipVectorEnv(n, obs_type="small_screen", lives=1)
    envs.reset(seed=1)
    restart = np.zeros(n, bool)
    for _ in range(2000):
        obs, _, term, trunc, _ = envs.step(rng.integers(0, 3, n))
        if restart.any():
            assert (obs[restart] == obs[restart][:, -1:]).all()
            return
        restart = term | trunc
    pytest.fail("no episode ended")


@pytest.mark.parametrize("copier", [copy.deepcopy, lambda env: pickle.loads(pickle.dumps(env))])
def test_a_copied_batch_plays_on_with_the_same_stacks(copier):
    venv = SpaceshipVecEnv(2, obs_type="small_screen", lives=1)
    venv.seed(0)
    venv.reset()
    actions = np.random.default_rng(1).integers(0, 3, (400, 2))
    for a in actions[:30]:
        venv.step(a)
    twin = copier(venv)
    for a in actions[30:]:
        a_obs, a_r, a_d, _ = venv.step(a)
        b_obs, b_r, b_d, _ = twin.step(a)
        np.testing.assert_array_equal(a_obs, b_obs)
        assert (a_r == b_r).all() and (a_d == b_d).all()
