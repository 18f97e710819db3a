"""The written-out backpropagation of agent.backprop against autograd, and where it applies."""

import pytest
import torch as th
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

import spaceship_env
from agent import PPO2
from agent.backprop import AutogradBackprop, MlpBackprop, heads_backprop
from agent.fast_policy import PolicyCalls

POLICIES = {
    "default": {},
    "relu, uneven towers": {"net_arch": {"pi": [32], "vf": [16, 16]}, "activation_fn": nn.ReLU},
    "no hidden layers": {"net_arch": []},
    "separate extractors": {"share_features_extractor": False},
    "no bias": {},  # the biases are removed below
}


class Linear59(BaseFeaturesExtractor):
    """A features extractor with weights, which MlpBackprop does not differentiate."""

    def __init__(self, observation_space) -> None:
        super().__init__(observation_space, 8)
        self.linear = nn.Linear(59, 8)

    def forward(self, obs: th.Tensor) -> th.Tensor:
        return self.linear(obs)


def model(policy_kwargs=None, seed=0, **kwargs):
    env = spaceship_env.SpaceshipVecEnv(4)
    env.seed(seed)
    return PPO2("MlpPolicy", env, n_steps=32, batch_size=64, seed=seed, policy_kwargs=policy_kwargs, **kwargs)


def gradients(backprop, policy, obs, d_logits, d_values):
    for p in policy.parameters():
        p.grad = th.full_like(p, 7.0)  # a stale gradient, which backward must replace
    logits, values = backprop.forward(obs)
    backprop.backward(d_logits, d_values)
    return logits.detach(), values.detach(), [p.grad.clone() for p in policy.parameters()]


@pytest.mark.parametrize("name", POLICIES)
def test_mlp_backprop_gives_autograds_heads_and_gradients(name):
    policy = model(POLICIES[name]).policy
    if name == "no bias":
        for module in policy.modules():
            if isinstance(module, nn.Linear):
                module.bias = None
        policy.optimizer = th.optim.Adam(policy.parameters())
    calls = PolicyCalls(policy)
    assert isinstance(heads_backprop(calls), MlpBackprop)
    g = th.Generator().manual_seed(0)
    obs = th.rand(256, 59, generator=g) * 2 - 1
    d_logits, d_values = th.randn(256, 3, generator=g), th.randn(256, 1, generator=g)

    logits, values, expected = gradients(AutogradBackprop(calls), policy, obs, d_logits, d_values)
    got_logits, got_values, got = gradients(MlpBackprop(policy), policy, obs, d_logits, d_values)
    th.testing.assert_close(got_logits, logits, rtol=0, atol=0)
    th.testing.assert_close(got_values, values, rtol=0, atol=0)
    assert len(got) == len(expected) == len(list(policy.parameters()))
    for a, b in zip(got, expected, strict=True):
        th.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def frozen(policy):
    policy.value_net.bias.requires_grad_(False)


def hooked(policy):
    policy.value_net.register_forward_hook(lambda *_: None)


@pytest.mark.parametrize(
    ("policy_kwargs", "change"),
    [
        ({"activation_fn": nn.LeakyReLU}, None),
        ({"features_extractor_class": Linear59}, None),
        ({}, frozen),
        ({}, hooked),
    ],
    ids=["another activation", "extractor with weights", "a frozen weight", "a hook"],
)
def test_other_networks_backpropagate_with_autograd_and_learn(policy_kwargs, change):
    ppo2 = model(policy_kwargs, n_epochs=2)
    if change is not None:
        change(ppo2.policy)
    assert isinstance(heads_backprop(PolicyCalls(ppo2.policy)), AutogradBackprop)
    before = [p.detach().clone() for p in ppo2.policy.parameters()]
    ppo2.learn(128)
    after = list(ppo2.policy.parameters())
    assert all(th.isfinite(p).all() for p in after)
    moved = [not th.equal(a, b) for a, b in zip(before, after, strict=True)]
    assert moved == [p.requires_grad for p in after]


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"clip_range_vf": 0.1, "ent_coef": 0.05}, {"kl_coef": 0.5, "max_grad_norm": 0.05}],
    ids=["defaults", "value clipping and entropy", "KL penalty and a tight gradient clip"],
)
def test_training_with_the_written_out_backprop_matches_autograd(kwargs):
    """The same seeded run twice: a no-op hook makes the second backpropagate with autograd."""
    runs = []
    for change in (None, hooked):  # one after the other: the seed is set when a model is made
        ppo2 = model(seed=5, n_epochs=4, **kwargs)
        if change is not None:
            change(ppo2.policy)
        runs.append((ppo2.learn(4 * 32 * 4), heads_backprop(PolicyCalls(ppo2.policy))))
    (fast, fast_backprop), (slow, slow_backprop) = runs
    assert isinstance(fast_backprop, MlpBackprop) and isinstance(slow_backprop, AutogradBackprop)
    for a, b in zip(fast.policy.parameters(), slow.policy.parameters(), strict=True):
        th.testing.assert_close(a, b, rtol=0, atol=1e-6)
    assert fast.logger.name_to_value["train/loss"] == pytest.approx(slow.logger.name_to_value["train/loss"], rel=1e-5)


@pytest.mark.parametrize(
    "change",
    [
        lambda policy: policy.action_net.weight.register_hook(lambda grad: grad * 0),
        lambda policy: policy.value_net.bias.register_post_accumulate_grad_hook(lambda p: None),
        lambda policy: setattr(policy, "temperature", nn.Parameter(th.ones(1))),
        lambda policy: setattr(policy, "optimizer", th.optim.Adam(policy.action_net.parameters())),
    ],
    ids=["a hook on a gradient", "a post-accumulate hook", "a parameter outside the towers", "a partial optimiser"],
)
def test_what_only_autograd_honours_sends_the_update_to_autograd(change):
    policy = model().policy
    assert isinstance(heads_backprop(PolicyCalls(policy)), MlpBackprop)
    change(policy)
    assert isinstance(heads_backprop(PolicyCalls(policy)), AutogradBackprop)


def corrupt(field, value):
    class Corrupt(BaseCallback):
        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            getattr(self.model.rollout_buffer, field)[:] = value

    return Corrupt()


@pytest.mark.parametrize(
    ("field", "value"),
    [("log_probs", float("nan")), ("returns", 1e20)],
    ids=["NaN old log-probability", "a return whose square overflows"],
)
def test_a_loss_that_is_not_finite_is_refused_where_its_gradient_would_be_finite(field, value):
    """A NaN ratio zeroes its clipped gradient and (v − R)² overflows before 2(v − R)/N: the loss itself is checked."""
    ppo2 = model()
    before = [p.detach().clone() for p in ppo2.policy.parameters()]
    with pytest.raises(FloatingPointError, match=r"the loss (nan|inf) is not finite"):
        ppo2.learn(128, callback=corrupt(field, value))
    for a, b in zip(before, ppo2.policy.parameters(), strict=True):
        assert th.equal(a, b)
