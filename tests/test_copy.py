"""A copied or unpickled environment plays on exactly like the original, on every front.

Vector wrappers, ``AsyncVectorEnv``, subprocess envs and Ray workers all copy envs, so a
copy taken at any moment must go on with the same game: same observations, rewards,
ends and infos, across several episodes.
"""

import copy
import pickle

import gymnasium as gym
import numpy as np
import pytest

import spaceship_env
from spaceship_env import SpaceshipVecEnv, SpaceshipVectorEnv

COPIERS = {"deepcopy": copy.deepcopy, "pickle": lambda env: pickle.loads(pickle.dumps(env))}
N_GAMES = 3
STEPS = 1500  # with one life, dozens of episodes per game


def assert_same(a, b, where):
    """Equal observations, rewards and infos, arrays compared by value."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{k}]")
    elif isinstance(a, np.ndarray) and a.dtype == object:
        for k, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{k}]")
    else:
        np.testing.assert_array_equal(a, b, err_msg=where)


class Single:
    """``gym.make("Spaceship-v0")``, reset whenever an episode ends."""

    def make(self):
        return gym.make("Spaceship-v0", lives=1)

    def reset(self, env, seed):
        return env.reset(seed=seed)

    def step(self, env, actions):
        result = env.step(int(actions[0]))
        if result[2] or result[3]:
            return result, env.reset()
        return result, None


class SB3Batch:
    def make(self):
        return SpaceshipVecEnv(N_GAMES, lives=1)

    def reset(self, env, seed):
        env.seed(seed)
        return env.reset()

    def step(self, env, actions):
        return env.step(actions), None


class GymnasiumBatch:
    def make(self):
        return SpaceshipVectorEnv(N_GAMES, lives=1)

    def reset(self, env, seed):
        return env.reset(seed=seed)

    def step(self, env, actions):
        return env.step(actions), None


FRONTS = {"gym.make": Single(), "SpaceshipVecEnv": SB3Batch(), "SpaceshipVectorEnv": GymnasiumBatch()}


def play_both(front, original, twin, steps, seed):
    actions = np.random.default_rng(seed).integers(0, 3, (steps, N_GAMES))
    for t, a in enumerate(actions):
        assert_same(front.step(original, a), front.step(twin, a), f"step {t}")


@pytest.mark.parametrize("copier", COPIERS)
@pytest.mark.parametrize("front_name", FRONTS)
def test_a_copy_taken_mid_episode_plays_on_like_the_original(front_name, copier):
    front = FRONTS[front_name]
    original = front.make()
    front.reset(original, seed=3)
    for a in np.random.default_rng(0).integers(0, 3, (40, N_GAMES)):  # well into an episode
        front.step(original, a)
    twin = COPIERS[copier](original)
    play_both(front, original, twin, STEPS, seed=1)


@pytest.mark.parametrize("copier", COPIERS)
@pytest.mark.parametrize("front_name", FRONTS)
def test_a_copy_taken_before_the_first_reset_plays_like_the_original(front_name, copier):
    front = FRONTS[front_name]
    original = front.make()
    twin = COPIERS[copier](original)
    assert_same(front.reset(original, seed=5), front.reset(twin, seed=5), "reset")
    play_both(front, original, twin, STEPS, seed=2)


@pytest.mark.parametrize("copier", COPIERS)
def test_a_copied_core_keeps_its_fields_independent_of_the_original(copier):
    game = spaceship_env.SpaceshipCore(2)
    game.seed(0)
    game.reset()
    twin = COPIERS[copier](game)
    game.step(np.array([2, 2]))
    assert twin.t.tolist() == [0, 0] and game.t.tolist() == [1, 1]
