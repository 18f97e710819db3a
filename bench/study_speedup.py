"""A 4-seed study on Ray, 2 runs at a time on 1 CPU each, against the same runs one after another.

    python bench/study_speedup.py [--timesteps 1000000] [--seeds 4] [--episodes 100]

Both halves run the same function, :func:`experiments.study.study_run` (play.py's PPO2
defaults: train, then greedy play from seed 1,000,000, then pack the run folder): first
in this process, one run after another with one torch thread; then as ``play.py study``
runs it, on a new local Ray of 2 CPUs (whatever the machine has), 1 CPU per run, starting
Ray included. Prints both wall times and their ratio (target >= 1.7x on 2 cores). Runs
of about a minute or more keep Ray's fixed costs (starting Ray, a worker importing
torch) small beside them.

Linux shares the CPU between sessions before processes (autogroup scheduling, on where
``/proc/sys/kernel/sched_autogroup_enabled`` is 1): while a program in another session
keeps a core busy, this session, the bench and its Ray workers together, gets the
other core whatever the number of its processes, and no speedup can show. Each half
prints how many cores other sessions kept busy; the figure means something at 0.
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

    start, before = time.perf_counter(), others_cpu()
    for seed in range(args.seeds):
        row = study_run(study.train_config("ppo2", seed), args.episodes)["row"]
        print(f"  one after another: seed {seed} {row['wall_time_s']:.1f} s training", flush=True)
    one_by_one = time.perf_counter() - start
    others = others_cores(before, one_by_one)

    with tempfile.TemporaryDirectory(prefix="study-speedup-") as out:
        start, before = time.perf_counter(), others_cpu()
        start_local_ray(2, out)
        code = run_study(study, pathlib.Path(out), address=None)  # on the Ray just started
        on_ray = time.perf_counter() - start
        others_on_ray = others_cores(before, on_ray)
        ray.shutdown()
        assert code == 0 and len(read_results(pathlib.Path(out))) == args.seeds, "the study on Ray failed"

    print(f"\none after another, one process:  {one_by_one:7.1f} s   other sessions kept {others:.2f} cores busy")
    print(f"Ray, 2 at a time on 1 CPU each: {on_ray:7.1f} s   other sessions kept {others_on_ray:.2f} cores busy")
    print(f"speedup: {one_by_one / on_ray:.2f}x (target >= 1.7x; Ray's start included)")


def others_cpu() -> dict[int, float]:
    """CPU seconds used so far by each process of another session than this one (whose Ray workers are in it)."""
    mine, used = os.getsid(0), {}
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # it ended meanwhile
            continue
        if int(fields[3]) != mine:
            used[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def others_cores(before: dict[int, float], seconds: float) -> float:
    """Cores other sessions kept busy since ``before``, on average (less what processes that ended used last)."""
    return sum(now - before.get(pid, 0.0) for pid, now in others_cpu().items()) / seconds


if __name__ == "__main__":
    sys.exit(main())
