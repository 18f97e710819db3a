"""``Spaceship-v0``: the lecture's game as a Gymnasium environment (a batch of one game)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from spaceship_env import core as C
from spaceship_env.render import Window, draw_frame

OBS_TYPES = ("features", "pixels")
RENDER_MODES = ("human", "rgb_array")
RENDER_FPS = 30


def check_options(obs_type: str, render_mode: str | None, lives: int) -> None:
    """Raise a ``ValueError`` that names a bad constructor argument."""
    if obs_type not in OBS_TYPES:
        raise ValueError(f"obs_type must be one of {OBS_TYPES}, got {obs_type!r}")
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode must be None or one of {RENDER_MODES}, got {render_mode!r}")
    if not isinstance(lives, (int, np.integer)) or isinstance(lives, bool) or lives < 1:
        raise ValueError(f"lives must be a positive int, got {lives!r}")


def check_actions(actions: Any, n: int) -> np.ndarray:
    """Return ``actions`` as an int array of shape ``(n,)``, or raise naming what is wrong."""
    if isinstance(actions, (bool, np.bool_, str, bytes)) or actions is None:
        raise ValueError(f"invalid action {actions!r}: actions are 0 (LEFT), 1 (RIGHT) or 2 (FIRE)")
    arr = np.asarray(actions)
    if arr.dtype.kind not in "iu":
        raise ValueError(
            f"invalid action {actions!r} of dtype {arr.dtype}: actions are the ints 0 (LEFT), 1 (RIGHT), 2 (FIRE)"
        )
    if arr.size != n or arr.ndim > 1:
        raise ValueError(f"expected {n} action(s), one per game, got shape {arr.shape}")
    arr = arr.reshape(n)
    if arr.view(arr.dtype.str.replace("i", "u")).max() > 2:  # as unsigned, a negative action is huge
        raise ValueError(f"invalid action {actions!r}: actions are 0 (LEFT), 1 (RIGHT) or 2 (FIRE)")
    return arr


def features_space(n: int | None = None) -> spaces.Box:
    low, high = (
        (C.FEATURE_LOW, C.FEATURE_HIGH)
        if n is None
        else (
            np.tile(C.FEATURE_LOW, (n, 1)),
            np.tile(C.FEATURE_HIGH, (n, 1)),
        )
    )
    return spaces.Box(low, high, dtype=np.float32)


def pixels_space(n: int | None = None) -> spaces.Box:
    shape = (C.HEIGHT, C.WIDTH, 3) if n is None else (n, C.HEIGHT, C.WIDTH, 3)
    return spaces.Box(0, 255, shape, dtype=np.uint8)


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
    it kills the lowest living alien in the column above the ship. A cooldown of 4 steps
    follows; FIRE during it does nothing.

    ## Observation Space
    With `obs_type="features"` (default), a `Box` of 59 float32 values:

    | Index | Name | Meaning | Min | Max |
    |-------|------|---------|-----|-----|
    | 0 | `ship_x` | ship position, left to right | 0 | 1 |
    | 1 | `cooldown` | steps until FIRE works again / 4 | 0 | 1 |
    | 2 | `lives` | lives left / `lives` | 0 | 1 |
    | 3 | `formation_x` | formation's horizontal offset | 0 | 1 |
    | 4 | `formation_y` | how far the formation has come down | 0 | 1 |
    | 5 | `direction` | march direction, -1 left, +1 right | -1 | 1 |
    | 6 | `speed` | march speed, pixels per step | 0 | 1 |
    | 7 | `in_sight` | 1 if FIRE would kill an alien now | 0 | 1 |
    | 8-13 | `column_dx_j` | (centre of column j - ship x) / 160 | -1 | 1 |
    | 14-49 | `alive_r_c` | alive mask, row 0 (top, 30 points) first | 0 | 1 |
    | 50, 53, 56 | `bomb_k_dx` | bomb k's (x - ship x) / 160; bombs nearest first | -1 | 1 |
    | 51, 54, 57 | `bomb_k_dy` | bomb k's height above the ship / 184 (1 if empty) | -0.1 | 1 |
    | 52, 55, 58 | `bomb_k_on` | 1 if slot k holds a bomb | 0 | 1 |

    With `obs_type="pixels"`, the screen as a `(210, 160, 3)` uint8 array, the same frame
    that `render()` returns.

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

    `info` carries `score`, `lives` and `aliens_left`; the last step of a terminated
    episode adds `end_reason`: `"destroyed"`, `"invaded"` or `"cleared"`.

    ## Arguments
    - `obs_type`: `"features"` (default) or `"pixels"`.
    - `lives`: lives at the start, a positive int (default 3).
    - `render_mode`: `None`, `"rgb_array"` or `"human"` (a pygame window).

    ```python
    >>> import gymnasium as gym, spaceship_env
    >>> env = gym.make("Spaceship-v0")
    ```

    ## Version History
    - v0: initial version.
    """

    metadata = {"render_modes": list(RENDER_MODES), "render_fps": RENDER_FPS}

    def __init__(self, obs_type: str = "features", lives: int = 3, render_mode: str | None = None) -> None:
        check_options(obs_type, render_mode, lives)
        self.obs_type = obs_type
        self.render_mode = render_mode
        self.game = C.SpaceshipCore(1, lives=lives)
        self.action_space = spaces.Discrete(3)
        self.observation_space = features_space() if obs_type == "features" else pixels_space()
        self._frame = np.zeros((C.HEIGHT, C.WIDTH, 3), np.uint8)
        self._started = False
        self.window: Window | None = None

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if not self._started:
            raise gym.error.ResetNeeded("call reset() before step()")
        rewards, terminated = self.game.step(check_actions(action, 1))
        if terminated[0]:
            self._started = False
        obs = self._observe()
        if self.render_mode == "human":
            self.render()
        return obs, float(rewards[0]), bool(terminated[0]), False, game_infos(self.game)[0]

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
        if self.obs_type == "features":
            return self.game.features()[0]
        return draw_frame(self.game, 0, self._frame).copy()
