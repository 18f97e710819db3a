"""play.py end to end, headless, on tiny budgets; every bad input is one line and exit 2."""

import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import imageio.v2 as imageio
import numpy as np
import pytest

from agent import PPO2

ROOT = pathlib.Path(__file__).resolve().parents[1]
ENV = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "DISPLAY": ""}


def play(*args, timeout=300):
    return subprocess.run(
        [sys.executable, str(ROOT / "play.py"), *map(str, args)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=timeout,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run = tmp_path_factory.mktemp("run")
    result = play("train", "--timesteps", 4096, "--n-envs", 4, "--n-steps", 64, "--batch-size", 128, "--run-dir", run)
    assert result.returncode == 0, result.stderr
    return run


def test_train_writes_a_complete_run_folder(run_dir):
    for name in ("model.zip", "best_model.zip", "config.json", "curve.png", "episodes.monitor.csv"):
        assert (run_dir / name).is_file(), name
    assert any((run_dir / "checkpoints").glob("model_*_steps.zip"))
    assert any((run_dir / "tb").rglob("events.out.tfevents.*"))
    assert PPO2.load(run_dir / "model.zip").num_timesteps >= 4096


def test_evaluate_prints_agent_and_random_side_by_side(run_dir):
    result = play("evaluate", "--model", run_dir / "model.zip", "--episodes", 10)
    assert result.returncode == 0, result.stderr
    assert "agent" in result.stdout and "random" in result.stdout and "clear rate" in result.stdout


def test_watch_records_a_playable_video_with_a_trace(run_dir, tmp_path):
    video = tmp_path / "episode.gif"
    result = play("watch", "--model", run_dir / "model.zip", "--record", video, "--deterministic")
    assert result.returncode == 0, result.stderr
    assert "t=1 " in result.stdout and "R = " in result.stdout
    frames = imageio.mimread(video)
    assert len(frames) > 10 and frames[0].shape[1] > frames[0].shape[0]  # game plus probability panel


def test_watch_without_a_screen_writes_a_video_beside_the_model(run_dir):
    result = play("watch", "--model", run_dir / "model.zip")
    assert result.returncode == 0, result.stderr
    frames = imageio.mimread(run_dir / "watch.mp4", memtest=False)
    assert len(frames) > 10 and frames[0].ndim == 3 and frames[0].max() > 0


def test_watch_with_a_display_that_cannot_open_records_instead(run_dir):
    broken = {k: v for k, v in ENV.items() if k != "SDL_VIDEODRIVER"} | {"DISPLAY": ":97"}  # no X server there
    result = subprocess.run(
        [sys.executable, str(ROOT / "play.py"), "watch", "--model", str(run_dir / "model.zip")],
        capture_output=True,
        text=True,
        env=broken,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "recording instead" in result.stdout and (run_dir / "watch.mp4").stat().st_size > 0


def test_resume_continues_the_run_and_keeps_its_history(run_dir, tmp_path):
    resumed = tmp_path / "resumed"
    shutil.copytree(run_dir, resumed)
    config = (resumed / "config.json").read_text()
    for refused, message in [
        ((), "pass a larger --timesteps"),  # nothing left to do
        (("--timesteps", 1024), "pass a larger --timesteps"),
        (("--timesteps", 8192, "--learning-rate", 1), "--learning-rate cannot be combined with --resume"),
    ]:
        result = play("train", "--resume", resumed, *refused)
        assert result.returncode == 2 and message in result.stderr
        assert (resumed / "config.json").read_text() == config  # a refused resume changes nothing
    episodes_before = len((resumed / "episodes.monitor.csv").read_text().splitlines())
    evaluated_before = list(np.load(resumed / "evaluations.npz")["timesteps"])
    result = play("train", "--resume", resumed, "--timesteps", 8192)
    assert result.returncode == 0, result.stderr
    assert PPO2.load(resumed / "model.zip").num_timesteps >= 8192
    assert json.loads((resumed / "config.json").read_text())["timesteps"] == 8192
    assert len((resumed / "episodes.monitor.csv").read_text().splitlines()) > episodes_before
    evaluated = list(np.load(resumed / "evaluations.npz")["timesteps"])
    assert evaluated[: len(evaluated_before)] == evaluated_before and len(evaluated) > len(evaluated_before)


@pytest.mark.parametrize("algo", ["pg", "sb3-ppo"])
def test_the_comparison_learners_train_and_evaluate(algo, tmp_path):
    tiny = ["--timesteps", 2048, "--n-envs", 4, "--n-steps", 256, "--run-dir", tmp_path]
    result = play("train", "--algo", algo, *tiny, *(["--batch-size", 256] if algo == "sb3-ppo" else []))
    assert result.returncode == 0, result.stderr
    result = play("evaluate", "--model", tmp_path / "model.zip", "--episodes", 5)
    assert result.returncode == 0 and "agent" in result.stdout, result.stderr


def test_pixels_train_evaluate_and_watch_end_to_end(tmp_path):
    tiny = ["--timesteps", 256, "--n-envs", 2, "--n-steps", 64, "--batch-size", 64, "--n-epochs", 1]
    result = play("train", "--obs", "pixels", *tiny, "--run-dir", tmp_path)
    assert result.returncode == 0, result.stderr
    assert PPO2.load(tmp_path / "model.zip").observation_space.shape == (4, 84, 84)
    result = play("evaluate", "--model", tmp_path / "model.zip", "--episodes", 2)
    assert result.returncode == 0 and "agent" in result.stdout, result.stderr
    result = play("watch", "--model", tmp_path / "model.zip", "--record", tmp_path / "pixels.gif")
    assert result.returncode == 0 and (tmp_path / "pixels.gif").stat().st_size > 0, result.stderr


def test_no_arguments_trains_then_shows_an_episode(tmp_path, monkeypatch, capsys):
    import play as front

    monkeypatch.setattr(front, "ROOT", tmp_path)
    monkeypatch.setattr(front.TrainConfig, "timesteps", 8192)  # one rollout of the default 32 games
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    assert front.run([]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert (run / "model.zip").is_file() and (run / "watch.mp4").stat().st_size > 0
    assert "video:" in capsys.readouterr().out


def test_an_exception_mid_training_still_saves_the_model_and_curve(tmp_path, monkeypatch):
    import play as front

    def fail(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(PPO2, "train", fail)
    config = front.TrainConfig(timesteps=4096, n_envs=4, hyperparams={"n_steps": 64, "batch_size": 128})
    with pytest.raises(RuntimeError, match="boom"):
        front.train(config, tmp_path)
    assert PPO2.load(tmp_path / "model.zip").num_timesteps == 4 * 64  # the first rollout
    assert (tmp_path / "config.json").is_file()


def test_missing_model_is_one_line_and_exit_2(tmp_path):
    result = play("evaluate", "--model", tmp_path / "nope.zip")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "no model file" in result.stderr


def test_corrupt_model_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 garbage")
    result = play("watch", "--model", tmp_path / "bad.zip")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "bad.zip" in result.stderr


def test_model_for_other_observations_is_rejected(tmp_path):
    PPO2("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=32).save(tmp_path / "cartpole.zip")
    result = play("evaluate", "--model", tmp_path / "cartpole.zip")
    assert result.returncode == 2 and "observations of shape (4,)" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--no-such-option"], "unrecognized arguments"),
        (["train", "--timesteps", "-5"], "positive"),
        (["train", "--algo", "dqn"], "invalid choice"),
        (["train", "--learning-rate", "-1"], "expected a number > 0"),
        (["train", "--gamma", "1.5"], "in [0, 1]"),
        (["train", "--algo", "pg", "--batch-size", "64"], "--batch-size does not apply to --algo pg"),
        (["train", "--learning-rate", "inf"], "finite"),
        (["train", "--algo", "sb3-ppo", "--batch-size", "1", "--timesteps", "64"], "bad settings for --algo sb3-ppo"),
        (["watch", "--record", "clip.avi"], "must end in .mp4 or .gif"),
    ],
)
def test_bad_command_lines_are_one_line_and_exit_2(args, message):
    result = play(*args)
    assert result.returncode == 2
    assert message in result.stderr and result.stderr.strip().count("\n") == 0


def test_unwritable_run_dir_is_one_line_and_exit_2(tmp_path):
    (tmp_path / "file").write_text("")
    result = play("train", "--timesteps", 64, "--run-dir", tmp_path / "file" / "run")
    assert result.returncode == 2 and "cannot write to run directory" in result.stderr


def test_ctrl_c_during_training_saves_a_loadable_model(tmp_path):
    run = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "play.py"),
            "train",
            "--timesteps",
            "10000000",
            "--n-envs",
            "4",
            "--n-steps",
            "64",
            "--batch-size",
            "128",
            "--run-dir",
            str(run),
        ],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    deadline = time.time() + 120
    while not (run / "tb").exists() and time.time() < deadline:
        time.sleep(0.5)
    time.sleep(3)  # well into learn()
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    model = PPO2.load(run / "model.zip")
    assert model.num_timesteps > 0
    assert (run / "curve.png").exists()


def test_area_resize_keeps_one_pixel_bombs_and_flat_grey():
    from play import area_resize

    flat = area_resize(np.full((1, 210, 160), 100.0, np.float32), 84)
    np.testing.assert_allclose(flat, 100.0, rtol=1e-5)
    for x in range(160):  # a one-pixel-wide bomb trail at every column is still seen
        image = np.zeros((1, 210, 160), np.float32)
        image[0, :, x] = 255
        assert area_resize(image, 84).max() > 255 / 4  # sampling would lose half of them


def test_the_shipped_model_loads_alone_and_clears_nine_waves_in_ten():
    import gymnasium as gym

    from spaceship_env.evaluation import play_episodes

    model = PPO2.load(ROOT / "models" / "ppo2_spaceship.zip")  # no env, no side files
    obs, _ = gym.make("Spaceship-v0").reset(seed=0)
    assert model.predict(obs, deterministic=True)[0] in (0, 1, 2)
    results = play_episodes(lambda o: model.predict(o, deterministic=True)[0], 100, seed=0)
    assert results.clear_rate >= 0.9
    assert np.mean(results.returns) > 600


def test_watch_defaults_to_the_shipped_model(tmp_path):
    result = play("watch", "--deterministic", "--record", tmp_path / "shipped.gif")
    assert result.returncode == 0, result.stderr
    assert "episode 1: R = " in result.stdout
