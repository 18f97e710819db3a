"""SB3's actor-critic calls for Discrete actions, without ``torch.distributions`` per call.

SB3's ``ActorCriticPolicy`` builds a validated ``torch.distributions.Categorical`` on every
call; at the 32 observations of a rollout step that costs about as much as the network.
:func:`act` and :func:`evaluate_actions` run the same operations as SB3's ``forward`` and
``evaluate_actions`` with torch's ``Categorical`` (logits less their logsumexp, softmax,
``torch.multinomial`` with replacement, gather), so actions, log-probabilities, entropies,
gradients and random draws are bit for bit SB3's. Any other policy or action distribution
goes through the policy's own methods.
"""

from __future__ import annotations

import torch as th
from stable_baselines3.common.distributions import CategoricalDistribution
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy

#: The ActorCriticPolicy methods whose maths :func:`act` and :func:`evaluate_actions` repeat.
_REPEATED = ("forward", "evaluate_actions", "_get_action_dist_from_latent")


def has_plain_categorical_head(policy: BasePolicy) -> bool:
    """SB3's actor-critic maths with a Categorical head: a policy :func:`act` may stand in for."""
    return (
        isinstance(policy, ActorCriticPolicy)
        and isinstance(policy.action_dist, CategoricalDistribution)
        and all(getattr(type(policy), name) is getattr(ActorCriticPolicy, name) for name in _REPEATED)
    )


def act(policy: ActorCriticPolicy, obs: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor]:
    """Sampled actions, values and log-probabilities: ``policy(obs)``."""
    if not has_plain_categorical_head(policy):
        return policy(obs)
    latent_pi, latent_vf = _latents(policy, obs)
    values = policy.value_net(latent_vf)
    log_pmf = normalized_logits(policy.action_net(latent_pi))
    actions = sample(log_pmf)
    return actions, values, log_prob(log_pmf, actions)


def evaluate_actions(
    policy: ActorCriticPolicy, obs: th.Tensor, actions: th.Tensor
) -> tuple[th.Tensor, th.Tensor, th.Tensor | None]:
    """Values, log-probabilities of ``actions`` and entropies: ``policy.evaluate_actions``."""
    if not has_plain_categorical_head(policy):
        return policy.evaluate_actions(obs, actions)
    latent_pi, latent_vf = _latents(policy, obs)
    log_pmf = normalized_logits(policy.action_net(latent_pi))
    return policy.value_net(latent_vf), log_prob(log_pmf, actions), entropy(log_pmf)


def _latents(policy: ActorCriticPolicy, obs: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
    features = policy.extract_features(obs)
    if policy.share_features_extractor:
        return policy.mlp_extractor(features)
    pi_features, vf_features = features
    return policy.mlp_extractor.forward_actor(pi_features), policy.mlp_extractor.forward_critic(vf_features)


def normalized_logits(logits: th.Tensor) -> th.Tensor:
    """log π(a|s) for every action a: the logits less their logsumexp (``Categorical.logits``)."""
    return logits - logits.logsumexp(dim=-1, keepdim=True)


def sample(log_pmf: th.Tensor) -> th.Tensor:
    """One action per row, drawn as ``Categorical.sample`` draws it (same generator calls)."""
    return th.multinomial(th.softmax(log_pmf, dim=-1), 1, True).reshape(-1)


def log_prob(log_pmf: th.Tensor, actions: th.Tensor) -> th.Tensor:
    return log_pmf.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)


def entropy(log_pmf: th.Tensor) -> th.Tensor:
    """-Σ p log p; the clamp keeps an action of probability 0 (logit -inf) from making NaN."""
    clamped = th.clamp(log_pmf, min=th.finfo(log_pmf.dtype).min)
    return -(clamped * th.softmax(log_pmf, dim=-1)).sum(-1)
