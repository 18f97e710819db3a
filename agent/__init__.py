"""The lecture's learners on Stable-Baselines3's base classes.

- :class:`PPO2`: the clipped surrogate objective J_PPO2, a drop-in for SB3's ``PPO``.
- :class:`PolicyGradient`: REINFORCE with the mean-return baseline, the lecture's start.
"""

from agent.base import ModelLoadError
from agent.pg import PolicyGradient
from agent.ppo2 import PPO2

__all__ = ["PPO2", "ModelLoadError", "PolicyGradient"]
