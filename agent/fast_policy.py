"""SB3's actor-critic calls for Discrete actions, without the overhead around the network.

Per call, SB3's ``ActorCriticPolicy`` builds a validated ``torch.distributions.Categorical``
and goes through ``nn.Module.__call__`` for each of a dozen layers; at the 32 observations
of a rollout step that costs more than the network. :class:`PolicyCalls` runs the same
operations as SB3's ``forward`` and ``evaluate_actions`` with torch's ``Categorical``
(logits less their logsumexp, softmax, the draws of ``torch.multinomial``, gather) and
calls each layer's ``forward`` directly when no hook or ``torch.compile`` would intervene.
Actions, values, log-probabilities and random draws are bit for bit SB3's; only the
entropy differs, by rounding (:func:`entropy`). Other policies and action distributions
go through the policy's own methods.
"""

from __future__ import annotations

import numpy as np
import torch as th
from stable_baselines3.common.distributions import CategoricalDistribution
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.common.torch_layers import MlpExtractor
from torch import nn
from torch.nn.modules import module as torch_module

#: The ActorCriticPolicy methods whose maths :class:`PolicyCalls` repeats.
_REPEATED = ("forward", "evaluate_actions", "_get_action_dist_from_latent")
#: What ``nn.Module.__call__`` runs besides ``forward``: hooks on a module, and global ones.
_HOOKS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")
_GLOBAL_HOOKS = tuple(f"_global{name}" for name in _HOOKS)


class PolicyCalls:
    """``policy(obs)`` and ``policy.evaluate_actions``, the fast way where ``policy`` allows.

    Made at the start of a rollout or an update: hooks added later are seen by the next one.
    """

    def __init__(self, policy: BasePolicy) -> None:
        self.policy = policy
        self.categorical = has_plain_categorical_head(policy)
        self.direct = self.categorical and type(policy.mlp_extractor) is MlpExtractor and calls_only_forward(policy)

    def act(self, obs: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
        """Sampled actions, values and log-probabilities, as ``policy(obs)``."""
        if not self.categorical:
            return self.policy(obs)
        latent_pi, latent_vf = self._latents(obs)
        values = self._layer(self.policy.value_net, latent_vf)
        log_pmf = normalized_logits(self._layer(self.policy.action_net, latent_pi))
        actions = sample(log_pmf)
        log_probs = log_prob(log_pmf, actions)
        if np.isnan(log_probs.cpu().numpy()).any():  # a NaN or inf logit, which multinomial refuses
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        return actions, values, log_probs

    def evaluate_actions(self, obs: th.Tensor, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
        """Values, log-probabilities of ``actions`` and entropies, as ``policy.evaluate_actions``."""
        if not self.categorical:
            return self.policy.evaluate_actions(obs, actions)
        logits, values = self.heads(obs)
        log_pmf = normalized_logits(logits)
        return values, log_prob(log_pmf, actions), entropy(log_pmf)

    def heads(self, obs: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        """The action logits and the values: the network's two outputs (Categorical policies only)."""
        latent_pi, latent_vf = self._latents(obs)
        return self._layer(self.policy.action_net, latent_pi), self._layer(self.policy.value_net, latent_vf)

    def _latents(self, obs: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
        policy = self.policy
        features = policy.extract_features(obs)
        if self.direct:
            pi_features, vf_features = (features, features) if policy.share_features_extractor else features
            extractor = policy.mlp_extractor
            return self._layer(extractor.policy_net, pi_features), self._layer(extractor.value_net, vf_features)
        if policy.share_features_extractor:
            return policy.mlp_extractor(features)
        pi_features, vf_features = features
        return policy.mlp_extractor.forward_actor(pi_features), policy.mlp_extractor.forward_critic(vf_features)

    def _layer(self, layer: nn.Module, x: th.Tensor) -> th.Tensor:
        """``layer(x)``; when direct, a Sequential's layers one by one, each by its ``forward``."""
        if not self.direct:
            return layer(x)
        for part in layer if isinstance(layer, nn.Sequential) else (layer,):
            x = part.forward(x)
        return x


def has_plain_categorical_head(policy: BasePolicy) -> bool:
    """SB3's actor-critic maths with a Categorical head, which :class:`PolicyCalls` repeats."""
    return (
        isinstance(policy, ActorCriticPolicy)
        and isinstance(policy.action_dist, CategoricalDistribution)
        and all(getattr(type(policy), name) is getattr(ActorCriticPolicy, name) for name in _REPEATED)
    )


def calls_only_forward(module: nn.Module) -> bool:
    """Calling ``module`` or any module inside it runs just its ``forward``: no hooks, no compile."""
    if any(getattr(torch_module, name, None) for name in _GLOBAL_HOOKS):
        return False
    return not any(
        getattr(m, "_compiled_call_impl", None) is not None or any(getattr(m, name, None) for name in _HOOKS)
        for m in module.modules()
    )


def normalized_logits(logits: th.Tensor) -> th.Tensor:
    """log π(a|s) for every action a: the logits less their logsumexp (``Categorical.logits``)."""
    return logits - logits.logsumexp(dim=-1, keepdim=True)


def sample(log_pmf: th.Tensor) -> th.Tensor:
    """One action per row, as ``Categorical.sample``'s ``torch.multinomial(probs, 1, True)``.

    For one sample, torch's multinomial draws q ~ Exp(1) with ``exponential_`` and takes
    argmax(p / q), the Gumbel-max trick (ATen's ``multinomial``). Doing that here skips its
    argument checks, four reductions and two host syncs, a third of a rollout step's sampling;
    the same generator calls give the same actions (pinned in tests/test_ppo2_speed_path.py).
    :meth:`PolicyCalls.act` refuses a NaN or inf probability, as multinomial does.
    """
    probs = th.softmax(log_pmf, dim=-1)
    return (probs / th.empty_like(probs).exponential_()).argmax(dim=-1)


def log_prob(log_pmf: th.Tensor, actions: th.Tensor) -> th.Tensor:
    return log_pmf.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)


def entropy(log_pmf: th.Tensor) -> th.Tensor:
    """-Σ p log p with p = exp(log π): torch's ``Categorical.entropy`` up to rounding.

    torch takes p = softmax(log π), which over a few actions runs as a scalar loop (150 µs
    for 2048 rows of 3, against 3 µs for exp); as log π is normalised, the two p agree to
    about 1e-7. The clamp keeps an action of probability 0 (log π = -inf) from making NaN.
    """
    return -(_without_minus_inf(log_pmf) * log_pmf.exp()).sum(-1)


def entropy_grad(log_pmf: th.Tensor) -> th.Tensor:
    """d/d log π of :func:`entropy`, per row: −π·(1 + log π), and 0 for an action of probability 0."""
    return -log_pmf.exp() * (1.0 + _without_minus_inf(log_pmf))


def _without_minus_inf(log_pmf: th.Tensor) -> th.Tensor:
    return th.clamp(log_pmf, min=th.finfo(log_pmf.dtype).min)
