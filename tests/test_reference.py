"""The fast core agrees with the plain reference (:mod:`spaceship_env.reference`) bit for bit.

A batch of core games and as many reference games start from the same seeds and take
the same actions; after every step every state field of the core, the rewards, the
terminations and the feature observation must equal the reference's. Games that end
are reset in both and play on, so each run covers many episodes. gymnax tests its
MinAtar ports against the originals the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from spaceship_env import core as C
from spaceship_env.baselines import scripted_policy
from spaceship_env.features import FEATURE_NAMES, features
from spaceship_env.params import DIFFICULTIES, GameParams, make_params
from spaceship_env.reference import Game

N_GAMES = 16
Policy = Callable[[np.ndarray, np.random.Generator], np.ndarray]
_COLUMN_DX0 = FEATURE_NAMES.index("column_dx_0")
_ALIVE0 = FEATURE_NAMES.index("alive_0_0")


def random(obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 3, len(obs))


def fire_heavy(obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.choice([C.LEFT, C.RIGHT, C.FIRE], len(obs), p=[0.2, 0.2, 0.6])


def move_only(obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 2, len(obs))


def scripted(obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return scripted_policy(obs)


def leftmost_column_first(obs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Empty the columns from the left, so that the formation's wall limits keep changing."""
    columns_alive = obs[:, _ALIVE0 : _ALIVE0 + C.N_ALIENS].reshape(-1, C.N_ROWS, C.N_COLS).any(axis=1)
    target = columns_alive.argmax(axis=1)
    dx = obs[np.arange(len(obs)), _COLUMN_DX0 + target] * C.WIDTH
    aligned = np.abs(dx) < C.ALIEN_W / 2
    return np.where(aligned, C.FIRE, np.where(dx > 0, C.RIGHT, C.LEFT))


@dataclass(frozen=True)
class Case:
    params: GameParams
    policy: Policy
    steps: int
    seed: int
    #: End reasons this run must reach, so that the comparison covers them.
    ends: frozenset[int] = frozenset()


DESTROYED, INVADED, CLEARED = C.DESTROYED, C.INVADED, C.CLEARED
CASES = {
    "random": Case(GameParams(), random, 300, 0, frozenset({DESTROYED})),
    "fire-heavy": Case(GameParams(), fire_heavy, 300, 100, frozenset({DESTROYED})),
    "move-only": Case(GameParams(), move_only, 250, 200, frozenset({DESTROYED})),
    "scripted": Case(GameParams(), scripted, 300, 300, frozenset({DESTROYED, CLEARED})),
    "leftmost column first, many lives": Case(GameParams(lives=30), leftmost_column_first, 400, 400),
    "sticky actions": Case(GameParams(repeat_action_probability=0.25), random, 250, 500, frozenset({DESTROYED})),
    "sticky scripted": Case(GameParams(repeat_action_probability=0.25), scripted, 250, 600),
    "frameskip 4": Case(GameParams(frameskip=4), scripted, 150, 700, frozenset({DESTROYED})),
    "frameskip 3, sticky": Case(GameParams(frameskip=3, repeat_action_probability=0.25), fire_heavy, 150, 800),
    "invasion: many lives, fast march": Case(
        GameParams(lives=1000, march_period=1, frameskip=4), fire_heavy, 250, 900, frozenset({INVADED})
    ),
    **{
        f"difficulty {d}, {policy.__name__}": Case(make_params(d), policy, 200, 1000 + 100 * d + k)
        for d in range(len(DIFFICULTIES))
        for k, policy in enumerate((random, scripted))
    },
}


def reference_state(games: list[Game]) -> dict[str, np.ndarray]:
    """The reference games' state laid out as the core's arrays (bomb positions 0 where no bomb)."""
    state = {
        name: np.array([getattr(g, name) for g in games], np.uint64 if name == "stream" else np.int64)
        for name in C.SpaceshipCore.STATE
        if name not in ("alive", "col_rows", "col_bits") and not name.startswith("bomb_")
    }
    alive = np.array([g.alive for g in games], bool)
    state["alive"] = alive
    state["col_rows"] = np.zeros((len(games), C.N_COLS + 1), np.int64)
    state["col_rows"][:, : C.N_COLS] = (alive << np.arange(C.N_ROWS)[:, None]).sum(axis=1)
    state["col_bits"] = (alive.any(axis=1) << np.arange(C.N_COLS)).sum(axis=1)
    bombs = [[(b is not None, b.x if b else 0, b.y if b else 0) for b in g.bombs] for g in games]
    state["bomb_on"], state["bomb_x"], state["bomb_y"] = np.array(bombs, np.int64).transpose(2, 1, 0)
    return state


def assert_same(core: C.SpaceshipCore, games: list[Game], where: str) -> None:
    """Every state field and the feature observation of the core equal the reference's."""
    on = core.bomb_on
    core_state = {name: getattr(core, name) for name in C.SpaceshipCore.STATE}
    core_state["bomb_x"], core_state["bomb_y"] = core.bomb_x * on, core.bomb_y * on
    for name, expected in reference_state(games).items():
        np.testing.assert_array_equal(core_state[name], expected, err_msg=f"{name}, {where}")
    reference_features = np.stack([g.features() for g in games])
    np.testing.assert_array_equal(features(core), reference_features, err_msg=f"features, {where}")


def compare(case: Case) -> set[int]:
    """Play ``case`` on the core and the reference side by side; returns the end reasons reached."""
    core = C.SpaceshipCore(N_GAMES, case.params)
    core.seed(case.seed)
    core.reset()
    rngs = [np.random.default_rng(case.seed + i) for i in range(N_GAMES)]
    games = [Game.reset(rng, case.params) for rng in rngs]
    assert_same(core, games, "after the first reset")
    policy_rng = np.random.default_rng(case.seed)
    reasons = set()
    for step in range(case.steps):
        actions = np.asarray(case.policy(features(core), policy_rng), np.int64)
        rewards, terminated = core.step(actions)
        expected = [g.step(int(a)) for g, a in zip(games, actions, strict=True)]
        where = f"step {step + 1}"
        np.testing.assert_array_equal(rewards, [r for r, _ in expected], err_msg=f"rewards, {where}")
        np.testing.assert_array_equal(terminated, [d for _, d in expected], err_msg=f"terminated, {where}")
        assert_same(core, games, where)
        ended = terminated.nonzero()[0]
        if len(ended):
            reasons.update(core.end_reason[ended].tolist())
            core.reset(ended)
            for i in ended:
                games[i] = Game.reset(rngs[i], case.params)
            assert_same(core, games, f"after the resets of {where}")
    return reasons


@pytest.mark.parametrize("name", CASES)
def test_core_matches_reference_on_every_field_every_step(name):
    case = CASES[name]
    reasons = compare(case)
    assert case.ends <= reasons, f"the run reached only {sorted(C.END_REASONS[r] for r in reasons)}"


def test_the_compared_runs_cover_every_end_reason():
    covered = set().union(*(case.ends for case in CASES.values()))
    assert covered == {DESTROYED, INVADED, CLEARED}
