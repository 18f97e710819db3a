"""Learning must matter: the random and the never-dodging scripted policy fall short."""

import numpy as np

from spaceship_env import WAVE_VALUE
from spaceship_env.baselines import random_policy, scripted_policy
from spaceship_env.evaluation import play_episodes


def test_random_policy_scores_under_a_quarter_of_the_wave_and_never_clears():
    rng = np.random.default_rng(0)
    results = play_episodes(lambda obs: random_policy(obs, rng), n_episodes=100)
    assert results.returns.mean() < 0.25 * WAVE_VALUE
    assert results.clear_rate == 0.0


def test_scripted_never_dodging_policy_clears_fewer_than_half():
    results = play_episodes(scripted_policy, n_episodes=100)
    assert results.clear_rate < 0.5
    assert results.returns.mean() > 0.5 * WAVE_VALUE  # it is a fair opponent, not a strawman
