"""The environments of an experiment: the batched training env, and what a policy sees.

A policy sees what ``gym.make("Spaceship-v0", obs_type=obs)`` gives, but for ``--obs
pixels``: grey 84 x 84 frames, stacked 4, channel first (SB3's ``VecFrameStack`` then
``VecTransposeImage``). :func:`observer` builds each observation straight from a core,
so that evaluation and watching play on the one evaluator,
:func:`spaceship_env.evaluation.play_episodes`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from spaceship_env import core as C
from spaceship_env.env import observation_space
from spaceship_env.features import features
from spaceship_env.grid import grid
from spaceship_env.render import draw_frame
from spaceship_env.screens import ScreenStack

#: Pixel observations: grey frames of this size, the last this many stacked.
SCREEN_SIZE, N_STACK = 84, 4
#: What ``VecMonitor`` writes beside each episode's return and length.
MONITOR_KEYS = ("end_reason",)


def make_train_env(
    obs: str,
    n_envs: int,
    seed: int,
    game: dict[str, Any] | None = None,
    monitor_file: str | None = None,
    append: bool = False,
    reward_scale: float = 1.0,
):
    """The batched game with episode stats; pixels get the usual Atari pre-processing.

    ``append`` continues an existing ``monitor_file`` (a resumed run) instead of starting it
    afresh. The learner sees rewards times ``reward_scale``; the monitor, inside, logs the game's.
    """
    from stable_baselines3.common.monitor import ResultsWriter
    from stable_baselines3.common.vec_env import VecFrameStack, VecMonitor

    from spaceship_env.sb3 import SpaceshipVecEnv
    from spaceship_env.wrappers import GreyResize, ScaleReward

    games = SpaceshipVecEnv(n_envs, obs_type=obs, **(game or {}))
    venv = VecMonitor(games, None if append else monitor_file, MONITOR_KEYS)
    if monitor_file and append:
        venv.results_writer = ResultsWriter(monitor_file, extra_keys=MONITOR_KEYS, override_existing=False)
    venv.seed(seed)
    if obs == "pixels":
        venv = VecFrameStack(GreyResize(venv, SCREEN_SIZE), n_stack=N_STACK)
    if reward_scale != 1.0:
        venv = ScaleReward(venv, reward_scale)
    return venv


def policy_space(obs: str) -> spaces.Box:
    """The observation space a policy trained with ``--obs obs`` sees."""
    if obs != "pixels":
        return observation_space(obs)
    return spaces.Box(0, 255, (N_STACK, SCREEN_SIZE, SCREEN_SIZE), np.uint8)


class StackedScreens:
    """Pixel observations of a core's games as the training wrappers make them.

    Called once per step, as ``VecFrameStack`` is: the stack starts as zeros, and each
    call shifts it and appends the newest grey frame.
    """

    def __init__(self) -> None:
        self.stack: np.ndarray | None = None

    def __call__(self, game: C.SpaceshipCore) -> np.ndarray:
        from spaceship_env.wrappers import LUMA, area_resize

        frames = np.stack([draw_frame(game, i) for i in range(game.n)])
        grey = np.rint(area_resize(frames @ LUMA, SCREEN_SIZE)).astype(np.uint8)
        if self.stack is None:
            self.stack = np.zeros((game.n, N_STACK, SCREEN_SIZE, SCREEN_SIZE), np.uint8)
        self.stack = np.roll(self.stack, -1, axis=1)
        self.stack[:, -1] = grey
        return self.stack


def observer(obs: str):
    """What :func:`~spaceship_env.evaluation.play_episodes` calls for observations of kind ``obs``.

    A new one for each batch of episodes: those of the screens keep the last frames.
    """
    return {"features": features, "grid": grid, "small_screen": ScreenStack(), "pixels": StackedScreens()}[obs]
