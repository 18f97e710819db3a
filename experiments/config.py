"""What a training run depends on: one dataclass, whose fields are also the CLI's options.

As CleanRL's ``Args``: each field's default and help are written once, here; ``play.py
train --help`` and ``config.json`` in every run folder come from them.
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

#: The learners ``--algo`` names.
ALGOS = ("ppo2", "pg", "sb3-ppo")
#: The observations ``--obs`` names (``spaceship_env``'s ``obs_type``).
OBS_TYPES = ("features", "grid", "small_screen", "pixels")
#: Above this, a budget is a typo, not a plan.
MAX_TIMESTEPS = 10**12


#: How to install what ``tune``, ``study`` and hyperparameter files need.
INSTALL_HINT = "pip install -e '.[scale]'"


class UsageError(Exception):
    """A bad command line or input: printed as one line, exit code 2."""


def count(low: int, high: int | None = None):
    """An argparse type: an int in ``low..high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < low or (high is not None and value > high):
            bounds = f">= {low}" if high is None else f"in {low}..{high:,}"
            raise argparse.ArgumentTypeError(f"expected an integer {bounds}, got {value}")
        return value

    return parse


def number(low: float, high: float = math.inf, low_open: bool = False):
    """An argparse type: a finite float in ``[low, high]`` (``(low, high]`` if ``low_open``)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if value < low or value > high or (low_open and value == low):
            side = "(" if low_open else "["
            raise argparse.ArgumentTypeError(f"expected a number in {side}{low:g}, {high:g}], got {text}")
        return value

    return parse


#: The learner's options ``train`` takes, with their checks (hyperparameter files are checked alike);
#: their defaults are the learner's.
LEARNER_OPTIONS = {
    "learning_rate": number(0, low_open=True),
    "n_steps": count(1),
    "batch_size": count(1),
    "n_epochs": count(1),
    "ent_coef": number(0, 1),
    "gamma": number(0, 1),
    "gae_lambda": number(0, 1),
    "clip_range": number(0, low_open=True),
}


def option(default: Any, help: str, **argparse_kwargs: Any) -> Any:
    """A config field with its command-line help (and argparse extras such as ``choices``)."""
    return field(default=default, metadata={"help": help, **argparse_kwargs})


@dataclass
class TrainConfig:
    """Everything a training run depends on; written to the run folder as ``config.json``."""

    algo: str = option("ppo2", "learner: ppo2 (ours), pg (REINFORCE, mean baseline) or sb3-ppo", choices=ALGOS)
    obs: str = option(
        "features",
        "observations: features (fast), grid (MinAtar-like channels), small_screen (52x40 grey, stacked 2) "
        "or pixels (84x84 grey, stacked 4)",
        choices=OBS_TYPES,
    )
    timesteps: int = option(4_000_000, "environment steps in all", type=count(1, MAX_TIMESTEPS))
    n_envs: int = option(32, "games stepped together in one SpaceshipVecEnv", type=count(1))
    seed: int = option(0, "seed of the networks and of game i (seed + i)", type=count(0))
    difficulty: int = option(0, "0 (the lecture's game) to 3: more bombs, better aimed, a faster march", type=int)
    lives: int = option(3, "lives per episode", type=int)
    repeat_action_probability: float = option(
        0.0, "sticky actions: chance per frame that the last action repeats", type=number(0, 1)
    )
    frameskip: int = option(1, "frames per step, rewards summed", type=int)
    eval_episodes: int = option(
        0, "episodes per periodic evaluation; 0: 4 to 32, growing with the budget", type=count(0)
    )
    reward_scale: float = option(
        0.0,
        "rewards are multiplied by this for learning (returns logged and evaluated stay the game's); "
        "0: the observations' default (REWARD_SCALE)",
        type=number(0, 1),
    )
    torch_threads: int = option(
        1, "torch threads; 1 is fastest for small networks beside the game on a small CPU", type=count(1, 256)
    )
    hyperparams: dict[str, Any] = field(default_factory=dict, metadata={"help": "keyword arguments of the learner"})

    def __post_init__(self) -> None:
        if not self.reward_scale and self.obs in REWARD_SCALE:  # config.json records the scale the run used
            self.reward_scale = REWARD_SCALE[self.obs]

    def game_kwargs(self) -> dict[str, Any]:
        """The game's arguments, as every front of ``spaceship_env`` takes them."""
        return {name: getattr(self, name) for name in GAME_FIELDS}

    def save(self, path: pathlib.Path) -> None:
        """``config.json``; a class in the hyperparameters (a features extractor) is written as its dotted path."""
        path.write_text(json.dumps(asdict(self), indent=2, default=_class_path) + "\n")

    @classmethod
    def load(cls, path: pathlib.Path) -> TrainConfig:
        """Read ``config.json``; a damaged or foreign file is a one-line error naming it."""
        if not path.is_file():
            raise UsageError(f"nothing to resume in {path.parent}: no config.json")
        try:
            values = json.loads(path.read_text())
            config = cls(**values)
        except (ValueError, TypeError) as e:
            raise UsageError(f"{path} is not a run's config: {e}") from e
        if config.algo not in ALGOS or config.obs not in OBS_TYPES:
            raise UsageError(f"{path} names algo {config.algo!r} and obs {config.obs!r}: not ones play.py knows")
        return config


def _class_path(value: Any) -> str:
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    raise TypeError(f"{value!r} cannot be written to config.json")


#: The reward scale of learning, by observations (``TrainConfig.reward_scale``). The learners'
#: losses add the value's squared error to the policy's, and grad-norm clipping bounds their
#: sum: with returns in the hundreds, the value's gradient fills that bound and the policy
#: hardly moves. A kill worth 5 to 30 points then counts 0.25 to 1.5 (Atari learners clip to ±1).
REWARD_SCALE = {"features": 0.05, "grid": 0.05, "small_screen": 0.05, "pixels": 1.0}

#: The fields of :class:`TrainConfig` that are the game's arguments; watch, play and evaluate take them too.
GAME_FIELDS = ("difficulty", "lives", "repeat_action_probability", "frameskip")


def config_options(cls: type = TrainConfig) -> list[tuple[str, Any, str, dict[str, Any]]]:
    """``(name, default, help, argparse extras)`` of each plain option of a config dataclass."""
    return [
        (f.name, f.default, f.metadata["help"], {k: v for k, v in f.metadata.items() if k != "help"})
        for f in fields(cls)
        if f.default is not MISSING
    ]


def _extractor(obs: str) -> dict[str, Any]:
    """``policy_kwargs`` with the features extractor sized for ``obs`` (none for the features and pixels)."""
    if obs not in ("small_screen", "grid"):
        return {}
    from agent.cnn import GridCNN, ScreenCNN

    return {"policy_kwargs": {"features_extractor_class": ScreenCNN if obs == "small_screen" else GridCNN}}


def default_hyperparams(algo: str, obs: str) -> dict[str, Any]:
    """Tuned defaults for Spaceship-v0 (see README for the runs that chose them)."""
    if algo == "pg":
        return {"learning_rate": 1e-3, "n_steps": 512, **_extractor(obs)}
    if obs in ("small_screen", "grid"):
        return {"n_steps": 128, "batch_size": 256, "n_epochs": 4, "learning_rate": 2.5e-4, "ent_coef": 0.01,
                **_extractor(obs)}  # fmt: skip
    if obs == "pixels":
        return {"n_steps": 128, "batch_size": 256, "n_epochs": 4, "learning_rate": 2.5e-4, "ent_coef": 0.01}
    # The best of play.py tune's search (README, "Where the defaults come from").
    return {
        "n_steps": 512,
        "batch_size": 1024,
        "n_epochs": 20,
        "learning_rate": "lin_0.00126",
        "ent_coef": 0.0349,
        "gamma": 0.99,
        "gae_lambda": 0.98,
        "clip_range": 0.3,
        "policy_kwargs": {"net_arch": [64, 64]},
    }


def policy_name(obs: str) -> str:
    """The SB3 policy that learns from observations of kind ``obs``."""
    return "CnnPolicy" if obs == "pixels" else "MlpPolicy"


#: rl-baselines3-zoo's notation for a linear schedule: ``lin_0.001`` starts at 0.001 and ends at 0.
LINEAR = "lin_"


def linear_start(value: Any) -> float | None:
    """The start of a ``lin_X`` schedule, or None if ``value`` is not one; ``lin_`` with no number is an error."""
    if not (isinstance(value, str) and value.startswith(LINEAR)):
        return None
    try:
        start = float(value.removeprefix(LINEAR))
    except ValueError:
        start = math.nan
    if not math.isfinite(start):
        raise UsageError(f"{value!r} is not a linear schedule: expected lin_ then a number, as lin_0.0003")
    return start


def learner_kwargs(hyperparams: dict[str, Any]) -> dict[str, Any]:
    """The learner's keyword arguments from a run's JSON ``hyperparams``.

    A ``lin_X`` string becomes SB3's ``LinearSchedule(X, 0, 1)``: X at the start, falling
    linearly to 0 at the end of training, as rl-zoo's ``linear_schedule`` does. Models save
    that class as JSON, where a lambda would have to be pickled.
    """
    from stable_baselines3.common.utils import LinearSchedule

    kwargs = dict(hyperparams)
    for name, value in hyperparams.items():
        start = linear_start(value)
        if start is not None:
            kwargs[name] = LinearSchedule(start, 0.0, 1.0)
    return kwargs


def algo_class(algo: str) -> type:
    """The learner ``--algo`` names. SB3's PPO comes with the project's pickle-free save and load."""
    from agent import PPO2, SB3PPO, PolicyGradient

    return {"ppo2": PPO2, "pg": PolicyGradient, "sb3-ppo": SB3PPO}[algo]
