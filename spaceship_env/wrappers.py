"""SB3 ``VecEnv`` wrappers for learners on screens: grey frames area-averaged to a square, scaled rewards."""

from __future__ import annotations

import functools

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from stable_baselines3.common.vec_env.base_vec_env import VecEnvStepReturn

#: ITU-R BT.601 luma, as OpenCV's and Pillow's grey conversions use.
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


@functools.cache
def area_taps(source: int, target: int) -> tuple[np.ndarray, np.ndarray]:
    """Area averaging from ``source`` pixels to ``target`` as a few weighted taps.

    Target pixel i covers source [i·s, (i+1)·s), s = source / target; tap k is the source
    index ``index[k, i]`` with weight ``weight[k, i]``, its overlap over s (0 for padding).
    """
    scale = source / target
    n_taps = int(np.ceil(scale)) + 1
    start = np.floor(np.arange(target) * scale).astype(int)
    index = np.minimum(start + np.arange(n_taps)[:, None], source - 1)
    low, high = np.arange(target) * scale, (np.arange(target) + 1) * scale
    pixel = start + np.arange(n_taps)[:, None]
    overlap = np.clip(np.minimum(pixel + 1, high) - np.maximum(pixel, low), 0, None)
    return index, (overlap / scale).astype(np.float32)


def area_resize(images: np.ndarray, size: int) -> np.ndarray:
    """A batch of (H, W) images, area-averaged to (size, size)."""
    rows, row_weights = area_taps(images.shape[1], size)
    cols, col_weights = area_taps(images.shape[2], size)
    tall = sum(w[:, None] * images[:, r, :] for r, w in zip(rows, row_weights, strict=True))
    return sum(w * tall[:, :, c] for c, w in zip(cols, col_weights, strict=True))


class GreyResize(VecEnvWrapper):
    """Grey ``size`` x ``size`` frames from RGB ones, by area averaging.

    Averaging, not sampling: a one-pixel bomb or laser stays visible, dimmed, after the
    2.5 x 1.9 reduction (OpenCV's INTER_AREA, which SB3's Atari wrapper uses, does the same).
    """

    def __init__(self, venv: VecEnv, size: int = 84) -> None:
        self.size = size
        super().__init__(venv, observation_space=spaces.Box(0, 255, (size, size, 1), np.uint8))

    def process(self, obs: np.ndarray) -> np.ndarray:
        return np.rint(area_resize(obs @ LUMA, self.size)).astype(np.uint8)[..., None]

    def reset(self) -> np.ndarray:
        return self.process(self.venv.reset())

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, dones, infos = self.venv.step_wait()
        for info in infos:
            if "terminal_observation" in info:
                info["terminal_observation"] = self.process(info["terminal_observation"][None])[0]
        return self.process(obs), rewards, dones, infos


class ScaleReward(VecEnvWrapper):
    """Rewards times ``scale``, for learning only; a ``VecMonitor`` inside still logs the game's returns.

    PPO's loss adds the value's squared error to the policy's, and grad-norm clipping bounds
    their gradient together (through shared convolutions, or just through the norm): with
    returns in the hundreds the value's part fills the bound, and the policy hardly moves.
    Atari learners clip rewards to ±1 for this; a constant scale keeps the game's ranking of
    aliens. rl-zoo applies it from a hyperparameter file's ``vec_env_wrapper``.
    """

    def __init__(self, venv: VecEnv, scale: float) -> None:
        super().__init__(venv)
        self.scale = scale

    def reset(self) -> np.ndarray:
        return self.venv.reset()

    def step_wait(self) -> VecEnvStepReturn:
        obs, rewards, dones, infos = self.venv.step_wait()
        return obs, rewards * np.float32(self.scale), dones, infos
