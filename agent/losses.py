"""The lecture's objectives as small, pure loss functions (minimised, so signs are flipped).

| lecture | function |
|---|---|
| ∇J ≈ 1/N Σ (R(τ) − b) ∇log π_θ, b = mean R | :func:`policy_gradient_loss` |
| J_PPO2 = Σ min(r·A, clip(r, 1−ε, 1+ε)·A) | :func:`clipped_surrogate_loss` |
| D_KL(π_θ' ‖ π_θ) kept small | :func:`approx_kl` |
| the critic that learns b | :func:`value_loss` |
"""

from __future__ import annotations

import torch as th
from torch.nn import functional as F


def probability_ratio(log_prob: th.Tensor, old_log_prob: th.Tensor) -> th.Tensor:
    """r_t(θ) = p_θ(a_t|s_t) / p_θᵏ(a_t|s_t), from log-probabilities."""
    return th.exp(log_prob - old_log_prob)


def clipped_surrogate_loss(
    log_prob: th.Tensor, old_log_prob: th.Tensor, advantages: th.Tensor, clip_range: float
) -> th.Tensor:
    """-mean(min(r·A, clip(r, 1−ε, 1+ε)·A)): the lecture's J_PPO2, negated for minimising.

    With A > 0 the probability may rise only to 1+ε times the old one; with A < 0 it may
    fall only to 1−ε. Past the bound the gradient is zero.
    """
    ratio = probability_ratio(log_prob, old_log_prob)
    unclipped = ratio * advantages
    clipped = th.clamp(ratio, 1.0 - clip_range, 1.0 + clip_range) * advantages
    return -th.min(unclipped, clipped).mean()


def clip_fraction(log_prob: th.Tensor, old_log_prob: th.Tensor, clip_range: float) -> th.Tensor:
    """Share of samples whose ratio lies outside [1−ε, 1+ε]."""
    ratio = probability_ratio(log_prob, old_log_prob)
    return ((ratio - 1.0).abs() > clip_range).float().mean()


def approx_kl(log_prob: th.Tensor, old_log_prob: th.Tensor) -> th.Tensor:
    """D_KL(π_θᵏ ‖ π_θ) from samples of the old policy θᵏ (the lecture's stand-in θ').

    Schulman's "k3" estimator, mean((r − 1) − log r): unbiased, never negative, and of
    lower variance than mean(−log r) (http://joschu.net/blog/kl-approx.html).
    """
    log_ratio = log_prob - old_log_prob
    return (th.exp(log_ratio) - 1.0 - log_ratio).mean()


def policy_gradient_loss(log_prob: th.Tensor, returns: th.Tensor, baseline: float | th.Tensor) -> th.Tensor:
    """-mean((R(τ) − b) · log π_θ(a_t|s_t)): REINFORCE with the lecture's baseline b."""
    return -((returns - baseline) * log_prob).mean()


def value_loss(
    values: th.Tensor,
    returns: th.Tensor,
    old_values: th.Tensor | None = None,
    clip_range_vf: float | None = None,
) -> th.Tensor:
    """Mean squared error of the critic; with ``clip_range_vf``, the prediction may move at
    most that far from ``old_values`` (SB3's value clipping, which depends on reward scale)."""
    if clip_range_vf is not None:
        if old_values is None:
            raise ValueError("value clipping needs old_values")
        values = old_values + th.clamp(values - old_values, -clip_range_vf, clip_range_vf)
    return F.mse_loss(values, returns)
