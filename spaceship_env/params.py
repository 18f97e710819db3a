"""The game's tunable rules, as one frozen record, and the four difficulties.

The playfield's geometry (screen, sprites, the 6 x 6 formation) is fixed in
:mod:`spaceship_env.core`; what can be tuned is here, validated once, and the core
builds its tables for it. gymnax keeps ``EnvParams`` apart from the state the same way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from spaceship_env.validation import check_int, check_probability

#: Lives are stored as int32 per game.
MAX_LIVES = 2**31 - 1


@dataclass(frozen=True)
class GameParams:
    """Everything about a game of Spaceship that can be tuned.

    :param lives: lives at the start of an episode.
    :param bomb_chance: chance per frame that a game with a free bomb slot drops a bomb.
    :param aimed_chance: share of bombs dropped from the living column nearest the ship;
        the rest come from a living column drawn uniformly.
    :param march_period: frames between the formation's one-pixel marches while the
        wave is whole; it falls linearly to 1 as the aliens die (the speed-up).
    :param repeat_action_probability: chance per frame that the previous frame's action
        is taken instead of the one given (ALE's sticky actions; ALE v5 evaluates at 0.25).
        The first frame of an episode always takes its action.
    :param frameskip: frames per step, all with the step's action; the step's reward is
        the frames' sum, and a game that ends on a frame stays as it ended.
    """

    lives: int = 3
    bomb_chance: float = 0.15
    aimed_chance: float = 0.7
    march_period: int = 4
    repeat_action_probability: float = 0.0
    frameskip: int = 1

    def __post_init__(self) -> None:
        check_int("lives", self.lives, 1, MAX_LIVES)
        check_probability("bomb_chance", self.bomb_chance)
        check_probability("aimed_chance", self.aimed_chance)
        check_int("march_period", self.march_period, 1, 1000)
        check_probability("repeat_action_probability", self.repeat_action_probability)
        check_int("frameskip", self.frameskip, 1, 1000)


#: Difficulty d is ``DIFFICULTIES[d]``: more bombs, more of them aimed, a faster march.
#: 0 is the lecture's game. The march stops at a period of 3: a faster march carries a
#: ship that follows its column out from under the bombs, and makes the game easier.
DIFFICULTIES: tuple[GameParams, ...] = (
    GameParams(),
    GameParams(bomb_chance=0.22, aimed_chance=0.85, march_period=3),
    GameParams(bomb_chance=0.26, aimed_chance=0.9, march_period=3),
    GameParams(bomb_chance=0.3, aimed_chance=1.0, march_period=3),
)


def make_params(difficulty: int = 0, **overrides: Any) -> GameParams:
    """The parameters of ``difficulty`` (0-3), with ``overrides`` (``None`` values ignored)."""
    check_int("difficulty", difficulty, 0, len(DIFFICULTIES) - 1)
    unknown = set(overrides) - {f.name for f in dataclasses.fields(GameParams)}
    if unknown:
        raise TypeError(f"unknown game parameter(s): {', '.join(sorted(unknown))}")
    return dataclasses.replace(DIFFICULTIES[difficulty], **{k: v for k, v in overrides.items() if v is not None})
