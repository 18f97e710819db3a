"""Plain-JSON descriptions of the values SB3 would pickle into a model's ``data``.

:func:`to_json` describes a value in strict JSON (no NaN or Infinity literals);
:func:`from_json` rebuilds it and runs no code but the constructors of gymnasium
spaces, SB3 schedules and allow-listed classes (:mod:`agent.serialization.allowed`).

| value | description |
|---|---|
| JSON values; numpy scalars | themselves (tuples become lists, as in SB3) |
| a non-finite float | ``{":float:": "inf"}`` (``"-inf"``, ``"nan"``) |
| ``Box`` | ``{":space:": "Box", "dtype": "float32", "shape": [59], "low": [...], "high": 1.0}`` |
| ``Discrete``, ``MultiDiscrete`` | ``{":space:": "Discrete", "n": 3, "start": 0, "dtype": "int64"}``, ``nvec``… |
| ``MultiBinary``, ``Dict`` of these | ``{":space:": "MultiBinary", "n": 4}``, ``"spaces": [[name, …], …]`` |
| SB3's ``ConstantSchedule``, | ``{":schedule:": "ConstantSchedule", "val": 0.2}``, |
| ``LinearSchedule``, ``FloatSchedule`` | ``"start"``, ``"end"``, ``"end_fraction"``; ``"value_schedule"`` |
| an allow-listed class | ``{":class:": "torch.nn.modules.activation.ReLU"}`` |
| a ``deque`` (episode infos) | ``{":deque:": [...], "maxlen": 100}`` |

A Box bound equal everywhere is one number, otherwise nested lists; either way float32
bounds come back bit for bit (a float32 is exact as a Python float, and JSON keeps it).
Anything else (a lambda, an object of the user's) raises :class:`NotDescribable`.
"""

from __future__ import annotations

import collections
import math
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.utils import ConstantSchedule, FloatSchedule, LinearSchedule

from agent.serialization.allowed import class_path, resolve_class

SPACE, SCHEDULE, CLASS, DEQUE, FLOAT = ":space:", ":schedule:", ":class:", ":deque:", ":float:"
SCHEDULES = {"ConstantSchedule": ConstantSchedule, "LinearSchedule": LinearSchedule, "FloatSchedule": FloatSchedule}


class NotDescribable(TypeError):
    """The value has no JSON description: SB3 would pickle it."""


def to_json(value: Any) -> Any:
    """``value`` as strict JSON, with the tagged descriptions of the module docstring."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {FLOAT: str(value)}
    if isinstance(value, np.generic) and not isinstance(value, (np.void, np.object_)):
        return to_json(value.item())
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, collections.deque):
        return {DEQUE: [to_json(item) for item in value], "maxlen": value.maxlen}
    if isinstance(value, dict) and all(isinstance(key, str) for key in value):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, spaces.Space):
        return describe_space(value)
    if isinstance(value, tuple(SCHEDULES.values())):
        return describe_schedule(value)
    if isinstance(value, type) and (path := class_path(value)):
        return {CLASS: path}
    raise NotDescribable(f"{type(value).__name__} {value!r:.80}")


def from_json(value: Any, key: str | None = None) -> Any:
    """The value :func:`to_json` described; ``key`` names the entry, for the kind of class it may hold.

    Raises ``ValueError`` (:class:`agent.serialization.allowed.ClassNotAllowed` for a class) on a
    description it does not accept.
    """
    if isinstance(value, list):
        return [from_json(item, key) for item in value]
    if not isinstance(value, dict):
        return value
    if SPACE in value:
        return build_space(value)
    if SCHEDULE in value:
        return build_schedule(value)
    if CLASS in value:
        return resolve_class(value[CLASS], key)
    if FLOAT in value:
        return _float(value[FLOAT])
    if DEQUE in value:
        return collections.deque(from_json(value[DEQUE]), maxlen=value.get("maxlen"))
    decoded = {}
    for name, item in value.items():
        try:
            decoded[name] = from_json(item, name)
        except ValueError as e:  # name the entry: "['activation_fn']: os.system is outside …"
            raise type(e)(f"[{name!r}]{'' if str(e).startswith('[') else ': '}{e}") from e
    return decoded


def describe_space(space: spaces.Space) -> dict[str, Any]:
    if type(space) is spaces.Box:
        return {
            SPACE: "Box",
            "dtype": space.dtype.name,
            "shape": list(space.shape),
            "low": _bound(space.low),
            "high": _bound(space.high),
        }
    if type(space) is spaces.Discrete:
        return {SPACE: "Discrete", "n": int(space.n), "start": int(space.start), "dtype": space.dtype.name}
    if type(space) is spaces.MultiDiscrete:
        return {
            SPACE: "MultiDiscrete",
            "nvec": space.nvec.tolist(),
            "start": space.start.tolist(),
            "dtype": space.dtype.name,
        }
    if type(space) is spaces.MultiBinary:
        return {SPACE: "MultiBinary", "n": to_json(space.n)}
    if type(space) is spaces.Dict:
        return {SPACE: "Dict", "spaces": [[name, describe_space(sub)] for name, sub in space.spaces.items()]}
    raise NotDescribable(f"space {space}")


def build_space(description: dict[str, Any]) -> spaces.Space:
    kind = description[SPACE]
    if kind == "Box":
        dtype, shape = np.dtype(description["dtype"]), tuple(description["shape"])
        low, high = (_array(description[end], shape, dtype) for end in ("low", "high"))
        return spaces.Box(low, high, shape, dtype)
    if kind == "Discrete":
        return spaces.Discrete(int(description["n"]), start=int(description["start"]), dtype=description["dtype"])
    if kind == "MultiDiscrete":
        dtype = np.dtype(description["dtype"])
        return spaces.MultiDiscrete(
            np.array(description["nvec"], dtype), dtype=dtype, start=np.array(description["start"], dtype)
        )
    if kind == "MultiBinary":
        return spaces.MultiBinary(description["n"])
    if kind == "Dict":
        return spaces.Dict([(name, build_space(sub)) for name, sub in description["spaces"]])
    raise ValueError(f"unknown space {kind!r}")


def describe_schedule(schedule: Any) -> dict[str, Any]:
    if isinstance(schedule, FloatSchedule):
        return {SCHEDULE: "FloatSchedule", "value_schedule": to_json(schedule.value_schedule)}
    if isinstance(schedule, ConstantSchedule):
        return {SCHEDULE: "ConstantSchedule", "val": to_json(schedule.val)}
    fields = {name: to_json(getattr(schedule, name)) for name in ("start", "end", "end_fraction")}
    return {SCHEDULE: "LinearSchedule", **fields}


def build_schedule(description: dict[str, Any]) -> Any:
    name = description[SCHEDULE]
    if name not in SCHEDULES:
        raise ValueError(f"unknown schedule {name!r}")
    arguments = {key: from_json(value) for key, value in description.items() if key != SCHEDULE}
    return SCHEDULES[name](**arguments)


def _bound(array: np.ndarray) -> Any:
    """One number if the bound is the same everywhere, else nested lists; non-finite floats as text."""
    values = array.ravel()
    if values.size and np.array_equal(values, np.full_like(values, values[0]), equal_nan=True):
        return _number(values[0].item())
    return _numbers(array.tolist())


def _numbers(value: Any) -> Any:
    return [_numbers(item) for item in value] if isinstance(value, list) else _number(value)


def _number(value: float | int) -> float | int | str:
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value


def _array(bound: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    if isinstance(bound, list):
        return np.array(_floats(bound), dtype).reshape(shape)
    return np.full(shape, _floats(bound), dtype)


def _floats(value: Any) -> Any:
    if isinstance(value, list):
        return [_floats(item) for item in value]
    return _float(value) if isinstance(value, str) else value


def _float(text: str) -> float:
    if text not in ("inf", "-inf", "nan"):
        raise ValueError(f"{text!r} is not a number")
    return float(text)
