"""What the lecture's learners share on top of SB3's ``OnPolicyAlgorithm``."""

from __future__ import annotations

import io
import pathlib
from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar

import torch as th
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import (
    ActorCriticCnnPolicy,
    ActorCriticPolicy,
    BasePolicy,
    MultiInputActorCriticPolicy,
)
from stable_baselines3.common.type_aliases import GymEnv

from agent.serialization import ModelLoadError, load_model, save_model

__all__ = ["LectureAlgorithm", "ModelLoadError"]

SelfAlgorithm = TypeVar("SelfAlgorithm", bound="LectureAlgorithm")


class LectureAlgorithm(OnPolicyAlgorithm):
    """SB3's on-policy base with the policy aliases of SB3's PPO, a loss guard, and pickle-free ``save``/``load``."""

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

    def save(
        self,
        path: str | pathlib.Path | io.BufferedIOBase,
        exclude: Iterable[str] | None = None,
        include: Iterable[str] | None = None,
    ) -> None:
        """SB3's ``save`` with ``data`` in plain JSON, written atomically (:func:`agent.serialization.save_model`)."""
        save_model(self, path, exclude, include)

    @classmethod
    def load(  # type: ignore[override]
        cls: type[SelfAlgorithm],
        path: str | pathlib.Path | io.BufferedIOBase,
        env: GymEnv | None = None,
        device: th.device | str = "auto",
        custom_objects: dict[str, Any] | None = None,
        print_system_info: bool = False,
        force_reset: bool = True,
        trust_pickle: bool = False,
        **kwargs: Any,
    ) -> SelfAlgorithm:
        """SB3's ``load``, which by default unpickles nothing: see :func:`agent.serialization.model_io.load_model`.

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
