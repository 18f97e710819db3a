"""Watch an agent play: the game, and beside it the policy's π(a|s) live; or a video of it."""

from __future__ import annotations

import os
import pathlib
import sys
from typing import Any

import numpy as np

from experiments.config import UsageError
from experiments.envs import observer
from experiments.evaluate import load_agent
from spaceship_env import core as C
from spaceship_env import grid as GRID
from spaceship_env.env import RENDER_FPS
from spaceship_env.evaluation import play_episodes
from spaceship_env.params import make_params
from spaceship_env.render import BOMB, HUD, LASER, SHIP, Window, draw_frame

VIDEO_SUFFIXES = (".mp4", ".gif")
#: Steps of the first episode printed as the lecture's trace: s, a, r.
TRACE_STEPS = 10


#: The grid's channels as colours, the later drawn over the earlier where several are on.
GRID_COLOURS = {
    GRID.ALIEN: (200, 200, 200),
    GRID.ALIEN_LEFT: (255, 120, 200),
    GRID.ALIEN_RIGHT: (120, 200, 255),
    GRID.LASER: LASER,
    GRID.BOMB: BOMB,
    GRID.SHIP: SHIP,
    GRID.COOLDOWN: (255, 60, 60),
}


def network_picture(obs_type: str, obs: np.ndarray) -> np.ndarray:
    """What a policy on ``obs_type`` sees of one game, as an RGB picture: its frames side by side, or its grid.

    Stacked frames (``small_screen``, ``pixels``) go two to a row, oldest first; the grid
    shows each channel in a colour.
    """
    if obs_type == "grid":
        picture = np.zeros((*obs.shape[:2], 3), np.uint8)
        for channel, colour in GRID_COLOURS.items():
            picture[obs[..., channel]] = colour
        return picture
    frames = np.asarray(obs, np.uint8)
    if len(frames) % 2:
        frames = np.concatenate([frames, np.zeros_like(frames[:1])])
    k, h, _ = frames.shape
    gap = np.full((h, 1), 90, np.uint8)
    rows = [np.hstack([frames[i], gap, frames[i + 1]]) for i in range(0, k, 2)]
    tiled = np.vstack([np.vstack([row, np.full((1, row.shape[1]), 90, np.uint8)]) for row in rows])[:-1]
    return np.repeat(tiled[..., None], 3, axis=2)


class PolicyView:
    """A :class:`~spaceship_env.render.Window` with the policy's action probabilities as bars.

    With ``network_view``, the panel also shows what the network sees (:func:`network_picture`).
    """

    PANEL, WIDE_PANEL = 220, 300
    BAR_COLOUR, TRACK_COLOUR = (90, 200, 255), (60, 60, 80)
    VIEW_TOP = 290

    def __init__(self, visible: bool, network_view: bool = False) -> None:
        panel = self.WIDE_PANEL if network_view else self.PANEL
        self.window = Window("Spaceship-v0: the agent", RENDER_FPS, panel_width=panel, visible=visible)

    @property
    def closed(self) -> bool:
        return self.window.closed

    def show(self, frame: np.ndarray, probs: np.ndarray, title: str, seen: np.ndarray | None = None) -> np.ndarray:
        """The game, the probabilities and, if given, ``seen``: :func:`network_picture` of the observation."""
        pygame = self.window._pygame

        def panel(surface: Any, font: Any, x0: int) -> None:
            x0 += 16
            surface.blit(font.render("policy π(a|s)", True, HUD), (x0, 40))
            for k, (name, p) in enumerate(zip(C.ACTION_MEANINGS, probs, strict=True)):
                y = 90 + 60 * k
                surface.blit(font.render(f"{name.lower()} {p:.2f}", True, HUD), (x0, y))
                pygame.draw.rect(surface, self.TRACK_COLOUR, (x0, y + 24, 180, 16))
                pygame.draw.rect(surface, self.BAR_COLOUR, (x0, y + 24, int(180 * p), 16))
            if seen is not None:
                surface.blit(font.render("what the network sees", True, HUD), (x0, self.VIEW_TOP))
                h, w = seen.shape[:2]
                room_w, room_h = self.WIDE_PANEL - 32, surface.get_height() - self.VIEW_TOP - 40
                scale = max(1, min(room_w // w, room_h // h))
                image = pygame.surfarray.make_surface(np.ascontiguousarray(seen.swapaxes(0, 1)))
                surface.blit(pygame.transform.scale(image, (w * scale, h * scale)), (x0, self.VIEW_TOP + 30))

        return self.window.show(frame, title, panel)

    def close(self) -> None:
        self.window.close()


class VideoWriter:
    """Frames to an MP4, streamed through ffmpeg, or to a GIF (every other frame, at 15 fps)."""

    def __init__(self, path: pathlib.Path) -> None:
        import imageio.v2 as imageio

        self.gif = path.suffix.lower() == ".gif"
        try:
            if self.gif:
                self.writer = imageio.get_writer(path, mode="I", duration=1000 / 15, loop=0)
            else:
                self.writer = imageio.get_writer(path, fps=RENDER_FPS, macro_block_size=1)
        except (OSError, ValueError, RuntimeError) as e:
            reason = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise UsageError(f"cannot record to {path}: {reason}") from e
        self.count = 0

    def add(self, frame: np.ndarray) -> None:
        if not self.gif or self.count % 2 == 0:
            self.writer.append_data(frame)
        self.count += 1

    def close(self) -> None:
        self.writer.close()


def check_video_path(path: pathlib.Path) -> None:
    """Refuse, in one line, a video path that cannot be written, before anything is played."""
    if path.suffix.lower() not in VIDEO_SUFFIXES:
        raise UsageError(f"cannot record to {path}: the name must end in .mp4 or .gif")
    if path.is_dir():
        raise UsageError(f"cannot record to {path}: it is a folder")
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab"):
            pass
    except OSError as e:
        raise UsageError(f"cannot record to {path}: {e.strerror or e}") from e
    if not existed:
        path.unlink(missing_ok=True)


def has_display() -> bool:
    if os.environ.get("SDL_VIDEODRIVER") in ("dummy", "offscreen"):
        return False
    return sys.platform in ("win32", "darwin") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


class _Stop(Exception):
    """The window was closed."""


def watch(
    model_path: pathlib.Path,
    episodes: int,
    record: pathlib.Path | None,
    deterministic: bool,
    seed: int,
    game: dict[str, Any] | None = None,
    default_video: pathlib.Path | None = None,
) -> None:
    """Play episodes with the model, its action probabilities beside the game, in a window or a video.

    ``game`` holds the game's arguments (difficulty, lives, ...). Without a screen (or when
    the window cannot open), records to ``default_video``.
    """
    model, obs_type = load_agent(model_path)
    params = make_params(**(game or {}))
    fallback = default_video or model_path.parent / "watch.mp4"
    if record is None and not has_display():
        record = fallback
        print("no screen found: recording instead")
    view = None
    network_view = obs_type != "features"
    if record is None:
        try:
            view = PolicyView(visible=True, network_view=network_view)
        except Exception as e:  # pygame.error: a DISPLAY that cannot be opened
            print(f"cannot open a window ({e}): recording instead")
            record = fallback
    if record is not None:
        check_video_path(record)
        view = PolicyView(visible=False, network_view=network_view)
    video = VideoWriter(record) if record is not None else None
    rng = np.random.default_rng(seed)
    try:
        for episode in range(episodes):
            _watch_episode(model, obs_type, view, video, deterministic, rng, episode, seed + episode, params)
    except _Stop:
        pass
    finally:
        view.close()
        if video is not None:
            video.close()
            print(f"video: {record}")


def _watch_episode(model, obs_type, view, video, deterministic, rng, episode, seed, params) -> None:
    import torch as th

    state: dict[str, Any] = {"probs": None, "seen": None, "total": 0.0, "t": 0}

    def policy(obs: np.ndarray) -> np.ndarray:
        obs_tensor, _ = model.policy.obs_to_tensor(obs)
        with th.no_grad():
            probs = model.policy.get_distribution(obs_tensor).distribution.probs[0].numpy()
        state["probs"] = probs
        if obs_type != "features":
            state["seen"] = network_picture(obs_type, obs[0])
        action = int(probs.argmax()) if deterministic else int(rng.choice(len(probs), p=probs / probs.sum()))
        return np.array([action])

    def draw(game: C.SpaceshipCore, actions: np.ndarray, rewards: np.ndarray) -> None:
        """The frame after the step, beside the probabilities that chose its action."""
        state["t"] += 1
        state["total"] += float(rewards[0])
        if episode == 0 and state["t"] <= TRACE_STEPS:
            print(f"t={state['t']:<3d} action={C.ACTION_MEANINGS[actions[0]]:<5s} reward={rewards[0]:g}")
        title = f"episode {episode + 1}   R = {state['total']:g}"
        picture = view.show(draw_frame(game, 0), state["probs"], title, state["seen"])
        if video is not None:
            video.add(picture)
        if view.closed:
            raise _Stop

    results = play_episodes(policy, 1, seed, params, observer(obs_type), on_step=draw)
    reason, length = C.END_REASONS[results.reasons[0]], results.lengths[0]
    print(f"episode {episode + 1} (seed {seed}): R = {results.returns[0]:g}  ({reason}, {length} steps)")
