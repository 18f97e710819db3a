"""Rollout collection and a rollout buffer without SB3's per-step and per-minibatch overhead.

:class:`FastRollouts` collects rollouts as SB3's ``OnPolicyAlgorithm.collect_rollouts`` does,
with the same callbacks, ``locals``, episode statistics and time-limit bootstrapping, but
skips the work around the maths: the policy's per-call overhead (:mod:`agent.fast_policy`),
autograd's bookkeeping (``inference_mode``), handing ``locals()`` to a callback that cannot
read them, the buffer's defensive copies, and a Python loop over every env to find the
truncated ones. :class:`TorchRolloutBuffer` is SB3's ``RolloutBuffer`` whose minibatches
are cut from tensors made once per rollout.

Both keep SB3's numbers and random draws: the same network operations in the same order,
the same draws of torch's generator per step and the same ``np.random.permutation`` per epoch.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback, ConvertCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.type_aliases import RolloutBufferSamples
from stable_baselines3.common.vec_env import VecEnv

from agent.fast_policy import PolicyCalls

#: The arrays SB3's ``RolloutBuffer.get`` flattens to (n_steps * n_envs, ...) on its first call.
_FLATTENED = ("observations", "actions", "values", "log_probs", "advantages", "returns")


class TorchRolloutBuffer(RolloutBuffer):
    """SB3's ``RolloutBuffer``, with the same arrays, order of samples and values, but cheaper.

    SB3's ``get`` gathers each minibatch with numpy fancy indexing, casts the actions, and
    copies the result into new tensors. Here the first ``get`` after a rollout flattens the
    arrays exactly as SB3 does and wraps them as tensors once (sharing memory on the CPU);
    each epoch gathers every field once, in the order of the same ``np.random.permutation``,
    and its minibatches are consecutive slices of that. The actions are cast to float32
    once, so writes to ``actions`` after the first ``get`` are not seen (SB3 would see them).
    """

    _tensors: RolloutBufferSamples | None

    def reset(self) -> None:
        super().reset()
        self._tensors = None

    def add(
        self,
        obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        episode_start: np.ndarray,
        value: th.Tensor,
        log_prob: th.Tensor,
    ) -> None:
        """SB3's ``add`` without its extra copies: writing into the arrays copies already."""
        if len(log_prob.shape) == 0:
            log_prob = log_prob.reshape(-1, 1)
        if isinstance(self.observation_space, spaces.Discrete):
            obs = obs.reshape((self.n_envs, *self.obs_shape))
        self.observations[self.pos] = obs
        self.actions[self.pos] = action.reshape((self.n_envs, self.action_dim))
        self.rewards[self.pos] = reward
        self.episode_starts[self.pos] = episode_start
        self.values[self.pos] = value.detach().cpu().numpy().reshape(-1)
        self.log_probs[self.pos] = log_prob.detach().cpu().numpy()
        self.pos += 1
        if self.pos == self.buffer_size:
            self.full = True

    def get(self, batch_size: int | None = None) -> Generator[RolloutBufferSamples, None, None]:
        assert self.full, ""
        n_samples = self.buffer_size * self.n_envs
        indices = np.random.permutation(n_samples)  # noqa: NPY002 -- SB3's draw, so seeded runs match
        shuffled = self._select(self._as_tensors(), th.from_numpy(indices).to(self.device))
        batch_size = n_samples if batch_size is None else batch_size
        for start in range(0, n_samples, batch_size):
            yield RolloutBufferSamples(*(field[start : start + batch_size] for field in shuffled))

    def _get_samples(self, batch_inds: np.ndarray, env: object = None) -> RolloutBufferSamples:
        return self._select(self._as_tensors(), th.as_tensor(batch_inds, device=self.device))

    @staticmethod
    def _select(tensors: RolloutBufferSamples, index: th.Tensor) -> RolloutBufferSamples:
        return RolloutBufferSamples(*(field.index_select(0, index) for field in tensors))

    def _as_tensors(self) -> RolloutBufferSamples:
        """The flattened rollout as tensors, made on the first call after a rollout."""
        if not self.generator_ready:
            for name in _FLATTENED:
                self.__dict__[name] = self.swap_and_flatten(self.__dict__[name])
            self.generator_ready = True
        if self._tensors is None:
            self._tensors = RolloutBufferSamples(
                observations=self._tensor(self.observations),
                # Cast to float32 as SB3 does (its comment: a RuntimeError for MultiBinary otherwise).
                actions=self._tensor(self.actions.astype(np.float32, copy=False)),
                old_values=self._tensor(self.values).flatten(),
                old_log_prob=self._tensor(self.log_probs).flatten(),
                advantages=self._tensor(self.advantages).flatten(),
                returns=self._tensor(self.returns).flatten(),
            )
        return self._tensors

    def _tensor(self, array: np.ndarray) -> th.Tensor:
        return th.as_tensor(array, device=self.device)


def general_path_reason(model: OnPolicyAlgorithm, rollout_buffer: RolloutBuffer) -> str | None:
    """Why ``model`` must collect with SB3's ``collect_rollouts``, or None if it need not."""
    if model.use_sde:
        return "gSDE resamples its exploration noise inside the rollout"
    if type(rollout_buffer) is not TorchRolloutBuffer:
        return f"the rollout buffer is a {type(rollout_buffer).__name__}, not the default"
    return None


class FastRollouts(OnPolicyAlgorithm):
    """An on-policy algorithm that collects with :class:`TorchRolloutBuffer` where it can.

    SB3's default buffer (``rollout_buffer_class`` None or ``RolloutBuffer``) becomes a
    :class:`TorchRolloutBuffer`; Dict observations, a custom buffer class and gSDE keep SB3's
    buffer and ``collect_rollouts`` (:func:`general_path_reason`).
    """

    def _setup_model(self) -> None:
        default_buffer = self.rollout_buffer_class in (None, RolloutBuffer) and not isinstance(
            self.observation_space, spaces.Dict
        )
        if default_buffer:
            self.rollout_buffer_class = TorchRolloutBuffer
        super()._setup_model()
        if default_buffer:
            self.rollout_buffer_class = RolloutBuffer  # saved as before: SB3's class, which loads into ours

    def collect_rollouts(
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: RolloutBuffer,
        n_rollout_steps: int,
    ) -> bool:
        """SB3's ``collect_rollouts``, step for step; the local names are SB3's, for ``callback.locals``."""
        if general_path_reason(self, rollout_buffer) is not None:
            return super().collect_rollouts(env, callback, rollout_buffer, n_rollout_steps)
        assert self._last_obs is not None, "No previous observation was provided"
        self.policy.set_training_mode(False)
        n_steps = 0
        rollout_buffer.reset()
        callback.on_rollout_start()
        policy_calls = PolicyCalls(self.policy)
        # learn() without a callback wraps None in a ConvertCallback, which never reads locals.
        callback_reads_locals = not (type(callback) is ConvertCallback and callback.callback is None)
        box_actions = isinstance(self.action_space, spaces.Box)
        discrete_actions = isinstance(self.action_space, spaces.Discrete)

        while n_steps < n_rollout_steps:
            with th.inference_mode():  # no_grad, minus autograd's version counting
                obs_tensor = th.as_tensor(self._last_obs, device=self.device)
                actions, values, log_probs = policy_calls.act(obs_tensor)
            actions = actions.cpu().numpy()
            clipped_actions = actions
            if box_actions:
                if self.policy.squash_output:
                    clipped_actions = self.policy.unscale_action(clipped_actions)
                else:
                    clipped_actions = np.clip(actions, self.action_space.low, self.action_space.high)

            new_obs, rewards, dones, infos = env.step(clipped_actions)
            self.num_timesteps += env.num_envs

            if callback_reads_locals:
                callback.update_locals(locals())
            if not callback.on_step():
                return False

            self._update_info_buffer(infos, dones)
            n_steps += 1
            if discrete_actions:
                actions = actions.reshape(-1, 1)
            self._bootstrap_time_limits(rewards, dones, infos)
            rollout_buffer.add(self._last_obs, actions, rewards, self._last_episode_starts, values, log_probs)
            self._last_obs = new_obs
            self._last_episode_starts = dones

        with th.no_grad():
            values = self.policy.predict_values(th.as_tensor(new_obs, device=self.device))
        rollout_buffer.compute_returns_and_advantage(last_values=values, dones=dones)
        callback.update_locals(locals())
        callback.on_rollout_end()
        return True

    def _bootstrap_time_limits(self, rewards: np.ndarray, dones: np.ndarray, infos: list[dict]) -> None:
        """r += γ·V(terminal state) where a time limit cut the episode (SB3 issue #633).

        SB3's loop, but over the finished envs only; each value is computed alone, as SB3 does.
        """
        for idx in np.flatnonzero(dones):
            info = infos[idx]
            if info.get("terminal_observation") is not None and info.get("TimeLimit.truncated", False):
                terminal_obs = self.policy.obs_to_tensor(info["terminal_observation"])[0]
                with th.no_grad():
                    terminal_value = self.policy.predict_values(terminal_obs)[0]
                rewards[idx] += self.gamma * terminal_value
