"""rl-baselines3-zoo hyperparameter files: what ``train --hyperparams`` reads and a search writes.

A file is YAML keyed by env id, as rl-zoo's ``hyperparams/ppo.yml``::

    Spaceship-v0:
      n_envs: 32
      n_timesteps: 1000000
      policy: 'MlpPolicy'
      policy_kwargs: "dict(net_arch=[64, 64])"
      learning_rate: lin_0.0003
      n_steps: 256

``n_envs`` and ``n_timesteps`` are :class:`~experiments.config.TrainConfig`'s ``n_envs``
and ``timesteps``; ``policy`` must be the one ``--obs`` learns with; ``vec_env_wrapper``
may name ``spaceship_env.wrappers.ScaleReward`` with its ``scale`` (``reward_scale``), as
rl-zoo applies it; every other key is a keyword argument of the learner, and a key the
learner lacks is an error. rl-zoo runs
``policy_kwargs`` as Python code; here it is read as data (``dict(name=literal, ...)``)
and nothing in the file runs. A linear schedule ``lin_X`` stays a string in ``config.json``
and becomes SB3's ``LinearSchedule`` when the learner is built
(:func:`experiments.config.learner_kwargs`).
"""

from __future__ import annotations

import argparse
import ast
import inspect
import math
import pathlib
from dataclasses import dataclass, field
from typing import Any

from experiments.config import INSTALL_HINT, LEARNER_OPTIONS, UsageError, algo_class, linear_start, policy_name

ENV_ID = "Spaceship-v0"
#: The learner's arguments a file cannot set: the run sets them.
SET_BY_THE_RUN = frozenset({"policy", "env", "seed", "device", "tensorboard_log", "verbose", "_init_setup_model"})
#: The order a search writes its keys in, rl-zoo's usual one; other keys follow.
KEY_ORDER = (
    "n_envs", "n_timesteps", "policy", "policy_kwargs", "n_steps", "batch_size", "n_epochs",
    "learning_rate", "ent_coef", "gamma", "gae_lambda", "clip_range",
)  # fmt: skip


@dataclass
class ZooSettings:
    """One entry of a zoo file: TrainConfig's ``n_envs`` and ``timesteps`` (None if absent), the learner's arguments."""

    n_envs: int | None = None
    timesteps: int | None = None
    reward_scale: float | None = None
    hyperparams: dict[str, Any] = field(default_factory=dict)


def learner_arguments(algo: str) -> set[str]:
    """The keyword arguments of ``--algo algo`` that a hyperparameter file may set."""
    return set(inspect.signature(algo_class(algo)).parameters) - SET_BY_THE_RUN


def read(path: pathlib.Path, algo: str, obs: str) -> ZooSettings:
    """The ``Spaceship-v0`` entry of the zoo file at ``path``, checked against ``--algo`` and ``--obs``."""
    entry = _entry(path)
    settings = ZooSettings()
    accepted = learner_arguments(algo)
    for key, value in entry.items():
        where = f"{path}: {key}"
        if key == "n_envs":
            settings.n_envs = _positive_int(value, where)
        elif key == "n_timesteps":
            settings.timesteps = _positive_int(value, where)
        elif key == "policy":
            if value != policy_name(obs):
                raise UsageError(f"{where} is {value!r}, but --obs {obs} learns with {policy_name(obs)!r}")
        elif key == "vec_env_wrapper":
            settings.reward_scale = _reward_scale(value, where)
        elif key not in accepted:
            raise UsageError(f"{where} does not apply to --algo {algo}")
        elif key == "policy_kwargs":
            settings.hyperparams[key] = parse_policy_kwargs(value, where)
        else:
            settings.hyperparams[key] = _checked(key, _plain_value(value, where), where)
    return settings


#: The one vec-env wrapper a file may name, rl-zoo's way: ``- spaceship_env.wrappers.ScaleReward: {scale: X}``.
SCALE_REWARD = "spaceship_env.wrappers.ScaleReward"


def _reward_scale(value: Any, where: str) -> float:
    """The ``scale`` of a ``vec_env_wrapper`` entry that names :data:`SCALE_REWARD`, and nothing else."""
    entries = value if isinstance(value, list) else [value]
    if len(entries) == 1 and isinstance(entries[0], dict) and list(entries[0]) == [SCALE_REWARD]:
        kwargs = entries[0][SCALE_REWARD]
        scale = kwargs.get("scale") if isinstance(kwargs, dict) and list(kwargs) == ["scale"] else None
        if isinstance(scale, (int, float)) and not isinstance(scale, bool) and 0 < scale <= 1:
            return float(scale)
    raise UsageError(f"{where} is {value!r}: the one wrapper here is [{{{SCALE_REWARD}: {{scale: X}}}}]")


def _entry(path: pathlib.Path) -> dict[str, Any]:
    yaml = _yaml()
    try:
        document = yaml.safe_load(path.read_text())
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from e
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UsageError(f"{path} is not YAML: {_yaml_problem(e)}") from e
    if not isinstance(document, dict):
        raise UsageError(f"{path} is not an rl-zoo hyperparameter file: expected a mapping keyed by env id ({ENV_ID}:)")
    if ENV_ID not in document:
        names = ", ".join(map(str, document)) or "nothing"
        raise UsageError(f"{path} has no {ENV_ID} entry (it has {names})")
    entry = document[ENV_ID]
    if not isinstance(entry, dict) or not all(isinstance(k, str) for k in entry):
        raise UsageError(f"{path}: {ENV_ID} is not a mapping of hyperparameter names to values")
    return entry


def _yaml_problem(error: Exception) -> str:
    problem, mark = getattr(error, "problem", None), getattr(error, "problem_mark", None)
    if problem and mark is not None:
        return f"{problem} (line {mark.line + 1})"
    return " ".join(str(error).split())


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:
        raise UsageError(f"hyperparameter files need PyYAML: {INSTALL_HINT}") from None
    return yaml


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, float) and value.is_integer():  # rl-zoo writes budgets as 1e6 too
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{where} must be a positive integer, not {value!r}")
    return value


def _plain_value(value: Any, where: str) -> Any:
    """A number, bool, null or ``lin_X``: what a JSON ``config.json`` can hold and the learner takes."""
    if isinstance(value, str):
        if linear_start(value) is None:
            raise UsageError(f"{where} is {value!r}: expected a number or a linear schedule lin_X")
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise UsageError(f"{where} is {value}: expected a finite number")
    if value is None or isinstance(value, (bool, int, float)):
        return value
    raise UsageError(f"{where} is {value!r}: expected a number, true/false, null or lin_X")


def _checked(key: str, value: Any, where: str) -> Any:
    """``value`` checked as ``train``'s option of the same name checks it; a ``lin_X`` schedule, by its start."""
    if key in LEARNER_OPTIONS:
        start = linear_start(value)
        try:
            LEARNER_OPTIONS[key](str(value if start is None else start))
        except argparse.ArgumentTypeError as e:
            raise UsageError(f"{where}: {e}") from None
    return value


def parse_policy_kwargs(value: Any, where: str = "policy_kwargs") -> dict[str, Any]:
    """rl-zoo's ``"dict(net_arch=[64, 64])"`` (or a YAML mapping) as a dict, read without running anything."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        try:
            node = ast.parse(value.strip(), mode="eval").body
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
                if node.args or any(k.arg is None for k in node.keywords):
                    raise ValueError("positional arguments")
                return {k.arg: ast.literal_eval(k.value) for k in node.keywords}
            if isinstance(node, ast.Dict):
                return ast.literal_eval(node)
        except (SyntaxError, ValueError, TypeError):
            pass
    raise UsageError(
        f"{where} is {value!r}: expected dict(name=value, ...) with plain values, such as dict(net_arch=[64, 64])"
    )


def format_policy_kwargs(policy_kwargs: dict[str, Any]) -> str:
    """The rl-zoo string for ``policy_kwargs``: ``dict(net_arch=[64, 64])``."""
    return "dict(" + ", ".join(f"{name}={value!r}" for name, value in policy_kwargs.items()) + ")"


def write(
    path: pathlib.Path,
    n_envs: int,
    timesteps: int,
    obs: str,
    hyperparams: dict[str, Any],
    notes: list[str],
    reward_scale: float = 1.0,
) -> None:
    """Write a zoo file with one ``Spaceship-v0`` entry, ``notes`` as comments above it."""
    yaml = _yaml()
    entry = {"n_envs": n_envs, "n_timesteps": timesteps, "policy": policy_name(obs), **hyperparams}
    if reward_scale != 1.0:
        entry["vec_env_wrapper"] = reward_scale
    keys = [k for k in KEY_ORDER if k in entry] + sorted(k for k in entry if k not in KEY_ORDER)
    lines = [f"# {note}" for note in notes] + [f"{ENV_ID}:"]
    for key in keys:
        value = entry[key]
        if key == "policy":
            text = f"'{value}'"
        elif key == "policy_kwargs":
            text = f'"{format_policy_kwargs(value)}"'
        elif key == "vec_env_wrapper":
            text = f"[{{{SCALE_REWARD}: {{scale: {_yaml_scalar(yaml, value)}}}}}]"
        else:
            text = _yaml_scalar(yaml, value)
        lines.append(f"  {key}: {text}")
    path.write_text("\n".join(lines) + "\n")


def _yaml_scalar(yaml: Any, value: Any) -> str:
    """YAML's own spelling of ``value``: ``1.0e-05`` is a float to every reader, ``1e-05`` a string to PyYAML."""
    return yaml.safe_dump(value, default_flow_style=True).removesuffix("\n...\n").strip()
