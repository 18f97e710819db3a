"""Bad input at the game's API: a clear error that names what is wrong, before any harm."""

import gymnasium as gym
import numpy as np
import pytest

from spaceship_env import SpaceshipEnv, SpaceshipVecEnv, SpaceshipVectorEnv

LEFT, RIGHT, FIRE = 0, 1, 2


@pytest.mark.parametrize(
    "action",
    [3, -1, 1.5, "fire", None, True, np.array([0, 1]), np.float32(1.0), [1], np.array([1]), (2,)],
)
def test_the_single_env_takes_exactly_what_discrete_3_contains(action):
    env = gym.make("Spaceship-v0", disable_env_checker=True)
    env.reset(seed=0)
    assert not env.action_space.contains(action) or isinstance(action, bool)
    with pytest.raises(ValueError, match="action"):
        env.step(action)


@pytest.mark.parametrize("action", [1, np.int64(2), np.uint8(0), np.array(1), np.array(2, np.int16)])
def test_the_single_env_takes_ints_and_zero_dimensional_int_arrays(action):
    env = gym.make("Spaceship-v0")
    env.reset(seed=0)
    env.step(action)


@pytest.mark.parametrize("dtype", ["<i8", ">i8", ">i2", "u1", ">u4"])
def test_batched_actions_of_any_int_dtype_and_byte_order_are_read_by_value(dtype):
    venv = SpaceshipVecEnv(3)
    venv.reset()
    venv.step(np.array([LEFT, RIGHT, FIRE], dtype))
    if np.dtype(dtype).kind == "i":
        with pytest.raises(ValueError, match="invalid action"):
            venv.step(np.array([LEFT, -1, FIRE], dtype))
    with pytest.raises(ValueError, match="invalid action"):
        venv.step(np.array([LEFT, 3, FIRE], dtype))


def test_a_wrong_shaped_batch_of_actions_is_rejected():
    venv = SpaceshipVecEnv(4)
    venv.reset()
    with pytest.raises(ValueError, match="expected 4 action"):
        venv.step(np.zeros(3, int))


BAD_KWARGS = [
    ({"obs_type": "ram"}, "obs_type"),
    ({"render_mode": "window"}, "render_mode"),
    ({"lives": 0}, "lives"),
    ({"lives": -2}, "lives"),
    ({"lives": True}, "lives"),
    ({"lives": 2.5}, "lives"),
    ({"lives": 2**31}, "lives"),
    ({"difficulty": 4}, "difficulty"),
    ({"difficulty": -1}, "difficulty"),
    ({"difficulty": "hard"}, "difficulty"),
    ({"repeat_action_probability": 1.5}, "repeat_action_probability"),
    ({"repeat_action_probability": float("nan")}, "repeat_action_probability"),
    ({"frameskip": 0}, "frameskip"),
    ({"frameskip": True}, "frameskip"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_KWARGS)
def test_bad_game_arguments_name_themselves_on_every_front(kwargs, message):
    for make in (SpaceshipEnv, lambda **kw: SpaceshipVecEnv(2, **kw), lambda **kw: SpaceshipVectorEnv(2, **kw)):
        with pytest.raises(ValueError, match=message):
            make(**kwargs)


@pytest.mark.parametrize("steps", [0, -5, True, 2.0, "100"])
def test_bad_max_episode_steps_is_named(steps):
    for front in (SpaceshipVecEnv, SpaceshipVectorEnv):
        with pytest.raises(ValueError, match="max_episode_steps"):
            front(2, max_episode_steps=steps)


@pytest.mark.parametrize("n", [0, -1, True, 2.0])
def test_a_bad_number_of_games_is_named(n):
    for front in (SpaceshipVecEnv, SpaceshipVectorEnv):
        with pytest.raises(ValueError, match="number of games"):
            front(n)


def test_a_batch_too_large_for_memory_fails_at_once_with_the_memory_it_needs():
    for front, name in ((SpaceshipVecEnv, "n_envs"), (SpaceshipVectorEnv, "num_envs")):
        with pytest.raises(ValueError, match=rf"^{name} \(the number of games\) = 1,099,511,627,776: .* [\d.]+ PiB"):
            front(2**40)


@pytest.mark.parametrize("n", [0, 1.5, "4"])
def test_a_bad_number_of_games_names_the_fronts_argument(n):
    for front, name in ((SpaceshipVecEnv, "n_envs"), (SpaceshipVectorEnv, "num_envs")):
        with pytest.raises(ValueError, match=rf"^{name} \(the number of games\) must be"):
            front(n)


def test_errors_about_arrays_are_one_line_whatever_the_array():
    env = SpaceshipVectorEnv(300)
    env.reset(seed=0)
    for bad in (np.ones((300, 1), bool), np.ones(300, int)):
        with pytest.raises(ValueError, match="reset_mask") as error:
            env.reset(options={"reset_mask": bad})
        assert "\n" not in str(error.value) and len(str(error.value)) < 200
    actions = np.zeros(300, int)
    actions[[7, 40]] = 3
    with pytest.raises(ValueError, match=r"^invalid action 3 for game 7 \(2 in all\)") as error:
        env.step(actions)
    with pytest.raises(ValueError, match="dtype float64") as error:
        env.step(np.zeros(300))
    assert "\n" not in str(error.value)


def test_a_negative_seed_is_named_on_every_front():
    with pytest.raises(gym.error.Error, match=r"[Ss]eed"):
        gym.make("Spaceship-v0").reset(seed=-1)
    with pytest.raises(ValueError, match="seed"):
        SpaceshipVecEnv(2).seed(-5)
    with pytest.raises(ValueError, match="seed"):
        SpaceshipVectorEnv(2).reset(seed=-1)


@pytest.mark.parametrize("seed", ["a", [1, 2], [1, 2, 3, 4], [1, -1, 2], 1.5])
def test_vector_env_reset_checks_its_seed(seed):
    envs = SpaceshipVectorEnv(3)
    with pytest.raises(ValueError, match="seed"):
        envs.reset(seed=seed)


@pytest.mark.parametrize("mask", [[True, False, True], np.array([True]), np.array([1, 0, 1]), np.ones((3, 1), bool)])
def test_vector_env_reset_checks_its_reset_mask(mask):
    envs = SpaceshipVectorEnv(3)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="reset_mask"):
        envs.reset(options={"reset_mask": mask})


def test_vector_env_seeds_only_the_games_it_resets():
    """As Gymnasium's SyncVectorEnv: a reset with a mask and a seed leaves the other games' streams alone."""
    masked = SpaceshipVectorEnv(3, autoreset_mode="Disabled")
    plain = SpaceshipVectorEnv(3, autoreset_mode="Disabled")
    masked.reset(seed=0)
    plain.reset(seed=0)
    mask = np.array([True, False, False])
    obs, _ = masked.reset(seed=100, options={"reset_mask": mask})
    single = gym.make("Spaceship-v0")
    np.testing.assert_array_equal(obs[0], single.reset(seed=100)[0])  # game 0 takes seed 100 + 0
    everyone = np.ones(3, bool)
    np.testing.assert_array_equal(  # game 1's next episode is the one it would have had unseeded
        masked.reset(options={"reset_mask": everyone})[0][1:], plain.reset(options={"reset_mask": everyone})[0][1:]
    )


def test_vector_env_accepts_only_the_render_modes_it_declares():
    assert SpaceshipVectorEnv.metadata["render_modes"] == ["rgb_array"]
    with pytest.raises(ValueError, match="render_mode"):
        SpaceshipVectorEnv(2, render_mode="human")


def test_step_before_reset_is_an_error():
    with pytest.raises(gym.error.ResetNeeded):
        SpaceshipEnv().step(FIRE)
    with pytest.raises(gym.error.ResetNeeded):
        SpaceshipVecEnv(2).step(np.zeros(2, int))
    with pytest.raises(gym.error.ResetNeeded):
        SpaceshipVectorEnv(2).step(np.zeros(2, int))
