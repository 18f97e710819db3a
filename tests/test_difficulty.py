"""Learning must matter: the random and never-dodging scripted policies fall short, more at each difficulty."""

import functools
import itertools

import numpy as np

from spaceship_env import WAVE_VALUE
from spaceship_env.baselines import random_policy, scripted_policy
from spaceship_env.evaluation import Results, play_episodes
from spaceship_env.params import DIFFICULTIES


def test_random_policy_scores_under_a_quarter_of_the_wave_and_never_clears():
    rng = np.random.default_rng(0)
    results = play_episodes(lambda obs: random_policy(obs, rng), n_episodes=100)
    assert results.returns.mean() < 0.25 * WAVE_VALUE
    assert results.clear_rate == 0.0


def test_scripted_never_dodging_policy_clears_fewer_than_half():
    results = play_episodes(scripted_policy, n_episodes=100)
    assert results.clear_rate < 0.5
    assert results.returns.mean() > 0.5 * WAVE_VALUE  # it is a fair opponent, not a strawman


# --- The difficulties: each harder than the one before -------------------------------
#: Enough episodes that the random policy's order cannot flip with the seeds (the standard
#: errors of its means are about a tenth of the gaps between difficulties); about a second.
LADDER_EPISODES = 1000
LADDER_SEED = 2_000_000


@functools.cache
def ladder(policy_name: str) -> list[Results]:
    """The policy's results at each difficulty, on the same seeds."""
    results = []
    for params in DIFFICULTIES:
        rng = np.random.default_rng(LADDER_SEED)
        policy = scripted_policy if policy_name == "scripted" else (lambda obs, rng=rng: random_policy(obs, rng))
        results.append(play_episodes(policy, LADDER_EPISODES, LADDER_SEED, params))
    return results


def falls(values: list[float]) -> bool:
    return all(a > b for a, b in itertools.pairwise(values))


def test_the_random_policy_scores_less_and_clears_no_more_as_the_difficulty_rises():
    results = ladder("random")
    returns = [r.returns.mean() for r in results]
    assert falls(returns), returns
    assert [r.clear_rate for r in results] == [0.0] * len(DIFFICULTIES)  # it never clears: nothing to fall


def test_the_scripted_policy_scores_less_and_clears_less_as_the_difficulty_rises():
    results = ladder("scripted")
    returns = [r.returns.mean() for r in results]
    clear_rates = [r.clear_rate for r in results]
    assert falls(returns) and falls(clear_rates), (returns, clear_rates)
