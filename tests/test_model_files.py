"""Model files: saves survive signals."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from stable_baselines3.common.vec_env import VecMonitor

import spaceship_env
from agent import PPO2

FAST = {"n_steps": 64, "batch_size": 128, "n_epochs": 1}


def spaceship_venv(n=2):
    venv = VecMonitor(spaceship_env.SpaceshipVecEnv(n))
    venv.seed(0)
    return venv


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
