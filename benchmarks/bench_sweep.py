"""Benchmark of sweep executors: a 2,000-run sweep, serial vs process pool vs dask LocalCluster.

Usage: ``python benchmarks/bench_sweep.py [--repeat 3] [--workers N] [--json out.json]``

What is measured, on the real model and the default scenario (``dynamic``, 156 weeks):

- a Latin hypercube of 100 points over ``market.shift_rate`` and
  ``quarterly_okr.planning_cost``, policies ``annual`` and ``quarterly_okr``, 10 replications:
  2,000 runs, streamed to a fresh Parquet store each time (as ``okrsim sweep`` does);
- ``serial``: in this process;
- ``processes``: the default executor, all cores: loky's reusable process pool, which
  every ``sweep`` call in a process shares, so the first repeat also pays starting its
  workers and importing okrsim in them, later ones do not;
- ``dask``: a ``LocalCluster`` of one single-threaded worker process per core, started once
  (its start-up time is reported apart) and warmed with one tiny sweep, as a long-lived
  cluster would be;
- each mode is repeated ``--repeat`` times, interleaved, and reported as min and median;
  speed-ups are serial / mode for both;
- all modes must produce identical frames (checked), otherwise the numbers mean nothing.

Other people's jobs on the machine make timings noisy.  For every timed sweep the CPU
time the rest of the machine used meanwhile is recorded (busy time from ``/proc/stat`` minus
this process tree's CPU time, divided by the wall time: 1.0 means someone else kept one core
busy), so that a speed-up can be read against the cores that were actually free.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

import okrsim
from okrsim.experiments.designs import latin_hypercube
from okrsim.experiments.executors import default_workers
from okrsim.experiments.sweeps import sweep

DESIGN = latin_hypercube({"market.shift_rate": (0, 6), "quarterly_okr.planning_cost": (0, 2)}, n=100, seed=1)
ARGS = {"design": DESIGN, "scenario": "dynamic", "policies": ["annual", "quarterly_okr"], "replications": 10,
        "seed": 0, "progress": False}


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy since boot (Linux)."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:9]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    """CPU seconds of this process and all its descendants, live or finished."""
    import resource

    import psutil

    me, done = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    total = me.ru_utime + me.ru_stime + done.ru_utime + done.ru_stime
    for p in psutil.Process().children(recursive=True):
        try:
            t = p.cpu_times()  # its own time, plus its children that it has already reaped
            total += t.user + t.system + t.children_user + t.children_system
        except psutil.NoSuchProcess:
            pass
    return total


def timed(executor, workers: int | None, tmp: Path, tag: str) -> tuple[float, float, pd.DataFrame]:
    out = tmp / f"{tag}-{time.monotonic_ns()}"
    busy, own = machine_busy_seconds(), own_cpu_seconds()
    start = time.perf_counter()
    res = sweep(**ARGS, executor=executor, workers=workers, out=out)
    seconds = time.perf_counter() - start
    others = max(0.0, (machine_busy_seconds() - busy) - (own_cpu_seconds() - own)) / seconds
    assert res.complete and res.n_runs == 2000
    return seconds, others, res.frame()


def summary(times: list[float]) -> dict[str, float]:
    return {"min": min(times), "median": statistics.median(times), "all": times}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None, help="processes / dask workers (default: all cores)")
    parser.add_argument("--json", help="write results as JSON here")
    args = parser.parse_args()
    workers = args.workers or default_workers()

    from distributed import Client, LocalCluster

    load_before = os.getloadavg()
    times: dict[str, list[float]] = {"serial": [], "processes": [], "dask": []}
    others: dict[str, list[float]] = {"serial": [], "processes": [], "dask": []}
    with tempfile.TemporaryDirectory(prefix="okrsim-bench-") as tmp_name:
        tmp = Path(tmp_name)
        start = time.perf_counter()
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                               local_directory=str(tmp / "dask"), silence_logs=logging.ERROR)
        client = Client(cluster)
        cluster_start = time.perf_counter() - start
        try:
            sweep(latin_hypercube({"market.shift_rate": (0, 6)}, n=2 * workers, seed=9), "dynamic",
                  ["annual", "quarterly_okr"], 1, 0, executor=client, progress=False)  # warm the workers
            reference = None
            for _ in range(args.repeat):
                for mode, executor in (("serial", "serial"), ("processes", "processes"), ("dask", client)):
                    seconds, load, frame = timed(executor, workers if mode == "processes" else None, tmp, mode)
                    if reference is None:
                        reference = frame
                    pd.testing.assert_frame_equal(frame, reference, check_exact=True)
                    times[mode].append(seconds)
                    others[mode].append(load)
                    print(f"{mode:10s} {seconds:7.2f} s   other jobs used {load:.2f} cores meanwhile", flush=True)
        finally:
            client.close()
            cluster.close()
    load_after = os.getloadavg()
    result = {
        "benchmark": "sweep executors, 2,000 runs (100 LHS points x 2 policies x 10 replications), dynamic scenario",
        "okrsim_version": okrsim.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cores": default_workers(),
        "workers": workers,
        "repeat": args.repeat,
        "load_average_before": load_before,
        "load_average_after": load_after,
        "dask_cluster_start_seconds": cluster_start,
        "seconds": {k: summary(v) for k, v in times.items()},
        "other_jobs_cores": {k: summary(v) for k, v in others.items()},
        "process_pool": "loky reusable executor",
        "speedup_vs_serial": {
            k: {"min": min(times["serial"]) / min(v), "median": statistics.median(times["serial"]) / statistics.median(v)}
            for k, v in times.items() if k != "serial"
        },
        "identical_frames": True,
    }
    print(json.dumps({k: result[k] for k in ("seconds", "speedup_vs_serial", "other_jobs_cores",
                                             "dask_cluster_start_seconds")}, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
