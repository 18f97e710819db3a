"""Shared helpers: ``play.py`` run headless in a temporary folder, so no test leaves ``runs/`` behind."""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: The front door under test; another checkout's can be tested by setting PLAY_PY.
PLAY = pathlib.Path(os.environ.get("PLAY_PY", ROOT / "play.py"))
HEADLESS = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy", "DISPLAY": ""}
#: A training that takes a second: 4 games, rollouts of 64 steps, 4 epochs.
TINY = ["--n-envs", "4", "--n-steps", "64", "--batch-size", "128", "--n-epochs", "4"]


def play_command(*args) -> list[str]:
    return [sys.executable, str(PLAY), *map(str, args)]


@pytest.fixture
def play(tmp_path):
    """Run ``play.py`` with ``args`` in ``tmp_path``, headless; returns the finished process."""

    def run(*args, timeout=300, env=None):
        return subprocess.run(
            play_command(*args), capture_output=True, text=True, env=env or HEADLESS, timeout=timeout, cwd=tmp_path
        )

    return run


def one_line(stderr: str) -> bool:
    return stderr.strip().count("\n") == 0 and "Traceback" not in stderr
