"""Spaceship-v0: the lecture's Space-Invaders game for Gymnasium and Stable-Baselines3.

``import spaceship_env`` registers ``Spaceship-v0`` (once), so that::

    env = gym.make("Spaceship-v0")                       # one game
    envs = gym.make_vec("Spaceship-v0", num_envs=64,
                        vectorization_mode="vector_entry_point")  # a Gymnasium VectorEnv
    venv = SpaceshipVecEnv(64)                           # an SB3 VecEnv

Importing the package needs only Gymnasium and numpy; the SB3 front
(:mod:`spaceship_env.sb3`) and the pixel wrapper import SB3 when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

from gymnasium.envs.registration import register, registry

from spaceship_env.core import ACTION_MEANINGS, END_REASONS, MAX_EPISODE_STEPS, WAVE_VALUE, SpaceshipCore
from spaceship_env.env import SpaceshipEnv
from spaceship_env.features import FEATURE_NAMES
from spaceship_env.params import DIFFICULTIES, GameParams
from spaceship_env.vector import SpaceshipVectorEnv

ENV_ID = "Spaceship-v0"
#: A mean return this high means the agent clears the wave nearly every time.
REWARD_THRESHOLD = 600.0

if ENV_ID not in registry:
    register(
        id=ENV_ID,
        entry_point="spaceship_env.env:SpaceshipEnv",
        vector_entry_point="spaceship_env.vector:SpaceshipVectorEnv",
        max_episode_steps=MAX_EPISODE_STEPS,
        reward_threshold=REWARD_THRESHOLD,
    )

#: Names served from submodules that import Stable-Baselines3, loaded on first use.
_LAZY = {"SpaceshipVecEnv": "spaceship_env.sb3", "GreyResize": "spaceship_env.wrappers"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'spaceship_env' has no attribute {name!r}")


__all__ = [
    "ACTION_MEANINGS",
    "DIFFICULTIES",
    "END_REASONS",
    "ENV_ID",
    "FEATURE_NAMES",
    "MAX_EPISODE_STEPS",
    "REWARD_THRESHOLD",
    "WAVE_VALUE",
    "GameParams",
    "GreyResize",
    "SpaceshipCore",
    "SpaceshipEnv",
    "SpaceshipVecEnv",
    "SpaceshipVectorEnv",
]
