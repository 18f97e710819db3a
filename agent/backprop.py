"""The network's half of a PPO2 update: forward to the two heads, and gradients back from them.

PPO2's update takes the losses' gradient with respect to the heads (the action logits and
the value) in closed form (:mod:`agent.losses`); what remains is backpropagation through
the network. :func:`heads_backprop` picks how:

- :class:`MlpBackprop`, for SB3's default ``MlpPolicy`` (a weightless features extractor,
  towers of ``Linear`` and ``Tanh`` or ``ReLU``): the chain rule written out, layer by layer.
  At a minibatch of 256 through two 64×64 towers, autograd's recording and replaying of the
  small operations costs as much as their arithmetic; here each layer is one matrix product
  forward and two back, the same products autograd runs, with the activations' derivatives
  taken by the same ATen kernels (``tanh_backward``, ``threshold_backward``).
- :class:`AutogradBackprop`, for every other network: ``torch.autograd.backward`` from the heads.

``tests/test_backprop.py`` holds the first to the second, gradient for gradient.
"""

from __future__ import annotations

from collections.abc import Callable

import torch as th
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn
from torch.nn import functional as F

from agent.fast_policy import PolicyCalls

#: d activation / d input, from the activation's output y and the gradient g on it.
ACTIVATION_GRADS: dict[type[nn.Module], Callable[[th.Tensor, th.Tensor], th.Tensor]] = {
    nn.Tanh: lambda y, g: th.ops.aten.tanh_backward(g, y),  # g·(1 − y²)
    nn.ReLU: lambda y, g: th.ops.aten.threshold_backward(g, y, 0),  # g where y > 0, else 0
}


class AutogradBackprop:
    """The heads through ``policy_calls`` with autograd recording; gradients by ``torch.autograd``."""

    def __init__(self, policy_calls: PolicyCalls) -> None:
        self.policy_calls = policy_calls
        self._heads: tuple[th.Tensor, th.Tensor] | None = None

    def forward(self, obs: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """The action logits and values of ``obs``, remembered for :meth:`backward`."""
        self._heads = self.policy_calls.heads(obs)
        return self._heads

    def backward(self, d_logits: th.Tensor, d_values: th.Tensor) -> list[th.Tensor]:
        """Set each parameter's ``.grad`` to the gradient of the last forward's heads · (d_logits, d_values).

        Returns the gradients, for the norm clip.
        """
        assert self._heads is not None, "backward() before forward()"
        policy = self.policy_calls.policy
        policy.optimizer.zero_grad()
        th.autograd.backward(self._heads, (d_logits, d_values))
        self._heads = None
        return [p.grad for p in policy.parameters() if p.grad is not None]


class MlpBackprop:
    """Forward and backward through a plain MLP actor-critic, without autograd.

    Each tower (the actor's layers then ``action_net``; the critic's then ``value_net``) is a
    list of ``Linear`` and activation layers. :meth:`forward` keeps every layer's output;
    :meth:`backward` walks the layers in reverse: for y = x·Wᵀ + b with upstream gradient
    g, dW = gᵀ·x, db = Σ g over the batch, dx = g·W; for y = act(x), dx = act'(x)·g.

    The gradients are written into one flat vector, of which each ``.grad`` is a view
    (made anew for each update): the norm clip is then one operation, not one per tensor.
    """

    def __init__(self, policy: ActorCriticPolicy) -> None:
        self.policy = policy
        extractor = policy.mlp_extractor
        self.towers = (
            [*extractor.policy_net, policy.action_net],
            [*extractor.value_net, policy.value_net],
        )
        self._inputs: list[th.Tensor] = []
        self._outputs: list[list[th.Tensor]] = []
        parameters = list(policy.parameters())
        self.grad = parameters[0].new_zeros(sum(p.numel() for p in parameters))
        views = self.grad.split([p.numel() for p in parameters])
        self._grad_of = {p: view.view_as(p) for p, view in zip(parameters, views, strict=True)}

    @staticmethod
    def applies_to(policy: ActorCriticPolicy) -> bool:
        """The policy is the plain MLP this class differentiates, and its optimiser trains all of it.

        Every parameter is in a tower's ``Linear`` layers (none in a features extractor, an
        overridden ``extract_features`` or elsewhere), trained, of one dtype and device, and
        without a hook that autograd would run.
        """
        parameters = list(policy.parameters())
        towers = [
            *policy.mlp_extractor.policy_net,
            policy.action_net,
            *policy.mlp_extractor.value_net,
            policy.value_net,
        ]
        in_towers = {id(p) for layer in towers for p in layer.parameters()}
        optimised = {id(p) for group in policy.optimizer.param_groups for p in group["params"]}
        return (
            all(type(layer) is nn.Linear or type(layer) in ACTIVATION_GRADS for layer in towers)
            and type(policy.action_net) is nn.Linear
            and type(policy.value_net) is nn.Linear
            and in_towers == {id(p) for p in parameters} == optimised
            and all(p.requires_grad and not has_hooks(p) for p in parameters)
            and len({(p.dtype, p.device) for p in parameters}) == 1  # one flat gradient holds them all
        )

    @th.no_grad()
    def forward(self, obs: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """The action logits and values of ``obs``, each layer's output kept for :meth:`backward`."""
        features = self.policy.extract_features(obs)
        self._inputs = list(features) if isinstance(features, tuple) else [features, features]
        self._outputs = []
        for x, tower in zip(self._inputs, self.towers, strict=True):
            outputs = []
            for layer in tower:
                x = F.linear(x, layer.weight, layer.bias) if type(layer) is nn.Linear else layer.forward(x)
                outputs.append(x)
            self._outputs.append(outputs)
        logits, values = (outputs[-1] for outputs in self._outputs)
        return logits, values

    @th.no_grad()
    def backward(self, d_logits: th.Tensor, d_values: th.Tensor) -> list[th.Tensor]:
        """Set each parameter's ``.grad`` to the gradient of the last forward's heads · (d_logits, d_values).

        Returns the flat vector that holds them all, for the norm clip.
        """
        assert self._outputs, "backward() before forward()"
        for grad, x, tower, outputs in zip((d_logits, d_values), self._inputs, self.towers, self._outputs, strict=True):
            for k in reversed(range(len(tower))):
                layer = tower[k]
                if type(layer) is not nn.Linear:
                    grad = ACTIVATION_GRADS[type(layer)](outputs[k], grad)
                    continue
                layer_input = outputs[k - 1] if k > 0 else x
                th.mm(grad.t(), layer_input, out=self._grad_of[layer.weight])
                if layer.bias is not None:
                    th.sum(grad, 0, out=self._grad_of[layer.bias])
                if k > 0:  # the features extractor has no weights to pass a gradient to
                    grad = grad.mm(layer.weight)
        self._outputs = []
        for p, view in self._grad_of.items():
            if p.grad is not view:
                p.grad = view
        return [self.grad]


def has_hooks(parameter: th.Tensor) -> bool:
    """A hook on the parameter's gradient, which only autograd runs."""
    return bool(parameter._backward_hooks) or bool(getattr(parameter, "_post_accumulate_grad_hooks", None))


def heads_backprop(policy_calls: PolicyCalls) -> MlpBackprop | AutogradBackprop:
    """:class:`MlpBackprop` where it applies and no module hook would be skipped, else :class:`AutogradBackprop`."""
    if policy_calls.direct and MlpBackprop.applies_to(policy_calls.policy):
        return MlpBackprop(policy_calls.policy)
    return AutogradBackprop(policy_calls)
