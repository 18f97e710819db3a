"""The classes a model file may name, found by dotted path in a few trusted packages only.

A model file names classes (its policy, the activation of ``policy_kwargs``, …) as text,
such as ``"torch.nn.modules.activation.ReLU"``. Loading imports the module and takes the
class only if both hold:

- the module lies under :data:`ALLOWED_MODULES` (``torch.nn``, ``torch.optim``,
  ``stable_baselines3``, ``agent``), so a new features extractor under ``agent/`` is
  allowed without another edit here;
- the object is a class of the kind the entry needs (:data:`KINDS`, by default a torch
  module, an optimiser or an SB3 buffer), whose construction from those packages runs
  no outside code.

Any other name (``os.system``, ``builtins.eval``, a logger that writes files) is refused.
"""

from __future__ import annotations

import importlib
import re

import torch as th
from stable_baselines3.common.buffers import BaseBuffer
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

#: Packages whose classes a model file may name (a module path, or a prefix ending at a dot).
ALLOWED_MODULES = ("torch.nn", "torch.optim", "stable_baselines3", "agent")

#: The kinds of class SB3 builds from a model's data; any other class is refused.
ALLOWED_BASES: tuple[type, ...] = (th.nn.Module, th.optim.Optimizer, BaseBuffer)

#: Entries of ``data`` (and of ``policy_kwargs``) that must name a class of one kind.
KINDS: dict[str, type] = {
    "policy_class": BasePolicy,
    "rollout_buffer_class": BaseBuffer,
    "features_extractor_class": BaseFeaturesExtractor,
    "activation_fn": th.nn.Module,
    "optimizer_class": th.optim.Optimizer,
}

_DOTTED = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


class ClassNotAllowed(ValueError):
    """A model file names a class outside the allow-list."""


def class_path(cls: type) -> str | None:
    """``"module.Name"`` by which :func:`resolve_class` finds ``cls`` again, or None if it would not."""
    path = f"{cls.__module__}.{cls.__qualname__}"
    try:
        return path if resolve_class(path) is cls else None
    except ClassNotAllowed:
        return None


def resolve_class(path: str, key: str | None = None) -> type:
    """The class at dotted ``path``, if it is allowed for the entry ``key`` (see the module docstring)."""
    if not isinstance(path, str) or not _DOTTED.fullmatch(path):
        raise ClassNotAllowed(f"{path!r} is not a dotted class path")
    module_name, _, name = path.rpartition(".")
    if not _in_allowed_module(module_name) or name.startswith("_"):
        raise ClassNotAllowed(f"{path} is outside the allowed packages {', '.join(ALLOWED_MODULES)}")
    try:
        obj = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as e:
        raise ClassNotAllowed(f"{path} does not exist here") from e
    kind = KINDS.get(key or "", ALLOWED_BASES)
    if not (isinstance(obj, type) and issubclass(obj, kind)):
        wanted = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise ClassNotAllowed(f"{path} is not a {wanted} class")
    return obj


def _in_allowed_module(module_name: str) -> bool:
    return any(module_name == allowed or module_name.startswith(allowed + ".") for allowed in ALLOWED_MODULES)
