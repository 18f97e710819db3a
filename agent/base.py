"""What the lecture's learners share on top of SB3's ``OnPolicyAlgorithm``."""

from __future__ import annotations

from typing import ClassVar

import torch as th
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.policies import (
    ActorCriticCnnPolicy,
    ActorCriticPolicy,
    BasePolicy,
    MultiInputActorCriticPolicy,
)

from agent.serialization import ModelLoadError, PickleFreeFiles

__all__ = ["LectureAlgorithm", "ModelLoadError"]


class LectureAlgorithm(PickleFreeFiles, OnPolicyAlgorithm):
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
