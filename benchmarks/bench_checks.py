"""How long a participant waits for the first check of each exercise task.

The first check of a task computes its reference with the model (fixed seeds, paired
replications); later checks answer from the cache (tested in tests/test_checks.py, without
timing).  Run in a fresh process, so every cache starts empty:

    .venv/bin/python benchmarks/bench_checks.py

Prints, per task, the seconds of the first and of a second check, and the machine's bare-SimPy
reference (1,680 timeouts; about 1 ms on the reference machine) so that times can be compared
across machines.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench_core import bare_simpy

from okrsim.teaching.checks import check

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_checks import SOLUTIONS  # the answers the solution notebooks arrive at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="*", help="task ids to time (default: every task with a solution)")
    args = parser.parse_args()
    tasks = {k: v for k, v in SOLUTIONS.items() if not args.tasks or k in args.tasks}
    reference = min(bare_simpy(1680) for _ in range(20))
    print(f"bare SimPy, 1,680 timeouts: {1e3 * reference:.2f} ms (the reference machine: about 1 ms)")
    print(f"{'task':<28} {'first check (s)':>16} {'second (s)':>11}")
    total = 0.0
    for task_id, answer in tasks.items():
        start = time.perf_counter()
        check(task_id, answer)
        first = time.perf_counter() - start
        start = time.perf_counter()
        check(task_id, answer)
        second = time.perf_counter() - start
        total += first
        print(f"{task_id:<28} {first:16.2f} {second:11.4f}")
    print(f"all first checks: {total:.1f} s")


if __name__ == "__main__":
    main()
