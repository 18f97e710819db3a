"""PPO2 and PolicyGradient: they learn, and they behave as SB3 algorithms do."""

import copy
import warnings
import zipfile

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack, VecMonitor, VecNormalize

import spaceship_env
from agent import PPO2, ModelLoadError, PolicyGradient
from agent.pg import whole_episode_returns
from spaceship_env.evaluation import play_episodes

FAST = {"n_steps": 64, "batch_size": 128, "n_epochs": 2}


def spaceship_venv(n=8, seed=0):
    venv = VecMonitor(spaceship_env.SpaceshipVecEnv(n))
    venv.seed(seed)
    return venv


def greedy_return(model, episodes=50):
    return play_episodes(lambda obs: model.predict(obs, deterministic=True)[0], episodes, seed=10_000).returns.mean()


def test_ppo2_improves_on_spaceship_within_a_small_budget():
    th.set_num_threads(1)
    model = PPO2("MlpPolicy", spaceship_venv(16), seed=0, n_steps=128, batch_size=512, n_epochs=4, ent_coef=0.01)
    before = greedy_return(model)
    model.learn(60_000)
    after = greedy_return(model)
    assert after > before + 100
    assert after > 200  # beyond the random policy's ~120


def test_ppo2_matches_sb3_ppo_update_for_update():
    """Same seed, same data, same maths: the two libraries' weights agree after learning."""
    # Built and trained one after the other: both draw minibatches from numpy's global RNG.
    models = [cls("MlpPolicy", spaceship_venv(4), seed=3, **FAST).learn(512) for cls in (PPO2, PPO)]
    for a, b in zip(models[0].policy.parameters(), models[1].policy.parameters(), strict=True):
        th.testing.assert_close(a, b)


def test_save_load_predict_gives_identical_actions(tmp_path):
    model = PPO2("MlpPolicy", spaceship_venv(), seed=0, **FAST).learn(1024)
    model.save(tmp_path / "model")
    loaded = PPO2.load(tmp_path / "model.zip")
    obs = np.stack([gym.make("Spaceship-v0").reset(seed=s)[0] for s in range(20)])
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0])


def test_sb3_api_progress_bar_callbacks_tensorboard_and_resumed_learning(tmp_path):
    calls = []

    class Count(BaseCallback):
        def _on_step(self) -> bool:
            calls.append(self.num_timesteps)
            return True

    model = PPO2("MlpPolicy", spaceship_venv(), seed=0, tensorboard_log=str(tmp_path), **FAST)
    model.learn(1024, callback=Count(), progress_bar=True)
    model.learn(1024, reset_num_timesteps=False)
    assert model.num_timesteps == 2048
    assert calls[-1] == 1024
    assert any(tmp_path.rglob("events.out.tfevents.*"))
    model.set_env(spaceship_venv(8, seed=1))
    model.learn(256)


def test_training_logs_the_lecture_metrics(tmp_path):
    from stable_baselines3.common.logger import configure

    model = PPO2("MlpPolicy", spaceship_venv(), seed=0, **FAST)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(1024)
    header = (tmp_path / "progress.csv").read_text().splitlines()[0].split(",")
    for key in (
        "policy_loss",
        "value_loss",
        "entropy_loss",
        "approx_kl",
        "clip_fraction",
        "explained_variance",
        "learning_rate",
        "n_updates",
    ):
        assert f"train/{key}" in header


def test_load_onto_another_env_and_with_vec_wrappers(tmp_path):
    venv = VecNormalize(spaceship_venv())
    model = PPO2("MlpPolicy", venv, seed=0, **FAST).learn(512)
    model.save(tmp_path / "m")
    other = VecNormalize(spaceship_venv(2))
    other.obs_rms, other.ret_rms = copy.deepcopy(venv.obs_rms), copy.deepcopy(venv.ret_rms)
    loaded = PPO2.load(tmp_path / "m", env=other)
    assert loaded.get_vec_normalize_env() is other and loaded.n_envs == 2
    raw = np.stack([gym.make("Spaceship-v0").reset(seed=s)[0] for s in range(20)])
    np.testing.assert_array_equal(
        loaded.predict(other.normalize_obs(raw), deterministic=True)[0],
        model.predict(venv.normalize_obs(raw), deterministic=True)[0],
    )
    count = other.obs_rms.count
    loaded.learn(256, reset_num_timesteps=False)
    assert loaded.num_timesteps == 512 + 256  # continues from the saved count
    assert other.obs_rms.count > count  # the statistics it plays with are the ones that learn

    stacked = VecFrameStack(DummyVecEnv([lambda: gym.make("CartPole-v1")]), n_stack=4)
    framed = PPO2("MlpPolicy", stacked, n_steps=32, batch_size=32, n_epochs=1).learn(64)
    assert framed.observation_space.shape == (16,) and framed.num_timesteps == 64


@pytest.mark.parametrize(
    "make",
    [
        lambda: PPO2("MlpPolicy", "Pendulum-v1", seed=0, n_steps=64, batch_size=32, n_epochs=1),
        # Two 200-step episodes per rollout: with one, R(τ) equals the mean baseline and nothing is learned.
        lambda: PolicyGradient("MlpPolicy", make_vec_env("Pendulum-v1", n_envs=2, seed=0), seed=0, n_steps=256),
    ],
    ids=["ppo2", "pg"],
)
def test_works_on_box_action_spaces(make):
    model = make()
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(512)
    assert any(not th.equal(a, b) for a, b in zip(before, model.policy.parameters(), strict=True))
    obs = np.stack([gym.make("Pendulum-v1").reset(seed=s)[0] for s in range(50)])
    for deterministic in (True, False):
        actions = model.predict(obs, deterministic=deterministic)[0]
        assert actions.shape == (50, 1)
        assert all(model.action_space.contains(a) for a in actions)


def test_kl_penalty_and_target_kl_run_and_adapt():
    model = PPO2("MlpPolicy", spaceship_venv(), seed=0, kl_coef=1.0, kl_penalty_target=1e-6, target_kl=0.5, **FAST)
    model.learn(1024)
    assert model.kl_coef > 1.0  # the policy moved more than the tiny target: beta doubled


def construction_outcome(algo, kwargs):
    """What building ``algo`` on one CartPole raises and warns."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            algo("MlpPolicy", DummyVecEnv([lambda: gym.make("CartPole-v1")]), **{"n_steps": 256, **kwargs})
            raised = None
        except Exception as e:
            raised = type(e)
    return raised, [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize(
    ("kwargs", "sb3_does"),
    [
        ({"clip_range_vf": -0.1}, AssertionError),
        ({"clip_range_vf": 0.0}, AssertionError),
        ({"n_steps": 1}, AssertionError),  # a rollout of one sample cannot be standardised
        ({"n_steps": 1, "normalize_advantage": False}, UserWarning),
        ({"batch_size": 1}, AssertionError),
        ({"batch_size": 1, "normalize_advantage": False}, None),
        ({"batch_size": 100}, UserWarning),  # 256 % 100: a truncated minibatch
        ({"batch_size": 10_000}, UserWarning),  # one minibatch of the whole rollout
    ],
    ids=str,
)
def test_bad_arguments_raise_and_warn_as_sb3_ppo_does(kwargs, sb3_does):
    raised, warned = construction_outcome(PPO, kwargs)
    assert sb3_does in (raised, *(category for category, _ in warned)) or (sb3_does, raised, warned) == (None, None, [])
    assert construction_outcome(PPO2, kwargs) == (raised, warned)


@pytest.mark.parametrize("clip_range", [0.0, -0.1])
def test_a_clip_range_sb3_accepts_but_that_clips_nothing_sensible_is_rejected(clip_range):
    """PPO2's one check beyond SB3's: ε <= 0 leaves no trust region (SB3 trains on regardless)."""
    assert construction_outcome(PPO, {"clip_range": clip_range})[0] is None
    with pytest.raises(ValueError, match="clip_range"):
        PPO2("MlpPolicy", spaceship_venv(), **{**FAST, "clip_range": clip_range})


def test_unknown_policy_name_is_rejected():
    with pytest.raises(ValueError, match="NoSuchPolicy"):
        PPO2("NoSuchPolicy", spaceship_venv())


def test_missing_truncated_and_foreign_model_files_are_rejected(tmp_path):
    with pytest.raises(ModelLoadError, match="no model file"):
        PPO2.load(tmp_path / "missing.zip")
    model = PPO2("MlpPolicy", spaceship_venv(), **FAST)
    model.save(tmp_path / "good.zip")
    data = (tmp_path / "good.zip").read_bytes()
    (tmp_path / "truncated.zip").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelLoadError):
        PPO2.load(tmp_path / "truncated.zip")
    (tmp_path / "notes.zip").write_text("not a model")
    with pytest.raises(ModelLoadError, match="not a model zip"):
        PPO2.load(tmp_path / "notes.zip")


@pytest.mark.parametrize("member, junk", [("data", b"{not json"), ("policy.pth", b"not a torch file")])
def test_a_zip_with_damaged_members_is_a_model_load_error(tmp_path, member, junk):
    PPO2("MlpPolicy", spaceship_venv(), **FAST).save(tmp_path / "good.zip")
    with zipfile.ZipFile(tmp_path / "good.zip") as good, zipfile.ZipFile(tmp_path / "bad.zip", "w") as bad:
        for item in good.namelist():
            bad.writestr(item, junk if item == member else good.read(item))
    with pytest.raises(ModelLoadError, match=r"bad\.zip"):
        PPO2.load(tmp_path / "bad.zip")


def test_a_zip_with_a_corrupted_byte_is_a_model_load_error(tmp_path):
    PPO2("MlpPolicy", spaceship_venv(), **FAST).save(tmp_path / "good.zip")
    data = bytearray((tmp_path / "good.zip").read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside a member: the zip still opens, its CRC fails
    (tmp_path / "flipped.zip").write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match=r"flipped\.zip"):
        PPO2.load(tmp_path / "flipped.zip")


def test_save_is_atomic_and_adds_the_zip_suffix(tmp_path):
    model = PPO2("MlpPolicy", spaceship_venv(), **FAST)
    model.save(tmp_path / "sub" / "m")
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["m.zip"]  # no partial file left
    assert PPO2.load(tmp_path / "sub" / "m").n_steps == FAST["n_steps"]


def test_loading_onto_a_different_observation_space_is_rejected(tmp_path):
    PPO2("MlpPolicy", spaceship_venv(), **FAST).save(tmp_path / "m")
    with pytest.raises(ValueError, match=r"[Oo]bservation spaces do not match"):
        PPO2.load(tmp_path / "m", env=DummyVecEnv([lambda: gym.make("CartPole-v1")]))


def test_nan_loss_stops_training_without_touching_the_weights():
    model = PPO2("MlpPolicy", spaceship_venv(), seed=0, **FAST)
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.ent_coef = float("nan")
    with pytest.raises(FloatingPointError, match="update 0"):
        model.learn(512)
    for a, b in zip(before, model.policy.parameters(), strict=True):
        th.testing.assert_close(a, b)


def test_whole_episode_returns_drop_cut_episodes():
    # one env, 6 steps: [cut episode from before][whole episode of 3 steps][cut at the end]
    rewards = np.array([[1.0], [5.0], [0.0], [10.0], [2.0], [3.0]])
    starts = np.array([[0], [1], [0], [0], [1], [0]])
    returns, whole, episodes = whole_episode_returns(rewards, starts, np.array([False]))
    assert whole[:, 0].tolist() == [False, True, True, True, False, False]
    assert returns[1:4, 0].tolist() == [15.0, 15.0, 15.0]
    assert episodes.tolist() == [15.0]


def test_policy_gradient_learns_cartpole():
    """REINFORCE with the mean baseline balances the pole (its weaker showing on Spaceship is in bench/)."""
    th.set_num_threads(1)
    venv = make_vec_env("CartPole-v1", n_envs=8, seed=1)
    model = PolicyGradient("MlpPolicy", venv, seed=1, n_steps=512, learning_rate=1e-2)
    before = evaluate_policy(model, Monitor(gym.make("CartPole-v1")), 20)[0]
    model.learn(50_000)
    after = evaluate_policy(model, Monitor(gym.make("CartPole-v1")), 20)[0]
    assert before < 50
    assert after > 400


def test_policy_gradient_has_no_critic_in_its_returns():
    model = PolicyGradient("MlpPolicy", spaceship_venv(), seed=0, n_steps=64)
    obs = th.as_tensor(np.stack([gym.make("Spaceship-v0").reset(seed=s)[0] for s in range(5)]))
    assert th.count_nonzero(model.policy.predict_values(obs)) == 0
    model.learn(1024)
    assert th.count_nonzero(model.policy.predict_values(obs)) == 0


def test_target_kl_stops_the_epochs_early_and_logs_the_kl_that_stopped_them():
    model = PPO2("MlpPolicy", spaceship_venv(), seed=0, n_steps=64, batch_size=64, n_epochs=50, learning_rate=3e-3)
    model.target_kl = 1e-6
    model.learn(512)  # one rollout, so one train(); its records are the logger's last
    logged = model.logger.name_to_value
    assert logged["train/stopped_early"] == 1
    assert logged["train/approx_kl"] > 0  # includes the estimate that triggered the stop
    assert model._n_updates < 50


def test_a_batch_larger_than_the_rollout_trains_on_the_whole_rollout_as_in_sb3():
    with pytest.warns(UserWarning, match="truncated mini-batch of size 512"):
        model = PPO2("MlpPolicy", spaceship_venv(8), seed=0, n_steps=64, batch_size=1024, n_epochs=3)
    before = [p.detach().clone() for p in model.policy.parameters()]
    model.learn(512)
    assert model._n_updates == 3
    assert any(not th.equal(a, b) for a, b in zip(before, model.policy.parameters(), strict=True))


def test_sampled_play_is_seeded_and_leaves_the_training_stream_alone():
    from experiments.evaluate import play_greedy, play_sampled

    model = PPO2("MlpPolicy", spaceship_venv(2), seed=0, n_steps=64, batch_size=128)
    th.manual_seed(123)
    state = th.random.get_rng_state()
    first = play_sampled(model, "features", 20, seed=500)
    assert th.equal(th.random.get_rng_state(), state)
    again = play_sampled(model, "features", 20, seed=500)
    np.testing.assert_array_equal(first.returns, again.returns)
    # an untrained policy samples near-uniform actions; greedy play repeats one
    assert not np.array_equal(first.returns, play_greedy(model, "features", 20, seed=500).returns)
    assert not np.array_equal(first.returns, play_sampled(model, "features", 20, seed=501).returns)
