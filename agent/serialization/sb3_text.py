"""What a model zip written by SB3's own ``save`` holds in plain text beside each pickle.

SB3's ``data_to_json`` stores what JSON cannot hold as a cloudpickle
(``":serialized:"``) and writes, beside it, the object's attributes as JSON or as their
``str()``. :func:`read_entry` rebuilds an entry from that text alone, never from the
pickle:

- spaces: ``Box`` from ``dtype``, ``_shape``, ``low``, ``high`` (numpy's text of the
  array; when numpy summarised it with ``...``, from ``low_repr``/``high_repr``, or, if
  those are empty, from the one value every printed number shows); ``Discrete``,
  ``MultiDiscrete``, ``MultiBinary`` from their fields. A ``Dict`` space is refused.
  numpy prints 8 significant digits, so a bound may differ from the saved one in its
  last float32 bit; gymnasium compares bounds with ``np.allclose``.
- SB3's ``FloatSchedule``/``ConstantSchedule``/``LinearSchedule`` from their fields or
  their text (``"ConstantSchedule(val=0.0003)"``). A function is refused.
- classes from the pickle's opcodes, read with ``pickletools`` (which runs nothing): a
  pickled class is only a reference ``module, name``, taken if allow-listed
  (:mod:`agent.serialization.allowed`). Anything more in the pickle is refused.
- ``policy_kwargs`` item by item: JSON values as they are, classes by their text
  ``"<class 'torch.nn.modules.activation.ReLU'>"``, literals (``"{'features_dim': 64}"``)
  with ``ast.literal_eval``.
- the run-time state (``_last_obs``, ``_last_original_obs``, ``_last_episode_starts``,
  ``ep_info_buffer``, ``ep_success_buffer``) and ``lr_schedule`` are dropped (None):
  SB3 rebuilds them (see :data:`DROPPED`).
"""

from __future__ import annotations

import ast
import base64
import binascii
import pickletools
import re
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.utils import ConstantSchedule, FloatSchedule, LinearSchedule

from agent.serialization.allowed import ClassNotAllowed, resolve_class

#: Entries SB3 rebuilds after ``load``: ``_setup_model`` makes ``lr_schedule`` from
#: ``learning_rate``, and ``learn`` resets the envs and starts new episode-info buffers
#: when ``_last_obs``/``ep_info_buffer`` are None.
DROPPED = (
    "lr_schedule",
    "_last_obs",
    "_last_original_obs",
    "_last_episode_starts",
    "ep_info_buffer",
    "ep_success_buffer",
)

_CLASS_TEXT = re.compile(r"<class '([\w.]+)'>")
_SCHEDULE_TEXT = re.compile(r"(ConstantSchedule|LinearSchedule)\(([^()]*)\)")
_SCHEDULES = {"ConstantSchedule": ConstantSchedule, "LinearSchedule": LinearSchedule}


class SB3EntryUnreadable(ValueError):
    """The plain text beside a pickled entry does not describe it."""


def is_pickled(entry: Any) -> bool:
    return isinstance(entry, dict) and ":serialized:" in entry


def read_entry(key: str, entry: dict[str, Any]) -> Any:
    """The value of the pickled ``data[key]``, rebuilt from SB3's text beside the pickle."""
    kind = str(entry.get(":type:", ""))
    try:
        if re.search(r"spaces\.\w+\.\w+'>$", kind):
            return _space(kind, entry)
        if re.search(r"utils\.(Float|Constant|Linear)Schedule'>$", kind):
            return _schedule(kind, entry)
        if kind in ("<class 'abc.ABCMeta'>", "<class 'type'>"):
            return resolve_class(_pickled_global(entry[":serialized:"]), key)
        if key == "policy_kwargs" and kind == "<class 'dict'>":
            return {name: _kwarg(name, text) for name, text in entry.items() if not name.startswith(":")}
    except (KeyError, TypeError, ValueError) as e:  # includes ClassNotAllowed
        if key in DROPPED:
            return None
        raise SB3EntryUnreadable(str(e)) from e
    if key in DROPPED:
        return None
    raise SB3EntryUnreadable(f"no readable text beside a pickled {kind or 'object'}")


def _space(kind: str, entry: dict[str, Any]) -> spaces.Space:
    if kind.endswith(".Box'>"):
        dtype, shape = np.dtype(entry["dtype"]), tuple(entry["_shape"])
        low, high = (_box_bound(entry[end], entry.get(f"{end}_repr"), shape, dtype) for end in ("low", "high"))
        return spaces.Box(low, high, shape, dtype)
    if kind.endswith(".Discrete'>"):
        return spaces.Discrete(int(entry["n"]), start=int(entry.get("start", 0)), dtype=entry.get("dtype", "int64"))
    if kind.endswith(".MultiDiscrete'>"):
        dtype = np.dtype(entry.get("dtype", "int64"))
        shape = tuple(entry["_shape"])
        nvec = _numbers(entry["nvec"], shape, dtype)
        start = _numbers(entry["start"], shape, dtype) if "start" in entry else None
        return spaces.MultiDiscrete(nvec, dtype=dtype, start=start)
    if kind.endswith(".MultiBinary'>"):
        return spaces.MultiBinary(entry["n"])
    raise SB3EntryUnreadable(f"a {kind} space cannot be read from SB3's text")


def _box_bound(text: Any, short: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    if not (isinstance(text, str) and "..." in text):
        return _numbers(text, shape, dtype)
    if isinstance(short, str) and "[" not in short:  # gymnasium's repr of a bound equal everywhere
        return np.full(shape, _numbers(short, (), dtype), dtype)
    shown = _numbers(text.replace("...", " "), (-1,), dtype)
    if shown.size and np.array_equal(shown, np.full_like(shown, shown[0]), equal_nan=True):
        return np.full(shape, shown[0], dtype)
    raise SB3EntryUnreadable("numpy summarised a bound that is not the same everywhere")


def _numbers(text: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """numpy's ``str()`` of an array (or JSON numbers) as an array of ``shape``."""
    if isinstance(text, str):
        tokens = text.replace("[", " ").replace("]", " ").replace(",", " ").split()
        values = [float(token) if np.issubdtype(dtype, np.floating) else int(token) for token in tokens]
    else:
        values = text
    return np.array(values, dtype).reshape(shape)


def _schedule(kind: str, entry: dict[str, Any]) -> Any:
    if kind.endswith("FloatSchedule'>"):
        return FloatSchedule(_schedule_text(entry["value_schedule"]))
    name = "ConstantSchedule" if kind.endswith("ConstantSchedule'>") else "LinearSchedule"
    fields = ("val",) if name == "ConstantSchedule" else ("start", "end", "end_fraction")
    return _SCHEDULES[name](*(float(entry[field]) for field in fields))


def _schedule_text(text: str) -> Any:
    match = _SCHEDULE_TEXT.fullmatch(str(text))
    if not match:
        raise SB3EntryUnreadable(f"the schedule {str(text)[:60]!r} is not one of SB3's schedule classes")
    arguments = dict(part.split("=", 1) for part in match[2].split(", "))
    return _SCHEDULES[match[1]](**{name: float(value) for name, value in arguments.items()})


def _kwarg(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if match := _CLASS_TEXT.fullmatch(value):
        return resolve_class(match[1], name)
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, RecursionError) as e:
        raise SB3EntryUnreadable(
            f"policy_kwargs[{name!r}] = {value[:60]!r} is not a literal or an allowed class"
        ) from e


def _pickled_global(serialized: str) -> str:
    """``"module.name"`` if the pickle only refers to a global, as a pickled class does; runs nothing."""
    try:
        operations = list(pickletools.genops(base64.b64decode(serialized, validate=True)))
    except (ValueError, binascii.Error) as e:
        raise SB3EntryUnreadable("the pickle is malformed") from e
    meaningful = [(op.name, arg) for op, arg, _ in operations if op.name not in _BOOKKEEPING]
    names = [op for op, _ in meaningful]
    if names == ["GLOBAL", "STOP"]:
        return meaningful[0][1].replace(" ", ".")
    if names[-2:] == ["STACK_GLOBAL", "STOP"] and len(names) == 4 and all(n in _STRINGS for n in names[:2]):
        return f"{meaningful[0][1]}.{meaningful[1][1]}"
    raise ClassNotAllowed("the pickle does more than name a class")


_BOOKKEEPING = {"PROTO", "FRAME", "MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"}
_STRINGS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"}
