"""A 4-seed study on Ray, 2 runs at a time on 1 CPU each, against the same runs one after another.

    python bench/study_speedup.py [--timesteps 1000000] [--seeds 4] [--episodes 100]

Both halves run the same function, :func:`experiments.study.study_run` (play.py's PPO2
defaults: train, then greedy play from seed 1,000,000, then pack the run folder): first
in this process, one run after another with one torch thread; then as ``play.py study``
runs it, on a new local Ray of 2 CPUs (whatever the machine has), 1 CPU per run, starting
Ray included. Prints both
wall times and their ratio (target >= 1.7x on 2 cores). Runs of about a minute or more
keep Ray's fixed costs (starting Ray, a worker importing torch) small beside them. Each
half also prints how many cores were busy on average, its own work and everyone else's:
on a machine that others are using, the Ray half cannot have 2 cores to itself.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import tempfile
import time

import ray

from experiments.cluster import start_local_ray
from experiments.config import default_hyperparams
from experiments.study import Learner, StudyConfig, read_results, run_study, study_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timesteps", type=int, default=1_000_000, help="steps per run")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--episodes", type=int, default=100, help="greedy episodes after each run")
    args = parser.parse_args()
    study = StudyConfig(
        obs="features",
        seeds=args.seeds,
        episodes=args.episodes,
        cpus_per_trial=1,
        learners={"ppo2": Learner(32, args.timesteps, default_hyperparams("ppo2", "features"))},
    )
    print(f"{args.seeds} runs of PPO2, {args.timesteps:,} steps each, on {os.cpu_count()} CPUs", flush=True)

    start, before = time.perf_counter(), cpu_times()
    for seed in range(args.seeds):
        row = study_run(study.train_config("ppo2", seed), args.episodes)["row"]
        print(f"  one after another: seed {seed} {row['wall_time_s']:.1f} s training", flush=True)
    one_by_one, busy = time.perf_counter() - start, busy_cores(before)

    with tempfile.TemporaryDirectory(prefix="study-speedup-") as out:
        start, before = time.perf_counter(), cpu_times()
        start_local_ray(2, out)
        code = run_study(study, pathlib.Path(out), address=None)  # on the Ray just started
        on_ray, busy_on_ray = time.perf_counter() - start, busy_cores(before)
        ray.shutdown()
        assert code == 0 and len(read_results(pathlib.Path(out))) == args.seeds, "the study on Ray failed"

    print(f"\none after another, one process:  {one_by_one:7.1f} s   cores busy {busy:.2f} (this bench alone: 1)")
    print(f"Ray, 2 at a time on 1 CPU each: {on_ray:7.1f} s   cores busy {busy_on_ray:.2f} (alone: 2); Ray's start in")
    print(f"speedup: {one_by_one / on_ray:.2f}x (target >= 1.7x, with 2 cores free)")


def cpu_times() -> tuple[float, float]:
    """The machine's busy and total CPU time so far (``/proc/stat``), in clock ticks."""
    values = [float(v) for v in pathlib.Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


def busy_cores(before: tuple[float, float]) -> float:
    """Cores in use, on average, since ``before``: what this bench used plus everyone else's work."""
    busy, total = (now - then for now, then in zip(cpu_times(), before, strict=True))
    return busy / total * (os.cpu_count() or 1)


if __name__ == "__main__":
    sys.exit(main())
