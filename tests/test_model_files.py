"""Model files: loading runs no code, saves survive signals, damaged files are refused."""

import base64
import collections
import fractions
import functools
import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile

import cloudpickle
import gymnasium as gym
import numpy as np
import pytest
import torch as th
from conftest import HEADLESS, TINY, play_command
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.save_util import data_to_json
from stable_baselines3.common.utils import ConstantSchedule, FloatSchedule, LinearSchedule
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

import spaceship_env
from agent import PPO2, ModelLoadError, PolicyGradient
from agent.serialization.model_io import load_model, save_model
from spaceship_env.env import observation_space

FAST = {"n_steps": 64, "batch_size": 128, "n_epochs": 1}
SHIPPED = "models/ppo2_spaceship.zip"
MAKERS = {
    "ppo2": lambda env: PPO2("MlpPolicy", env, seed=0, **FAST),
    "pg": lambda env: PolicyGradient("MlpPolicy", env, seed=0, n_steps=64),
    "sb3-ppo": lambda env: PPO("MlpPolicy", env, seed=0, **FAST),
}
LOADERS = {"ppo2": PPO2.load, "pg": PolicyGradient.load, "sb3-ppo": functools.partial(load_model, PPO)}


def spaceship_venv(n=2):
    venv = VecMonitor(spaceship_env.SpaceshipVecEnv(n))
    venv.seed(0)
    return venv


def observations(env_id="Spaceship-v0", n=20):
    env = gym.make(env_id)
    return np.stack([env.reset(seed=s)[0] for s in range(n)])


class WritesMarker:
    """A pickle that, when loaded, creates the folder ``marker``: stands for any code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def pickled(obj, type_name):
    """An entry of ``data`` as SB3's ``data_to_json`` writes a pickled object."""
    return {":type:": type_name, ":serialized:": base64.b64encode(cloudpickle.dumps(obj)).decode()}


def read_data(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("data"))


def with_member(src, dst, member, content):
    """A copy of the model zip ``src`` at ``dst`` whose ``member`` is replaced by ``content``."""
    with zipfile.ZipFile(src) as good, zipfile.ZipFile(dst, "w") as bad:
        for item in good.namelist():
            bad.writestr(item, content if item == member else good.read(item))
    return dst


def with_data(src, dst, change):
    data = read_data(src)
    change(data)
    return with_member(src, dst, "data", json.dumps(data))


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    """A small saved model of each algorithm; SB3's PPO saved by SB3's own ``save``."""
    folder = tmp_path_factory.mktemp("models")
    files = {}
    for algo, make in MAKERS.items():
        model = make(spaceship_venv()).learn(128)
        model.save(folder / algo)
        files[algo] = folder / f"{algo}.zip"
    return files


def forbid_unpickling(monkeypatch):
    """Any attempt to unpickle outside torch's weights-only loader fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("something was unpickled")

    for module, name in ((cloudpickle, "loads"), (pickle, "loads"), (pickle, "load")):
        monkeypatch.setattr(module, name, refuse)


@pytest.fixture
def no_unpickling(monkeypatch):
    forbid_unpickling(monkeypatch)


def one_line_naming(error, *words):
    text = str(error)
    assert "\n" not in text and "\x1b" not in text
    for word in words:
        assert word in text


# --- crafted files -------------------------------------------------------------------------
CRAFTED = {
    "an extra key": lambda data, payload: data.update(evil=pickled(payload, "<class 'object'>")),
    "lr_schedule": lambda data, payload: data.update(
        lr_schedule=pickled(payload, "<class 'stable_baselines3.common.utils.FloatSchedule'>")
    ),
    "observation_space": lambda data, payload: data.update(
        observation_space=pickled(payload, "<class 'gymnasium.spaces.box.Box'>")
    ),
    "policy_class": lambda data, payload: data.update(
        policy_class={
            **pickled(payload, "<class 'abc.ABCMeta'>"),
            "__module__": "stable_baselines3.common.policies",
        }
    ),
}
REFUSED_KEY = {"an extra key": "evil", "observation_space": "observation_space", "policy_class": "policy_class"}


@pytest.mark.parametrize("algo", LOADERS)
@pytest.mark.parametrize("where", CRAFTED)
def test_a_pickled_payload_in_data_never_runs_on_load(tmp_path, model_files, algo, where):
    marker = tmp_path / "marker"
    crafted = with_data(model_files[algo], tmp_path / "crafted.zip", lambda d: CRAFTED[where](d, WritesMarker(marker)))
    if where in REFUSED_KEY:
        with pytest.raises(ModelLoadError) as refused:
            LOADERS[algo](crafted)
        one_line_naming(refused.value, f"'{REFUSED_KEY[where]}'", "trust_pickle=True")
    else:  # the learning-rate schedule is rebuilt from `learning_rate`: the payload is not needed
        model = LOADERS[algo](crafted)
        assert model.lr_schedule(1.0) == model.learning_rate
    assert not marker.exists()


def test_the_crafted_payload_does_run_with_trust_pickle(tmp_path, model_files):
    """The payload of the test above is live: trusting the file runs it, as SB3's load does."""
    marker = tmp_path / "marker"
    crafted = with_data(
        model_files["ppo2"], tmp_path / "crafted.zip", lambda d: CRAFTED["an extra key"](d, WritesMarker(marker))
    )
    PPO2.load(crafted, trust_pickle=True)
    assert marker.exists()


@pytest.mark.parametrize(
    "path",
    ["os.system", "builtins.eval", "posix.system", "stable_baselines3.common.logger.CSVOutputFormat", "torch.nn.x.y"],
)
def test_a_class_outside_the_allow_list_is_refused(tmp_path, model_files, path):
    def name_a_class(data):
        data["policy_kwargs"] = {"activation_fn": {":class:": path}}

    crafted = with_data(model_files["ppo2"], tmp_path / "crafted.zip", name_a_class)
    with pytest.raises(ModelLoadError) as refused:
        PPO2.load(crafted)
    one_line_naming(refused.value, path, "activation_fn")


def test_an_environment_named_in_data_is_never_made(tmp_path, model_files, monkeypatch):
    """SB3's ``load`` makes ``data["env"]`` when given no env, and ``gym.make("module:Id-v0")`` imports module."""
    (tmp_path / "plants_a_marker.py").write_text(f"import os\nos.mkdir({str(tmp_path / 'marker')!r})\n")
    monkeypatch.syspath_prepend(tmp_path)
    crafted = with_data(model_files["ppo2"], tmp_path / "crafted.zip", lambda d: d.update(env="plants_a_marker:X-v0"))
    for env in (None, spaceship_venv()):
        with pytest.raises(ModelLoadError) as refused:
            PPO2.load(crafted, env=env)
        one_line_naming(refused.value, "'env'", "trust_pickle=True")
    assert not (tmp_path / "marker").exists()


# --- SB3's own files -----------------------------------------------------------------------
@pytest.mark.parametrize("env_id", ["Spaceship-v0", "Pendulum-v1"])
def test_an_sb3_ppo_file_loads_without_unpickling_and_acts_as_sb3s_load(tmp_path, env_id, monkeypatch):
    venv = DummyVecEnv([lambda: gym.make(env_id)] * 2)
    PPO("MlpPolicy", venv, seed=0, **FAST).learn(128).save(tmp_path / "sb3")
    reference = PPO.load(tmp_path / "sb3")  # our own file: SB3 may unpickle it
    obs = observations(env_id)
    expected = reference.predict(obs, deterministic=True)[0]
    forbid_unpickling(monkeypatch)
    for load in (PPO2.load, functools.partial(load_model, PPO)):
        model = load(tmp_path / "sb3")
        np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], expected)
        assert model.observation_space == reference.observation_space
        np.testing.assert_array_equal(model.observation_space.low, reference.observation_space.low)
        assert model.action_space == reference.action_space
        assert model.policy_class is reference.policy_class
        assert model.clip_range(0.5) == reference.clip_range(0.5)
        assert model.lr_schedule(0.5) == reference.lr_schedule(0.5)
        assert model.num_timesteps == reference.num_timesteps
        assert model._last_obs is None and model.ep_info_buffer is None  # run-time state: dropped


def test_trust_pickle_loads_an_sb3_file_exactly_as_sb3(model_files):
    ours = load_model(PPO, model_files["sb3-ppo"], trust_pickle=True)
    sb3 = PPO.load(model_files["sb3-ppo"])
    for key in read_data(model_files["sb3-ppo"]):
        a, b = getattr(ours, key), getattr(sb3, key)
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)
        elif isinstance(a, (collections.deque, FloatSchedule)):
            assert repr(a) == repr(b)
        else:
            assert a == b, key
    for a, b in zip(ours.policy.parameters(), sb3.policy.parameters(), strict=True):
        th.testing.assert_close(a, b, rtol=0, atol=0)


def test_an_sb3_file_whose_schedule_is_a_function_needs_trust_pickle_or_custom_objects(tmp_path):
    PPO("MlpPolicy", spaceship_venv(), learning_rate=lambda p: 1e-3 * p, **FAST).save(tmp_path / "sb3")
    with pytest.raises(ModelLoadError) as refused:
        load_model(PPO, tmp_path / "sb3")
    one_line_naming(refused.value, "'learning_rate'", "trust_pickle=True", "custom_objects")
    assert load_model(PPO, tmp_path / "sb3", custom_objects={"learning_rate": 1e-4}).lr_schedule(0.5) == 1e-4


BIG = (4, 84, 84)  # numpy prints arrays of more than 1000 numbers with "..."
SB3_SPACES = {
    "spaceship features": observation_space("features"),
    "cartpole, with inf": gym.make("CartPole-v1").observation_space,
    "pendulum actions": gym.make("Pendulum-v1").action_space,
    "2-d bounds": spaces.Box(np.arange(6, dtype=np.float32).reshape(2, 3) / 7, 10.0, dtype=np.float32),
    "pixels": spaces.Box(0, 255, BIG, np.uint8),
    "discrete from 1": spaces.Discrete(4, start=1),
    "multi-discrete": spaces.MultiDiscrete([3, 4, 2], start=[0, 1, -1]),
    "multi-binary": spaces.MultiBinary([2, 3]),
}


@pytest.mark.parametrize("space", SB3_SPACES.values(), ids=SB3_SPACES.keys())
def test_spaces_are_rebuilt_from_the_text_sb3_writes_beside_their_pickle(space):
    from agent.serialization.sb3_text import read_entry

    entry = json.loads(data_to_json({"observation_space": space}))["observation_space"]
    rebuilt = read_entry("observation_space", entry)
    assert rebuilt == space and type(rebuilt) is type(space) and rebuilt.dtype == space.dtype
    for bound in ("low", "high", "nvec", "start"):
        if hasattr(space, bound):
            np.testing.assert_array_equal(getattr(rebuilt, bound), getattr(space, bound))


@pytest.mark.parametrize(
    "space",
    [
        spaces.Dict({"a": spaces.Discrete(2)}),
        spaces.Box(np.arange(np.prod(BIG), dtype=np.float32).reshape(BIG), np.inf),  # "..." hides its bounds
    ],
    ids=["dict", "big non-uniform box"],
)
def test_a_space_sb3_text_does_not_describe_is_refused(space):
    from agent.serialization.sb3_text import SB3EntryUnreadable, read_entry

    entry = json.loads(data_to_json({"observation_space": space}))["observation_space"]
    with pytest.raises(SB3EntryUnreadable):
        read_entry("observation_space", entry)


# --- our own format ------------------------------------------------------------------------
def test_our_saves_are_plain_json_and_load_without_unpickling(tmp_path, no_unpickling):
    policy_kwargs = {
        "activation_fn": th.nn.ReLU,
        "net_arch": {"pi": [32], "vf": [16]},
        "optimizer_class": th.optim.Adam,
    }
    model = PPO2("MlpPolicy", spaceship_venv(4), seed=0, policy_kwargs=policy_kwargs, **FAST).learn(1024)
    model.save(tmp_path / "m")
    text = zipfile.ZipFile(tmp_path / "m.zip").read("data").decode()
    assert ":serialized:" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} is not strict JSON"))
    loaded = PPO2.load(tmp_path / "m")
    assert loaded.policy_kwargs == policy_kwargs
    assert loaded.num_timesteps == model.num_timesteps
    assert loaded.ep_info_buffer and list(loaded.ep_info_buffer) == [
        {k: float(v) for k, v in i.items()} for i in model.ep_info_buffer
    ]
    obs = observations()
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])


OUR_SPACES = {
    **SB3_SPACES,
    "float32 extremes": spaces.Box(
        np.array([1e-38, -3.4e38, 0.1, 1 / 3, -np.inf], np.float32), np.array([1, 3.4e38, 0.2, 0.5, np.inf], np.float32)
    ),
    "float64": spaces.Box(-np.pi, np.e, (3,), np.float64),
    "big non-uniform box": spaces.Box(np.arange(np.prod(BIG), dtype=np.float32).reshape(BIG), np.inf),
    "multi-binary flat": spaces.MultiBinary(5),
    "dict": spaces.Dict({"b": spaces.Discrete(2), "a": spaces.Box(-1, 1, (2,))}),
}


@pytest.mark.parametrize("space", OUR_SPACES.values(), ids=OUR_SPACES.keys())
def test_spaces_round_trip_exactly_through_json(space):
    from agent.serialization.json_form import from_json, to_json

    rebuilt = from_json(json.loads(json.dumps(to_json(space), allow_nan=False)))
    assert rebuilt == space and type(rebuilt) is type(space) and rebuilt.dtype == space.dtype
    for bound in ("low", "high", "nvec", "start"):
        if hasattr(space, bound):
            np.testing.assert_array_equal(getattr(rebuilt, bound), getattr(space, bound))


@pytest.mark.parametrize(
    "schedule",
    [0.5, ConstantSchedule(2e-4), LinearSchedule(1e-3, 1e-5, 0.3), FloatSchedule(LinearSchedule(1.0, 0.0, 1.0))],
    ids=repr,
)
def test_sb3_schedules_are_saved_as_json_and_rebuilt(tmp_path, no_unpickling, schedule):
    PPO2("MlpPolicy", spaceship_venv(), learning_rate=schedule, clip_range=schedule, **FAST).save(tmp_path / "m")
    assert ":serialized:" not in zipfile.ZipFile(tmp_path / "m.zip").read("data").decode()
    loaded = PPO2.load(tmp_path / "m")
    original = FloatSchedule(schedule)
    for progress in (1.0, 0.8, 0.1):
        assert loaded.lr_schedule(progress) == original(progress)
        assert loaded.clip_range(progress) == original(progress)


def test_a_function_schedule_is_saved_pickled_and_needs_trust_pickle(tmp_path, no_unpickling):
    model = PPO2("MlpPolicy", spaceship_venv(), learning_rate=lambda p: 1e-3 * p, **FAST)
    with pytest.warns(UserWarning, match=r"learning_rate.*trust_pickle=True"):
        model.save(tmp_path / "m")
    with pytest.raises(ModelLoadError) as refused:
        PPO2.load(tmp_path / "m")
    one_line_naming(refused.value, "'learning_rate'", "trust_pickle=True", "custom_objects")
    assert PPO2.load(tmp_path / "m", custom_objects={"learning_rate": 1e-4}).lr_schedule(0.5) == 1e-4


def test_a_function_schedule_loads_with_trust_pickle(tmp_path):
    model = PPO2("MlpPolicy", spaceship_venv(), learning_rate=lambda p: 1e-3 * p, **FAST)
    with pytest.warns(UserWarning):
        model.save(tmp_path / "m")
    assert PPO2.load(tmp_path / "m", trust_pickle=True).lr_schedule(0.5) == 5e-4


def test_save_model_and_load_model_serve_sb3s_ppo(tmp_path, no_unpickling):
    model = PPO("MlpPolicy", spaceship_venv(), seed=0, **FAST).learn(128)
    save_model(model, tmp_path / "sb3")
    assert ":serialized:" not in zipfile.ZipFile(tmp_path / "sb3.zip").read("data").decode()
    loaded = load_model(PPO, tmp_path / "sb3", env=spaceship_venv())
    assert type(loaded) is PPO
    obs = observations()
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], model.predict(obs, deterministic=True)[0])
    loaded.learn(128, reset_num_timesteps=False)
    assert loaded.num_timesteps == 256


def test_the_shipped_model_holds_no_pickle_and_loads_alone(no_unpickling):
    assert ":serialized:" not in zipfile.ZipFile(SHIPPED).read("data").decode()
    model = PPO2.load(SHIPPED)
    assert model.observation_space == observation_space("features")
    np.testing.assert_array_equal(model.observation_space.low, observation_space("features").low)
    assert model.action_space == gym.make("Spaceship-v0").action_space


# --- damaged files -------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 17], ids=["torch raises UnpicklingError", "torch raises IndexError"])
def test_weights_of_random_bytes_are_a_model_load_error(tmp_path, model_files, seed):
    junk = np.random.default_rng(seed).bytes(5000)
    bad = with_member(model_files["ppo2"], tmp_path / "bad.zip", "policy.pth", junk)
    with pytest.raises(ModelLoadError) as refused:
        PPO2.load(bad)
    one_line_naming(refused.value, "bad.zip", "policy.pth")


def test_weights_holding_other_objects_are_refused_without_torchs_advice(tmp_path, model_files):
    member = tmp_path / "policy.pth"
    th.save({"w": fractions.Fraction(1, 3)}, member)  # not among the weights-only types
    bad = with_member(model_files["ppo2"], tmp_path / "bad.zip", "policy.pth", member.read_bytes())
    with pytest.raises(ModelLoadError) as refused:
        PPO2.load(bad)
    one_line_naming(refused.value, "bad.zip", "policy.pth")
    assert "weights_only" not in str(refused.value)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused_naming_the_file_and_tensor(tmp_path, model_files, value):
    model = PPO2.load(model_files["ppo2"])
    with th.no_grad():
        model.policy.action_net.weight[0, 0] = value
    model.save(tmp_path / "broken")
    with pytest.raises(ModelLoadError) as refused:
        PPO2.load(tmp_path / "broken")
    one_line_naming(refused.value, "broken.zip", "policy.pth", "action_net.weight", "NaN" if value != value else "inf")


def test_terminal_escape_codes_from_a_file_never_reach_the_error(tmp_path, model_files):
    crafted = with_data(
        model_files["ppo2"], tmp_path / "crafted.zip", lambda d: d.update(policy_class="\x1b[2J\x1b[31mX")
    )
    with pytest.raises(ModelLoadError) as refused:
        PPO2.load(crafted)
    one_line_naming(refused.value, "crafted.zip")


# --- saving --------------------------------------------------------------------------------
def test_stale_partial_files_of_dead_savers_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid, live_pid = int(dead.stdout), os.getppid()
    for name in (
        f".m.zip.{dead_pid}.partial",
        f".other.zip.{dead_pid}.partial",
        f".m.zip.{live_pid}.partial",
        ".notes",
    ):
        (tmp_path / name).write_bytes(b"x")
    PPO2("MlpPolicy", spaceship_venv(), **FAST).save(tmp_path / "m")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f".m.zip.{live_pid}.partial", ".notes", "m.zip"])


SAVER = textwrap.dedent(
    """
    import pathlib, signal, sys, threading, time
    import gymnasium as gym
    import torch as th
    from stable_baselines3.common.vec_env import DummyVecEnv
    from agent import PPO2

    def interrupt(signum, frame):  # play.py treats SIGTERM as Ctrl-C
        raise KeyboardInterrupt

    def wait():
        while True:
            time.sleep(0.001)

    th.set_num_threads(1)
    signal.signal(signal.SIGTERM, interrupt)
    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()  # as TensorBoard and tqdm start
    venv = DummyVecEnv([lambda: gym.make("CartPole-v1")])
    model = PPO2("MlpPolicy", venv, n_steps=64, batch_size=64, policy_kwargs={"net_arch": [1024, 1024]})
    for round in range(int(sys.argv[2])):
        print("ready", flush=True)
        try:
            wait()
        except KeyboardInterrupt:  # the first signal: save, as play.py does
            try:
                model.save(pathlib.Path(sys.argv[1]) / f"model{round}.zip")
                wait()
            except KeyboardInterrupt:  # the second signal
                pass
    """
)


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
def test_a_save_finishes_under_a_second_signal(tmp_path):
    delays = [0.005, 0.008, 0.011, 0.014, 0.017, 0.02]  # a save takes about 20 ms
    saver = subprocess.Popen(
        [sys.executable, "-c", SAVER, str(tmp_path), str(len(delays))], stdout=subprocess.PIPE, text=True
    )
    try:
        for delay in delays:
            assert saver.stdout.readline() == "ready\n"
            time.sleep(0.05)
            saver.send_signal(signal.SIGINT)
            time.sleep(delay)
            saver.send_signal(signal.SIGTERM)
        assert saver.wait(timeout=60) == 0
    finally:
        saver.kill()
    for round in range(len(delays)):
        assert PPO2.load(tmp_path / f"model{round}.zip").policy_kwargs == {"net_arch": [1024, 1024]}
    assert not list(tmp_path.glob(".*.partial"))


# --- every path of the front door --------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """A finished tiny training run, copied by each test that resumes it."""
    folder = tmp_path_factory.mktemp("tiny")
    result = subprocess.run(
        play_command("train", "--timesteps", 512, *TINY, "--run-dir", folder / "run"),
        capture_output=True,
        text=True,
        env=HEADLESS,
        cwd=folder,
    )
    assert result.returncode == 0, result.stderr
    return folder / "run"


@pytest.mark.parametrize("where", CRAFTED)
@pytest.mark.parametrize("command", ["evaluate", "watch", "train --resume"])
def test_no_command_of_play_py_runs_a_crafted_payload(tmp_path, model_files, tiny_run, play, where, command):
    marker = tmp_path / "marker"
    payload = WritesMarker(marker)
    if command == "train --resume":
        run = tmp_path / "run"
        shutil.copytree(tiny_run, run)
        with_data(tiny_run / "model.zip", run / "model.zip", lambda d: CRAFTED[where](d, payload))
        result = play("train", "--resume", run, "--timesteps", 1024)
    else:
        crafted = with_data(model_files["ppo2"], tmp_path / "crafted.zip", lambda d: CRAFTED[where](d, payload))
        record = ["--record", "v.gif"] if command == "watch" else []
        result = play(command, "--model", crafted, "--episodes", 1, *record)
    assert not marker.exists(), result.stdout + result.stderr
    assert "Traceback" not in result.stderr
