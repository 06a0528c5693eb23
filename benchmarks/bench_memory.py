"""Benchmark of sweep memory: peak memory of a 100,000-run sweep on the real model.

Usage: ``python benchmarks/bench_memory.py [--runs 100000] [--json out.json]``

The sweep (the default scenario ``dynamic``, policies ``annual`` and ``quarterly_okr``, a
Latin hypercube over ``market.shift_rate`` and ``quarterly_okr.planning_cost``, 4
replications, the default process pool, results streamed to a Parquet store) runs in a
child process.  This process samples the resident memory of the child and of all its
descendants (the pool's workers) every 0.2 s with psutil; the child also reports its own
``ru_maxrss`` when it ends.  Reported:

- ``driver_peak_mb``: the sweep process alone (what grows if results were kept in memory);
- ``tree_peak_mb``: the sum over the sweep process and its workers at the worst moment;
- ``driver_maxrss_mb``: the kernel's own peak for the sweep process, a cross-check of the
  sampled value.

The store is then read back to check that it holds exactly ``--runs`` unique runs.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MB = 1024 * 1024


def child(out: str, runs: int) -> None:
    from okrsim.experiments.designs import latin_hypercube
    from okrsim.experiments.sweeps import sweep

    reps = 4
    points = runs // (2 * reps)
    d = latin_hypercube({"market.shift_rate": (0, 6), "quarterly_okr.planning_cost": (0, 2)}, n=points, seed=1)
    start = time.perf_counter()
    res = sweep(d, "dynamic", ["annual", "quarterly_okr"], replications=reps, seed=0, out=out, progress=False)
    seconds = time.perf_counter() - start
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    print(json.dumps({"runs": res.n_runs, "computed": res.computed_runs, "seconds": seconds,
                      "maxrss_mb": maxrss_kb / 1024}))


def tree_rss(proc) -> tuple[int, int]:
    import psutil

    try:
        main = proc.memory_info().rss
        total = main
        for c in proc.children(recursive=True):
            try:
                total += c.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        return main, total
    except psutil.NoSuchProcess:
        return 0, 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--json", help="write results as JSON here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.runs)
        return

    import psutil

    from okrsim.experiments.store import load_results

    with tempfile.TemporaryDirectory(prefix="okrsim-bench-mem-") as tmp:
        out = Path(tmp) / "store"
        proc = subprocess.Popen([sys.executable, __file__, "--child", str(out), "--runs", str(args.runs)],
                                stdout=subprocess.PIPE, text=True)
        watched = psutil.Process(proc.pid)
        driver_peak = tree_peak = 0
        samples = 0
        while proc.poll() is None:
            main_rss, total = tree_rss(watched)
            driver_peak, tree_peak = max(driver_peak, main_rss), max(tree_peak, total)
            samples += 1
            time.sleep(0.2)
        stdout, _ = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"the sweep failed with exit status {proc.returncode}")
        report = json.loads(stdout.strip().splitlines()[-1])
        frame = load_results(out, columns=["point", "policy", "replication"])
        unique = len(frame.drop_duplicates())
        chunks = len(list((out / "chunks").glob("part-*.parquet")))
    import okrsim

    result = {
        "benchmark": f"peak memory of a {args.runs:,}-run sweep, dynamic scenario, default process pool",
        "okrsim_version": okrsim.__version__,
        "python": platform.python_version(),
        "runs": report["runs"],
        "rows_in_store": len(frame),
        "unique_runs_in_store": unique,
        "chunks": chunks,
        "seconds": report["seconds"],
        "driver_peak_mb": driver_peak / MB,
        "tree_peak_mb": tree_peak / MB,
        "driver_maxrss_mb": report["maxrss_mb"],
        "samples": samples,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
