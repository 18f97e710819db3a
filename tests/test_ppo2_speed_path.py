"""PPO2's fast rollout and update path: SB3's numbers, SB3's API, and SB3's code where it must.

Rollouts (observations, actions, rewards with time-limit bootstrapping, values,
log-probabilities, advantages) are bit for bit SB3's PPO's. The weights after an update
agree with SB3's to rounding only: fused Adam, the entropy's p = exp(log π) and the
closed-form gradients of the losses round differently from torch's per-tensor Adam,
softmax and autograd, by about 1e-8 per update.
"""

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.buffers import DictRolloutBuffer, RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback, CheckpointCallback, EvalCallback
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

import spaceship_env
from agent import PPO2
from agent.fast_policy import PolicyCalls, normalized_logits, sample
from agent.ppo2 import update_tensors_together
from agent.rollout import TorchRolloutBuffer, general_path_reason

SMALL = {"n_steps": 64, "batch_size": 128, "n_epochs": 4, "ent_coef": 0.01}

#: How far PPO2's weights may be from SB3's PPO's after the 64 epochs of updates below;
#: the rounding differences measure about 6e-8.
WEIGHT_TOLERANCE = 1e-6

#: What SB3's collect_rollouts hands its callbacks each step (``self.locals``).
STEP_LOCALS = {
    "self",
    "env",
    "callback",
    "rollout_buffer",
    "n_rollout_steps",
    "n_steps",
    "obs_tensor",
    "actions",
    "values",
    "log_probs",
    "clipped_actions",
    "new_obs",
    "rewards",
    "dones",
    "infos",
}


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Small networks on a shared 2-core machine: more threads only wait for each other."""
    threads = th.get_num_threads()
    th.set_num_threads(1)
    yield
    th.set_num_threads(threads)


def spaceship_venv(n=8, seed=0, **kwargs):
    venv = VecMonitor(spaceship_env.SpaceshipVecEnv(n, **kwargs), info_keywords=("end_reason",))
    venv.seed(seed)
    return venv


def trained_pair(make_env, timesteps, **kwargs):
    """PPO2 and SB3's PPO, one after the other: both draw minibatches from numpy's global RNG."""
    return [cls("MlpPolicy", make_env(), seed=3, **kwargs).learn(timesteps) for cls in (PPO2, PPO)]


def assert_same_rollout(a: RolloutBuffer, b: RolloutBuffer) -> None:
    for field in ("observations", "actions", "rewards", "episode_starts", "values", "log_probs", "advantages"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    np.testing.assert_array_equal(a.returns, b.returns)


class ActionsOf(gym.Env):
    """Random observations and rewards; the action space is the test's."""

    def __init__(self, action_space: spaces.Space) -> None:
        self.observation_space = spaces.Box(-1, 1, (4,), np.float32)
        self.action_space = action_space
        self.t = 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self.observation(), {}

    def step(self, action):
        self.t += 1
        return self.observation(), float(self.np_random.normal()), False, self.t >= 20, {}

    def observation(self) -> np.ndarray:
        return self.np_random.uniform(-1, 1, 4).astype(np.float32)


# --- SB3's numbers ------------------------------------------------------------------------
def test_rollouts_match_sb3_bit_for_bit_with_time_limits_bootstrapped():
    """Episodes of 25 steps, so rollouts of 64 steps cross several time limits."""
    ppo2, ppo = trained_pair(lambda: spaceship_venv(4, max_episode_steps=25), 4 * 64, **SMALL)
    assert_same_rollout(ppo2.rollout_buffer, ppo.rollout_buffer)


def test_ppo2_weights_match_sb3_ppo_to_rounding_over_64_epochs_of_updates():
    ppo2, ppo = trained_pair(lambda: spaceship_venv(8, max_episode_steps=50), 8192, **SMALL)
    assert ppo2._n_updates == ppo._n_updates == 64
    for a, b in zip(ppo2.policy.parameters(), ppo.policy.parameters(), strict=True):
        th.testing.assert_close(a, b, rtol=0, atol=WEIGHT_TOLERANCE)
    # The 16th rollout still takes SB3's actions; its values (about 10) differ by the weights' rounding.
    np.testing.assert_array_equal(ppo2.rollout_buffer.actions, ppo.rollout_buffer.actions)
    np.testing.assert_allclose(ppo2.rollout_buffer.values, ppo.rollout_buffer.values, rtol=1e-6)


@pytest.mark.parametrize(
    "action_space",
    [spaces.Box(-1, 1, (2,), np.float32), spaces.MultiDiscrete([2, 3]), spaces.MultiBinary(3)],
    ids=["Box", "MultiDiscrete", "MultiBinary"],
)
def test_other_action_spaces_collect_sb3s_rollouts(action_space):
    def make_env():
        venv = DummyVecEnv([lambda: ActionsOf(action_space)] * 2)
        venv.seed(0)
        return venv

    ppo2, ppo = trained_pair(make_env, 64, n_steps=32, batch_size=32, n_epochs=1)
    assert general_path_reason(ppo2, ppo2.rollout_buffer) is None
    assert_same_rollout(ppo2.rollout_buffer, ppo.rollout_buffer)


def test_sampling_draws_what_torch_multinomial_draws():
    """sample() leans on multinomial's one-sample algorithm; this pins it to the torch in use."""
    for rows in (1, 32, 2048):
        for seed in range(10):
            log_pmf = normalized_logits(th.randn(rows, 3) * 3)
            th.manual_seed(seed)
            expected = th.multinomial(th.softmax(log_pmf, dim=-1), 1, True).reshape(-1)
            after_expected = th.rand(4)
            th.manual_seed(seed)
            assert th.equal(sample(log_pmf), expected)
            assert th.equal(th.rand(4), after_expected)  # and the generator moved as far


def test_policy_calls_give_the_policys_actions_values_and_log_probabilities():
    model = PPO2("MlpPolicy", spaceship_venv(), seed=0)
    obs = th.as_tensor(model.env.reset())
    calls = PolicyCalls(model.policy)
    assert calls.categorical and calls.direct
    with th.no_grad():
        th.manual_seed(1)
        expected = model.policy(obs)
        th.manual_seed(1)
        for a, b in zip(calls.act(obs), expected, strict=True):
            assert th.equal(a, b)
        values, log_prob, entropy = model.policy.evaluate_actions(obs, expected[0])
        fast_values, fast_log_prob, fast_entropy = calls.evaluate_actions(obs, expected[0])
    assert th.equal(fast_values, values) and th.equal(fast_log_prob, log_prob)
    th.testing.assert_close(fast_entropy, entropy, rtol=0, atol=1e-6)


def test_a_nan_observation_is_refused_as_torch_multinomial_refuses_it():
    model = PPO2("MlpPolicy", spaceship_venv(), seed=0)
    obs = th.full((2, *model.observation_space.shape), float("nan"))
    with pytest.raises(RuntimeError, match="probability tensor contains"), th.no_grad():
        PolicyCalls(model.policy).act(obs)


def test_torch_rollout_buffer_hands_out_sb3s_minibatches():
    space, actions = spaces.Box(-1, 1, (5,), np.float32), spaces.Discrete(3)
    buffers = [cls(16, space, actions, device="cpu", n_envs=4) for cls in (TorchRolloutBuffer, RolloutBuffer)]
    rng = np.random.default_rng(0)
    for _ in range(16):
        step = (rng.random((4, 5), np.float32), rng.integers(0, 3, (4, 1)), rng.random(4, np.float32))
        values, log_probs = th.as_tensor(rng.random(4, np.float32)), th.as_tensor(rng.random(4, np.float32))
        for buffer in buffers:
            buffer.add(*step, np.zeros(4, np.float32), values, log_probs)
    for buffer in buffers:
        buffer.compute_returns_and_advantage(th.zeros(4), np.zeros(4, bool))
    for epoch in range(2):
        batches = []
        for buffer in buffers:
            np.random.seed(epoch)  # noqa: NPY002 -- both buffers draw their order from numpy's global RNG
            batches.append(list(buffer.get(24)))
        for fast, sb3 in zip(*batches, strict=True):
            for a, b in zip(fast, sb3, strict=True):
                assert th.equal(a, b)


# --- the general path where the fast one does not apply -----------------------------------
class CustomBuffer(RolloutBuffer):
    pass


class DictCartPole(gym.ObservationWrapper):
    def __init__(self) -> None:
        super().__init__(gym.make("CartPole-v1"))
        self.observation_space = spaces.Dict({"state": self.env.observation_space})

    def observation(self, observation):
        return {"state": observation}


def dict_env():
    return DummyVecEnv([DictCartPole])


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: PPO2("MultiInputPolicy", dict_env(), n_steps=32, batch_size=32), "DictRolloutBuffer"),
        (lambda: PPO2("MlpPolicy", "Pendulum-v1", use_sde=True, n_steps=32, batch_size=32), "gSDE"),
        (lambda: PPO2("MlpPolicy", spaceship_venv(2), rollout_buffer_class=CustomBuffer, n_steps=32), "CustomBuffer"),
    ],
    ids=["Dict observations", "gSDE", "custom buffer class"],
)
def test_setups_the_fast_path_does_not_cover_fall_back_to_sb3s_and_learn(make, reason):
    model = make()
    assert reason in general_path_reason(model, model.rollout_buffer)
    model.learn(64)


def test_sb3s_default_buffer_class_gets_the_fast_buffer_and_is_saved_as_sb3s(tmp_path):
    model = PPO2("MlpPolicy", spaceship_venv(2), rollout_buffer_class=RolloutBuffer, n_steps=32)
    assert type(model.rollout_buffer) is TorchRolloutBuffer
    assert model.rollout_buffer_class is RolloutBuffer
    model.save(tmp_path / "m")
    loaded = PPO2.load(tmp_path / "m", env=spaceship_venv(2))
    assert general_path_reason(loaded, loaded.rollout_buffer) is None
    loaded.learn(64)
    assert not isinstance(PPO2("MultiInputPolicy", dict_env()).rollout_buffer, TorchRolloutBuffer)
    assert isinstance(PPO2("MultiInputPolicy", dict_env()).rollout_buffer, DictRolloutBuffer)


def test_a_hook_on_the_policy_is_honoured():
    model = PPO2("MlpPolicy", spaceship_venv(2), n_steps=32, batch_size=32, n_epochs=1)
    calls = []
    model.policy.mlp_extractor.policy_net[0].register_forward_hook(lambda *_: calls.append(1))
    assert not PolicyCalls(model.policy).direct
    model.learn(64)
    assert len(calls) == 32 + 2  # every rollout step, and the update's two minibatches


def test_policy_calls_use_the_policys_own_methods_for_other_distributions():
    model = PPO2("MlpPolicy", "Pendulum-v1", n_steps=32, batch_size=32)
    assert not PolicyCalls(model.policy).categorical


# --- SB3's API ----------------------------------------------------------------------------
class RecordLocals(BaseCallback):
    def __init__(self) -> None:
        super().__init__()
        self.step_keys: set[str] = set()
        self.rollout_ends = 0
        self.new_obs_seen = 0

    def _on_step(self) -> bool:
        self.step_keys = set(self.locals)
        self.new_obs_seen += len(self.locals["new_obs"])
        assert len(self.locals["infos"]) == len(self.locals["dones"]) == len(self.locals["rewards"])
        return True

    def _on_rollout_end(self) -> None:
        self.rollout_ends += 1


def test_callbacks_see_sb3s_locals_every_step_and_the_rollout_end():
    callback = RecordLocals()
    PPO2("MlpPolicy", spaceship_venv(4), **SMALL).learn(512, callback=callback)
    assert STEP_LOCALS <= callback.step_keys
    assert callback.new_obs_seen == 512
    assert callback.rollout_ends == 2


def test_eval_and_checkpoint_callbacks_and_the_progress_bar_work(tmp_path):
    eval_env = spaceship_venv(2, seed=9, max_episode_steps=50)
    eval_callback = EvalCallback(eval_env, eval_freq=64, n_eval_episodes=1, log_path=str(tmp_path), verbose=0)
    checkpoints = CheckpointCallback(save_freq=64, save_path=str(tmp_path))
    model = PPO2("MlpPolicy", spaceship_venv(2, max_episode_steps=30), n_steps=64, batch_size=64, n_epochs=1)
    model.learn(256, callback=[eval_callback, checkpoints], progress_bar=True)  # 128 steps of 2 envs
    assert len(eval_callback.evaluations_results) == 2
    assert len(list(tmp_path.glob("rl_model_*_steps.zip"))) == 2
    assert len(model.ep_info_buffer) > 0  # the monitor's episodes reached rollout/ep_rew_mean


def test_learning_resumes_after_save_load_and_set_env(tmp_path):
    model = PPO2("MlpPolicy", spaceship_venv(4), **SMALL).learn(256)
    model.learn(256, reset_num_timesteps=False)
    assert model.num_timesteps == 512
    model.save(tmp_path / "m")
    loaded = PPO2.load(tmp_path / "m", env=spaceship_venv(4))
    loaded.learn(256, reset_num_timesteps=False)
    loaded.set_env(spaceship_venv(4, seed=5))
    loaded.learn(256)
    assert loaded.num_timesteps == 256


def test_adam_runs_fused_unless_the_user_chose():
    default = PPO2("MlpPolicy", spaceship_venv(2), n_steps=32, batch_size=32).learn(64)
    assert default.policy.optimizer.param_groups[0]["fused"] is True
    kwargs = {"optimizer_kwargs": {"foreach": False}}
    chosen = PPO2("MlpPolicy", spaceship_venv(2), n_steps=32, batch_size=32, policy_kwargs=kwargs).learn(64)
    assert chosen.policy.optimizer.param_groups[0]["foreach"] is False
    assert not chosen.policy.optimizer.param_groups[0]["fused"]
    sgd = th.optim.SGD([th.zeros(1, requires_grad=True)], lr=0.1)
    update_tensors_together(sgd)
    assert sgd.param_groups[0]["foreach"] is True
