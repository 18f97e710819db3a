"""What the lecture's learners share on top of SB3's ``OnPolicyAlgorithm``."""

from __future__ import annotations

from collections.abc import Callable
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


def clip_grad_norm(grads: list[th.Tensor], max_norm: float) -> bool:
    """``torch.nn.utils.clip_grad_norm_``'s scaling, in place; False (nothing scaled) if the norm is not finite.

    The same operations as torch's on tensors of one device and dtype, without its
    per-call grouping of tensors by device, a third of a small network's update. The norm
    is that of all of ``grads`` together, however they are split into tensors.
    """
    if not grads:
        return True
    total = th.linalg.vector_norm(th.stack(th._foreach_norm(grads)))
    if not th.isfinite(total):
        return False
    th._foreach_mul_(grads, th.clamp(max_norm / (total + 1e-6), max=1.0))
    return True


class LectureAlgorithm(PickleFreeFiles, OnPolicyAlgorithm):
    """SB3's on-policy base with the policy aliases of SB3's PPO, a loss guard, and pickle-free ``save``/``load``."""

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {
        "MlpPolicy": ActorCriticPolicy,
        "CnnPolicy": ActorCriticCnnPolicy,
        "MultiInputPolicy": MultiInputActorCriticPolicy,
    }

    def _gradient_step(
        self, loss: th.Tensor, where: str, backward: Callable[[], list[th.Tensor]] | None = None
    ) -> None:
        """One optimiser step on ``loss``, refused before a NaN or inf reaches the weights.

        ``backward``, if given, sets the gradients in place of ``loss.backward()`` and returns
        the tensors that hold them: for a loss whose gradient is computed in closed form
        (:mod:`agent.backprop`).
        """
        self._check_finite(loss, where)
        if backward is None:
            self.policy.optimizer.zero_grad()
            loss.backward()
            grads = [p.grad for p in self.policy.parameters() if p.grad is not None]
        else:
            grads = backward()
        if not clip_grad_norm(grads, self.max_grad_norm):
            raise self._not_finite("gradient norm", where)
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
