"""Argument checks shared by the game and its fronts: each error names what is wrong."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: What ``obs_type`` may be, and what ``render_mode`` may be, on every front.
OBS_TYPES = ("features", "pixels", "small_screen", "grid")
RENDER_MODES = ("human", "rgb_array")
N_ACTIONS = 3
_ACTIONS_HINT = "actions are 0 (LEFT), 1 (RIGHT) or 2 (FIRE)"


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``low..high``, or a ``ValueError`` that names ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" if high is None else f"in {low}..{high:,}"
        raise ValueError(f"{name} must be {bounds}, got {value!r}")
    return int(value)


def check_probability(name: str, value: Any) -> float:
    """``value`` as a float in [0, 1], or a ``ValueError`` that names ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise ValueError(f"{name} must be a number in [0, 1], got {value!r}")
    return float(value)


def check_choice(name: str, value: Any, choices: tuple[Any, ...], optional: bool = False) -> Any:
    if (value is None and optional) or (isinstance(value, str) and value in choices):
        return value
    allowed = ("None or " if optional else "") + "one of " + ", ".join(map(repr, choices))
    raise ValueError(f"{name} must be {allowed}, got {value!r}")


def check_seed(seed: Any, name: str = "seed") -> int | None:
    """``None`` or a non-negative int, as ``np.random.default_rng`` takes it."""
    return None if seed is None else check_int(name, seed, 0)


def describe(value: Any) -> str:
    """``value`` in one short line: an array by its dtype and shape, anything else by its ``repr``."""
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    text = repr(value)
    return text if len(text) <= 60 and "\n" not in text else f"a {type(value).__name__}"


def check_action(action: Any) -> int:
    """One action, exactly as ``Discrete(3).contains`` accepts it: an int or a 0-d int array."""
    is_int = isinstance(action, (int, np.integer)) and not isinstance(action, (bool, np.bool_))
    is_scalar_array = isinstance(action, np.ndarray) and action.shape == () and action.dtype.kind in "iu"
    if not (is_int or is_scalar_array) or not 0 <= int(action) < N_ACTIONS:
        raise ValueError(f"invalid action {action!r}: {_ACTIONS_HINT}")
    return int(action)


def check_actions(actions: Any, n: int) -> np.ndarray:
    """``actions`` as an int array of shape ``(n,)``, or a ``ValueError`` naming what is wrong."""
    if isinstance(actions, (bool, np.bool_, str, bytes)) or actions is None:
        raise ValueError(f"invalid actions {describe(actions)}: {_ACTIONS_HINT}")
    arr = np.asarray(actions)
    if arr.dtype.kind not in "iu":
        raise ValueError(f"invalid actions, {describe(arr)}: {_ACTIONS_HINT}")
    if arr.size != n or arr.ndim > 1:
        raise ValueError(f"expected {n} action(s), one per game, got shape {arr.shape}")
    arr = arr.reshape(n)
    if n and (arr.min() < 0 or arr.max() >= N_ACTIONS):
        bad = np.flatnonzero((arr < 0) | (arr >= N_ACTIONS))
        raise ValueError(f"invalid action {arr[bad[0]]} for game {bad[0]} ({bad.size} in all): {_ACTIONS_HINT}")
    return arr
