"""Every bad command line or input file is one line on stderr and exit 2, and leaves nothing behind."""

import json

import pytest
from conftest import TINY, one_line

from agent import PPO2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--no-such-option"], "unrecognized arguments"),
        (["train", "--timesteps", "-5"], "expected an integer in 1.."),
        (["train", "--timesteps", str(10**12 + 1)], "expected an integer in 1..1,000,000,000,000"),
        (["train", "--algo", "dqn"], "invalid choice"),
        (["train", "--learning-rate", "-1"], "expected a number in (0, inf]"),
        (["train", "--gamma", "1.5"], "expected a number in [0, 1]"),
        (["train", "--algo", "pg", "--batch-size", "64"], "--batch-size does not apply to --algo pg"),
        (["train", "--learning-rate", "inf"], "finite"),
        (["train", "--difficulty", "7"], "difficulty must be in 0..3"),
        (["train", "--lives", "0"], "lives must be in 1.."),
        (["train", "--repeat-action-probability", "2"], "expected a number in [0, 1]"),
        (["train", "--algo", "sb3-ppo", "--batch-size", "1", "--timesteps", "64"], "bad settings for --algo sb3-ppo"),
        (["watch", "--record", "clip.avi"], "must end in .mp4 or .gif"),
        (["watch", "--record", "/proc/x.mp4"], "cannot record to /proc/x.mp4"),
        (["watch", "--record", "/sys/x.gif"], "cannot record to /sys/x.gif"),
        (["evaluate", "--episodes", "0"], "expected an integer"),
    ],
)
def test_bad_command_lines_are_one_line_and_exit_2(play, args, message):
    result = play(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and one_line(result.stderr), result.stderr


def test_a_failed_train_leaves_no_run_folder(play, tmp_path):
    result = play("train", "--algo", "sb3-ppo", "--batch-size", "1", "--timesteps", "64", "--run-dir", "run")
    assert result.returncode == 2
    assert not (tmp_path / "run").exists() and not (tmp_path / "runs").exists()


def test_unwritable_run_dir_is_one_line_and_exit_2(play, tmp_path):
    (tmp_path / "file").write_text("")
    result = play("train", "--timesteps", 64, "--run-dir", tmp_path / "file" / "run")
    assert result.returncode == 2 and "cannot write to run directory" in result.stderr and one_line(result.stderr)


def test_missing_model_is_one_line_and_exit_2(play, tmp_path):
    result = play("evaluate", "--model", tmp_path / "nope.zip")
    assert result.returncode == 2 and "no model file" in result.stderr and one_line(result.stderr)


def test_corrupt_model_is_one_line_and_exit_2(play, tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 garbage")
    result = play("watch", "--model", tmp_path / "bad.zip")
    assert result.returncode == 2 and "bad.zip" in result.stderr and one_line(result.stderr)


def test_model_for_other_observations_is_rejected(play, tmp_path):
    PPO2("MlpPolicy", "CartPole-v1", n_steps=32, batch_size=32).save(tmp_path / "cartpole.zip")
    result = play("evaluate", "--model", tmp_path / "cartpole.zip")
    assert result.returncode == 2 and "observations of shape (4,)" in result.stderr


@pytest.fixture
def finished_run(play, tmp_path):
    result = play("train", "--timesteps", 1024, *TINY, "--run-dir", "run")
    assert result.returncode == 0, result.stderr
    return tmp_path / "run"


def test_resume_names_a_config_of_an_unknown_algorithm(play, finished_run):
    config = json.loads((finished_run / "config.json").read_text())
    (finished_run / "config.json").write_text(json.dumps({**config, "algo": "dqn"}))
    result = play("train", "--resume", finished_run, "--timesteps", 2048)
    assert result.returncode == 2 and "config.json" in result.stderr and "dqn" in result.stderr
    assert one_line(result.stderr)


def test_resume_names_a_damaged_evaluations_file(play, finished_run):
    (finished_run / "evaluations.npz").write_bytes(b"not an npz")
    result = play("train", "--resume", finished_run, "--timesteps", 2048)
    assert result.returncode == 2 and "evaluations.npz" in result.stderr and one_line(result.stderr)


def test_resume_falls_back_to_the_newest_intact_save_and_says_so(play, finished_run):
    model = finished_run / "model.zip"
    model.write_bytes(model.read_bytes()[:1000])  # the newest save, cut short
    result = play("train", "--resume", finished_run, "--timesteps", 2048)
    assert result.returncode == 0, result.stderr
    assert "skipping" in result.stderr and "model.zip" in result.stderr
    assert "resuming from" in result.stdout and "checkpoints" in result.stdout
    assert PPO2.load(model).num_timesteps >= 2048


def test_train_says_when_it_rounds_the_budget_up_to_whole_rollouts(play):
    result = play("train", "--algo", "pg", "--timesteps", 1000, "--n-envs", 4, "--n-steps", 256, "--run-dir", "r")
    assert result.returncode == 0, result.stderr
    assert "training 1,024 steps: whole rollouts of 1,024 (256 steps x 4 games)" in result.stdout


def test_play_help_says_the_game_waits_while_no_key_is_held(play):
    result = play("play", "--help")
    assert "waits while no key is held" in " ".join(result.stdout.split())


def test_the_progress_bar_closes_when_learning_raises(tmp_path, monkeypatch):
    from tqdm import tqdm

    from experiments.config import TrainConfig
    from experiments.run import train

    monkeypatch.setattr(PPO2, "train", _boom)
    config = TrainConfig(timesteps=4096, n_envs=4, hyperparams={"n_steps": 64, "batch_size": 128})
    with pytest.raises(RuntimeError, match="boom"):
        train(config, tmp_path / "run")
    assert not list(tqdm._instances)  # no bar left open
    assert PPO2.load(tmp_path / "run" / "model.zip").num_timesteps == 4 * 64  # the first rollout was saved
    assert (tmp_path / "run" / "config.json").is_file()


def _boom(self):
    raise RuntimeError("boom")
