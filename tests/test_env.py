"""Spaceship-v0: the lecture's rules, the Gymnasium and SB3 contracts, and bad input."""

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from hypothesis import given, settings
from hypothesis import strategies as st
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import spaceship_env
from spaceship_env import SpaceshipEnv, SpaceshipVecEnv
from spaceship_env import core as C
from spaceship_env.features import FEATURE_GROUPS, FEATURE_NAMES, N_FEATURES

LEFT, RIGHT, FIRE = C.LEFT, C.RIGHT, C.FIRE


def play(env, actions, seed):
    """Observations, rewards and infos of ``actions`` played from ``reset(seed=seed)``."""
    obs, info = env.reset(seed=seed)
    trace = [(obs, 0.0, info)]
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        trace.append((obs, r, info))
        if term or trunc:
            break
    return trace


@pytest.mark.parametrize("obs_type", ["features", "pixels"])
def test_gymnasium_and_sb3_checkers_pass(obs_type):
    gym_check_env(gym.make("Spaceship-v0", obs_type=obs_type).unwrapped, skip_render_check=False)
    sb3_check_env(gym.make("Spaceship-v0", obs_type=obs_type))


def test_registered_once_and_by_module_path():
    assert gym.spec("Spaceship-v0").max_episode_steps == spaceship_env.MAX_EPISODE_STEPS
    assert isinstance(gym.make("spaceship_env:Spaceship-v0").unwrapped, SpaceshipEnv)


@pytest.mark.parametrize("seed", range(100))
def test_lecture_example_right_scores_0_then_fire_kills_for_5(seed):
    env = gym.make("Spaceship-v0")
    env.reset(seed=seed)
    _, r1, *_ = env.step(RIGHT)
    _, r2, _, _, info = env.step(FIRE)
    assert (r1, r2) == (0.0, 5.0)
    assert info["aliens_left"] == C.N_ALIENS - 1
    assert env.unwrapped.game.alive[0, C.N_ROWS - 1].sum() == C.N_COLS - 1  # a bottom-row alien


def test_fire_during_cooldown_does_nothing():
    env = gym.make("Spaceship-v0")
    env.reset(seed=3)
    env.step(RIGHT)
    env.step(FIRE)
    rewards = [env.step(FIRE)[1] for _ in range(C.LASER_COOLDOWN)]
    assert rewards == [0.0] * C.LASER_COOLDOWN
    assert env.step(FIRE)[1] == 10.0  # the next alien up the column


def test_standing_still_ends_in_destruction_with_score_equal_to_summed_rewards():
    env = gym.make("Spaceship-v0", lives=2)
    env.reset(seed=1)
    total, info, term = 0.0, {}, False
    while not term:
        _, r, term, trunc, info = env.step(FIRE)
        total += r
        assert not trunc
    assert info["end_reason"] == "destroyed"
    assert info["lives"] == 0
    assert total == info["score"] > 0


def test_wave_value_is_630():
    assert C.WAVE_VALUE == 630


def test_same_seed_and_actions_give_the_same_trajectory():
    actions = np.random.default_rng(0).integers(0, 3, 300)
    a = play(gym.make("Spaceship-v0"), actions, seed=7)
    b = play(gym.make("Spaceship-v0"), actions, seed=7)
    assert len(a) == len(b)
    for (oa, ra, ia), (ob, rb, ib) in zip(a, b, strict=False):
        np.testing.assert_array_equal(oa, ob)
        assert (ra, ia) == (rb, ib)


def test_game_i_of_a_batch_seeded_s_plays_like_a_single_env_seeded_s_plus_i():
    n, seed, steps = 4, 10, 400
    actions = np.random.default_rng(1).integers(0, 3, (steps, n))
    venv = SpaceshipVecEnv(n)
    venv.seed(seed)
    venv_obs = [venv.reset()]
    venv_rewards, venv_dones = [], []
    for a in actions:
        obs, r, d, _ = venv.step(a)
        venv_obs.append(obs)
        venv_rewards.append(r)
        venv_dones.append(d)
    for i in range(n):
        single = play(gym.make("Spaceship-v0"), actions[:, i], seed=seed + i)
        for t, (obs, r, _) in enumerate(single[1:], start=1):
            assert venv_rewards[t - 1][i] == r
            if not venv_dones[t - 1][i]:
                np.testing.assert_array_equal(venv_obs[t][i], obs)


def test_gymnasium_vector_env_matches_single_envs_and_declares_autoreset():
    n, seed = 3, 5
    envs = gym.make_vec("Spaceship-v0", num_envs=n, vectorization_mode="vector_entry_point")
    assert envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.NEXT_STEP
    actions = np.random.default_rng(2).integers(0, 3, (200, n))
    obs, _ = envs.reset(seed=seed)
    singles = [gym.make("Spaceship-v0") for _ in range(n)]
    single_obs = [e.reset(seed=seed + i)[0] for i, e in enumerate(singles)]
    np.testing.assert_array_equal(obs, np.stack(single_obs))
    done = np.zeros(n, bool)
    for a in actions:
        obs, r, term, _trunc, info = envs.step(a)
        for i, e in enumerate(singles):
            if done[i]:
                continue
            o, ri, ti, tri, info_i = e.step(a[i])
            np.testing.assert_array_equal(obs[i], o)
            assert (r[i], term[i]) == (ri, ti)
            assert {k: info[k][i] for k in info_i} == info_i  # score, lives, aliens_left, end_reason
            assert info.get("_end_reason", np.zeros(n, bool))[i] == ("end_reason" in info_i)
            done[i] = ti or tri
    assert done.any()


def test_gymnasium_vector_env_same_step_autoreset_matches_single_envs_reset_on_done():
    n, seed = 3, 7
    envs = gym.make_vec("Spaceship-v0", num_envs=n, vectorization_mode="vector_entry_point", autoreset_mode="SameStep")
    assert envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    singles = [gym.make("Spaceship-v0") for _ in range(n)]
    obs, _ = envs.reset(seed=seed)
    for i, e in enumerate(singles):
        e.reset(seed=seed + i)
    ends = 0
    for a in np.random.default_rng(3).integers(0, 3, (400, n)):
        obs, r, term, trunc, info = envs.step(a)
        for i, e in enumerate(singles):
            o, ri, ti, tri, info_i = e.step(a[i])
            assert (r[i], term[i], trunc[i]) == (ri, ti, tri)
            if ti or tri:
                ends += 1
                np.testing.assert_array_equal(info["final_obs"][i], o)
                assert info["final_info"]["end_reason"][i] == info_i["end_reason"]
                o, info_i = e.reset()
            np.testing.assert_array_equal(obs[i], o)  # after an end, the next episode's first
            assert info["score"][i] == info_i["score"]
    assert ends >= n


def test_gymnasium_vector_env_without_autoreset_resets_only_the_masked_games():
    n, seed = 3, 11
    envs = gym.make_vec("Spaceship-v0", num_envs=n, vectorization_mode="vector_entry_point", autoreset_mode="Disabled")
    singles = [gym.make("Spaceship-v0") for _ in range(n)]
    envs.reset(seed=seed)
    for i, e in enumerate(singles):
        e.reset(seed=seed + i)
    rng = np.random.default_rng(4)
    dones = np.zeros(n, bool)
    while not dones.any():
        a = rng.integers(0, 3, n)
        obs, _, term, trunc, _ = envs.step(a)
        for i, e in enumerate(singles):
            e.step(a[i])
        dones = term | trunc
    kept = obs[~dones].copy()
    obs, info = envs.reset(options={"reset_mask": dones})
    np.testing.assert_array_equal(obs[~dones], kept)
    for i in np.flatnonzero(dones):
        o, info_i = singles[i].reset()
        np.testing.assert_array_equal(obs[i], o)
        assert info["score"][i] == info_i["score"] == 0


def test_vec_env_returns_terminal_observation_and_resets_in_the_same_step():
    venv = SpaceshipVecEnv(2, lives=1)
    venv.seed(0)
    venv.reset()
    for _ in range(2000):
        obs, _, dones, infos = venv.step(np.array([FIRE, FIRE]))
        if dones.any():
            i = int(np.flatnonzero(dones)[0])
            assert "terminal_observation" in infos[i]
            assert infos[i]["TimeLimit.truncated"] is False
            assert infos[i]["end_reason"] in ("destroyed", "invaded", "cleared")
            assert obs[i][FEATURE_NAMES.index("lives")] == 1.0  # already reset
            return
    pytest.fail("no episode ended")


def test_vec_env_marks_time_limit_truncation():
    venv = SpaceshipVecEnv(1, max_episode_steps=5)
    venv.reset()
    dones = [venv.step(np.array([LEFT]))[2:] for _ in range(5)]
    (done, infos) = dones[-1]
    assert done[0] and infos[0]["TimeLimit.truncated"] is True
    assert not any(d[0][0] for d in dones[:-1])


def test_the_docstring_table_gives_every_feature_group_with_the_space_bounds():
    doc = SpaceshipEnv.__doc__
    assert f"a `Box` of {N_FEATURES} float32 values" in doc
    space = SpaceshipEnv().observation_space
    index = 0
    for group in FEATURE_GROUPS:
        row = next(line for line in doc.splitlines() if f"`{group.label}`" in line)
        low, high = (float(cell) for cell in row.strip(" |").split("|")[-2:])
        k = slice(index, index + len(group.names))
        assert np.allclose(space.low[k], low, atol=1e-4) and np.allclose(space.high[k], high, atol=1e-4), row
        index += len(group.names)
    assert index == N_FEATURES


def test_close_twice_is_harmless():
    env = SpaceshipEnv(render_mode="rgb_array")
    env.reset(seed=4)
    env.close()
    env.close()


@settings(max_examples=40, deadline=None)
@given(actions=st.lists(st.integers(0, 2), min_size=1, max_size=400), seed=st.integers(0, 2**31 - 1))
def test_any_actions_keep_observations_in_space_and_rewards_valid(actions, seed):
    env = gym.make("Spaceship-v0")
    trace = play(env, actions, seed)
    scores = [info["score"] for _, _, info in trace]
    assert scores == sorted(scores)
    for obs, r, _ in trace:
        assert env.observation_space.contains(obs)
        assert r in {0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0}


@settings(max_examples=10, deadline=None)
@given(actions=st.lists(st.integers(0, 2), min_size=1, max_size=100), seed=st.integers(0, 1000))
def test_pixel_observation_is_the_rendered_frame(actions, seed):
    env = gym.make("Spaceship-v0", obs_type="pixels", render_mode="rgb_array")
    for obs, _, _ in play(env, actions, seed)[-1:]:
        assert env.observation_space.contains(obs)
        np.testing.assert_array_equal(obs, env.render())


def test_rgb_array_render_shows_the_game(monkeypatch):
    env = gym.make("Spaceship-v0", render_mode="rgb_array")
    env.reset(seed=0)
    env.step(RIGHT)
    env.step(FIRE)
    frame = env.render()
    assert frame.shape == (C.HEIGHT, C.WIDTH, 3) and frame.dtype == np.uint8
    ship_x = env.unwrapped.game.ship_x[0]
    assert (frame[C.SHIP_Y + 4, ship_x] > 0).any()  # the ship
    assert (frame[C.SHIP_Y - 20, ship_x] == (255, 255, 160)).all()  # the laser flash


def test_human_render_runs_headless(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    env = gym.make("Spaceship-v0", render_mode="human")
    env.reset(seed=0)
    for _ in range(3):
        env.step(FIRE)
    assert env.unwrapped.window is not None
    env.close()
    env.close()


def test_only_human_mode_opens_a_window():
    env = gym.make("Spaceship-v0", render_mode="rgb_array")
    env.reset(seed=0)
    env.render()
    assert env.unwrapped.window is None


def test_action_meanings_and_keys():
    env = SpaceshipEnv()
    assert env.get_action_meanings() == ["LEFT", "RIGHT", "FIRE"]
    assert sorted(env.get_keys_to_action().values()) == [LEFT, RIGHT, FIRE]


def test_rgb_array_render_draws_every_bomb_in_flight():
    env = gym.make("Spaceship-v0", render_mode="rgb_array", lives=50)
    env.reset(seed=2)
    game = env.unwrapped.game
    while game.bomb_on.sum() < 3:
        env.step(LEFT)
    frame = env.render()
    for k in np.flatnonzero(game.bomb_on[:, 0]):
        assert (frame[game.bomb_y[k, 0], game.bomb_x[k, 0]] == (255, 120, 60)).all()


def test_importing_the_package_needs_neither_torch_nor_sb3_until_the_sb3_front_is_used():
    code = (
        "import sys, spaceship_env, gymnasium as gym; gym.make('Spaceship-v0').reset(seed=0);"
        "assert 'torch' not in sys.modules and 'stable_baselines3' not in sys.modules, 'imported too early';"
        "from spaceship_env import SpaceshipVecEnv; assert 'stable_baselines3' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
