"""``Spaceship-v0``: the lecture's game as a Gymnasium environment (a batch of one game)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from spaceship_env import core as C
from spaceship_env.features import FEATURE_HIGH, FEATURE_LOW, N_FEATURES, feature_table, features
from spaceship_env.grid import GRID_SHAPE, grid, grid_table
from spaceship_env.params import GameParams, make_params
from spaceship_env.render import Window, draw_frame
from spaceship_env.screens import N_STACK, SCREEN_H, SCREEN_W, ScreenStack
from spaceship_env.validation import OBS_TYPES, RENDER_MODES, check_action, check_choice

RENDER_FPS = 30


def observation_space(obs_type: str) -> spaces.Box:
    """The observation space of one game for ``obs_type``."""
    if obs_type == "features":
        return spaces.Box(FEATURE_LOW, FEATURE_HIGH, dtype=np.float32)
    if obs_type == "small_screen":
        return spaces.Box(0, 255, (N_STACK, SCREEN_H, SCREEN_W), dtype=np.uint8)
    if obs_type == "grid":
        return spaces.Box(0, 1, GRID_SHAPE, dtype=np.bool_)
    return spaces.Box(0, 255, (C.HEIGHT, C.WIDTH, 3), dtype=np.uint8)


def game_params(difficulty: int, lives: int, repeat_action_probability: float, frameskip: int) -> GameParams:
    """The fronts' game arguments as :class:`GameParams`, each checked by name."""
    return make_params(
        difficulty, lives=lives, repeat_action_probability=repeat_action_probability, frameskip=frameskip
    )


def game_infos(game: C.SpaceshipCore) -> list[dict[str, Any]]:
    """Each game's ``info``: score, lives and aliens left, and ``end_reason`` on its last step."""
    infos = [
        {"score": s, "lives": lv, "aliens_left": a}
        for s, lv, a in zip(game.score.tolist(), game.lives.tolist(), game.n_alive.tolist(), strict=True)
    ]
    for i in game.end_reason.nonzero()[0].tolist():
        infos[i]["end_reason"] = C.END_REASONS[game.end_reason[i]]
    return infos


class SpaceshipEnv(gym.Env[np.ndarray, np.int64]):
    """
    ## Description
    A Space-Invaders game from the lecture on policy gradient and PPO. The spaceship sits
    at the bottom of a 160 x 210 screen, under 6 rows x 6 columns of aliens that march
    sideways, step down at each wall, speed up as they die, and drop bombs.

    ## Action Space
    `Discrete(3)`: 0 LEFT, 1 RIGHT (move 4 pixels), 2 FIRE. FIRE's laser hits at once:
    it kills the lowest living alien in the column above the ship. A cooldown of 4 frames
    follows; FIRE during it does nothing.

    ## Observation Space
    With `obs_type="features"` (default), a `Box` of {n_features} float32 values:

    {feature_table}

    With `obs_type="pixels"`, the screen as a `(210, 160, 3)` uint8 array, the same frame
    that `render()` returns.

    With `obs_type="small_screen"`, the screen as a network on a CPU takes it: a
    `({n_stack}, {screen_h}, {screen_w})` uint8 array, the last {n_stack} small frames, oldest first (the first
    frame of an episode fills the stack). A small frame is the full frame in grey (integer
    BT.601 luma), its bottom 2 rows (always black) cut, averaged over blocks of 4 x 4
    pixels and rounded: `spaceship_env.screens.downsample(env.render())` is the newest
    frame. One-pixel bombs and the laser stay visible, at a quarter of their grey.

    With `obs_type="grid"`, boolean channels on a grid of {grid_h} x {grid_w} cells of 14 x 8 pixels
    (the alien row pitch, half the column pitch) over the screen above the ground, as
    MinAtar's Space Invaders has them: a `({grid_h}, {grid_w}, {grid_c})` bool array, rows, columns, channels.
    A cell is on where any pixel of the thing lies in it:

    {grid_table}

    ## Rewards
    The value of the alien a FIRE kills, on that very step: 5, 10, 15, 20, 25, 30 from the
    bottom row to the top. Everything else scores 0. A whole wave is worth 630.

    ## Starting State
    The formation at the top centre, marching right. The ship in one of the five gaps
    between columns (drawn from the seed): one step RIGHT puts it under a column.

    ## Episode End
    - Termination: the spaceship is destroyed (a bomb takes the last life).
    - Termination: the aliens reach the ship's row.
    - Termination: all 36 aliens are dead.
    - Truncation: 1000 steps, from `max_episode_steps` in the registration.

    `info` carries `score`, `lives` and `aliens_left`; the last step of an episode adds
    `end_reason`: `"destroyed"`, `"invaded"`, `"cleared"` or `"time_limit"`.

    ## Arguments
    - `obs_type`: `"features"` (default), `"grid"`, `"small_screen"` or `"pixels"`.
    - `difficulty`: 0 (default, the lecture's game) to 3: more bombs, more of them aimed
      at the ship, and a faster march (`spaceship_env.DIFFICULTIES`).
    - `lives`: lives at the start, a positive int (default 3).
    - `repeat_action_probability`: sticky actions, as in ALE v5: the chance per frame that
      the previous action repeats (default 0).
    - `frameskip`: frames per step, rewards summed (default 1).
    - `render_mode`: `None`, `"rgb_array"` or `"human"` (a pygame window).

    ```python
    >>> import gymnasium as gym, spaceship_env
    >>> env = gym.make("Spaceship-v0", difficulty=1)
    ```

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": RENDER_FPS}

    def __init__(
        self,
        obs_type: str = "features",
        difficulty: int = 0,
        lives: int = 3,
        repeat_action_probability: float = 0.0,
        frameskip: int = 1,
        render_mode: str | None = None,
    ) -> None:
        self.obs_type = check_choice("obs_type", obs_type, OBS_TYPES)
        self.render_mode = check_choice("render_mode", render_mode, RENDER_MODES, optional=True)
        self.game = C.SpaceshipCore(1, game_params(difficulty, lives, repeat_action_probability, frameskip))
        self.action_space = spaces.Discrete(3)
        self.observation_space = observation_space(obs_type)
        self._frame = np.zeros((C.HEIGHT, C.WIDTH, 3), np.uint8)
        self._screens = ScreenStack(1)
        self._started = False
        self.window: Window | None = None

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if not self._started:
            raise gym.error.ResetNeeded("call reset() before step()")
        rewards, terminated = self.game.step(np.array([check_action(action)]))
        info = game_infos(self.game)[0]
        if terminated[0]:
            self._started = False
        elif self.spec is not None and self.spec.max_episode_steps == self.game.t[0]:
            info["end_reason"] = C.END_REASONS[C.TIME_LIMIT]  # the registered TimeLimit truncates now
        obs = self._observe()
        if self.render_mode == "human":
            self.render()
        return obs, float(rewards[0]), bool(terminated[0]), False, info

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.game.rngs[0] = self.np_random
        self.game.reset()
        self._started = True
        obs = self._observe()
        if self.render_mode == "human":
            self.render()
        return obs, game_infos(self.game)[0]

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn('render() needs a render_mode, e.g. gym.make("Spaceship-v0", render_mode="rgb_array")')
            return None
        frame = draw_frame(self.game, 0, self._frame)
        if self.render_mode == "rgb_array":
            return frame.copy()
        if self.window is None:
            self.window = Window("Spaceship-v0", self.metadata["render_fps"])
        self.window.show(frame, f"score {self.game.score[0]}   lives {self.game.lives[0]}")
        return None

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
            self.window = None

    def get_action_meanings(self) -> list[str]:
        return list(C.ACTION_MEANINGS)

    def get_keys_to_action(self) -> dict[tuple[int, ...], int]:
        """Arrows to move, space to fire, for ``gymnasium.utils.play``."""
        import pygame

        return {(pygame.K_LEFT,): C.LEFT, (pygame.K_RIGHT,): C.RIGHT, (pygame.K_SPACE,): C.FIRE}

    def _observe(self) -> np.ndarray:
        """Called once per step, and at reset, as the small screen's stack needs."""
        if self.obs_type == "features":
            return features(self.game)[0]
        if self.obs_type == "small_screen":
            return self._screens(self.game)[0].copy()
        if self.obs_type == "grid":
            return grid(self.game)[0]
        return draw_frame(self.game, 0, self._frame).copy()


_DOC_FIELDS = {
    "n_features": str(N_FEATURES),
    "feature_table": feature_table().replace("\n", "\n    "),
    "n_stack": str(N_STACK),
    "screen_h": str(SCREEN_H),
    "screen_w": str(SCREEN_W),
    "grid_h": str(GRID_SHAPE[0]),
    "grid_w": str(GRID_SHAPE[1]),
    "grid_c": str(GRID_SHAPE[2]),
    "grid_table": grid_table().replace("\n", "\n    "),
}
for _name, _text in _DOC_FIELDS.items():
    SpaceshipEnv.__doc__ = SpaceshipEnv.__doc__.replace("{" + _name + "}", _text)
