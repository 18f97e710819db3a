"""play.py tune and study on Ray, on tiny budgets: a local Ray, a real cluster, bad input, the statistics.

The search and the study run in this process on one local Ray (started once for the
module); the cluster test starts a Ray head of its own and a separate play.py that joins it.
"""

import contextlib
import csv
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np
import pytest
import yaml
from conftest import HEADLESS, one_line, play_command

from experiments import cli, zoo
from experiments.config import UsageError, learner_kwargs
from experiments.space import MIN_ROLLOUTS, SPACES, trial_settings
from experiments.stats import interval, iqm, mean

pytestmark = pytest.mark.xdist_group("ray")  # make test: one worker runs them all, on one local Ray

TRIAL_COLUMNS = ["trial", "status", "score", "clear_rate", "mean_return", "timesteps", "cpu_s", "wall_time_s", "n_envs"]
PPO_COLUMNS = ["net_arch", "n_steps", "batch_size", "n_epochs", "learning_rate", "ent_coef", "gamma", "gae_lambda"]
STUDY_COLUMNS = ["learner", "seed", "timesteps", "episodes", "clear_rate", "mean_return", "return_std"]
#: Learners that train in a second: 4 games, short rollouts.
TINY_PPO = {"n_envs": 4, "n_steps": 64, "batch_size": 128, "n_epochs": 2}
TINY_PG = {"n_envs": 4, "n_steps": 128}


def zoo_file(path: pathlib.Path, entry: dict) -> pathlib.Path:
    path.write_text(yaml.safe_dump({"Spaceship-v0": entry}))
    return path


def run_cli(capsys, *args) -> tuple[int, str]:
    """``play.py ARGS`` in this process: the exit code and stderr."""
    code = cli.run([str(a) for a in args])
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module's searches and studies, as ``play.py`` starts it."""
    import ray

    from experiments.cluster import start_local_ray

    temp = tempfile.mkdtemp(prefix="ray-test-")  # a short path: Ray's sockets live under it
    start_local_ray(2, temp)
    yield
    ray.shutdown()
    shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def search_dir(local_ray, tmp_path_factory):
    out = tmp_path_factory.mktemp("search") / "out"
    code = cli.run(["tune", "--trials", "4", "--timesteps", "1024", "--episodes", "5", "--out", str(out)])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def study_dir(local_ray, tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    ppo, pg = zoo_file(folder / "ppo.yml", TINY_PPO), zoo_file(folder / "pg.yml", TINY_PG)
    out = folder / "out"
    code = cli.run(["study", "--algo", "ppo2", "--algo", "pg", "--seeds", "2", "--timesteps", "512",
                    "--episodes", "20", "--hyperparams", f"ppo2={ppo}", "--hyperparams", f"pg={pg}",
                    "--out", str(out)])  # fmt: skip
    assert code == 0
    return out


def read_csv(path: pathlib.Path) -> list[dict]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


# A search


def test_tune_writes_a_row_per_trial_with_its_figures_and_hyperparameters(search_dir):
    rows = read_csv(search_dir / "trials.csv")
    assert len(rows) == 4
    assert list(rows[0])[: len(TRIAL_COLUMNS)] == TRIAL_COLUMNS and set(PPO_COLUMNS) <= set(rows[0])
    assert {r["status"] for r in rows} <= {"completed", "stopped early"}
    assert any(r["status"] == "completed" for r in rows)
    scores = [float(r["score"]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    for row in rows:
        assert 0 <= float(row["clear_rate"]) <= 1 and int(row["timesteps"]) > 0
        assert int(row["n_steps"]) * int(row["n_envs"]) % int(row["batch_size"]) == 0


def test_tune_brings_each_trials_run_folder_back(search_dir):
    for row in read_csv(search_dir / "trials.csv"):
        run = search_dir / "runs" / row["trial"]
        assert (run / "model.zip").is_file() and (run / "config.json").is_file() and (run / "evaluations.npz").is_file()


def test_best_yml_is_rl_zoo_hyperparameters_of_the_best_completed_trial(search_dir):
    entry = yaml.safe_load((search_dir / "best.yml").read_text())["Spaceship-v0"]
    assert entry["policy"] == "MlpPolicy" and entry["n_timesteps"] == 1024
    assert zoo.parse_policy_kwargs(entry["policy_kwargs"])["net_arch"] in ([64, 64], [128, 128], [256, 256])
    assert isinstance(entry["learning_rate"], float) or entry["learning_rate"].startswith("lin_")
    best = next(r for r in read_csv(search_dir / "trials.csv") if r["status"] == "completed")  # best first, ties by id
    assert entry["n_envs"] == int(best["n_envs"]) and entry["n_steps"] == int(best["n_steps"])
    assert "rl_zoo3.train" in (search_dir / "best.yml").read_text()


def test_best_yml_trains_with_play_py_train(search_dir, tmp_path, capsys):
    code, err = run_cli(capsys, "train", "--hyperparams", search_dir / "best.yml", "--timesteps", 256,
                        "--run-dir", tmp_path / "r")  # fmt: skip
    assert code == 0, err
    config = (tmp_path / "r" / "config.json").read_text()
    entry = yaml.safe_load((search_dir / "best.yml").read_text())["Spaceship-v0"]
    assert f'"n_envs": {entry["n_envs"]}' in config and f'"batch_size": {entry["batch_size"]}' in config


def test_tune_resume_of_a_finished_search_rewrites_its_tables(search_dir, capsys):
    before = read_csv(search_dir / "trials.csv")
    code, err = run_cli(capsys, "tune", "--resume", search_dir)
    assert code == 0, err
    assert read_csv(search_dir / "trials.csv") == before


# A study


def test_study_writes_a_row_per_run_on_the_held_out_seeds(study_dir):
    rows = read_csv(study_dir / "results.csv")
    assert list(rows[0])[: len(STUDY_COLUMNS)] == STUDY_COLUMNS
    assert sorted((r["learner"], int(r["seed"])) for r in rows) == [("pg", 0), ("pg", 1), ("ppo2", 0), ("ppo2", 1)]
    for row in rows:
        assert int(row["episodes"]) == 20 and int(row["timesteps"]) >= 512 and float(row["steps_per_s"]) > 0
        run = study_dir / row["run"]
        assert (run / "model.zip").is_file() and (run / "evaluations.npz").is_file() and (run / "config.json").is_file()


def test_study_summary_has_a_table_per_learner_with_iqm_and_intervals(study_dir):
    summary = (study_dir / "summary.md").read_text()
    assert "## ppo2" in summary and "## pg" in summary and "arxiv.org/abs/2108.13264" in summary
    assert summary.count("| clear rate | 2 |") == 2 and "python play.py study --algo ppo2" in summary
    assert (study_dir / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_study_resume_runs_only_what_results_csv_lacks(study_dir, tmp_path, capsys):
    resumed = tmp_path / "study"
    shutil.copytree(study_dir, resumed)
    rows = read_csv(resumed / "results.csv")
    kept = [r for r in rows if (r["learner"], r["seed"]) != ("pg", "1")]
    with (resumed / "results.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(kept)
    code, err = run_cli(capsys, "study", "--resume", resumed)
    assert code == 0, err
    assert "1 runs to go (3 done)" in err
    assert len(read_csv(resumed / "results.csv")) == 4


# A real cluster


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def session_members(session: int) -> list[int]:
    """The processes of a session: ``ray start`` and everything it started."""
    members = []
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[3]) == session:
                members.append(int(stat.parent.name))
    return members


@contextlib.contextmanager
def ray_head():
    """A Ray head on 127.0.0.1 of our own: ``ray start --block`` leading a new session.

    It stops by SIGTERM to that one process, which drains and stops all the node's
    processes; whatever is left in its session after that is killed. No ``ray stop``:
    that would stop every Ray on the machine. Token authentication uses a token of its own.
    """
    port, client_port = free_ports(2)
    temp = pathlib.Path(tempfile.mkdtemp(prefix="ray-head-"))  # short: Ray's sockets live under it
    token = temp / "auth_token"
    token.write_text(secrets.token_hex(32))
    env = {**HEADLESS, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token)}
    log = temp / "head.log"
    command = [pathlib.Path(sys.executable).with_name("ray"), "start", "--head", "--block", "--port", port,
               "--node-ip-address", "127.0.0.1", "--ray-client-server-port", client_port, "--temp-dir", temp / "ray",
               "--num-cpus", "2", "--include-dashboard", "false"]  # fmt: skip
    with log.open("w") as out:
        head = subprocess.Popen(list(map(str, command)), stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in log.read_text():
            assert head.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        yield f"127.0.0.1:{port}", env
    finally:
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(timeout=60)
        finally:
            for pid in session_members(head.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            shutil.rmtree(temp, ignore_errors=True)
    assert session_members(head.pid) == []


def test_a_study_on_a_ray_cluster_brings_its_results_and_run_folders_back(tmp_path):
    tiny = zoo_file(tmp_path / "tiny.yml", TINY_PPO)
    out = tmp_path / "out"
    with ray_head() as (address, env):
        result = subprocess.run(
            play_command("study", "--algo", "ppo2", "--seeds", 2, "--timesteps", 512, "--episodes", 10,
                         "--hyperparams", tiny, "--address", address, "--out", out),
            capture_output=True, text=True, env=env, timeout=300, cwd=tmp_path,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"Ray: {address}, 2 CPUs" in result.stderr
    rows = read_csv(out / "results.csv")
    assert sorted(int(r["seed"]) for r in rows) == [0, 1]
    for row in rows:
        assert (out / row["run"] / "model.zip").is_file() and (out / row["run"] / "evaluations.npz").is_file()
    assert (out / "summary.md").is_file() and (out / "curves.png").is_file()


# Bad input: one line, exit 2


def test_an_unreachable_address_is_one_line_and_exit_2(capsys, tmp_path):
    (port,) = free_ports(1)
    for command in (["tune"], ["study"]):
        code, err = run_cli(capsys, *command, "--address", f"127.0.0.1:{port}", "--out", tmp_path / "out")
        assert code == 2 and f"no Ray cluster at 127.0.0.1:{port}" in err and one_line(err), err
    assert not (tmp_path / "out").exists()


def test_tune_through_ray_client_is_refused_in_one_line(capsys):
    code, err = run_cli(capsys, "tune", "--address", "ray://127.0.0.1:10001")
    assert code == 2 and "run tune on a node of the cluster" in err and one_line(err), err


@pytest.mark.parametrize("command", ["tune", "study"])
def test_an_unknown_algorithm_is_one_line_and_exit_2(capsys, command):
    code, err = run_cli(capsys, command, "--algo", "dqn")
    assert code == 2 and "invalid choice: 'dqn'" in err and one_line(err), err


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Spaceship-v0: [1, 2\n", "is not YAML"),
        ("- just\n- a list\n", "is not an rl-zoo hyperparameter file"),
        ("CartPole-v1:\n  n_steps: 32\n", "has no Spaceship-v0 entry (it has CartPole-v1)"),
        ("Spaceship-v0:\n  batch_size: 64\n", "batch_size does not apply to --algo pg"),
        ("Spaceship-v0:\n  normalize: true\n", "normalize does not apply to --algo pg"),
        ("Spaceship-v0:\n  policy: 'CnnPolicy'\n", "--obs features learns with 'MlpPolicy'"),
        ("Spaceship-v0:\n  policy_kwargs: \"__import__('os')\"\n", "expected dict(name=value, ...)"),
        ("Spaceship-v0:\n  learning_rate: fast\n", "expected a number or a linear schedule lin_X"),
        ("Spaceship-v0:\n  n_steps: -8\n", "n_steps: expected an integer >= 1"),
    ],
)
def test_a_bad_hyperparams_file_is_one_line_and_exit_2(capsys, tmp_path, text, message):
    path = tmp_path / "h.yml"
    path.write_text(text)
    for command in (["train", "--run-dir"], ["study", "--out"]):
        code, err = run_cli(capsys, command[0], "--algo", "pg", "--hyperparams", path, command[1], tmp_path / "out")
        assert code == 2 and message in err and one_line(err), err
    assert not (tmp_path / "out").exists()


def test_without_the_scale_extra_tune_and_study_name_it_in_one_line(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "optuna", None)  # import optuna now fails
    for command in ("tune", "study"):
        code, err = run_cli(capsys, command)
        assert code == 2 and "pip install -e '.[scale]'" in err and one_line(err), err


def test_resume_keeps_the_settings_it_was_started_with(capsys, tmp_path):
    code, err = run_cli(capsys, "study", "--resume", tmp_path, "--seeds", 3)
    assert code == 2 and "--seeds cannot be combined with --resume" in err and one_line(err), err
    code, err = run_cli(capsys, "tune", "--resume", tmp_path)
    assert code == 2 and "nothing to resume" in err and one_line(err), err


# The search space and the hyperparameter files


@pytest.mark.parametrize("algo", sorted(SPACES))
@pytest.mark.parametrize("timesteps", [1024, 100_000, 1_000_000])
def test_every_sampled_batch_divides_its_rollout_and_a_trial_holds_several_rollouts(algo, timesteps):
    rng = np.random.default_rng(0)
    for _ in range(200):
        sample = {name: d.values[rng.integers(len(d.values))] if hasattr(d, "values") else d.low
                  for name, d in SPACES[algo].items()}  # fmt: skip
        n_envs, hyperparams = trial_settings(algo, sample, timesteps)
        rollout = n_envs * hyperparams["n_steps"]
        assert rollout % hyperparams.get("batch_size", 1) == 0
        assert rollout * MIN_ROLLOUTS <= timesteps or hyperparams["n_steps"] == 8


def test_a_zoo_file_reads_back_what_was_written(tmp_path):
    hyperparams = {"policy_kwargs": {"net_arch": [64, 64]}, "n_steps": 64, "learning_rate": "lin_1e-05",
                   "ent_coef": 1e-05, "gamma": 0.99}  # fmt: skip
    path = tmp_path / "best.yml"
    zoo.write(path, 16, 1000, "features", hyperparams, ["a note"])
    text = path.read_text()
    assert text.startswith("# a note\nSpaceship-v0:\n") and 'policy_kwargs: "dict(net_arch=[64, 64])"' in text
    assert "ent_coef: 1.0e-05" in text  # 1e-05 would be a string to PyYAML, and to rl-zoo
    settings = zoo.read(path, "ppo2", "features")
    assert (settings.n_envs, settings.timesteps, settings.hyperparams) == (16, 1000, hyperparams)


def test_a_linear_learning_rate_becomes_sb3s_linear_schedule():
    from stable_baselines3.common.utils import LinearSchedule

    schedule = learner_kwargs({"learning_rate": "lin_0.001"})["learning_rate"]
    assert isinstance(schedule, LinearSchedule)
    assert (schedule(1.0), schedule(0.5), schedule(0.0)) == pytest.approx((1e-3, 5e-4, 0.0))


# The statistics, against figures worked out by hand


def test_iqm_is_the_mean_of_the_middle_half():
    assert iqm(np.array([8.0, 1, 2, 7, 3, 6, 4, 5])) == 4.5  # drops 1, 2 and 7, 8
    assert iqm(np.array([10.0, 0, 3, 4, 100])) == pytest.approx(17 / 3)  # 5 runs: drops 0 and 100
    assert iqm(np.array([[1.0, 2], [3, 4]])) == 2.5  # over every run of every task


def test_a_bootstrap_interval_is_the_percentiles_of_resampled_runs():
    # Runs [0, 0, 1]: a resample's mean is 0 with chance (2/3)^3 = 29.6% > 2.5%, and 1 with chance
    # (1/3)^3 = 3.7% > 2.5%, so the 95% interval is [0, 1].
    assert interval(np.array([0.0, 0, 1]), mean) == (0.0, 1.0)
    # Runs [0, 1, 1, 1]: the mean is 1 with chance (3/4)^4 = 31.6%, and 0 with 0.4% < 2.5%, so the
    # interval starts at the next value, 1/4 (chance 4 * (1/4)^3 * 3/4 = 4.7%, 5.1% cumulated).
    assert interval(np.array([0.0, 1, 1, 1]), mean) == (0.25, 1.0)
    assert interval(np.array([2.0, 2, 2]), iqm) == (2.0, 2.0)
    assert interval(np.array([3.0]), iqm) == (3.0, 3.0)  # one run: nothing to resample


def test_a_bootstrap_over_tasks_resamples_each_task_on_its_own():
    # Task 1 always scores 1; task 2's runs [0, 0, 1] resample as above: the mean of both spans [0.5, 1].
    scores = np.array([[1.0, 0], [1, 0], [1, 1]])
    assert interval(scores, mean) == (0.5, 1.0)


def test_a_reward_scale_is_written_as_rl_zoos_vec_env_wrapper_and_read_back(tmp_path):
    path = tmp_path / "best.yml"
    zoo.write(path, 16, 1000, "features", {"n_steps": 64}, ["a note"], reward_scale=0.05)
    assert "vec_env_wrapper: [{spaceship_env.wrappers.ScaleReward: {scale: 0.05}}]" in path.read_text()
    assert zoo.read(path, "ppo2", "features").reward_scale == 0.05


@pytest.mark.parametrize(
    "wrapper",
    ["[{spaceship_env.wrappers.ScaleReward: {scale: 2}}]", "[{os.system: {command: ls}}]", "somewhere.Else"],
)
def test_a_hyperparams_file_names_no_other_wrapper(tmp_path, wrapper):
    path = tmp_path / "h.yml"
    path.write_text(f"Spaceship-v0:\n  vec_env_wrapper: {wrapper}\n")
    with pytest.raises(UsageError, match="the one wrapper here is"):
        zoo.read(path, "ppo2", "features")


def test_rl_zoo_trains_from_a_file_the_search_writes(tmp_path):
    """rl-zoo's own training takes the file: hyperparameters, net_arch, and the reward scale's wrapper."""
    path = tmp_path / "best.yml"
    hyperparams = {"policy_kwargs": {"net_arch": [64, 64]}, "n_steps": 64, "batch_size": 128, "n_epochs": 2,
                   "learning_rate": "lin_0.001"}  # fmt: skip
    zoo.write(path, 4, 512, "features", hyperparams, [], reward_scale=0.05)
    result = subprocess.run(
        [sys.executable, "-m", "rl_zoo3.train", "--gym-packages", "spaceship_env", "--env", "Spaceship-v0",
         "--algo", "ppo", "--conf-file", str(path), "--log-folder", str(tmp_path / "logs"), "-n", "512",
         "--eval-freq", "-1", "--device", "cpu"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ScaleReward" in result.stdout  # rl-zoo reports the wrapper it applied
    assert list((tmp_path / "logs").rglob("Spaceship-v0.zip"))
