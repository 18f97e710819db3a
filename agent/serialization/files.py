"""``save`` and ``load`` without pickle, for any SB3 algorithm class that takes this mixin."""

from __future__ import annotations

import io
import pathlib
from collections.abc import Iterable
from typing import Any, TypeVar

import torch as th
from stable_baselines3.common.type_aliases import GymEnv

from agent.serialization.model_io import load_model, save_model

SelfModel = TypeVar("SelfModel", bound="PickleFreeFiles")


class PickleFreeFiles:
    """SB3's ``save`` and ``load``, with ``data`` in plain JSON: loading a file runs no code from it.

    Put it before the SB3 class: ``class PPO2(PickleFreeFiles, OnPolicyAlgorithm)``.
    """

    def save(
        self,
        path: str | pathlib.Path | io.BufferedIOBase,
        exclude: Iterable[str] | None = None,
        include: Iterable[str] | None = None,
    ) -> None:
        """SB3's ``save`` with ``data`` in plain JSON, written atomically (:func:`save_model`)."""
        save_model(self, path, exclude, include)

    @classmethod
    def load(  # type: ignore[override]
        cls: type[SelfModel],
        path: str | pathlib.Path | io.BufferedIOBase,
        env: GymEnv | None = None,
        device: th.device | str = "auto",
        custom_objects: dict[str, Any] | None = None,
        print_system_info: bool = False,
        force_reset: bool = True,
        trust_pickle: bool = False,
        **kwargs: Any,
    ) -> SelfModel:
        """SB3's ``load``, which by default unpickles nothing (:func:`load_model`).

        Reads this project's files whole, and SB3's own files (``stable_baselines3.PPO(...).save``)
        but for what SB3 rebuilds anyway, set to None: ``lr_schedule`` (made again from
        ``learning_rate``), ``_last_obs``, ``_last_original_obs`` and ``_last_episode_starts``
        (the next ``learn`` resets the envs), ``ep_info_buffer`` and ``ep_success_buffer``
        (the rollout logs' means start afresh). An SB3 file whose ``learning_rate`` or
        ``clip_range`` is a function, or whose observations are a ``Dict`` space, is refused
        with a one-line :class:`ModelLoadError` naming the entry: pass ``custom_objects`` or,
        for a file you trust, ``trust_pickle=True`` (unpickling runs any code the file holds).
        """
        return load_model(
            cls,
            path,
            env=env,
            device=device,
            custom_objects=custom_objects,
            print_system_info=print_system_info,
            force_reset=force_reset,
            trust_pickle=trust_pickle,
            **kwargs,
        )
