"""Nothing is lost when training is stopped: Ctrl-C, SIGTERM, a second signal during the save,
a second training into the same folder."""

import os
import signal
import subprocess
import time

import pytest
from conftest import HEADLESS, TINY, one_line, play_command

from agent import PPO2

LONG = ["train", "--timesteps", "10000000", *TINY]


def start(tmp_path, *args):
    return subprocess.Popen(
        play_command(*args), env=HEADLESS, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def wait_for_learning(run, proc, timeout=120):
    """Until the run's TensorBoard log exists: ``learn()`` has begun."""
    deadline = time.time() + timeout
    while not any((run / "tb").rglob("events.out.tfevents.*")):
        assert proc.poll() is None, proc.communicate()
        assert time.time() < deadline, "training never started"
        time.sleep(0.2)
    time.sleep(1.0)


@pytest.mark.parametrize("second", [None, signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("first", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_training_saves_a_loadable_model_even_under_a_second_signal(tmp_path, first, second):
    run = tmp_path / "run"
    proc = start(tmp_path, *LONG, "--run-dir", run)
    wait_for_learning(run, proc)
    proc.send_signal(first)
    if second is not None:
        time.sleep(0.01)  # the save has begun, or is about to
        proc.send_signal(second)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert PPO2.load(run / "model.zip").num_timesteps > 0
    assert not list(run.glob(".*.partial"))


@pytest.mark.parametrize("delay", [0.05, 0.5, 1.5])
def test_sigterm_before_training_starts_exits_cleanly(tmp_path, delay):
    proc = start(tmp_path, *LONG, "--run-dir", "run")
    time.sleep(delay)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode in (130, -signal.SIGTERM), stderr
    assert "Traceback" not in stderr


def test_a_second_training_into_the_same_folder_is_refused_at_once(tmp_path):
    run = tmp_path / "run"
    first = start(tmp_path, *LONG, "--run-dir", run)
    try:
        wait_for_learning(run, first)
        second = subprocess.run(
            play_command(*LONG, "--run-dir", run), env=HEADLESS, cwd=tmp_path, capture_output=True, text=True
        )
        assert second.returncode == 2
        assert str(run) in second.stderr and f"process {first.pid}" in second.stderr and one_line(second.stderr)
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=120)
    assert PPO2.load(run / "model.zip").num_timesteps > 0  # the first run's rows and model are its own


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path, play):
    dead = subprocess.Popen(["true"])
    dead.wait()
    run = tmp_path / "run"
    run.mkdir()
    (run / ".lock").write_text(f"{dead.pid}\n")
    result = play("train", "--timesteps", 512, *TINY, "--run-dir", run)
    assert result.returncode == 0, result.stderr
    assert os.path.getsize(run / ".lock") == 0  # released
