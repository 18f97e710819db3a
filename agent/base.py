"""What the lecture's learners share on top of SB3's ``OnPolicyAlgorithm``."""

from __future__ import annotations

import io
import pathlib
import zipfile
from typing import Any, ClassVar, TypeVar

import torch as th
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import (
    ActorCriticCnnPolicy,
    ActorCriticPolicy,
    BasePolicy,
    MultiInputActorCriticPolicy,
)

SelfAlgorithm = TypeVar("SelfAlgorithm", bound="LectureAlgorithm")


class ModelLoadError(ValueError):
    """A model file is missing, truncated, or not a model zip."""


class LectureAlgorithm(OnPolicyAlgorithm):
    """SB3's on-policy base with the policy aliases of SB3's PPO, a loss guard and a careful ``load``."""

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": ActorCriticPolicy,
        "CnnPolicy": ActorCriticCnnPolicy,
        "MultiInputPolicy": MultiInputActorCriticPolicy,
    }

    def _check_finite(self, loss: th.Tensor, where: str) -> None:
        """Stop before a NaN or inf loss reaches the weights, naming the update."""
        if not th.isfinite(loss):
            raise FloatingPointError(
                f"{type(self).__name__}: the loss is {loss.item()} at update {self._n_updates} ({where}), "
                f"after {self.num_timesteps} timesteps; the weights were not changed. "
                "Check the rewards and observations for NaN/inf, or lower the learning rate."
            )

    @classmethod
    def load(  # type: ignore[override]
        cls: type[SelfAlgorithm], path: str | pathlib.Path | io.BufferedIOBase, *args: Any, **kwargs: Any
    ) -> SelfAlgorithm:
        """SB3's ``load``, with a one-line error for a missing, truncated or foreign file."""
        if isinstance(path, (str, pathlib.Path)):
            file = pathlib.Path(path)
            if not file.exists() and file.with_suffix(".zip").exists():
                file = file.with_suffix(".zip")
            if not file.is_file():
                raise ModelLoadError(f"no model file at {path}")
            if not zipfile.is_zipfile(file):
                raise ModelLoadError(f"{file} is not a model zip (truncated or another kind of file)")
            path = file
        try:
            return super().load(path, *args, **kwargs)
        except (zipfile.BadZipFile, EOFError, KeyError, RuntimeError, AssertionError) as e:
            raise ModelLoadError(f"{path} is not a readable {cls.__name__} model: {e}") from e
