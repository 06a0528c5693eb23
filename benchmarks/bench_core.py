"""Benchmark of the simulation core: runs per second, events per run, ratio to bare SimPy.

Usage: ``python benchmarks/bench_core.py [--runs 200] [--json out.json]``

What is measured, on the default scenario (``dynamic``):

- time per ``okrsim.simulate`` call (KPIs included, frames not built), fresh seed each run
  so that nothing is shared between runs; median and minimum;
- time per run inside a paired comparison, where the policies of a replication share the
  drawn world (this is how ``compare`` and sweeps run);
- events per run, in all and by kind (``Run.event_counts``: arrivals, shifts, plans, teams
  finishing parts or paying debts, teams interrupted by a changed plan), and the time bare
  SimPy needs for the same number of events (ten processes yielding ``env.timeout(1)``, the
  baseline of the recipes), giving the ratio;
- bare SimPy for 1,680 timeouts, the reference of the project's targets ("a machine where bare
  SimPy steps 1,680 timeouts in about 1 ms"): a target in ms on that machine is this ratio
  times the target here;
- the time per run at twice the horizon (should at most double, +15%).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import simpy

import okrsim


def bare_simpy(n_events: int, processes: int = 10) -> float:
    """Seconds bare SimPy needs to process `n_events` timeouts."""
    env = simpy.Environment()

    def tick(env: simpy.Environment):
        while True:
            yield env.timeout(1)

    for _ in range(processes):
        env.process(tick(env))
    start = time.perf_counter()
    env.run(until=n_events / processes)
    return time.perf_counter() - start


def time_runs(scenario: okrsim.Scenario, policy: okrsim.Policy, runs: int,
              first_seed: int) -> tuple[list[float], list[int], dict[str, float]]:
    """Times and event counts of `runs` runs, and the median count of each kind of event."""
    times, events, kinds = [], [], []
    for seed in range(first_seed, first_seed + runs):
        start = time.perf_counter()
        run = okrsim.simulate(scenario, policy, seed)
        times.append(time.perf_counter() - start)
        events.append(run.n_events)
        kinds.append(run.event_counts)
    names = sorted({k for c in kinds for k in c})
    return times, events, {k: statistics.median(c.get(k, 0) for c in kinds) for k in names}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--json", help="write results as JSON here")
    args = parser.parse_args()

    scenario = okrsim.Scenario()
    okrsim.simulate(scenario, okrsim.Policy(), 10**6)  # import and warm-up
    reference = min(bare_simpy(1680) for _ in range(20))
    results = {"python": platform.python_version(), "machine": platform.machine(), "runs": args.runs,
               "bare_simpy_1680_ms": 1e3 * reference, "policies": {}}
    for name in ("annual", "annual_gates", "quarterly_okr"):
        policy = okrsim.Policy.preset(name)
        times, events, kinds = time_runs(scenario, policy, args.runs, 1000)
        n = int(statistics.median(events))
        bare = min(bare_simpy(n) for _ in range(20))
        longer = scenario.replace({"horizon.weeks": 2 * scenario.horizon.weeks})
        long_times, _, _ = time_runs(longer, policy, args.runs // 2, 5000)
        median = statistics.median(times)
        results["policies"][name] = {
            "median_ms": 1e3 * median,
            "min_ms": 1e3 * min(times),
            "runs_per_second": 1.0 / median,
            "events_per_run": n,
            "events_by_kind": kinds,
            "median_ms_on_reference_machine": 1e3 * median / (1e3 * reference),
            "bare_simpy_ms": 1e3 * bare,
            "ratio_to_bare_simpy": median / bare,
            "double_horizon_ratio": statistics.median(long_times) / median,
        }
    reps = max(10, args.runs // 4)
    # warm-up: compare imports scipy.stats lazily, which must not count as simulation time
    okrsim.compare(scenario, ["annual", "quarterly_okr"], replications=2, seed=10**6)
    start = time.perf_counter()
    okrsim.compare(scenario, ["annual", "quarterly_okr"], replications=reps, seed=7)
    results["paired_ms_per_run"] = 1e3 * (time.perf_counter() - start) / (2 * reps)

    print(f"okrsim core benchmark, default scenario, {args.runs} runs per policy (Python {results['python']})")
    columns = ("median ms", 9), ("min ms", 7), ("runs/s", 7), ("events", 7), ("bare ms", 8), ("ratio", 6), ("2x horizon", 10)
    print(f"{'policy':15} " + " ".join(f"{name:>{width}}" for name, width in columns))
    for name, r in results["policies"].items():
        print(f"{name:15} {r['median_ms']:9.2f} {r['min_ms']:7.2f} {r['runs_per_second']:7.0f} {r['events_per_run']:7d} "
              f"{r['bare_simpy_ms']:8.2f} {r['ratio_to_bare_simpy']:6.2f} {r['double_horizon_ratio']:10.2f}")
    print(f"paired comparison (world shared by the two policies): {results['paired_ms_per_run']:.2f} ms per run")
    print(f"bare SimPy, 1,680 timeouts: {results['bare_simpy_1680_ms']:.2f} ms (the reference machine: about 1 ms)")
    for name, r in results["policies"].items():
        kinds = ", ".join(f"{k} {v:g}" for k, v in r["events_by_kind"].items())
        print(f"{name}: median run {r['median_ms_on_reference_machine']:.2f} ms on the reference machine; "
              f"median events by kind: {kinds}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
