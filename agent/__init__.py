"""The lecture's learners on Stable-Baselines3's base classes.

- :class:`PPO2`: the clipped surrogate objective J_PPO2, a drop-in for SB3's ``PPO``.
- :class:`PolicyGradient`: REINFORCE with the mean-return baseline, the lecture's start.
- :class:`SB3PPO`: SB3's own PPO, for comparison, with the same model files.
- :func:`save_model`, :func:`load_model`: their model files, and those of any SB3
  on-policy algorithm, in plain JSON and weights-only tensors: loading runs no code.
"""

from agent.pg import PolicyGradient
from agent.ppo2 import PPO2
from agent.sb3_ppo import SB3PPO
from agent.serialization import ModelLoadError, load_model, save_model

__all__ = ["PPO2", "SB3PPO", "ModelLoadError", "PolicyGradient", "load_model", "save_model"]
