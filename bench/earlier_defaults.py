"""play.py's earlier defaults for PPO2 on the features, which the benches compare today's against."""

from __future__ import annotations

from typing import Any

#: play.py's defaults before any search: 32 games, unscaled rewards.
OLD: dict[str, Any] = {
    "n_envs": 32,
    "reward_scale": 1.0,
    "hyperparams": {
        "n_steps": 256,
        "batch_size": 2048,
        "n_epochs": 10,
        "learning_rate": 3e-4,
        "ent_coef": 0.01,
        "gamma": 0.99,
        "gae_lambda": 0.95,
    },
}
#: play.py's defaults after the first search (trial a471d33e), before the one that tuned for 60 CPU s.
FIRST: dict[str, Any] = {
    "n_envs": 32,
    "reward_scale": 0.05,
    "hyperparams": {
        "n_steps": 256,
        "batch_size": 256,
        "n_epochs": 10,
        "learning_rate": "lin_0.000441",
        "ent_coef": 0.0104,
        "gamma": 0.99,
        "gae_lambda": 0.95,
        "clip_range": 0.3,
        "policy_kwargs": {"net_arch": [64, 64]},
    },
}
EARLIER: dict[str, dict[str, Any]] = {"old": OLD, "first": FIRST}
