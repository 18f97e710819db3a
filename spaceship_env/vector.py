"""Batched fronts on the one core: an SB3 ``VecEnv`` and a Gymnasium ``VectorEnv``.

Both step all N games in one numpy call. They differ only in auto-reset conventions:
SB3 resets a finished game in the same step and hands back ``terminal_observation``;
Gymnasium 1.x (``AutoresetMode.NEXT_STEP``, the default here) returns the final
observation and resets the game on the next call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnv as SB3VecEnv

from spaceship_env import core as C
from spaceship_env.env import (
    RENDER_FPS,
    SpaceshipEnv,
    check_actions,
    check_options,
    features_space,
    game_infos,
    pixels_space,
)
from spaceship_env.render import Window, draw_frame

#: Truncation for every front: ``register(max_episode_steps=...)`` and the batched envs.
MAX_EPISODE_STEPS = 1000
_END_REASONS = np.array(C.END_REASONS, object)


class _Batch:
    """What both batched fronts share: the core, its observations and its time limit."""

    def __init__(self, n: int, obs_type: str, lives: int, render_mode: str | None, max_episode_steps: int) -> None:
        check_options(obs_type, render_mode, lives)
        if not isinstance(max_episode_steps, (int, np.integer)) or max_episode_steps < 1:
            raise ValueError(f"max_episode_steps must be a positive int, got {max_episode_steps!r}")
        self.game = C.SpaceshipCore(n, lives=lives)
        self.obs_type = obs_type
        self.max_episode_steps = int(max_episode_steps)
        self.window: Window | None = None

    def observe(self) -> np.ndarray:
        """A new array of every game's observation."""
        if self.obs_type == "features":
            return self.game.features()
        frames = np.empty((self.game.n, C.HEIGHT, C.WIDTH, 3), np.uint8)
        for i in range(self.game.n):
            draw_frame(self.game, i, frames[i])
        return frames

    def observe_restarted(self, games: np.ndarray, obs: np.ndarray) -> None:
        """Write into ``obs`` the observations of ``games``, which were just reset."""
        if self.obs_type == "features":
            obs[games] = self.game.start_features(games)
        else:
            for i in games:
                draw_frame(self.game, i, obs[i])

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rewards (float32), terminated, and which games are out of time, from validated actions.

        A game that is out of time is truncated unless it also terminated this step.
        """
        rewards, terminated = self.game.step(check_actions(actions, self.game.n))
        return rewards, terminated, self.game.t >= self.max_episode_steps

    def frames(self) -> list[np.ndarray]:
        return [draw_frame(self.game, i) for i in range(self.game.n)]

    def show(self, frame: np.ndarray, fps: int) -> None:
        if self.window is None:
            self.window = Window("Spaceship-v0", fps)
        self.window.show(frame, f"{self.game.n} games")

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
            self.window = None


class SpaceshipVecEnv(SB3VecEnv):
    """``n_envs`` games of ``Spaceship-v0`` as an SB3 ``VecEnv``, stepped in one numpy call.

    Finished games reset in the same step: their last observation is in
    ``infos[i]["terminal_observation"]``, and ``infos[i]["TimeLimit.truncated"]`` marks a
    time limit. ``seed(s)`` seeds game ``i`` with ``s + i`` at the next ``reset()``.

    :param n_envs: number of games.
    :param obs_type: ``"features"`` or ``"pixels"``, as in :class:`SpaceshipEnv`.
    :param lives: lives per game.
    :param render_mode: ``None``, ``"rgb_array"`` or ``"human"``.
    :param max_episode_steps: steps after which an episode is truncated.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": RENDER_FPS}

    def __init__(
        self,
        n_envs: int = 1,
        obs_type: str = "features",
        lives: int = 3,
        render_mode: str | None = None,
        max_episode_steps: int = MAX_EPISODE_STEPS,
    ) -> None:
        self.batch = _Batch(n_envs, obs_type, lives, render_mode, max_episode_steps)
        space = features_space() if obs_type == "features" else pixels_space()
        self.render_mode = render_mode
        super().__init__(n_envs, space, gym.spaces.Discrete(3))
        self._actions: np.ndarray | None = None
        self._started = False

    def reset(self) -> np.ndarray:
        game = self.batch.game
        for i, seed in enumerate(self._seeds):
            if seed is not None:
                game.rngs[i] = np.random.default_rng(seed)
        game.reset()
        self._reset_seeds()
        self._reset_options()
        self._started = True
        return self.batch.observe()

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
                info = infos[i]
                info.setdefault("end_reason", "time_limit")
                info["terminal_observation"] = obs[i].copy()  # obs[i] is overwritten below
                info["TimeLimit.truncated"] = not terminated[i]
            game.reset(finished)
            self.batch.observe_restarted(finished, obs)
        return obs, rewards, dones, infos

    def close(self) -> None:
        self.batch.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        return self.batch.frames()

    def render(self, mode: str | None = None) -> np.ndarray | None:
        from stable_baselines3.common.vec_env.base_vec_env import tile_images

        mode = mode or self.render_mode
        image = tile_images(self.get_images())
        if mode == "human":
            self.batch.show(image, RENDER_FPS)
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


class SpaceshipVectorEnv(VectorEnv):
    """``num_envs`` games as a Gymnasium ``VectorEnv``; ``gym.make_vec`` builds it.

    ``reset(seed=s)`` seeds game ``i`` with ``s + i``. ``autoreset_mode`` is
    ``NEXT_STEP`` (Gymnasium's default), ``SAME_STEP`` (final observations in
    ``info["final_obs"]``) or ``DISABLED`` (reset with ``options={"reset_mask": mask}``).
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": RENDER_FPS, "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        obs_type: str = "features",
        lives: int = 3,
        render_mode: str | None = None,
        max_episode_steps: int = MAX_EPISODE_STEPS,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
    ) -> None:
        self.batch = _Batch(num_envs, obs_type, lives, render_mode, max_episode_steps)
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.autoreset_mode = AutoresetMode(autoreset_mode)
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        self.single_action_space = gym.spaces.Discrete(3)
        self.action_space = gym.spaces.MultiDiscrete(np.full(num_envs, 3))
        if obs_type == "features":
            self.single_observation_space, self.observation_space = features_space(), features_space(num_envs)
        else:
            self.single_observation_space, self.observation_space = pixels_space(), pixels_space(num_envs)
        self._needs_reset = np.zeros(num_envs, bool)
        self._started = False

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        game = self.batch.game
        mask = np.ones(self.num_envs, bool)
        if options and "reset_mask" in options:
            mask = np.asarray(options["reset_mask"], bool)
        if not isinstance(seed, Sequence):
            seeds = [None if seed is None else seed + i for i in range(self.num_envs)]
        else:
            seeds = seed
        for i, s in enumerate(seeds):
            if s is not None or not self._started:
                game.rngs[i] = np.random.default_rng(s)
        game.reset(mask)
        self._needs_reset[mask] = False
        self._started = True
        return self.batch.observe(), self._infos()

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._started:
            raise gym.error.ResetNeeded("call reset() before step()")
        game = self.batch.game
        restart = self._needs_reset.copy()
        rewards, terminated, out_of_time = self.batch.step(actions)
        truncated = out_of_time & ~terminated
        if self.autoreset_mode == AutoresetMode.NEXT_STEP and restart.any():
            game.reset(restart)
            rewards[restart] = 0.0
            terminated[restart] = truncated[restart] = False
        obs = self.batch.observe()
        infos = self._infos()
        dones = terminated | truncated
        if self.autoreset_mode == AutoresetMode.SAME_STEP and dones.any():
            finished = np.flatnonzero(dones)
            final_obs = np.full(self.num_envs, None, object)  # filled one by one: never a 2-D array
            for i in finished:
                final_obs[i] = obs[i].copy()
            final = {"final_obs": final_obs, "_final_obs": dones, "final_info": infos, "_final_info": dones}
            game.reset(finished)
            self.batch.observe_restarted(finished, obs)
            infos = {**self._infos(), **final}  # the restarted games' entries are their reset infos
        else:
            self._needs_reset = dones
        return obs, rewards, terminated, truncated, infos

    def render(self) -> tuple[np.ndarray, ...] | None:
        if self.render_mode is None:
            gym.logger.warn('render() needs a render_mode, e.g. gym.make_vec(..., render_mode="rgb_array")')
            return None
        return tuple(self.batch.frames())

    def close_extras(self, **kwargs: Any) -> None:
        self.batch.close()

    def _infos(self) -> dict[str, Any]:
        """Every game's info as Gymnasium batches it: an array per key, and a mask of who has it."""
        game, ones = self.batch.game, np.ones(self.num_envs, bool)
        infos = {
            "score": game.score.copy(),
            "_score": ones,
            "lives": game.lives.copy(),
            "_lives": ones,
            "aliens_left": game.n_alive.copy(),
            "_aliens_left": ones,
        }
        ended = game.end_reason != C.RUNNING
        if ended.any():
            infos["end_reason"] = np.where(ended, _END_REASONS.take(game.end_reason), None)
            infos["_end_reason"] = ended
        return infos


__all__ = ["MAX_EPISODE_STEPS", "SpaceshipEnv", "SpaceshipVecEnv", "SpaceshipVectorEnv"]
