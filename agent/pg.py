"""PolicyGradient: the lecture's starting point, REINFORCE with the mean-return baseline."""

from __future__ import annotations

from typing import Any, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule

from agent.base import LectureAlgorithm
from agent.losses import policy_gradient_loss

SelfPolicyGradient = TypeVar("SelfPolicyGradient", bound="PolicyGradient")


def whole_episode_returns(
    rewards: np.ndarray, episode_starts: np.ndarray, last_dones: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R(τ) of each step's episode, for the episodes that lie wholly inside a rollout.

    ``rewards`` and ``episode_starts`` are ``(n_steps, n_envs)``; ``last_dones`` says
    whether each env's last step ended its episode. Returns per-step ``R(τ)``, a mask of
    the steps that belong to whole episodes, and the list of those episodes' returns.
    """
    n_envs = rewards.shape[1]
    returns = np.zeros_like(rewards)
    whole = np.zeros(rewards.shape, bool)
    episode_returns = []
    ends = np.vstack([episode_starts[1:], last_dones[None]]).astype(bool)
    for env in range(n_envs):
        start = 0
        for t in np.flatnonzero(ends[:, env]):
            if episode_starts[start, env]:  # the episode began inside this rollout
                total = rewards[start : t + 1, env].sum()
                returns[start : t + 1, env] = total
                whole[start : t + 1, env] = True
                episode_returns.append(total)
            start = t + 1
    return returns, whole, np.array(episode_returns)


class PolicyGradient(LectureAlgorithm):
    """REINFORCE with a baseline: one gradient step per rollout of whole episodes.

    Each step's log-probability is weighted by R(τ) − b, its whole episode's return less
    b, the mean return of the rollout's episodes (the lecture's section 2.4). Episodes
    cut by the rollout's start or end carry no weight, so every update is on-policy; make
    ``n_steps`` several episodes long (``train/used_fraction`` logs the share kept). Same
    policies and SB3 API as :class:`agent.PPO2`.

    Scale: the lecture averages over N episodes, 1/N Σ_n Σ_t; the loss here averages over
    the T steps of those episodes, 1/T Σ_n Σ_t, which is the lecture's gradient times N/T.
    The direction is the same, and Adam's steps do not depend on the gradient's scale.

    :param policy: ``"MlpPolicy"``, ``"CnnPolicy"``, ``"MultiInputPolicy"`` or a policy class.
    :param env: the environment, a ``VecEnv``, or a registered id.
    :param learning_rate: Adam's step size, or a schedule of the progress remaining (1 → 0).
    :param n_steps: steps per env per rollout (several episodes).
    :param ent_coef: entropy bonus weight.
    :param max_grad_norm: gradient norm clip.
    :param stats_window_size: episodes averaged in the rollout logs.
    :param tensorboard_log: TensorBoard log folder; None: no TensorBoard.
    :param policy_kwargs: keyword arguments for the policy.
    :param verbose: 0 quiet, 1 info, 2 debug.
    :param seed: seed for torch, numpy and the env.
    :param device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
    :param _init_setup_model: build the networks now.
    """

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 1e-3,
        n_steps: int = 2048,
        ent_coef: float = 0.0,
        max_grad_norm: float = 0.5,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ) -> None:
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps,
            gamma=1.0,  # R(τ) is the undiscounted sum, as in the lecture
            gae_lambda=1.0,
            ent_coef=ent_coef,
            vf_coef=0.0,
            max_grad_norm=max_grad_norm,
            use_sde=False,
            sde_sample_freq=-1,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            device=device,
            seed=seed,
            _init_setup_model=_init_setup_model,
            supported_action_spaces=(spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary),
        )

    def _setup_model(self) -> None:
        super()._setup_model()
        # No critic here: SB3 adds γ·V(last state) to the reward of a time-limit cut, so a
        # zero value head keeps R(τ) the plain sum of rewards the lecture weights by.
        for param in self.policy.value_net.parameters():
            param.data.zero_()
            param.requires_grad_(False)

    def train(self) -> None:
        """One gradient step on the rollout's whole episodes."""
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        buffer = self.rollout_buffer
        returns, whole, episode_returns = whole_episode_returns(
            buffer.rewards, buffer.episode_starts, self._last_episode_starts
        )
        self.logger.record("train/episodes", len(episode_returns))
        self.logger.record("train/used_fraction", float(whole.mean()))  # the rest is cut episodes
        if len(episode_returns) == 0:
            return  # no episode finished inside this rollout: nothing on-policy to learn from
        baseline = float(episode_returns.mean())
        # The buffer carries each step's R(τ) in `returns` and whether it belongs to a whole
        # episode in `advantages`, so that the fields stay aligned however it is sampled.
        buffer.returns[:] = returns
        buffer.advantages[:] = whole
        batch = next(buffer.get(batch_size=None))
        actions = batch.actions
        if isinstance(self.action_space, spaces.Discrete):
            actions = actions.long().flatten()
        _, log_prob, entropy = self.policy.evaluate_actions(batch.observations, actions)
        mask = batch.advantages > 0
        policy_loss = policy_gradient_loss(log_prob[mask], batch.returns[mask], baseline)
        entropy_loss = -th.mean(-log_prob[mask] if entropy is None else entropy[mask])
        loss = policy_loss + self.ent_coef * entropy_loss
        self._gradient_step(loss, "policy gradient step")
        self._n_updates += 1
        self.logger.record("train/policy_loss", policy_loss.item())
        self.logger.record("train/entropy_loss", entropy_loss.item())
        self.logger.record("train/baseline", baseline)
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")

    def learn(
        self: SelfPolicyGradient,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "PolicyGradient",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfPolicyGradient:
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
