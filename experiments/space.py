"""What a search tries, per learner: one table each, sampled by Optuna's TPE through Ray Tune.

The tables are the dicts below (``PPO_SPACE`` serves PPO2 and SB3's PPO, which share
their hyperparameters); ``python -m experiments.space`` and ``play.py tune --help``
print them. Every value that sizes a batch is a power of two, so a batch_size cut to the
rollout (n_steps × n_envs) always divides it: no invalid combination reaches a learner.
Where a budget is small, n_steps is cut so that a trial still runs several rollouts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Choice:
    values: tuple[Any, ...]

    def describe(self) -> str:
        return ", ".join(map(str, self.values))

    def domain(self) -> Any:
        from ray import tune

        return tune.choice(list(self.values))


@dataclass(frozen=True)
class LogUniform:
    low: float
    high: float

    def describe(self) -> str:
        return f"log-uniform {self.low:g} to {self.high:g}, {DIGITS} significant digits"

    def domain(self) -> Any:
        from ray import tune

        return tune.loguniform(self.low, self.high)


#: Significant digits kept of a sampled real number: readable in best.yml, and no coarser than the search.
DIGITS = 3
#: A trial runs at least this many rollouts, so that ASHA has several evaluations to compare.
MIN_ROLLOUTS = 4
#: The shortest rollout per env a budget cut leaves.
MIN_STEPS = 8
NETS = {"64x64": [64, 64], "128x128": [128, 128], "256x256": [256, 256]}

PPO_SPACE = {
    "net_arch": Choice(tuple(NETS)),
    "n_envs": Choice((8, 16, 32, 64)),
    "n_steps": Choice((32, 64, 128, 256, 512)),
    "batch_size": Choice((128, 256, 512, 1024, 2048, 4096)),
    "n_epochs": Choice((3, 5, 10, 20)),
    "learning_rate": LogUniform(1e-5, 3e-3),
    "lr_schedule": Choice(("constant", "linear")),
    "ent_coef": LogUniform(1e-4, 0.05),
    "gamma": Choice((0.95, 0.98, 0.99, 0.995, 0.999)),
    "gae_lambda": Choice((0.8, 0.9, 0.95, 0.98, 1.0)),
    "clip_range": Choice((0.1, 0.2, 0.3)),
    "reward_scale": Choice((1.0, 0.1, 0.05, 0.02)),
}
PG_SPACE = {
    "net_arch": Choice(tuple(NETS)),
    "n_envs": Choice((4, 8, 16, 32)),
    "n_steps": Choice((256, 512, 1024, 2048)),
    "learning_rate": LogUniform(1e-5, 3e-3),
    "reward_scale": Choice((1.0, 0.1, 0.05, 0.02)),
}
SPACES = {"ppo2": PPO_SPACE, "sb3-ppo": PPO_SPACE, "pg": PG_SPACE}
#: How a sampled value is cut or explained, for the tables.
NOTES = {
    "n_steps": f"cut to a power of two so a trial holds {MIN_ROLLOUTS} rollouts or more",
    "batch_size": "at most the rollout n_steps × n_envs, which it then divides",
    "lr_schedule": "linear falls to 0 at the end (rl-zoo's lin_X)",
    "reward_scale": "what the learner's rewards are multiplied by (best.yml: rl-zoo's vec_env_wrapper)",
}


def tune_space(algo: str) -> dict[str, Any]:
    """The learner's space as Ray Tune domains, which ``OptunaSearch`` hands to Optuna."""
    return {name: dimension.domain() for name, dimension in SPACES[algo].items()}


def _significant(value: float) -> float:
    return float(f"{value:.{DIGITS}g}")


def _power_of_two_at_most(n: int) -> int:
    return 1 << (max(n, 1).bit_length() - 1)


def trial_settings(algo: str, sample: dict[str, Any], timesteps: int) -> tuple[int, dict[str, Any]]:
    """``(n_envs, learner hyperparameters)`` of a trial from its sampled values and budget.

    The hyperparameters are JSON (a linear schedule as rl-zoo's ``"lin_X"``), as
    :class:`~experiments.config.TrainConfig` and ``best.yml`` hold them.
    """
    n_envs = sample["n_envs"]
    longest = _power_of_two_at_most(max(MIN_STEPS, timesteps // (MIN_ROLLOUTS * n_envs)))
    n_steps = min(sample["n_steps"], longest)
    learning_rate = _significant(sample["learning_rate"])
    hyperparams: dict[str, Any] = {"policy_kwargs": {"net_arch": NETS[sample["net_arch"]]}, "n_steps": n_steps}
    if "batch_size" in sample:
        hyperparams["batch_size"] = min(sample["batch_size"], n_steps * n_envs)
    if "n_epochs" in sample:
        hyperparams["n_epochs"] = sample["n_epochs"]
    hyperparams["learning_rate"] = f"lin_{learning_rate!r}" if sample.get("lr_schedule") == "linear" else learning_rate
    if "ent_coef" in sample:
        hyperparams["ent_coef"] = _significant(sample["ent_coef"])
    for name in ("gamma", "gae_lambda", "clip_range"):
        if name in sample:
            hyperparams[name] = sample[name]
    return n_envs, hyperparams


def table(algo: str) -> str:
    """The learner's space as a Markdown table."""
    rows = ["| hyperparameter | values |", "|---|---|"]
    for name, dimension in SPACES[algo].items():
        note = f"; {NOTES[name]}" if name in NOTES else ""
        rows.append(f"| {name} | {dimension.describe()}{note} |")
    return "\n".join(rows)


if __name__ == "__main__":
    for algo in SPACES:
        print(f"{algo}\n\n{table(algo)}\n")
