"""What the lecture's learners share on top of SB3's ``OnPolicyAlgorithm``."""

from __future__ import annotations

import io
import pathlib
import pickle
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

from agent.atomic_file import remove_stale_partials, replace_atomically, signals_held

#: What reading a damaged or foreign zip raises inside SB3's ``load``, besides ``ValueError``
#: (which also covers bad JSON and CRC errors).
UNREADABLE = (
    zipfile.BadZipFile,
    EOFError,
    KeyError,
    RuntimeError,
    AssertionError,
    pickle.UnpicklingError,
    AttributeError,  # data of the wrong shape
    TypeError,
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

    def _gradient_step(self, loss: th.Tensor, where: str) -> None:
        """One optimiser step on ``loss``, refused before a NaN or inf reaches the weights."""
        self._check_finite(loss, where)
        self.policy.optimizer.zero_grad()
        loss.backward()
        try:
            th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm, error_if_nonfinite=True)
        except RuntimeError as e:
            raise self._not_finite("gradient norm", where) from e
        self.policy.optimizer.step()

    def _check_finite(self, loss: th.Tensor, where: str) -> None:
        if not th.isfinite(loss):
            raise self._not_finite(f"loss {loss.item()}", where)

    def _not_finite(self, what: str, where: str) -> FloatingPointError:
        return FloatingPointError(
            f"{type(self).__name__}: the {what} is not finite at update {self._n_updates} ({where}), "
            f"after {self.num_timesteps} timesteps; this minibatch was not applied. "
            "Check the rewards and observations for NaN/inf, or lower the learning rate."
        )

    def save(self, path: str | pathlib.Path | io.BufferedIOBase, *args: Any, **kwargs: Any) -> None:
        """SB3's ``save``, made atomic: an interrupted save never leaves a half-written zip.

        SIGINT and SIGTERM arriving during the save are delivered right after it, and the
        leftovers of killed saves in the folder are removed (:mod:`agent.atomic_file`).
        """
        if not isinstance(path, (str, pathlib.Path)):
            return super().save(path, *args, **kwargs)
        file = pathlib.Path(path)
        if file.suffix == "":
            file = file.with_name(file.name + ".zip")
        file.parent.mkdir(parents=True, exist_ok=True)
        with signals_held():
            buffer = io.BytesIO()
            super().save(buffer, *args, **kwargs)
            remove_stale_partials(file.parent)
            replace_atomically(file, buffer.getvalue())

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
        except ValueError as e:
            if "spaces do not match" in str(e) or "policy kwargs" in str(e):
                raise  # SB3's word: the file is fine, but not for this env or these arguments
            raise ModelLoadError(f"{path} is not a readable {cls.__name__} model: {e}") from e
        except UNREADABLE as e:
            raise ModelLoadError(f"{path} is not a readable {cls.__name__} model: {e}") from e
