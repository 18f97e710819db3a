"""Stable-Baselines3's own PPO, for comparison, saved and loaded as the project's learners are."""

from stable_baselines3 import PPO

from agent.serialization import PickleFreeFiles


class SB3PPO(PickleFreeFiles, PPO):
    """``stable_baselines3.PPO``, unchanged but for ``save`` and ``load``, which need no pickle.

    Its files (and checkpoints, which callbacks write with ``save``) load with
    :func:`agent.load_model` and ``PPO2.load`` alike.
    """
