"""Stable-Baselines3's own PPO, for comparison, saved and loaded as the project's learners are."""

from __future__ import annotations

import io
import pathlib
from collections.abc import Iterable
from typing import Any, TypeVar

import torch as th
from stable_baselines3 import PPO

from agent.serialization.model_io import load_model, save_model

SelfSB3PPO = TypeVar("SelfSB3PPO", bound="SB3PPO")


class SB3PPO(PPO):
    """``stable_baselines3.PPO``, unchanged but for ``save`` and ``load``, which need no pickle.

    Its files (and checkpoints, which callbacks write with ``save``) load with
    :func:`agent.serialization.model_io.load_model` and ``PPO2.load`` alike.
    """

    def save(
        self,
        path: str | pathlib.Path | io.BufferedIOBase,
        exclude: Iterable[str] | None = None,
        include: Iterable[str] | None = None,
    ) -> None:
        save_model(self, path, exclude, include)

    @classmethod
    def load(  # type: ignore[override]
        cls: type[SelfSB3PPO],
        path: str | pathlib.Path | io.BufferedIOBase,
        env: Any = None,
        device: th.device | str = "auto",
        trust_pickle: bool = False,
        **kwargs: Any,
    ) -> SelfSB3PPO:
        return load_model(cls, path, env=env, device=device, trust_pickle=trust_pickle, **kwargs)
