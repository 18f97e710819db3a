"""Drawing: one numpy frame per game, shared by pixel observations and every render mode.

:func:`draw_frame` paints a game of a :class:`~spaceship_env.core.SpaceshipCore` into a
``(210, 160, 3)`` uint8 array. The pygame :class:`Window` only scales that frame up and
adds a text bar, so what a person sees is what the agent sees.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from spaceship_env import core as C

BACKGROUND = (0, 0, 0)
GROUND = (80, 160, 80)
SHIP = (60, 200, 255)
LASER = (255, 255, 160)
BOMB = (255, 120, 60)
HUD = (230, 230, 230)
#: The HUD's top row; it takes the rows above ``HUD_BOTTOM``.
HUD_Y, HUD_BOTTOM = 4, 16
MAX_LIVES_SHOWN = 8
#: One colour per row, top (30 points) to bottom (5 points).
ROW_COLOURS = np.array(
    [(255, 80, 80), (255, 160, 60), (240, 220, 70), (120, 220, 90), (80, 200, 220), (180, 130, 255)],
    np.uint8,
)

_ALIEN = np.array(
    [
        "..X..X..",
        "...XX...",
        "..XXXX..",
        ".XX..XX.",
        "XXXXXXXX",
        "X.XXXX.X",
        "X.X..X.X",
        "...XX...",
    ]
)
_SHIP = np.array(
    [
        "....X....",
        "...XXX...",
        "...XXX...",
        ".XXXXXXX.",
        "XXXXXXXXX",
        "XXXXXXXXX",
        "XXXXXXXXX",
        "XX.....XX",
    ]
)
_DIGITS = (
    "XXX X.X X.X X.X XXX",
    ".X. XX. .X. .X. XXX",
    "XXX ..X XXX X.. XXX",
    "XXX ..X XXX ..X XXX",
    "X.X X.X XXX ..X ..X",
    "XXX X.. XXX ..X XXX",
    "XXX X.. XXX X.X XXX",
    "XXX ..X ..X ..X ..X",
    "XXX X.X XXX X.X XXX",
    "XXX X.X XXX ..X XXX",
)


def _mask(rows: np.ndarray | list[str]) -> np.ndarray:
    return np.array([[ch == "X" for ch in row] for row in rows])


ALIEN_MASK = _mask(_ALIEN)
SHIP_MASK = _mask(_SHIP)
#: Each digit is 3 x 5, drawn twice as large.
_DIGIT_MASKS = [np.kron(_mask(d.split()), np.ones((2, 2), bool)) for d in _DIGITS]
_ALIEN_SPRITES = [np.where(ALIEN_MASK[..., None], colour, 0).astype(np.uint8) for colour in ROW_COLOURS]


def _background() -> np.ndarray:
    frame = np.zeros((C.HEIGHT, C.WIDTH, 3), np.uint8)
    frame[:] = BACKGROUND
    frame[C.GROUND_Y + 1 : C.GROUND_Y + 3] = GROUND
    return frame


_BACKGROUND = _background()


def _blit(frame: np.ndarray, mask: np.ndarray, y: int, x: int, colour) -> None:
    h, w = mask.shape
    frame[y : y + h, x : x + w][mask] = colour


def draw_frame(game: C.SpaceshipCore, i: int, out: np.ndarray | None = None) -> np.ndarray:
    """Paint game ``i`` of ``game`` into ``out`` (a new array if None) and return it.

    The layers, in the order they are painted (a later one covers an earlier): the
    background, the HUD, the aliens, the laser, the bombs, the ship.
    """
    frame = np.empty((C.HEIGHT, C.WIDTH, 3), np.uint8) if out is None else out
    frame[:] = _BACKGROUND
    draw_score(frame, int(game.score[i]))
    draw_lives(frame, int(game.lives[i]))
    fx, fy = int(game.form_x[i]), int(game.form_y[i])
    for r, c in np.argwhere(game.alive[i]):
        draw_alien(frame, r, fy + r * C.ROW_PITCH, fx + c * C.COL_PITCH)
    ship_x = int(game.ship_x[i])
    if game.laser_top[i] >= 0:
        draw_laser(frame, ship_x, int(game.laser_top[i]))
    for k in np.flatnonzero(game.bomb_on[:, i]):
        draw_bomb(frame, int(game.bomb_x[k, i]), int(game.bomb_y[k, i]))
    draw_ship(frame, ship_x)
    return frame


# --- The layers: each paints one kind of thing; the batched renderers build their tables from them ----
def draw_score(frame: np.ndarray, score: int) -> None:
    """Score digits at the top left."""
    for k, ch in enumerate(str(score)):
        _blit(frame, _DIGIT_MASKS[int(ch)], HUD_Y, 4 + 8 * k, HUD)


def draw_lives(frame: np.ndarray, lives: int) -> None:
    """One small ship per life at the top right, at most ``MAX_LIVES_SHOWN``."""
    for k in range(min(lives, MAX_LIVES_SHOWN)):
        frame[6:12, C.WIDTH - 8 - 8 * k : C.WIDTH - 3 - 8 * k] = SHIP


def draw_alien(frame: np.ndarray, row: int, y: int, x: int) -> None:
    """The alien sprite of formation row ``row`` with its top left at ``(y, x)``."""
    frame[y : y + C.ALIEN_H, x : x + C.ALIEN_W] = _ALIEN_SPRITES[row]


def draw_laser(frame: np.ndarray, ship_x: int, top: int) -> None:
    """The laser, from its top down to the ship, in the ship's column."""
    frame[top : C.SHIP_Y, ship_x] = LASER


def draw_bomb(frame: np.ndarray, x: int, y: int) -> None:
    """A bomb, one pixel wide, ``BOMB_H`` tall, cut at the ground."""
    frame[y : min(y + C.BOMB_H, C.GROUND_Y), x] = BOMB


def draw_ship(frame: np.ndarray, ship_x: int) -> None:
    _blit(frame, SHIP_MASK, C.SHIP_Y, ship_x - C.SHIP_HALF_W, SHIP)


class Window:
    """The game scaled up under a text bar, with an optional panel to its right; paced at ``fps``.

    On screen (``visible``, the only way a window opens) or off screen, where each
    :meth:`show` returns the composed picture, for a video.
    """

    SCALE = 3
    BAR = 28
    BACKGROUND = (20, 20, 30)

    def __init__(self, title: str, fps: int, panel_width: int = 0, visible: bool = True) -> None:
        try:
            import pygame
        except ImportError as e:  # pragma: no cover - pygame-ce is a dependency
            from gymnasium.error import DependencyNotInstalled

            raise DependencyNotInstalled('pygame is not installed: pip install "pygame-ce"') from e
        self._pygame = pygame
        pygame.font.init()
        self.game_size = (C.WIDTH * self.SCALE, C.HEIGHT * self.SCALE)
        self.size = (self.game_size[0] + panel_width, self.game_size[1] + self.BAR)
        self.visible = visible
        if visible:
            pygame.display.init()  # not pygame.init(): no sound is needed, and no audio device may exist
            pygame.display.set_caption(title)
            self.screen = pygame.display.set_mode(self.size)
            if pygame.display.get_driver() in ("offscreen", "dummy") and "SDL_VIDEODRIVER" not in os.environ:
                raise pygame.error(f"no usable display (SDL fell back to its {pygame.display.get_driver()} driver)")
        else:
            self.screen = pygame.Surface(self.size)
        self.clock = pygame.time.Clock()
        self.font = pygame.font.Font(None, 26)
        self.fps = fps
        self.closed = False

    def show(self, frame: np.ndarray, text: str, panel: Callable[[Any, Any, int], None] | None = None) -> np.ndarray:
        """Draw ``frame`` under a bar of ``text`` and return the picture; on screen, keep the pace.

        ``panel(surface, font, x)`` draws the panel, which starts at ``x``.
        """
        pygame = self._pygame
        surface = pygame.transform.scale(pygame.surfarray.make_surface(frame.swapaxes(0, 1)), self.game_size)
        self.screen.fill(self.BACKGROUND)
        self.screen.blit(self.font.render(text, True, HUD), (8, 6))
        self.screen.blit(surface, (0, self.BAR))
        if panel is not None:
            panel(self.screen, self.font, self.game_size[0])
        if self.visible:
            for event in pygame.event.get():
                if event.type == pygame.QUIT:
                    self.closed = True
            pygame.display.flip()
            self.clock.tick(self.fps)
        return pygame.surfarray.array3d(self.screen).swapaxes(0, 1)

    def close(self) -> None:
        if self.visible:
            self._pygame.display.quit()
        self._pygame.quit()
