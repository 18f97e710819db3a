"""A person plays: hold LEFT or RIGHT to move, SPACE to fire; the game waits while no key is held."""

from __future__ import annotations

from typing import Any

from experiments.config import UsageError
from experiments.watch import has_display


def play_human(game: dict[str, Any] | None = None) -> None:
    """Play one episode of ``Spaceship-v0`` (with the game arguments ``game``) in a window."""
    import gymnasium as gym
    import pygame

    import spaceship_env  # noqa: F401  (registers Spaceship-v0)

    if not has_display():
        raise UsageError("play needs a screen (no display found)")
    env = gym.make("Spaceship-v0", render_mode="human", **(game or {}))
    env.reset()
    keys = env.unwrapped.get_keys_to_action()
    info, done = {"score": 0}, False
    try:
        while not done and env.unwrapped.window is not None and not env.unwrapped.window.closed:
            pressed = pygame.key.get_pressed()
            action = next((a for (key,), a in keys.items() if pressed[key]), None)
            if action is None:
                env.render()  # keeps the window alive while the game waits for a key
                continue
            _, _, terminated, truncated, info = env.step(action)
            done = terminated or truncated
    finally:
        env.close()
    print(f"score: {info['score']}  ({info.get('end_reason', 'stopped')})")
