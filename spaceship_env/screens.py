"""The small screen: grey 52 x 40 frames of every game of a batch, painted at once from the state.

What the small frame is, :func:`downsample` of :func:`~spaceship_env.render.draw_frame`:

1. grey: each pixel's BT.601 luma, in integers, ``(299 R + 587 G + 114 B + 500) // 1000``;
2. crop: the bottom ``HEIGHT - 208`` rows, always background, go, so that 4 divides the height;
3. area averaging over blocks of 4 x 4 pixels, rounded half up: ``(sum + 8) // 16``.

Averaging keeps what is one pixel wide: a bomb in a block shows as a quarter of its grey
(39 of 154), a laser as 61, and where a bomb lies across two blocks their shares tell
where it is within them.

:func:`small_screens` computes the same frames for all games of a core without
drawing any: each layer of the picture (HUD, formation, laser, bombs, ship) adds its
block sums from tables built, once, by the very functions that draw the full frame.
Where layers cover one another the covered pixels' share is taken off again; the
rare state where the ship covers something (the last frame of an invasion) is drawn
in full. ``tests/test_screens.py`` holds the two to each other over many states.

:class:`ScreenStack` keeps the last ``N_STACK`` small frames of each game: the
``small_screen`` observation.
"""

from __future__ import annotations

import functools

import numpy as np

from spaceship_env import core as C
from spaceship_env import render as R
from spaceship_env.params import GameParams

#: Pixels per side of a block, and the small frame's size.
BLOCK = 4
CROP_HEIGHT = C.HEIGHT - C.HEIGHT % BLOCK  # 208
SCREEN_H, SCREEN_W = CROP_HEIGHT // BLOCK, C.WIDTH // BLOCK  # 52, 40
#: Small frames per observation, oldest first: the newest and the one before.
N_STACK = 2
#: BT.601 luma weights, per mille.
LUMA_PER_MILLE = (299, 587, 114)
_BLOCK_BITS = BLOCK.bit_length() - 1  # x // 4 is x >> 2
_HALF, _SHIFT = BLOCK * BLOCK // 2, 2 * _BLOCK_BITS


def grey(frame: np.ndarray) -> np.ndarray:
    """The grey of each pixel of RGB ``frame`` (``(..., 3)`` uint8), as uint8: integer BT.601 luma."""
    weights = np.array(LUMA_PER_MILLE, np.int32)
    return ((frame.astype(np.int32) @ weights + 500) // 1000).astype(np.uint8)


def block_sums(grey_frames: np.ndarray) -> np.ndarray:
    """Sums over the ``BLOCK x BLOCK`` blocks of the last two axes (which ``BLOCK`` divides), int32."""
    *lead, h, w = grey_frames.shape
    blocks = grey_frames.reshape(*lead, h // BLOCK, BLOCK, w // BLOCK, BLOCK)
    return blocks.sum(axis=(-3, -1), dtype=np.int32)


def average(sums: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Block sums to the block means, rounded half up, as uint8 (into ``out`` if given)."""
    rounded = sums + _HALF
    if out is None:
        return (rounded >> _SHIFT).astype(np.uint8)
    return np.right_shift(rounded, _SHIFT, out=out, casting="unsafe")


def downsample(frames: np.ndarray) -> np.ndarray:
    """Full frames ``(..., 210, 160, 3)`` to small ones ``(..., 52, 40)``: the definition of the small frame."""
    return average(block_sums(grey(frames)[..., :CROP_HEIGHT, :]))


# --- Tables: each layer's block sums, painted by the full frame's own drawing functions ------
def _grey_of(colour: tuple[int, int, int]) -> int:
    return int(grey(np.array(colour, np.uint8)))


BOMB_GREY, LASER_GREY = _grey_of(R.BOMB), _grey_of(R.LASER)
#: The grey of each pixel of each row's alien sprite (0 off the sprite), by row, y, x.
ALIEN_GREYS = np.stack([grey(s) for s in R._ALIEN_SPRITES]).astype(np.int16)
#: The formation, column by column: a column's image spans 3 blocks, then a block of gap.
_COL_BLOCKS = C.COL_PITCH // BLOCK
_COL_PIXELS_H = (C.N_ROWS - 1) * C.ROW_PITCH + C.ALIEN_H + BLOCK - 1
_COL_H = -(-_COL_PIXELS_H // BLOCK)  # 21 block rows
#: The canvas: the screen, and below it room for the empty bottom of a low column's image.
_CANVAS_H, _CANVAS_W = SCREEN_H + _COL_H, SCREEN_W
_SHIP_ROW = C.SHIP_Y // BLOCK  # the ship's rows start a block row
_SHIP_ROWS = C.SHIP_H // BLOCK
_SHIP_COLS = -(-(2 * C.SHIP_HALF_W + BLOCK) // BLOCK)  # 3


def _layer_sums(paint, height: int, width: int) -> np.ndarray:
    """Block sums of what ``paint(frame)`` draws on a black ``height x width`` canvas."""
    frame = np.zeros((height, width, 3), np.uint8)
    paint(frame)
    return block_sums(grey(frame))


@functools.cache
def _tables() -> dict[str, np.ndarray]:
    """Every layer's block sums, by what varies; built once, on first use (about 0.1 s)."""
    hud_h = R.HUD_BOTTOM
    scores = range(C.WAVE_VALUE + 1)
    lives = range(R.MAX_LIVES_SHOWN + 1)

    def hud_grey(paint, value: int) -> np.ndarray:
        frame = np.zeros((hud_h, C.WIDTH, 3), np.uint8)
        paint(frame, value)
        return grey(frame)

    score_grey = np.stack([hud_grey(R.draw_score, s) for s in scores])
    lives_grey = np.stack([hud_grey(R.draw_lives, n) for n in lives])

    def column(rows: int, oy: int, ox: int):
        def paint(frame):
            for r in range(C.N_ROWS):
                if rows >> r & 1:
                    R.draw_alien(frame, r, oy + r * C.ROW_PITCH, ox)

        return _layer_sums(paint, _COL_H * BLOCK, C.COL_PITCH)

    columns = np.array(
        [[[column(m, oy, ox) for ox in range(BLOCK)] for oy in range(BLOCK)] for m in range(2**C.N_ROWS)]
    )
    laser = np.array(
        [_layer_sums(lambda f, t=top: R.draw_laser(f, 0, t), CROP_HEIGHT, BLOCK)[:, 0] for top in range(C.SHIP_Y + 1)]
    )
    ship = np.array(
        [
            _layer_sums(lambda f, o=ox: R.draw_ship(f, o + C.SHIP_HALF_W), C.SHIP_Y + C.SHIP_H, _SHIP_COLS * BLOCK)
            for ox in range(BLOCK)
        ]
    )[:, _SHIP_ROW:]
    background = block_sums(grey(R._BACKGROUND)[:CROP_HEIGHT])
    tables = {
        "score_grey": score_grey,  # (score, HUD row, x)
        "lives_grey": lives_grey,  # (lives shown, HUD row, x)
        "score": block_sums(score_grey),  # (score, HUD block row, block column)
        "lives": block_sums(lives_grey),
        "columns": columns,  # (column's rows alive mask, y % 4, x % 4, block row, 4 blocks)
        "laser": laser,  # (laser top, block row)
        "ship": ship.reshape(BLOCK, -1),  # ((ship x - 4) % 4, its 2 x 3 blocks)
        "background": background,
    }
    return {name: table.astype(np.int16) for name, table in tables.items()}


@functools.cache
def _ground_rows() -> slice:
    """The block rows where the background is not black: the ground's."""
    rows = np.flatnonzero(_tables()["background"].any(axis=1))
    return slice(rows[0], rows[-1] + 1)


def _offsets(height: int, width: int, row_stride: int) -> np.ndarray:
    """Flat offsets of a ``height x width`` patch's cells from its top left, rows ``row_stride`` apart."""
    return (np.arange(height)[:, None] * row_stride + np.arange(width)).ravel()


_SHIP_OFFSETS = _SHIP_ROW * _CANVAS_W + _offsets(_SHIP_ROWS, _SHIP_COLS, _CANVAS_W)
#: A column's image covers 3 blocks of its 4 (8 pixels at any offset within 4): these cells.
_COL_WIDE = -(-(C.ALIEN_W + BLOCK - 1) // BLOCK)
_COL_SIZE = _COL_H * _COL_BLOCKS
_COLUMN_CELLS = _offsets(_COL_H, _COL_WIDE, _COL_BLOCKS)
_COLUMN_OFFSETS = _offsets(_COL_H, _COL_WIDE, _CANVAS_W)


def small_screens(game: C.SpaceshipCore, out: np.ndarray | None = None) -> np.ndarray:
    """Every game's small frame, ``(n, 52, 40)`` uint8: ``downsample(draw_frame(game, i))`` for each i."""
    return average(small_screen_sums(game), out)


def small_screen_sums(game: C.SpaceshipCore) -> np.ndarray:
    """Every game's block sums of grey, ``(n, 52, 40)`` int16, painted layer by layer.

    The layers go on a canvas wider and taller than the screen, where a formation may hang
    off the screen by its dead columns; the screen is a view of it.
    """
    t = _tables()
    n = game.n
    canvas = np.zeros((n, _CANVAS_H, _CANVAS_W), np.int16)
    flat = canvas.reshape(-1)
    origin = np.arange(n) * (_CANVAS_H * _CANVAS_W)  # each game's block (0, 0) in ``flat``
    _add_formation(game, t, flat, origin)
    screen = canvas[:, :SCREEN_H]
    screen[:, _ground_rows()] += t["background"][_ground_rows()]
    lives = np.minimum(game.lives, R.MAX_LIVES_SHOWN)
    hud_rows = R.HUD_BOTTOM // BLOCK
    screen[:, :hud_rows] += t["score"][game.score]
    screen[:, :hud_rows] += t["lives"][lives]
    _add_laser(game, t, screen, lives)
    _add_bombs(game, flat, origin)
    left = game.ship_x - C.SHIP_HALF_W
    flat[(origin + left // BLOCK)[:, None] + _SHIP_OFFSETS] += t["ship"][left % BLOCK]
    for i in _ship_covers_something(game).tolist():
        screen[i] = block_sums(grey(R.draw_frame(game, i))[:CROP_HEIGHT])
    return screen


def _add_formation(game: C.SpaceshipCore, t: dict[str, np.ndarray], flat: np.ndarray, origin: np.ndarray) -> None:
    """The aliens: the image of every living column of every game, taken and put in place at once.

    A living column is on the screen; only the empty bottom of its image may hang below it.
    The images go on a blank canvas (the columns do not overlap): the background comes after.
    """
    g, c = game.col_rows[:, : C.N_COLS].nonzero()
    fx, fy = game.form_x[g], game.form_y[g]
    image = (game.col_rows[g, c].astype(np.int64) * BLOCK**2 + (fy % BLOCK) * BLOCK + fx % BLOCK) * _COL_SIZE
    top_left = origin[g] + (fy // BLOCK) * _CANVAS_W + fx // BLOCK + c * _COL_BLOCKS
    flat[top_left[:, None] + _COLUMN_OFFSETS] = t["columns"].take(image[:, None] + _COLUMN_CELLS)


def _add_laser(game: C.SpaceshipCore, t: dict[str, np.ndarray], screen: np.ndarray, lives: np.ndarray) -> None:
    """The laser's column; a laser that missed runs up through the HUD, whose pixels it covers."""
    g = (game.laser_top >= 0).nonzero()[0]
    if not len(g):
        return
    top, x = game.laser_top[g], game.ship_x[g]
    screen[g, :, x // BLOCK] += t["laser"][top]
    m = top == 0
    g, x = g[m], x[m]
    if len(g):
        covered = t["score_grey"][game.score[g], :, x] + t["lives_grey"][lives[g], :, x]  # (m, HUD rows)
        hud_rows = R.HUD_BOTTOM // BLOCK
        screen[g, :hud_rows, x // BLOCK] -= covered.reshape(len(g), hud_rows, BLOCK).sum(axis=2, dtype=np.int16)


def _add_bombs(game: C.SpaceshipCore, flat: np.ndarray, origin: np.ndarray) -> None:
    """The bombs: in a bomb's block row, its rows above the block's bottom; in the next, the rest.

    A bomb that may lie on the laser, an alien or another bomb goes pixel by pixel instead.
    Slot by slot over all games, an empty slot adding nothing (at block 0).
    """
    tangled = game.bomb_on & _bomb_may_cover(game)  # (slots, games)
    plain = game.bomb_on
    if tangled.any():
        _add_bomb_pixels(game, flat, origin, *tangled.nonzero())
        plain = plain & ~tangled
    x, y = game.bomb_x, game.bomb_y
    row = y >> _BLOCK_BITS
    cell = np.where(plain, origin + row * _CANVAS_W + (x >> _BLOCK_BITS), 0)
    below = y & (BLOCK - 1)  # the bomb's pixels in the next block row
    cut = (row + 1) * BLOCK >= C.GROUND_Y  # the ground, which starts a block row, cuts those off
    np.add.at(flat, cell, np.where(plain, (BLOCK - below) * BOMB_GREY, 0).astype(np.int16))
    np.add.at(flat, cell + _CANVAS_W, np.where(plain & ~cut, below * BOMB_GREY, 0).astype(np.int16))


def _bomb_may_cover(game: C.SpaceshipCore) -> np.ndarray:
    """``(slots, games)``: where a bomb may lie on another bomb, on the laser or on an alien."""
    on, x, y = game.bomb_on, game.bomb_x, game.bomb_y
    pairs = on[:, None] & on[None] & (x[:, None] == x[None]) & (np.abs(y[:, None] - y[None]) < C.BOMB_H)
    on_bomb = pairs.sum(axis=1) > 1  # a bomb always pairs with itself
    top = game.laser_top
    on_laser = (top >= 0) & (x == game.ship_x) & (y + C.BOMB_H > top)
    col = C.COLUMN_AT.take(x - game.form_x - C.REL_MIN, mode="clip")  # the ends of COLUMN_AT are empty
    lowest = C.LOWEST_ROW.take(game.col_rows[np.arange(game.n), col])
    on_alien = (lowest >= 0) & (y < game.form_y + C.ROW_BOTTOMS.take(lowest))
    return on_bomb | on_laser | on_alien


def _add_bomb_pixels(game: C.SpaceshipCore, flat: np.ndarray, origin: np.ndarray, k: np.ndarray, g: np.ndarray) -> None:
    """Bombs pixel by pixel: each pixel once, above the laser or alien it covers (its grey less theirs)."""
    x = game.bomb_x[k, g]
    y = game.bomb_y[k, g][:, None] + np.arange(C.BOMB_H)  # (bombs, pixels)
    drawn = y < C.GROUND_Y
    # A pixel that an earlier slot painted is counted there.
    on, bx, by = game.bomb_on[:, g], game.bomb_x[:, g], game.bomb_y[:, g]  # (slots, bombs)
    earlier = on & (bx == x) & (np.arange(C.MAX_BOMBS)[:, None] < k)
    covered = (earlier[..., None] & (by[..., None] <= y) & (y < by[..., None] + C.BOMB_H)).any(axis=0)
    drawn &= ~covered
    under = np.where(_under_laser(game, g, x, y), LASER_GREY, _alien_grey(game, g, x, y))
    cells = origin[g, None] + (y // BLOCK) * _CANVAS_W + (x // BLOCK)[:, None]
    np.add.at(flat, cells[drawn], (BOMB_GREY - under[drawn]).astype(np.int16))


def _under_laser(game: C.SpaceshipCore, g: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    top = game.laser_top[g, None]
    return (top >= 0) & (x == game.ship_x[g])[:, None] & (y >= top) & (y < C.SHIP_Y)


def _alien_grey(game: C.SpaceshipCore, g: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The grey of the alien pixel at ``(y, x)`` of games ``g`` (0 where there is none)."""
    rel_x = (x - game.form_x[g])[:, None]
    rel_y = y - game.form_y[g, None]
    col, cx = rel_x // C.COL_PITCH, rel_x % C.COL_PITCH
    row, ry = rel_y // C.ROW_PITCH, rel_y % C.ROW_PITCH
    inside = (col >= 0) & (col < C.N_COLS) & (cx < C.ALIEN_W) & (row >= 0) & (row < C.N_ROWS) & (ry < C.ALIEN_H)
    col, row = np.where(inside, col, 0), np.where(inside, row, 0)
    cx, ry = np.where(inside, cx, 0), np.where(inside, ry, 0)
    alive = game.alive[g[:, None], row, col] & inside
    return np.where(alive, ALIEN_GREYS[row, ry, cx], 0)


def _ship_covers_something(game: C.SpaceshipCore) -> np.ndarray:
    """Games whose ship may cover an alien or a bomb, or whose laser an alien: drawn in full.

    Neither happens while a game runs: the aliens have landed when they reach the ship's
    rows, and a bomb there has hit it (but after the wave is cleared).
    """
    aliens_low = game.form_y + C.ROW_BOTTOMS[-1] > C.SHIP_Y  # the formation's lowest row could
    low = aliens_low.nonzero()[0]
    if len(low):
        lowest = C.LOWEST_ROW.take(np.bitwise_or.reduce(game.col_rows[low], axis=1))
        aliens_low[low] = (lowest >= 0) & (game.form_y[low] + C.ROW_BOTTOMS.take(lowest) > C.SHIP_Y)
    near = np.abs(game.bomb_x - game.ship_x) <= C.SHIP_HALF_W
    level = (game.bomb_y + C.BOMB_H > C.SHIP_Y) & (game.bomb_y < C.SHIP_Y + C.SHIP_H)
    bomb_at_ship = (game.bomb_on & near & level).any(axis=0)
    return (aliens_low | bomb_at_ship | _laser_crosses_alien(game)).nonzero()[0]


def _laser_crosses_alien(game: C.SpaceshipCore) -> np.ndarray:
    """Games whose laser passes a living alien's cell (it stops under the one it kills)."""
    col = C.COLUMN_AT.take(game.rel_index())
    rows = game.col_rows[np.arange(game.n), col]
    lowest = C.LOWEST_ROW.take(rows)
    return (game.laser_top >= 0) & (lowest >= 0) & (game.laser_top < game.form_y + C.ROW_BOTTOMS.take(lowest))


@functools.cache
def _start_screens(params: GameParams) -> np.ndarray:
    """Row ``k``: the small frame of a fresh game whose ship starts at ``START_X[k]``."""
    return small_screens(C.start_positions(params))


def start_screens(game: C.SpaceshipCore, games: np.ndarray) -> np.ndarray:
    """The small frames of ``games``, just reset: a lookup by where the ship starts."""
    return _start_screens(game.params)[np.searchsorted(C.START_X, game.ship_x[games])]


class ScreenStack:
    """The ``small_screen`` observation: each game's last ``N_STACK`` small frames, oldest first.

    Called once per step, as SB3's ``VecFrameStack`` is: it shifts every game's stack and
    appends the newest frame. A game at its first step (``t == 0``, just reset) gets its
    first frame in every place: nothing moved before the start.
    """

    def __init__(self, n: int | None = None) -> None:
        self.frames = None if n is None else np.zeros((n, N_STACK, SCREEN_H, SCREEN_W), np.uint8)

    def __call__(self, game: C.SpaceshipCore) -> np.ndarray:
        """Push every game's newest frame; returns the stacks (this object's array, not a copy)."""
        if self.frames is None:
            self.frames = np.zeros((game.n, N_STACK, SCREEN_H, SCREEN_W), np.uint8)
        self.frames[:, :-1] = self.frames[:, 1:]
        newest = small_screens(game, self.frames[:, -1])
        fresh = (game.t == 0).nonzero()[0]
        if len(fresh):
            self.frames[fresh] = newest[fresh, None]
        return self.frames

    def restart(self, game: C.SpaceshipCore, games: np.ndarray) -> None:
        """Fill the stacks of ``games`` (indices), which were just reset, with their first frame."""
        self.frames[games] = start_screens(game, games)[:, None]
