"""Benchmark of the explorer: seconds from a changed control to updated charts and KPI table.

Usage: ``python benchmarks/bench_explorer.py [--repeats 7] [--replications 30] [--json out.json] [--check]``

What is measured, on the default scenario with 30 paired replications (60 runs):

- ``update``: `Explorer.update` after a world parameter changed, so both policies re-run
  (no cache hits): simulation, gathering the panel, redrawing the visible chart (the
  JupyterChart widget's spec) and the KPI table; this is what a consultant waits for after
  releasing a slider.  Measured with the explorer's process pool (2 workers, its default on
  2 or more cores) and in the kernel alone (``workers=1``).
- ``lever update``: the same after one policy's lever changed (the other policy's 30 runs
  come from the cache).
- ``panel``: `build_panel` alone (serial), and ``all charts``: building every chart's spec.

The browser's drawing time is not included (the browser tests show it is a fraction of a
second).  Every repeat uses a new parameter value, so no result comes from the cache unless
stated.  ``--check`` exits with status 1 if the median update with the pool exceeds 1 s.

Machines differ by up to 4x, so the script also times bare SimPy stepping 1,680 timeouts (the
project's reference: about 1 ms on the machine its targets are stated for) and reports the
median update scaled to that machine, against issue 12's target of 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

from okrsim.views.charts import panel_charts
from okrsim.views.explorer import Explorer
from okrsim.views.panels import Settings, build_panel

LIMIT = 1.0
#: Issue 12's target for the default update, on the reference machine (bare SimPy ~1 ms).
TARGET_REFERENCE = 0.5


def bare_simpy_ms() -> float:
    """Milliseconds bare SimPy needs for 1,680 timeouts (best of 20): the reference."""
    from bench_core import bare_simpy  # the same measure as the core benchmark (a script next to this one)

    return 1e3 * min(bare_simpy(1680) for _ in range(20))


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def stats(times: list[float]) -> dict[str, float]:
    return {"min_s": min(times), "median_s": statistics.median(times), "max_s": max(times), "n": len(times)}


def bench_updates(workers: int, repeats: int, replications: int) -> tuple[list[float], list[float]]:
    explorer = Explorer(settings=Settings(replications=replications), workers=workers, debounce=0)
    try:
        if workers > 1:  # wait until the pool's workers are up and have imported okrsim
            explorer.set_value("market.shift_rate", 1.55)
        world, lever = [], []
        for i in range(repeats):
            t = time.perf_counter()
            explorer.set_value("market.shift_rate", round(1.6 + 0.1 * i, 2))
            world.append(time.perf_counter() - t)
            assert explorer.error.value == "", explorer.error.value
        for i in range(repeats):
            t = time.perf_counter()
            explorer.set_value("policy.cadence_weeks", 6 + i, policy=1)
            lever.append(time.perf_counter() - t)
        return world, lever
    finally:
        explorer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--replications", type=int, default=30)
    parser.add_argument("--json", help="write results as JSON here")
    parser.add_argument("--check", action="store_true", help=f"exit 1 if the median pooled update exceeds {LIMIT} s")
    args = parser.parse_args(argv)

    build_panel(Settings(replications=2))  # imports and warm-up
    results: dict[str, object] = {"python": platform.python_version(), "cpus": os.cpu_count(),
                                  "replications": args.replications, "repeats": args.repeats,
                                  "load_average_before": os.getloadavg()[0]}
    pooled_world, pooled_lever = bench_updates(2, args.repeats, args.replications)
    serial_world, serial_lever = bench_updates(1, args.repeats, args.replications)
    seeds = iter(range(100, 100 + args.repeats))
    panel_times = timed(lambda: build_panel(Settings(replications=args.replications, seed=next(seeds))), args.repeats)
    panel = build_panel(Settings(replications=args.replications))
    chart_times = timed(lambda: [c.to_dict() for c in panel_charts(panel).values()], args.repeats)
    results.update({
        "update_pool2": stats(pooled_world), "lever_update_pool2": stats(pooled_lever),
        "update_serial": stats(serial_world), "lever_update_serial": stats(serial_lever),
        "panel_serial": stats(panel_times), "all_charts": stats(chart_times),
        "load_average_after": os.getloadavg()[0],
        "bare_simpy_1680_ms": bare_simpy_ms(),
    })

    print(f"okrsim explorer benchmark: default scenario, {args.replications} paired replications, "
          f"{args.repeats} repeats, {os.cpu_count()} CPUs, Python {results['python']}")
    print(f"{'measure':34} {'min s':>7} {'median s':>9} {'max s':>7}")
    labels = {"update_pool2": "update, pool of 2 (default)", "lever_update_pool2": "lever update, pool of 2",
              "update_serial": "update, in the kernel (workers=1)", "lever_update_serial": "lever update, workers=1",
              "panel_serial": "build_panel alone, serial", "all_charts": "specs of all 7 charts"}
    for key, label in labels.items():
        r = results[key]
        print(f"{label:34} {r['min_s']:7.3f} {r['median_s']:9.3f} {r['max_s']:7.3f}")
    print(f"load average: {results['load_average_before']:.2f} before, {results['load_average_after']:.2f} after "
          "(other processes on the machine slow every number)")
    median = results["update_pool2"]["median_s"]  # type: ignore[index]
    print(f"default update median {median:.3f} s: {'under' if median < LIMIT else 'OVER'} the {LIMIT:.0f} s target")
    scale = results["bare_simpy_1680_ms"]  # type: ignore[assignment]
    scaled = median / scale  # bare SimPy takes about 1 ms on the reference machine
    results["update_pool2_reference_s"] = scaled
    print(f"bare SimPy: {scale:.2f} ms for 1,680 timeouts (reference machine: about 1 ms); the update scaled to "
          f"the reference machine: {scaled:.3f} s, {'under' if scaled < TARGET_REFERENCE else 'OVER'} issue 12's "
          f"{TARGET_REFERENCE} s target")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2)
    return 1 if args.check and median >= LIMIT else 0


if __name__ == "__main__":
    sys.exit(main())
