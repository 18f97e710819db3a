"""PPO2: the lecture's clipped surrogate objective on SB3's on-policy machinery."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, RolloutBufferSamples, Schedule
from stable_baselines3.common.utils import FloatSchedule, explained_variance
from stable_baselines3.common.vec_env import VecEnv

from agent import fast_policy
from agent.backprop import AutogradBackprop, MlpBackprop, heads_backprop
from agent.base import LectureAlgorithm
from agent.fast_policy import PolicyCalls
from agent.losses import (
    approx_kl,
    approx_kl_grad,
    clip_fraction,
    clipped_surrogate_grad,
    clipped_surrogate_loss,
    log_softmax_grad,
    value_loss,
    value_loss_grad,
)
from agent.rollout import FastRollouts

SelfPPO2 = TypeVar("SelfPPO2", bound="PPO2")

#: What train() logs per minibatch, averaged per update.
METRICS = ("policy", "value", "entropy", "kl", "clip", "loss")


def check_batch_size_as_sb3(batch_size: int, normalize_advantage: bool, n_steps: int, env: VecEnv | None) -> None:
    """SB3's ``PPO.__init__`` checks, with its exception types and warning, for code that catches them.

    SB3 uses ``assert``; these are raised, so that ``python -O`` keeps them. A rollout that
    ``batch_size`` does not divide, or is smaller than, is allowed: ``RolloutBuffer.get``
    ends each epoch with a truncated minibatch (the whole rollout, if it is the smaller).
    """
    if normalize_advantage and batch_size <= 1:  # SB3 issue #440: one sample cannot be standardised
        raise AssertionError(
            "`batch_size` must be greater than 1. See https://github.com/DLR-RM/stable-baselines3/issues/440"
        )
    if env is None:
        return
    buffer_size = env.num_envs * n_steps
    if normalize_advantage and buffer_size <= 1:
        raise AssertionError(
            f"`n_steps * n_envs` must be greater than 1. Currently n_steps={n_steps} and n_envs={env.num_envs}"
        )
    if buffer_size % batch_size > 0:
        warnings.warn(
            f"You have specified a mini-batch size of {batch_size},"
            f" but because the `RolloutBuffer` is of size `n_steps * n_envs = {buffer_size}`,"
            f" after every {buffer_size // batch_size} untruncated mini-batches,"
            f" there will be a truncated mini-batch of size {buffer_size % batch_size}\n"
            f"We recommend using a `batch_size` that is a factor of `n_steps * n_envs`.\n"
            f"Info: (n_steps={n_steps} and n_envs={env.num_envs})",
            stacklevel=3,
        )


def per_metric(rows: list[th.Tensor]) -> dict[str, list[float]]:
    """Each minibatch's row of :data:`METRICS`, read out in one go, as one list per metric."""
    table = th.stack(rows).tolist() if rows else []
    return {name: [row[k] for row in table] for k, name in enumerate(METRICS)}


def update_tensors_together(optimizer: th.optim.Optimizer) -> None:
    """Let a CPU optimiser update all its tensors per call, unless the user chose how.

    On the CPU, torch's default is a Python loop over the tensors, a dozen small calls per
    tensor. Adam (and AdamW) get ``fused``: one kernel, the same update up to rounding
    (about 1e-7 relative). Other optimisers get ``foreach``: the same arithmetic per tensor.
    """
    for group in optimizer.param_groups:
        if any(p.device.type != "cpu" for p in group["params"]):
            continue
        if group.get("foreach", False) is not None or group.get("fused") is not None:
            continue  # the user's choice
        if isinstance(optimizer, th.optim.Adam):
            group["fused"], group["foreach"] = True, False
        else:
            group["foreach"] = True


class PPO2(FastRollouts, LectureAlgorithm):
    """Proximal Policy Optimization, clip version, written from the lecture's J_PPO2.

    Paper: https://arxiv.org/abs/1707.06347. A drop-in for ``stable_baselines3.PPO``: the
    same arguments, defaults and policies; ``train()`` is ours, built on
    :mod:`agent.losses`. Truncated episodes bootstrap from the value of their last state
    (as SB3's ``collect_rollouts``), so a time limit is not mistaken for a death.

    Faster than SB3's PPO, with SB3's numbers: rollouts go through
    :class:`agent.rollout.FastRollouts` and :class:`agent.fast_policy.PolicyCalls`, which
    draw the same actions from the same random streams. With a Categorical policy the
    update takes the losses' gradient with respect to the logits and values in closed form
    (:mod:`agent.losses`) and backpropagates only through the network, written out for a
    plain MLP (:mod:`agent.backprop`); a CPU Adam runs ``fused`` unless
    ``policy_kwargs["optimizer_kwargs"]`` choose ``foreach`` or ``fused``. The weights then
    agree with SB3's PPO to rounding (tests/test_ppo2_speed_path.py states how close).
    Dict observations, gSDE and a custom ``rollout_buffer_class`` collect with SB3's code.

    :param policy: ``"MlpPolicy"``, ``"CnnPolicy"``, ``"MultiInputPolicy"`` or a policy class.
    :param env: the environment, a ``VecEnv``, or a registered id.
    :param learning_rate: Adam's step size, or a schedule of the progress remaining (1 → 0).
    :param n_steps: steps per env per rollout; the rollout holds ``n_steps * n_envs`` samples.
    :param batch_size: minibatch size; one that does not divide ``n_steps * n_envs`` leaves a
        truncated minibatch per epoch (warned, as by SB3); > 1 with advantage normalisation.
    :param n_epochs: passes over each rollout: the lecture's "train on one batch many times".
    :param gamma: discount factor.
    :param gae_lambda: GAE's bias/variance trade-off for the advantage A^θᵏ.
    :param clip_range: the lecture's ε (> 0), or a schedule.
    :param clip_range_vf: value clipping around the old values (> 0; depends on reward scale); None: off.
    :param normalize_advantage: standardise advantages per minibatch.
    :param ent_coef: entropy bonus weight.
    :param vf_coef: value loss weight.
    :param max_grad_norm: gradient norm clip.
    :param use_sde: generalised state-dependent exploration (Box actions only).
    :param sde_sample_freq: steps between gSDE noise samples; -1: once per rollout.
    :param rollout_buffer_class: rollout buffer class; None: chosen from the observation space.
    :param rollout_buffer_kwargs: its keyword arguments.
    :param target_kl: stop an update's epochs early once the KL estimate passes 1.5 × this; None: off.
    :param stats_window_size: episodes averaged in the rollout logs.
    :param tensorboard_log: TensorBoard log folder; None: no TensorBoard.
    :param policy_kwargs: keyword arguments for the policy.
    :param verbose: 0 quiet, 1 info, 2 debug.
    :param seed: seed for torch, numpy and the env.
    :param device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
    :param _init_setup_model: build the networks now.
    :param kl_coef: initial weight β of a KL penalty β·D_KL(π_θᵏ ‖ π_θ), the lecture's
        "keep the stand-in close"; 0 (default): off.
    :param kl_penalty_target: with ``kl_coef > 0``, β halves when the mean KL of an update
        falls below this / 1.5 and doubles above this × 1.5 (the PPO paper's adaptive KL).
    """

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-4,
        n_steps: int = 2048,
        batch_size: int = 64,
        n_epochs: int = 10,
        gamma: float = 0.99,
        gae_lambda: float = 0.95,
        clip_range: float | Schedule = 0.2,
        clip_range_vf: float | Schedule | None = None,
        normalize_advantage: bool = True,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
        rollout_buffer_class: type[RolloutBuffer] | None = None,
        rollout_buffer_kwargs: dict[str, Any] | None = None,
        target_kl: float | None = None,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
        kl_coef: float = 0.0,
        kl_penalty_target: float = 0.01,
    ) -> None:
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps,
            gamma=gamma,
            gae_lambda=gae_lambda,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            max_grad_norm=max_grad_norm,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
            rollout_buffer_class=rollout_buffer_class,
            rollout_buffer_kwargs=rollout_buffer_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            device=device,
            seed=seed,
            _init_setup_model=False,
            supported_action_spaces=(spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary),
        )
        check_batch_size_as_sb3(batch_size, normalize_advantage, n_steps, self.env)
        if isinstance(clip_range, (int, float)) and clip_range <= 0:  # beyond SB3, which trains on regardless
            raise ValueError(f"clip_range must be > 0, got {clip_range}")
        if kl_coef < 0 or kl_penalty_target <= 0:
            raise ValueError(f"kl_coef must be >= 0 and kl_penalty_target > 0, got {kl_coef}, {kl_penalty_target}")
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.clip_range = clip_range
        self.clip_range_vf = clip_range_vf
        self.normalize_advantage = normalize_advantage
        self.target_kl = target_kl
        self.kl_coef = kl_coef
        self.kl_penalty_target = kl_penalty_target
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        super()._setup_model()
        self.clip_range = FloatSchedule(self.clip_range)
        if self.clip_range_vf is not None:
            if isinstance(self.clip_range_vf, (float, int)) and self.clip_range_vf <= 0:  # as SB3, when set up
                raise AssertionError("`clip_range_vf` must be positive, pass `None` to deactivate vf clipping")
            self.clip_range_vf = FloatSchedule(self.clip_range_vf)

    def _setup_learn(self, *args: Any, **kwargs: Any) -> tuple[int, Any]:
        update_tensors_together(self.policy.optimizer)
        return super()._setup_learn(*args, **kwargs)

    def train(self) -> None:
        """Several epochs of minibatch updates on the rollout, from the clipped surrogate."""
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        clip_range = self.clip_range(self._current_progress_remaining)
        clip_range_vf = None if self.clip_range_vf is None else self.clip_range_vf(self._current_progress_remaining)
        policy_calls = PolicyCalls(self.policy)
        backprop = heads_backprop(policy_calls)
        rows: list[th.Tensor] = []  # one per minibatch evaluated, in the order of METRICS
        stop_kl = None
        for epoch in range(self.n_epochs):
            for batch in self.rollout_buffer.get(self.batch_size):
                advantages = batch.advantages
                # Standardising a minibatch of one is meaningless (SB3 issue #325).
                if self.normalize_advantage and len(advantages) > 1:
                    batch = batch._replace(advantages=(advantages - advantages.mean()) / (advantages.std() + 1e-8))
                if policy_calls.categorical:
                    row, backward = self._closed_form_step(backprop, batch, clip_range, clip_range_vf)
                else:
                    row, backward = self._autograd_step(policy_calls, batch, clip_range, clip_range_vf), None
                rows.append(row.detach())  # SB3 counts the minibatch that stops the update too
                loss, kl = row[METRICS.index("loss")], row[METRICS.index("kl")]
                if self.target_kl is not None and kl.item() > 1.5 * self.target_kl:
                    stop_kl = kl.item()
                    if self.verbose >= 1:
                        print(f"Early stopping at epoch {epoch}: approx_kl {stop_kl:.3f} > 1.5 x target_kl")
                    break
                self._gradient_step(loss, f"epoch {epoch}", backward)
            self._n_updates += 1
            if stop_kl is not None:
                break
        stats = per_metric(rows)
        self._adapt_kl_coef(stats["kl"])
        self._record(stats, clip_range, clip_range_vf)
        self.logger.record("train/stopped_early", int(stop_kl is not None))

    def _closed_form_step(
        self,
        backprop: MlpBackprop | AutogradBackprop,
        batch: RolloutBufferSamples,
        clip_range: float,
        clip_range_vf: float | None,
    ) -> tuple[th.Tensor, Callable[[], list[th.Tensor]]]:
        """A Categorical policy's minibatch: the losses (for the guard and the logs) and
        their gradient in closed form, then autograd through the network at most."""
        actions = batch.actions.long().flatten()
        logits, values = backprop.forward(batch.observations)
        with th.no_grad():
            log_pmf = fast_policy.normalized_logits(logits)
            log_prob = fast_policy.log_prob(log_pmf, actions)
            row = self._losses(log_prob, fast_policy.entropy(log_pmf), values, batch, clip_range, clip_range_vf)
            grads = self._head_grads(log_pmf, actions, log_prob, values, batch, clip_range, clip_range_vf)
        return row, partial(backprop.backward, *grads)

    def _autograd_step(
        self, policy_calls: PolicyCalls, batch: RolloutBufferSamples, clip_range: float, clip_range_vf: float | None
    ) -> th.Tensor:
        """Any other policy's minibatch: the losses, for autograd."""
        actions = batch.actions
        if isinstance(self.action_space, spaces.Discrete):
            actions = actions.long().flatten()
        values, log_prob, entropy = policy_calls.evaluate_actions(batch.observations, actions)
        return self._losses(log_prob, entropy, values, batch, clip_range, clip_range_vf)

    def _losses(
        self,
        log_prob: th.Tensor,
        entropy: th.Tensor | None,
        values: th.Tensor,
        batch: RolloutBufferSamples,
        clip_range: float,
        clip_range_vf: float | None,
    ) -> th.Tensor:
        """The minibatch's loss and its parts, as a row in the order of :data:`METRICS`."""
        policy_loss = clipped_surrogate_loss(log_prob, batch.old_log_prob, batch.advantages, clip_range)
        v_loss = value_loss(values.flatten(), batch.returns, batch.old_values, clip_range_vf)
        # Without a closed-form entropy, -log π is its one-sample estimate.
        entropy_loss = -th.mean(-log_prob if entropy is None else entropy)
        kl = approx_kl(log_prob, batch.old_log_prob)
        loss = policy_loss + self.ent_coef * entropy_loss + self.vf_coef * v_loss
        if self.kl_coef > 0:
            loss = loss + self.kl_coef * kl
        with th.no_grad():
            clip = clip_fraction(log_prob, batch.old_log_prob, clip_range)
        return th.stack([policy_loss, v_loss, entropy_loss, kl, clip, loss])  # in the order of METRICS

    def _head_grads(
        self,
        log_pmf: th.Tensor,
        actions: th.Tensor,
        log_prob: th.Tensor,
        values: th.Tensor,
        batch: RolloutBufferSamples,
        clip_range: float,
        clip_range_vf: float | None,
    ) -> tuple[th.Tensor, th.Tensor]:
        """d loss/d logits and d loss/d values: :meth:`_losses`' gradient, term by term."""
        d_log_prob = clipped_surrogate_grad(log_prob, batch.old_log_prob, batch.advantages, clip_range)
        if self.kl_coef > 0:
            d_log_prob = d_log_prob + self.kl_coef * approx_kl_grad(log_prob, batch.old_log_prob)
        # entropy_loss = -mean(H): its gradient is -entropy_grad / N on every row.
        d_log_pmf = fast_policy.entropy_grad(log_pmf).mul_(-self.ent_coef / len(log_pmf))
        d_log_pmf.scatter_add_(-1, actions.unsqueeze(-1), d_log_prob.unsqueeze(-1))
        d_values = value_loss_grad(values.flatten(), batch.returns, batch.old_values, clip_range_vf)
        return log_softmax_grad(d_log_pmf, log_pmf), (self.vf_coef * d_values).view_as(values)

    def _adapt_kl_coef(self, kls: list[float]) -> None:
        """The PPO paper's adaptive β: halve when the policy barely moved, double when too far."""
        if self.kl_coef <= 0 or not kls:
            return
        mean_kl = float(np.mean(kls))
        if mean_kl < self.kl_penalty_target / 1.5:
            self.kl_coef /= 2
        elif mean_kl > self.kl_penalty_target * 1.5:
            self.kl_coef *= 2

    def _record(self, stats: dict[str, list[float]], clip_range: float, clip_range_vf: float | None) -> None:
        def mean(key: str) -> float:
            return float(np.mean(stats[key])) if stats[key] else float("nan")

        buffer = self.rollout_buffer
        self.logger.record("train/policy_loss", mean("policy"))
        self.logger.record("train/value_loss", mean("value"))
        self.logger.record("train/entropy_loss", mean("entropy"))
        self.logger.record("train/approx_kl", mean("kl"))
        self.logger.record("train/clip_fraction", mean("clip"))
        self.logger.record("train/loss", mean("loss"))
        self.logger.record(
            "train/explained_variance", explained_variance(buffer.values.flatten(), buffer.returns.flatten())
        )
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/clip_range", clip_range)
        if clip_range_vf is not None:
            self.logger.record("train/clip_range_vf", clip_range_vf)
        if self.kl_coef > 0:
            self.logger.record("train/kl_coef", self.kl_coef)
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())

    def learn(
        self: SelfPPO2,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "PPO2",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfPPO2:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
