"""Batched games as a Stable-Baselines3 ``VecEnv``; importing this module imports SB3."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, tile_images

from spaceship_env import core as C
from spaceship_env.env import RENDER_FPS, game_infos, observation_space
from spaceship_env.validation import RENDER_MODES, check_choice, check_seed
from spaceship_env.vector import Batch


class SpaceshipVecEnv(VecEnv):
    """``n_envs`` games of ``Spaceship-v0`` as an SB3 ``VecEnv``, stepped in one numpy call.

    Finished games reset in the same step: their last observation is in
    ``infos[i]["terminal_observation"]``, and ``infos[i]["TimeLimit.truncated"]`` marks a
    time limit. ``seed(s)`` seeds game ``i`` with ``s + i`` at the next ``reset()``.

    :param n_envs: number of games.
    :param obs_type: ``"features"``, ``"grid"``, ``"small_screen"`` or ``"pixels"``, as in
        :class:`~spaceship_env.SpaceshipEnv`.
    :param difficulty: 0 (the lecture's game) to 3.
    :param lives: lives per game.
    :param repeat_action_probability: chance per frame that the previous action repeats.
    :param frameskip: frames per step, rewards summed.
    :param render_mode: ``None``, ``"rgb_array"`` or ``"human"``.
    :param max_episode_steps: steps after which an episode is truncated.
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": RENDER_FPS}

    def __init__(
        self,
        n_envs: int = 1,
        obs_type: str = "features",
        difficulty: int = 0,
        lives: int = 3,
        repeat_action_probability: float = 0.0,
        frameskip: int = 1,
        render_mode: str | None = None,
        max_episode_steps: int = C.MAX_EPISODE_STEPS,
    ) -> None:
        self.render_mode = check_choice("render_mode", render_mode, RENDER_MODES, optional=True)
        self.batch = Batch(
            n_envs, obs_type, difficulty, lives, repeat_action_probability, frameskip, max_episode_steps,
            "n_envs (the number of games)",
        )  # fmt: skip
        super().__init__(self.batch.game.n, observation_space(obs_type), gym.spaces.Discrete(3))
        self._actions: np.ndarray | None = None
        self._started = False

    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        check_seed(seed)
        return super().seed(seed)

    def reset(self) -> np.ndarray:
        game = self.batch.game
        for i, seed in enumerate(self._seeds):
            if seed is not None:
                game.rngs[i] = np.random.default_rng(seed)
        game.reset()
        self._reset_seeds()
        self._reset_options()
        self._started = True
        return self.batch.observe_reset(np.ones(self.num_envs, bool))

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = actions

    def step_wait(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[dict[str, Any]]]:
        if not self._started:
            raise gym.error.ResetNeeded("call reset() before step()")
        game = self.batch.game
        rewards, terminated, out_of_time = self.batch.step(self._actions)
        obs = self.batch.observe()
        dones = terminated | out_of_time
        infos = game_infos(game)
        finished = dones.nonzero()[0]
        if len(finished):
            for i in finished.tolist():
                infos[i]["terminal_observation"] = obs[i].copy()  # obs[i] is overwritten below
                infos[i]["TimeLimit.truncated"] = not terminated[i]
            game.reset(finished)
            self.batch.observe_restarted(finished, obs)
        return obs, rewards, dones, infos

    def close(self) -> None:
        self.batch.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        return self.batch.frames()

    def render(self, mode: str | None = None) -> np.ndarray | None:
        mode = check_choice("mode", mode or self.render_mode, RENDER_MODES)
        image = tile_images(self.get_images())
        if mode == "human":
            self.batch.show(image)
            return None
        return image

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        return [getattr(self, attr_name)] * len(self._get_indices(indices))

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs) -> list[Any]:
        if method_name == "get_action_meanings":
            return [list(C.ACTION_MEANINGS)] * len(self._get_indices(indices))
        raise AttributeError(f"SpaceshipVecEnv has no per-game method {method_name!r}")

    def env_is_wrapped(self, wrapper_class: type[gym.Wrapper], indices=None) -> list[bool]:
        return [False] * len(self._get_indices(indices))
