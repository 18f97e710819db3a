"""Saving and loading models of any SB3 on-policy algorithm without pickle.

A model file keeps SB3's zip layout (``data``, ``policy.pth``, ``policy.optimizer.pth``,
``pytorch_variables.pth``, ``_stable_baselines3_version``, ``system_info.txt``), but its
``data`` is plain JSON (:mod:`agent.serialization.json_form`) instead of JSON with cloudpickles, e.g.::

    "observation_space": {":space:": "Box", "dtype": "float32", "shape": [59], "low": [0.0, ...], "high": 1.0},
    "action_space": {":space:": "Discrete", "n": 3, "start": 0, "dtype": "int64"},
    "policy_class": {":class:": "stable_baselines3.common.policies.ActorCriticPolicy"},
    "learning_rate": 0.0003,
    "clip_range": {":schedule:": "FloatSchedule", "value_schedule": {":schedule:": "ConstantSchedule", "val": 0.2}},
    "_last_obs": null,
    "ep_info_buffer": {":deque:": [{"r": 435.0, "l": 201, "t": 12.4}, ...], "maxlen": 100},

The envs' last observations and episode starts (``_last_obs``, ``_last_original_obs``,
``_last_episode_starts``) are not saved: ``learn`` after ``load`` resets the envs, as
SB3's ``load(env=...)`` does by default. A value JSON cannot describe (a lambda schedule,
a class outside :mod:`agent.serialization.allowed`) is saved pickled, as SB3 does, with a
warning: loading that file needs ``trust_pickle=True`` or ``custom_objects``.

:func:`load_model` reads these files, and SB3's own, without unpickling anything.
"""

from __future__ import annotations

import io
import json
import pathlib
import pickle
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import torch as th
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.save_util import data_to_json, recursive_getattr, save_to_zip_file

from agent.serialization.atomic import remove_stale_partials, replace_atomically, signals_held
from agent.serialization.json_form import NotDescribable, from_json, to_json
from agent.serialization.sb3_text import DROPPED, SB3EntryUnreadable, is_pickled, read_entry

Algorithm = TypeVar("Algorithm", bound=BaseAlgorithm)

#: Run-time state never saved: ``learn`` resets the envs when ``_last_obs`` is None.
NOT_SAVED = ("_last_obs", "_last_original_obs", "_last_episode_starts")

#: What reading a damaged or foreign zip raises inside SB3's ``load``, besides ``ValueError``.
UNREADABLE = (
    zipfile.BadZipFile,
    EOFError,
    KeyError,
    IndexError,
    RuntimeError,
    AssertionError,
    pickle.UnpicklingError,
    AttributeError,  # data of the wrong shape
    TypeError,
)

_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


class ModelLoadError(ValueError):
    """A model file is missing, truncated, damaged, not a model zip, or needs unpickling not allowed."""


def save_model(
    model: BaseAlgorithm,
    path: str | pathlib.Path | io.BufferedIOBase,
    exclude: Iterable[str] | None = None,
    include: Iterable[str] | None = None,
) -> None:
    """SB3's ``model.save(path, exclude, include)``, with ``data`` in plain JSON, written atomically.

    A path without a suffix gets ``.zip``. The zip is written to ``.NAME.PID.partial`` and
    renamed over ``path``, so a reader never sees half a file; leftovers of killed saves
    in the folder are removed. SIGINT and SIGTERM arriving during the save (in the main
    thread) are delivered right after it (:func:`agent.serialization.atomic.signals_held`).
    """
    with signals_held():
        content = _zip_bytes(model, exclude, include)
        if not isinstance(path, (str, pathlib.Path)):
            path.write(content)
            return
        file = pathlib.Path(path)
        if file.suffix == "":
            file = file.with_name(file.name + ".zip")
        file.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(file.parent)
        replace_atomically(file, content)


def load_model(
    cls: type[Algorithm],
    path: str | pathlib.Path | io.BufferedIOBase,
    env: Any = None,
    device: th.device | str = "auto",
    custom_objects: dict[str, Any] | None = None,
    print_system_info: bool = False,
    force_reset: bool = True,
    trust_pickle: bool = False,
    **kwargs: Any,
) -> Algorithm:
    """SB3's ``cls.load``, which by default unpickles nothing.

    The arguments are SB3's (``env`` checks the spaces and raises SB3's "spaces do not
    match" ``ValueError``; ``custom_objects`` replaces entries of ``data`` unread), plus:

    :param trust_pickle: unpickle the pickled entries of ``data`` as SB3 does. Unpickling
        runs whatever code the file holds: only for files you trust.

    By default ``data`` is read as JSON, the weights with ``torch.load(weights_only=True)``.
    Pickled entries, which SB3's own ``save`` writes, are rebuilt from the text SB3 writes
    beside them (:mod:`agent.serialization.sb3_text`): the spaces (not a ``Dict`` space), SB3's
    schedule classes, allow-listed classes, ``policy_kwargs``. Dropped, set to None:

    - ``lr_schedule``: rebuilt from ``learning_rate``, as SB3's ``_setup_model`` always does;
    - ``_last_obs``, ``_last_original_obs``, ``_last_episode_starts``: the next ``learn``
      resets the envs, as after SB3's ``load(env=...)`` (``force_reset=False`` cannot resume
      the envs' last episodes);
    - ``ep_info_buffer``, ``ep_success_buffer`` of SB3's files: the rollout logs' running
      means start afresh (the files of :func:`save_model` keep them, as JSON).

    Refused with a one-line :class:`ModelLoadError` that names the entry: any other pickled
    entry (a function as ``learning_rate`` or ``clip_range``, a ``Dict`` space, a class
    outside :mod:`agent.serialization.allowed`, an extra key); pass ``custom_objects`` or
    ``trust_pickle=True``. Also refused: a missing, truncated or damaged file, weights that
    are not plain tensors or hold NaN or inf, and a ``data["env"]`` (SB3's ``save`` never
    writes one; ``gym.make("module:Id")`` would import the module it names).
    """
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise ValueError("custom_objects argument must be a dict or None")
    name, content = _read(path)
    data = _read_zip(name, content)
    replacements = _safe_data(name, data, custom_objects or {}, trust_pickle)
    try:
        return BaseAlgorithm.load.__func__(  # type: ignore[attr-defined]
            cls,
            io.BytesIO(content),  # the bytes checked above, whatever happens to the file since
            env=env,
            device=device,
            custom_objects={**replacements, **(custom_objects or {})},
            print_system_info=print_system_info,
            force_reset=force_reset,
            **kwargs,
        )
    except ValueError as e:
        if "spaces do not match" in str(e) or "policy kwargs" in str(e):
            raise  # SB3's word: the file is fine, but not for this env or these arguments
        raise _error(f"{name} is not a readable {cls.__name__} model: {_detail(e)}") from e
    except UNREADABLE as e:
        raise _error(f"{name} is not a readable {cls.__name__} model: {_detail(e)}") from e


def _zip_bytes(model: BaseAlgorithm, exclude: Iterable[str] | None, include: Iterable[str] | None) -> bytes:
    _, torch_variable_names = model._get_torch_save_params()
    buffer = io.BytesIO()
    save_to_zip_file(
        buffer,
        data=_data_to_save(model, exclude, include),
        params=model.get_parameters(),
        pytorch_variables={name: recursive_getattr(model, name) for name in torch_variable_names},
    )
    return buffer.getvalue()


def _data_to_save(model: BaseAlgorithm, exclude: Iterable[str] | None, include: Iterable[str] | None) -> dict[str, Any]:
    """SB3's choice of attributes (``BaseAlgorithm.save``), each described in JSON."""
    excluded = set(exclude or ()).union(model._excluded_save_params())
    if include is not None:
        excluded = excluded.difference(include)
    state_dicts_names, torch_variable_names = model._get_torch_save_params()
    excluded.update(name.split(".")[0] for name in state_dicts_names + torch_variable_names)
    return {key: _describe(model, key, value) for key, value in model.__dict__.items() if key not in excluded}


def _describe(model: BaseAlgorithm, key: str, value: Any) -> Any:
    if key in NOT_SAVED:
        return None
    try:
        return to_json(value)
    except NotDescribable as e:
        if key in DROPPED:
            return None  # rebuilt on load
        warnings.warn(
            f"{type(model).__name__}.{key} ({e}) has no JSON form and is saved pickled: loading the file "
            f"will need trust_pickle=True, or custom_objects={{{key!r}: ...}}",
            stacklevel=2,
        )
        return json.loads(data_to_json({key: value}))[key]


def _read(path: str | pathlib.Path | io.BufferedIOBase) -> tuple[str, bytes]:
    if not isinstance(path, (str, pathlib.Path)):
        return "the model stream", path.read()
    file = pathlib.Path(path)
    if not file.exists() and file.with_name(file.name + ".zip").exists():
        file = file.with_name(file.name + ".zip")  # as SB3 tries PATH.zip
    if not file.is_file():
        raise _error(f"no model file at {path}")
    return str(file), file.read_bytes()


def _read_zip(name: str, content: bytes) -> dict[str, Any]:
    """The JSON of ``data``, once every ``.pth`` member has loaded as finite tensors."""
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise _error(f"{name} is not a model zip (truncated or another kind of file)")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if "data" not in archive.namelist():
                raise _error(f"{name} has no 'data' member: it is not a model zip")
            text = archive.read("data")
            for member in archive.namelist():
                if member.endswith(".pth"):
                    _check_tensors(name, member, archive.read(member))
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as e:
        raise _error(f"{name} is damaged: {_detail(e)}") from e
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as e:  # also UnicodeDecodeError
        raise _error(f"{name}: its 'data' member is not JSON ({_detail(e)})") from e
    if not isinstance(data, dict):
        raise _error(f"{name}: its 'data' member is not a JSON object")
    return data


def _check_tensors(name: str, member: str, raw: bytes) -> None:
    try:
        loaded = th.load(io.BytesIO(raw), map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises UnpicklingError, IndexError, RuntimeError, … on foreign bytes
        raise _error(f"{name}: {member} is not a file of plain tensors, so it was not loaded ({_detail(e)})") from e
    for where, tensor in _tensors(loaded):
        if tensor.is_floating_point() or tensor.is_complex():
            for bad, test in (("NaN", th.isnan), ("inf", th.isinf)):
                if test(tensor).any():
                    raise _error(f"{name}: {member} tensor {where!r} holds {bad} values: the model is broken")


def _tensors(value: Any, where: str = "") -> Iterator[tuple[str, th.Tensor]]:
    if isinstance(value, th.Tensor):
        yield where, value
    elif isinstance(value, (dict, list, tuple)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            yield from _tensors(item, f"{where}.{key}" if where else str(key))


def _safe_data(name: str, data: dict[str, Any], custom_objects: dict[str, Any], trust_pickle: bool) -> dict[str, Any]:
    """Every entry of ``data`` rebuilt without unpickling, to hand SB3's ``load`` as ``custom_objects``.

    SB3 unpickles only the pickled entries missing from ``custom_objects``: with every
    entry here, it unpickles none. With ``trust_pickle``, the pickled ones are left to it.
    """
    replacements = {}
    for key, entry in data.items():
        if key in custom_objects:
            continue
        if key == "env" and not trust_pickle:  # gym.make("module:Id") would import module
            raise _error(
                f"{name}: data['env'] names an environment to make, which SB3's save never writes; "
                "load it with trust_pickle=True only if you trust this file"
            )
        if is_pickled(entry):
            if not trust_pickle:
                replacements[key] = _read_pickled_entry(name, key, entry)
            continue
        try:
            replacements[key] = from_json(entry, key)
        except (ValueError, RecursionError) as e:  # a class outside the allow-list, a malformed description
            raise _error(f"{name}: data[{key!r}]{'' if str(e).startswith('[') else ': '}{e}") from e
    return replacements


def _read_pickled_entry(name: str, key: str, entry: dict[str, Any]) -> Any:
    try:
        return read_entry(key, entry)
    except SB3EntryUnreadable as e:
        raise _error(
            f"{name}: data[{key!r}] is a pickle ({entry.get(':type:', 'of unknown type')}) that cannot be read "
            f"safely ({e}); pass custom_objects={{{key!r}: ...}}, or trust_pickle=True if you trust this file "
            "(unpickling runs any code it holds)"
        ) from None


def _error(text: str) -> ModelLoadError:
    """A :class:`ModelLoadError` whose text is one line, free of terminal escape codes."""
    return ModelLoadError(one_line(text))


def one_line(text: str) -> str:
    """``text`` without terminal escape codes, its line breaks and other control characters as spaces."""
    return re.sub(r" {2,}", " ", _CONTROLS.sub(" ", _ESCAPES.sub("", text))).strip()


def _detail(error: BaseException) -> str:
    """A wrapped exception's text on one line, cut short; never torch's advice to turn ``weights_only`` off."""
    lines = [one_line(line) for line in str(error).splitlines() if line.strip()]
    marker = "WeightsUnpickler error:"
    refusal = next((i for i, line in enumerate(lines) if marker in line), None)
    if refusal is not None:  # torch's weights-only refusal: keep its reason, on or after the marker's line
        rest = lines[refusal].split(marker, 1)[1].strip() or " ".join(lines[refusal + 1 : refusal + 2])
        text = rest.split(". ")[0].rstrip(".")
    else:
        text = " ".join(lines) or type(error).__name__
    if not text or "weights_only" in text:
        text = "it holds objects other than tensors"
    return text if len(text) <= 300 else text[:297] + "..."
