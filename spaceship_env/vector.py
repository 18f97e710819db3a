"""Batched games as a Gymnasium ``VectorEnv``, and what it shares with the SB3 front.

Both batched fronts step all N games in one numpy call. They differ only in auto-reset
conventions: SB3 resets a finished game in the same step and hands back
``terminal_observation`` (:mod:`spaceship_env.sb3`); Gymnasium 1.x
(``AutoresetMode.NEXT_STEP``, the default here) returns the final observation and
resets the game on the next call.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from spaceship_env import core as C
from spaceship_env.env import RENDER_FPS, game_params, observation_space
from spaceship_env.features import features, start_features
from spaceship_env.grid import grid
from spaceship_env.render import Window, draw_frame
from spaceship_env.screens import ScreenStack
from spaceship_env.validation import OBS_TYPES, check_actions, check_choice, check_int, check_seed, describe

_END_REASONS = np.array(C.END_REASONS, object)


class Batch:
    """What both batched fronts share: the core, its observations and its time limit."""

    def __init__(
        self,
        n: int,
        obs_type: str,
        difficulty: int,
        lives: int,
        repeat_action_probability: float,
        frameskip: int,
        max_episode_steps: int,
        n_name: str = "the number of games",
    ) -> None:
        n = C.check_batch_size(n, n_name)
        self.obs_type = check_choice("obs_type", obs_type, OBS_TYPES)
        self.max_episode_steps = check_int("max_episode_steps", max_episode_steps, 1)
        self.game = C.SpaceshipCore(n, game_params(difficulty, lives, repeat_action_probability, frameskip))
        self.screens = ScreenStack(self.game.n)
        self.window: Window | None = None

    def observe(self) -> np.ndarray:
        """A new array of every game's observation; once per step (the small screen's stack moves on)."""
        if self.obs_type == "features":
            return features(self.game)
        if self.obs_type == "small_screen":
            return self.screens(self.game).copy()
        if self.obs_type == "grid":
            return grid(self.game)
        frames = np.empty((self.game.n, C.HEIGHT, C.WIDTH, 3), np.uint8)
        for i in range(self.game.n):
            draw_frame(self.game, i, frames[i])
        return frames

    def observe_restarted(self, games: np.ndarray, obs: np.ndarray) -> None:
        """Write into ``obs`` the observations of ``games``, which were just reset."""
        if self.obs_type == "features":
            obs[games] = start_features(self.game, games)
        elif self.obs_type == "small_screen":
            self.screens.restart(self.game, games)
            obs[games] = self.screens.frames[games]
        elif self.obs_type == "grid":
            obs[games] = grid(self.game)[games]
        else:
            for i in games:
                draw_frame(self.game, i, obs[i])

    def observe_reset(self, games: np.ndarray) -> np.ndarray:
        """Every game's observation after a reset of ``games`` (a mask): the others' stay as they were."""
        if self.obs_type != "small_screen":
            return self.observe()
        self.screens.restart(self.game, np.flatnonzero(games))
        return self.screens.frames.copy()

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rewards (float32), terminated, and which games are out of time, from unchecked actions.

        A game out of time that did not terminate gets ``end_reason`` ``TIME_LIMIT``.
        """
        rewards, terminated = self.game.step(check_actions(actions, self.game.n))
        out_of_time = self.game.t >= self.max_episode_steps
        if out_of_time.any():
            self.game.end_reason[out_of_time & ~terminated] = C.TIME_LIMIT
        return rewards, terminated, out_of_time

    def frames(self) -> list[np.ndarray]:
        return [draw_frame(self.game, i) for i in range(self.game.n)]

    def show(self, frame: np.ndarray) -> None:
        if self.window is None:
            self.window = Window("Spaceship-v0", RENDER_FPS)
        self.window.show(frame, f"{self.game.n} games")

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
            self.window = None


class SpaceshipVectorEnv(VectorEnv):
    """``num_envs`` games as a Gymnasium ``VectorEnv``; ``gym.make_vec`` builds it.

    ``reset(seed=s)`` seeds game ``i`` with ``s + i``. ``autoreset_mode`` is
    ``NEXT_STEP`` (Gymnasium's default), ``SAME_STEP`` (final observations in
    ``info["final_obs"]``) or ``DISABLED`` (reset with ``options={"reset_mask": mask}``).
    The game arguments are :class:`~spaceship_env.SpaceshipEnv`'s.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": RENDER_FPS, "autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        obs_type: str = "features",
        difficulty: int = 0,
        lives: int = 3,
        repeat_action_probability: float = 0.0,
        frameskip: int = 1,
        render_mode: str | None = None,
        max_episode_steps: int = C.MAX_EPISODE_STEPS,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
    ) -> None:
        self.render_mode = check_choice("render_mode", render_mode, tuple(self.metadata["render_modes"]), True)
        self.batch = Batch(
            num_envs, obs_type, difficulty, lives, repeat_action_probability, frameskip, max_episode_steps,
            "num_envs (the number of games)",
        )  # fmt: skip
        self.num_envs = self.batch.game.n
        try:
            self.autoreset_mode = AutoresetMode(autoreset_mode)
        except ValueError:
            modes = ", ".join(repr(m.value) for m in AutoresetMode)
            raise ValueError(f"autoreset_mode must be one of {modes}, got {autoreset_mode!r}") from None
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        self.single_action_space = gym.spaces.Discrete(3)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.single_observation_space = observation_space(obs_type)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._needs_reset = np.zeros(self.num_envs, bool)
        self._started = False

    def reset(
        self, *, seed: int | Sequence[int | None] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Reset every game, or those of ``options["reset_mask"]``; game ``i`` takes seed ``i`` of ``seed``."""
        mask = self._reset_mask(options)
        seeds = self._seeds(seed)
        game = self.batch.game
        for i in np.flatnonzero(mask).tolist():
            if seeds[i] is not None:
                game.rngs[i] = np.random.default_rng(seeds[i])
        game.reset(mask)
        self._needs_reset[mask] = False
        self._started = True
        return self.batch.observe_reset(mask), self._infos()

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

    def _reset_mask(self, options: dict[str, Any] | None) -> np.ndarray:
        if not options or "reset_mask" not in options:
            return np.ones(self.num_envs, bool)
        mask = options["reset_mask"]
        if not (isinstance(mask, np.ndarray) and mask.dtype == np.bool_ and mask.shape == (self.num_envs,)):
            raise ValueError(
                f"options['reset_mask'] must be a bool numpy array of shape ({self.num_envs},), got {describe(mask)}"
            )
        return mask

    def _seeds(self, seed: int | Sequence[int | None] | None) -> list[int | None]:
        """Seed ``s`` as ``s + i`` for game ``i``, or a list of one seed (or None) per game."""
        if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
            start = check_seed(seed)
            return [None if start is None else start + i for i in range(self.num_envs)]
        if not isinstance(seed, Sequence) or isinstance(seed, str) or len(seed) != self.num_envs:
            raise ValueError(f"seed must be an int, None, or a list of {self.num_envs} seeds, got {seed!r}")
        return [check_seed(s) for s in seed]

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
