"""The lecture's losses, by hand-computed numbers and their gradients."""

import math

import pytest
import torch as th

from agent.losses import (
    approx_kl,
    clip_fraction,
    clipped_surrogate_loss,
    policy_gradient_loss,
    value_loss,
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
