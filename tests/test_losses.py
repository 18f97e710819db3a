"""The lecture's losses, by hand-computed numbers and their gradients; the closed-form
gradients PPO2 trains with, against autograd's gradients of the losses."""

import math

import pytest
import torch as th

from agent.fast_policy import entropy, entropy_grad, normalized_logits
from agent.losses import (
    approx_kl,
    approx_kl_grad,
    clip_fraction,
    clipped_surrogate_grad,
    clipped_surrogate_loss,
    log_softmax_grad,
    policy_gradient_loss,
    value_loss,
    value_loss_grad,
)


def logs(*ratios):
    """log-probabilities whose ratio to an old log-probability of 0 is ``ratios``."""
    return th.tensor([math.log(r) for r in ratios], requires_grad=True)


def test_clipped_surrogate_by_hand():
    # ratios 0.5, 1.0, 1.5 with eps 0.2; advantages 1, -2, 3
    # min(r A, clip(r) A): min(0.5, 0.8)=0.5; min(-2, -2)=-2; min(4.5, 3.6)=3.6 -> mean 2.1/3 = 0.7
    loss = clipped_surrogate_loss(logs(0.5, 1.0, 1.5), th.zeros(3), th.tensor([1.0, -2.0, 3.0]), 0.2)
    assert loss.item() == pytest.approx(-0.7)


def test_ratio_above_band_with_positive_advantage_has_zero_gradient():
    log_prob = logs(1.5)
    clipped_surrogate_loss(log_prob, th.zeros(1), th.tensor([2.0]), 0.2).backward()
    assert log_prob.grad.item() == 0.0


def test_ratio_below_band_with_negative_advantage_has_zero_gradient():
    log_prob = logs(0.5)
    clipped_surrogate_loss(log_prob, th.zeros(1), th.tensor([-2.0]), 0.2).backward()
    assert log_prob.grad.item() == 0.0


@pytest.mark.parametrize("ratio, advantage", [(1.5, -2.0), (0.5, 2.0)])
def test_outside_band_on_the_side_that_undoes_the_move_the_gradient_flows(ratio, advantage):
    # min() picks the unclipped r·A here, so the step pulls the ratio back towards 1
    log_prob = logs(ratio)
    clipped_surrogate_loss(log_prob, th.zeros(1), th.tensor([advantage]), 0.2).backward()
    assert log_prob.grad.item() == pytest.approx(-advantage * ratio)


def test_inside_band_gradient_is_advantage_times_ratio_gradient():
    # d(-r A)/d log_prob = -A r, since dr/dlog_prob = r
    log_prob = logs(1.1)
    clipped_surrogate_loss(log_prob, th.zeros(1), th.tensor([2.0]), 0.2).backward()
    assert log_prob.grad.item() == pytest.approx(-2.0 * 1.1)


def test_clip_fraction_counts_ratios_outside_the_band():
    assert clip_fraction(logs(0.5, 1.0, 1.1, 1.5), th.zeros(4), 0.2).item() == 0.5


def test_approx_kl_is_the_k3_estimator_and_zero_for_equal_policies():
    # (r - 1) - log r for r = 2: 1 - log 2
    assert approx_kl(logs(2.0), th.zeros(1)).item() == pytest.approx(1 - math.log(2))
    assert approx_kl(th.zeros(5), th.zeros(5)).item() == 0.0


def test_policy_gradient_loss_weights_log_prob_by_return_minus_baseline():
    log_prob = th.tensor([-1.0, -2.0], requires_grad=True)
    returns = th.tensor([10.0, 30.0])
    loss = policy_gradient_loss(log_prob, returns, returns.mean())  # b = 20
    # -mean((10-20)(-1), (30-20)(-2)) = -mean(10, -20) = 5
    assert loss.item() == pytest.approx(5.0)
    loss.backward()
    assert log_prob.grad.tolist() == pytest.approx([5.0, -5.0])  # -(R - b) / N


def test_value_loss_plain_and_clipped():
    values, returns, old = th.tensor([2.0]), th.tensor([0.0]), th.tensor([1.0])
    assert value_loss(values, returns).item() == 4.0
    # clipped to 1 + 0.5 = 1.5 -> 2.25
    assert value_loss(values, returns, old, 0.5).item() == 2.25
    with pytest.raises(ValueError, match="old_values"):
        value_loss(values, returns, None, 0.5)


# --- the closed-form gradients against autograd ---------------------------------------------
def autograd_of(loss_fn, x, *args):
    x = x.detach().clone().requires_grad_()
    loss_fn(x, *args).backward()
    return x.grad


def minibatch(seed, n=512):
    """Log-probabilities whose ratios to the old ones spread over [0.4, 2.5], both signs of advantage."""
    g = th.Generator().manual_seed(seed)
    old = -th.rand(n, generator=g) * 3
    log_prob = old + (th.rand(n, generator=g) * 1.8 - 0.9)
    return log_prob, old, th.randn(n, generator=g)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("clip_range", [0.1, 0.3])
def test_clipped_surrogate_grad_is_autograds(seed, clip_range):
    log_prob, old, advantages = minibatch(seed)
    expected = autograd_of(clipped_surrogate_loss, log_prob, old, advantages, clip_range)
    got = clipped_surrogate_grad(log_prob, old, advantages, clip_range)
    assert (expected == 0).sum() > 50 and (expected != 0).sum() > 50  # both sides of the clip are tried
    th.testing.assert_close(got, expected, rtol=1e-6, atol=1e-9)


def test_clipped_surrogate_grad_on_the_band_edges_and_at_zero_advantage():
    log_prob = logs(0.8, 1.2, 1.2, 0.8, 1.5)
    old, advantages = th.zeros(5), th.tensor([1.0, 1.0, -1.0, -1.0, 0.0])
    expected = autograd_of(clipped_surrogate_loss, log_prob, old, advantages, 0.2)
    th.testing.assert_close(clipped_surrogate_grad(log_prob.detach(), old, advantages, 0.2), expected)


@pytest.mark.parametrize("seed", range(3))
def test_approx_kl_grad_is_autograds(seed):
    log_prob, old, _ = minibatch(seed)
    th.testing.assert_close(approx_kl_grad(log_prob, old), autograd_of(approx_kl, log_prob, old))


@pytest.mark.parametrize("clip_range_vf", [None, 0.2])
def test_value_loss_grad_is_autograds(clip_range_vf):
    g = th.Generator().manual_seed(0)
    values, returns, old = th.randn(512, generator=g), th.randn(512, generator=g), th.randn(512, generator=g)
    expected = autograd_of(value_loss, values, returns, old, clip_range_vf)
    if clip_range_vf is not None:
        assert (expected == 0).sum() > 50  # some predictions are held by the clip
    th.testing.assert_close(value_loss_grad(values, returns, old, clip_range_vf), expected)
    with pytest.raises(ValueError, match="old_values"):
        value_loss_grad(values, returns, None, 0.2)


def test_entropy_and_log_softmax_grads_are_autograds_with_an_impossible_action():
    logits = th.randn(64, 3, generator=th.Generator().manual_seed(1))
    logits[0, 2] = -float("inf")  # probability 0: no NaN either way
    upstream = th.randn(64, 3, generator=th.Generator().manual_seed(2))

    def through_log_softmax(z):
        log_pmf = normalized_logits(z)
        return (upstream * log_pmf).sum() + entropy(log_pmf).mean()

    expected = autograd_of(through_log_softmax, logits)
    log_pmf = normalized_logits(logits)
    got = log_softmax_grad(upstream + entropy_grad(log_pmf) / len(logits), log_pmf)
    assert th.isfinite(got).all()
    th.testing.assert_close(got, expected)
