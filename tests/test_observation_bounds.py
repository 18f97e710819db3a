"""Every observation of every front lies inside its ``observation_space``, however the game goes.

Random play alone rarely reaches the corners: a formation whose left columns are all
dead drifts far from a ship on the right. The policies here go there on purpose,
with many lives, for long episodes.
"""

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spaceship_env import FEATURE_NAMES, SpaceshipVecEnv, SpaceshipVectorEnv
from spaceship_env import core as C

_IN_SIGHT = FEATURE_NAMES.index("in_sight")
_COLUMN_DX = slice(FEATURE_NAMES.index("column_dx_0"), FEATURE_NAMES.index("column_dx_0") + C.N_COLS)
_ALIVE = slice(FEATURE_NAMES.index("alive_0_0"), FEATURE_NAMES.index("alive_0_0") + C.N_ALIENS)


def kill_columns_in_order(obs: np.ndarray, side: str) -> np.ndarray:
    """Go under the leftmost (or rightmost) living column and fire: empties one side first."""
    obs = np.atleast_2d(obs)
    alive = obs[:, _ALIVE].reshape(-1, C.N_ROWS, C.N_COLS).any(axis=1)
    order = np.arange(C.N_COLS) if side == "left" else np.arange(C.N_COLS)[::-1]
    target = order[alive[:, order].argmax(axis=1)]
    dx = obs[np.arange(len(obs)), _COLUMN_DX.start + target] * C.WIDTH
    move = np.where(dx > 0, C.RIGHT, C.LEFT)
    return np.where((obs[:, _IN_SIGHT] > 0) & (np.abs(dx) <= C.ALIEN_W / 2), C.FIRE, move)


def empty_one_side_then_flee(obs: np.ndarray, side: str) -> np.ndarray:
    """Kill the three columns of one side, then wait at the far wall as the formation drifts away."""
    obs = np.atleast_2d(obs)
    alive = obs[:, _ALIVE].reshape(-1, C.N_ROWS, C.N_COLS).any(axis=1)
    near = alive[:, :3] if side == "left" else alive[:, 3:]
    flee = C.RIGHT if side == "left" else C.LEFT
    return np.where(near.any(axis=1), kill_columns_in_order(obs, side), flee)


POLICIES = {
    "empty the left, then flee right": lambda obs, rng: empty_one_side_then_flee(obs, "left"),
    "empty the right, then flee left": lambda obs, rng: empty_one_side_then_flee(obs, "right"),
    "leftmost column first": lambda obs, rng: kill_columns_in_order(obs, "left"),
    "rightmost column first": lambda obs, rng: kill_columns_in_order(obs, "right"),
    "random": lambda obs, rng: rng.integers(0, 3, len(np.atleast_2d(obs))),
    "hug the left wall": lambda obs, rng: np.where(rng.random(len(np.atleast_2d(obs))) < 0.3, C.FIRE, C.LEFT),
}


def inside(space: gym.spaces.Box, obs: np.ndarray) -> np.ndarray:
    """Per row of a batch: inside ``space``'s bounds."""
    flat = obs.reshape(len(obs), -1)
    return ((flat >= space.low.ravel()) & (flat <= space.high.ravel())).all(axis=1)


@pytest.mark.parametrize("policy", POLICIES)
def test_sb3_batch_observations_stay_in_space_under_adversarial_play(policy):
    venv = SpaceshipVecEnv(32, lives=20, max_episode_steps=4000)
    venv.seed(0)
    obs = venv.reset()
    rng = np.random.default_rng(0)
    for t in range(2000):
        assert inside(venv.observation_space, obs).all(), f"step {t}"
        obs, _, _, infos = venv.step(POLICIES[policy](obs, rng))
        for info in infos:
            if "terminal_observation" in info:
                assert venv.observation_space.contains(info["terminal_observation"])


@pytest.mark.parametrize("policy", ["empty the left, then flee right", "random"])
def test_gymnasium_batch_observations_stay_in_space_under_adversarial_play(policy):
    envs = SpaceshipVectorEnv(32, lives=20, max_episode_steps=4000)
    obs, _ = envs.reset(seed=100)
    rng = np.random.default_rng(1)
    for t in range(2000):
        assert envs.observation_space.contains(obs), f"step {t}"
        obs, *_ = envs.step(POLICIES[policy](obs, rng))


@pytest.mark.parametrize("lives", [1, 3, 50])
@pytest.mark.parametrize("policy", POLICIES)
def test_single_env_observations_stay_in_space_under_adversarial_play(policy, lives):
    env = gym.make("Spaceship-v0", lives=lives, max_episode_steps=5000)
    rng = np.random.default_rng(lives)
    for seed in range(4):
        obs, _ = env.reset(seed=seed)
        done = False
        while not done:
            assert env.observation_space.contains(obs)
            obs, _, terminated, truncated, _ = env.step(int(POLICIES[policy](obs, rng)[0]))
            done = terminated or truncated
        assert env.observation_space.contains(obs)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    lives=st.integers(1, 60),
    policy=st.sampled_from(sorted(POLICIES)),
    noise=st.floats(0, 0.5),
)
def test_any_seed_lives_and_policy_keep_observations_in_space(seed, lives, policy, noise):
    venv = SpaceshipVecEnv(16, lives=lives, max_episode_steps=3000)
    venv.seed(seed)
    obs = venv.reset()
    rng = np.random.default_rng(seed)
    for _ in range(400):
        assert inside(venv.observation_space, obs).all()
        actions = POLICIES[policy](obs, rng)
        actions = np.where(rng.random(len(actions)) < noise, rng.integers(0, 3, len(actions)), actions)
        obs, *_ = venv.step(actions)
