"""Spaceship-v0: the lecture's Space-Invaders game for Gymnasium and Stable-Baselines3.

``import spaceship_env`` registers ``Spaceship-v0`` (once), so that::

    env = gym.make("Spaceship-v0")                       # one game
    envs = gym.make_vec("Spaceship-v0", num_envs=64,
                        vectorization_mode="vector_entry_point")  # a Gymnasium VectorEnv
    venv = SpaceshipVecEnv(64)                           # an SB3 VecEnv
"""

from gymnasium.envs.registration import register, registry

from spaceship_env.core import ACTION_MEANINGS, FEATURE_NAMES, WAVE_VALUE, SpaceshipCore
from spaceship_env.env import SpaceshipEnv
from spaceship_env.vector import MAX_EPISODE_STEPS, SpaceshipVecEnv, SpaceshipVectorEnv

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

__all__ = [
    "ACTION_MEANINGS",
    "ENV_ID",
    "FEATURE_NAMES",
    "MAX_EPISODE_STEPS",
    "REWARD_THRESHOLD",
    "WAVE_VALUE",
    "SpaceshipCore",
    "SpaceshipEnv",
    "SpaceshipVecEnv",
    "SpaceshipVectorEnv",
]
