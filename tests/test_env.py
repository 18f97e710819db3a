"""Spaceship-v0: the lecture's rules, the Gymnasium and SB3 contracts, and bad input."""

import copy
import pickle

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


def test_games_past_the_first_bomb_sort_chunk_see_their_own_bombs():
    """The bomb features sort ``_SORT_CHUNK`` games at a time; later games lose nothing."""
    n = C._SORT_CHUNK + 2
    big, small = C.SpaceshipCore(n), C.SpaceshipCore(2)
    big.seed(0)
    small.seed(C._SORT_CHUNK)  # small's games are big's last two
    big.reset()
    small.reset()
    rng = np.random.default_rng(0)
    for _ in range(40):
        actions = rng.integers(0, 3, n)
        big.step(actions)
        small.step(actions[-2:])
    assert small.bomb_on.sum() >= 2
    np.testing.assert_array_equal(big.features()[-2:], small.features())


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
            assert obs[i][C.FEATURE_NAMES.index("lives")] == 1.0  # already reset
            return
    pytest.fail("no episode ended")


def test_vec_env_marks_time_limit_truncation():
    venv = SpaceshipVecEnv(1, max_episode_steps=5)
    venv.reset()
    dones = [venv.step(np.array([LEFT]))[2:] for _ in range(5)]
    (done, infos) = dones[-1]
    assert done[0] and infos[0]["TimeLimit.truncated"] is True
    assert not any(d[0][0] for d in dones[:-1])


def test_feature_docstring_table_names_every_feature():
    doc = SpaceshipEnv.__doc__
    for name in ("ship_x", "cooldown", "lives", "formation_x", "formation_y", "direction", "speed", "in_sight"):
        assert f"`{name}`" in doc
    assert f"a `Box` of {len(C.FEATURES)} float32 values" in doc


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


@pytest.mark.parametrize("action", [3, -1, 1.5, "fire", None, True, np.array([0, 1]), np.float32(1.0)])
def test_bad_action_is_rejected_with_a_clear_error(action):
    env = gym.make("Spaceship-v0", disable_env_checker=True)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(action)


@pytest.mark.parametrize("dtype", ["<i8", ">i8", ">i2", "u1", ">u4"])
def test_actions_of_any_int_dtype_and_byte_order_are_read_by_value(dtype):
    venv = SpaceshipVecEnv(3)
    venv.reset()
    venv.step(np.array([LEFT, RIGHT, FIRE], dtype))
    if np.dtype(dtype).kind == "i":
        with pytest.raises(ValueError, match="invalid action"):
            venv.step(np.array([LEFT, -1, FIRE], dtype))
    with pytest.raises(ValueError, match="invalid action"):
        venv.step(np.array([LEFT, 3, FIRE], dtype))


def test_wrong_shaped_batch_of_actions_is_rejected():
    venv = SpaceshipVecEnv(4)
    venv.reset()
    with pytest.raises(ValueError, match="expected 4 action"):
        venv.step(np.zeros(3, int))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"obs_type": "ram"}, "obs_type"),
        ({"render_mode": "window"}, "render_mode"),
        ({"lives": 0}, "lives"),
        ({"lives": -2}, "lives"),
    ],
)
def test_bad_kwargs_are_rejected_with_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SpaceshipEnv(**kwargs)
    with pytest.raises(ValueError, match=message):
        SpaceshipVecEnv(2, **kwargs)


def test_step_before_reset_is_an_error():
    with pytest.raises(gym.error.ResetNeeded):
        SpaceshipEnv().step(FIRE)
    with pytest.raises(gym.error.ResetNeeded):
        SpaceshipVecEnv(2).step(np.zeros(2, int))


def test_close_twice_pickle_and_deepcopy():
    env = SpaceshipEnv(render_mode="rgb_array")
    env.reset(seed=4)
    env.step(RIGHT)
    for twin in (pickle.loads(pickle.dumps(env)), copy.deepcopy(env)):
        a, b = twin.step(FIRE), copy.deepcopy(env).step(FIRE)
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1] == b[1] == 5.0
    env.close()
    env.close()


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
