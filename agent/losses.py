"""The lecture's objectives as small, pure loss functions (minimised, so signs are flipped).

| lecture | function |
|---|---|
| ∇J ≈ 1/N Σ (R(τ) − b) ∇log π_θ, b = mean R | :func:`policy_gradient_loss` |
| J_PPO2 = Σ min(r·A, clip(r, 1−ε, 1+ε)·A) | :func:`clipped_surrogate_loss` |
| D_KL(π_θ' ‖ π_θ) kept small | :func:`approx_kl` |
| the critic that learns b | :func:`value_loss` |

Below them, each loss's gradient in closed form (:func:`clipped_surrogate_grad`, ...), for
PPO2's update that runs autograd through the network only: at a minibatch of 256, taping
and replaying the two dozen small operations of the losses costs more than the network.
``tests/test_losses.py`` holds each to autograd's gradient of the loss above it.
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


# --- Their gradients ---------------------------------------------------------------------
def clipped_surrogate_grad(
    log_prob: th.Tensor, old_log_prob: th.Tensor, advantages: th.Tensor, clip_range: float
) -> th.Tensor:
    """d/d log π of :func:`clipped_surrogate_loss`: -r·A/N where min() takes r·A, else 0.

    Where r lies inside the band the two terms are equal and both pass r·A; where min()
    takes the clipped term, r is outside the band and the clamp passes nothing.
    """
    ratio = probability_ratio(log_prob, old_log_prob)
    unclipped = ratio * advantages
    clipped = th.clamp(ratio, 1.0 - clip_range, 1.0 + clip_range) * advantages
    return th.where(unclipped <= clipped, -unclipped / len(log_prob), 0.0)


def approx_kl_grad(log_prob: th.Tensor, old_log_prob: th.Tensor) -> th.Tensor:
    """d/d log π of :func:`approx_kl`: (r − 1)/N."""
    return (probability_ratio(log_prob, old_log_prob) - 1.0) / len(log_prob)


def value_loss_grad(
    values: th.Tensor,
    returns: th.Tensor,
    old_values: th.Tensor | None = None,
    clip_range_vf: float | None = None,
) -> th.Tensor:
    """d/d values of :func:`value_loss`: 2(v − R)/N, and 0 where clipping holds v still."""
    if clip_range_vf is None:
        return 2.0 * (values - returns) / values.numel()
    if old_values is None:
        raise ValueError("value clipping needs old_values")
    change = values - old_values
    error = old_values + th.clamp(change, -clip_range_vf, clip_range_vf) - returns
    return th.where(change.abs() <= clip_range_vf, 2.0 * error / values.numel(), 0.0)


def log_softmax_grad(grad_log_pmf: th.Tensor, log_pmf: th.Tensor) -> th.Tensor:
    """Back through log π = z − logsumexp(z): from d/d log π to d/d z, g − π·Σg."""
    return grad_log_pmf - log_pmf.exp() * grad_log_pmf.sum(-1, keepdim=True)
