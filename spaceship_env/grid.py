"""The grid observation: boolean channels on a coarse grid, as MinAtar's Space Invaders has.

The screen above the ground (196 x 160 pixels) is cut into cells of ``CELL_H x CELL_W``
pixels: rows of the alien row pitch, 14 pixels, and columns of half the column pitch,
8 pixels, so that a move of the ship (4 pixels) shows at least every other step. A cell
of a channel is on when any pixel of such a thing lies in it: every row and every column
of each sprite holds a pixel, so this is the thing's box. :data:`GRID_CHANNELS` is the
one source of truth for the channels; the space, the docstring's table and the tests
read it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spaceship_env import core as C

CELL_H, CELL_W = C.ROW_PITCH, C.COL_PITCH // 2
GRID_H, GRID_W = C.GROUND_Y // CELL_H, C.WIDTH // CELL_W  # 14 x 20
SHIP_ROW = C.SHIP_Y // CELL_H


@dataclass(frozen=True)
class GridChannel:
    name: str
    meaning: str


GRID_CHANNELS: tuple[GridChannel, ...] = (
    GridChannel("ship", "the spaceship"),
    GridChannel("alien", "a living alien"),
    GridChannel("alien_left", "a living alien, while the formation marches left"),
    GridChannel("alien_right", "a living alien, while the formation marches right"),
    GridChannel("laser", "the laser, on the step it is fired: from where it stopped down to the ship"),
    GridChannel("bomb", "a bomb"),
    GridChannel("cooldown", "the spaceship, while FIRE is cooling down and does nothing"),
)
N_CHANNELS = len(GRID_CHANNELS)
SHIP, ALIEN, ALIEN_LEFT, ALIEN_RIGHT, LASER, BOMB, COOLDOWN = range(N_CHANNELS)
GRID_SHAPE = (GRID_H, GRID_W, N_CHANNELS)


def grid_table() -> str:
    """The channels as a Markdown table (Channel, Name, A cell is on where there is)."""
    rows = ["| Channel | Name | A cell is on where there is |", "|---------|------|-----------------------------|"]
    rows += [f"| {k} | `{c.name}` | {c.meaning} |" for k, c in enumerate(GRID_CHANNELS)]
    return "\n".join(rows)


def _span(low: np.ndarray, high: np.ndarray, size: int, cells: int) -> np.ndarray:
    """``(..., cells)``: which cells of ``size`` pixels the pixels ``low..high`` (inclusive) touch."""
    k = np.arange(cells)
    return (k >= low[..., None] // size) & (k <= high[..., None] // size)


def grid(game: C.SpaceshipCore) -> np.ndarray:
    """Every game's grid, ``(n, 14, 20, 7)`` bool (rows, columns, channels)."""
    n = game.n
    out = np.zeros((n, GRID_H, GRID_W, N_CHANNELS), bool)
    ship_cols = _span(game.ship_x - C.SHIP_HALF_W, game.ship_x + C.SHIP_HALF_W, CELL_W, GRID_W)
    out[:, SHIP_ROW, :, SHIP] = ship_cols
    out[:, SHIP_ROW, :, COOLDOWN] = ship_cols & (game.cooldown > 0)[:, None]
    _aliens(game, out)
    laser = game.laser_top >= 0
    rows = _span(game.laser_top, np.full(n, C.SHIP_Y - 1), CELL_H, GRID_H) & laser[:, None]
    out[np.arange(n), :, game.ship_x // CELL_W, LASER] = rows
    k, g = game.bomb_on.nonzero()
    x, y = game.bomb_x[k, g], game.bomb_y[k, g]
    bottom = np.minimum(y + C.BOMB_H, C.GROUND_Y) - 1
    out[g, y // CELL_H, x // CELL_W, BOMB] = True
    out[g, bottom // CELL_H, x // CELL_W, BOMB] = True
    return out


def _aliens(game: C.SpaceshipCore, out: np.ndarray) -> None:
    """Aliens in rows of the alien pitch: row r of the formation lies in grid rows ``r + top`` and ``r + bottom``."""
    g, r, c = game.alive.nonzero()
    x, y = game.form_x[g] + c * C.COL_PITCH, game.form_y[g] + r * C.ROW_PITCH
    rows = (y // CELL_H, (y + C.ALIEN_H - 1) // CELL_H)
    cols = (x // CELL_W, (x + C.ALIEN_W - 1) // CELL_W)
    channel = np.where(game.direction[g] < 0, ALIEN_LEFT, ALIEN_RIGHT)
    for row in rows:
        for col in cols:
            out[g, row, col, ALIEN] = True
            out[g, row, col, channel] = True
