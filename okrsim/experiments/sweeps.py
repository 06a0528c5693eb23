"""Sweeps: a design of world parameters and levers, crossed with policies and replications.

``sweep`` validates everything first (parameters, bounds, every design point against the
model, the output directory, the executor), then streams results to a resumable Parquet
store (or keeps them in memory for small sweeps).  Common random numbers hold across
policies *and* design points: replication r always uses ``replication_seed(seed, r)``, so
differences between points and between policies are not blurred by luck.

Examples
--------
>>> from okrsim.experiments.designs import latin_hypercube
>>> d = latin_hypercube({"market.shift_rate": (0, 6)}, n=3, seed=1)
>>> res = sweep(d, "dynamic", ["annual", "quarterly_okr"], replications=2, executor="serial", progress=False)
>>> res.frame().shape[0]
12
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from okrsim.core.errors import ParameterError
from okrsim.core.params import Scenario
from okrsim.experiments.designs import Design, whole_number
from okrsim.experiments.executors import default_workers, open_evaluator
from okrsim.experiments.progress import progress_bar
from okrsim.experiments.store import MANIFEST, MemorySink, ResultStore, done_units, load_results, read_design, read_manifest
from okrsim.experiments.sweep_spec import SweepSpec, run_batch

__all__ = ["SweepResult", "open_results", "sweep"]

#: Batches per worker to aim for: small batches balance the load at the end of a sweep.
TASKS_PER_WORKER = 32
#: Upper bound of runs per batch (about half a second of work on the default scenario).
MAX_BATCH_RUNS = 64


@dataclass(frozen=True, eq=False)
class SweepResult:
    """What a sweep produced: the inputs, where the rows are, and how they were obtained.

    Attributes
    ----------
    spec : SweepSpec
        Design, scenario, policies, replications and seed.
    path : Path or None
        The result store, or None for an in-memory sweep.
    computed_runs, reused_runs : int
        Runs computed by this call, and runs found in the store from an earlier call.
    seconds : float
        Wall time of this call.
    executor : str
        Backend that computed the runs (``serial``, ``processes``, ``dask``, ...).
    """

    spec: SweepSpec
    path: Path | None = None
    computed_runs: int = 0
    reused_runs: int = 0
    seconds: float = math.nan
    executor: str = ""
    _frame: pd.DataFrame | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        state = "complete" if self.complete else f"{self.computed_runs + self.reused_runs} of {self.n_runs} runs"
        where = f"stored in {str(self.path)!r}" if self.path is not None else "in memory"
        return f"SweepResult({self.spec!r}, {state}, {where})"

    @property
    def design(self) -> Design:
        return self.spec.design

    @property
    def policies(self) -> tuple[str, ...]:
        return self.spec.policy_names

    @property
    def n_runs(self) -> int:
        """Runs in the whole sweep."""
        return self.spec.n_runs

    @property
    def complete(self) -> bool:
        """Whether every run of the sweep has a result."""
        return self.computed_runs + self.reused_runs == self.spec.n_runs

    def frame(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The tidy results: one row per point, policy and replication (see docs/research.md).

        For a stored sweep this reads the store; pass `columns` to read less.
        """
        if self._frame is not None:
            return (self._frame[list(columns)] if columns is not None else self._frame).copy()
        assert self.path is not None
        return load_results(self.path, columns)

    def summary(self) -> dict[str, Any]:
        """Plain-data description (the ``okrsim sweep --json`` output)."""
        from okrsim.core.version import __version__

        return {
            "out": str(self.path) if self.path is not None else None,
            "okrsim_version": __version__,
            "design": self.spec.design.describe()["method"],
            "factors": list(self.spec.design.keys),
            "points": self.spec.n_points,
            "policies": list(self.policies),
            "replications": self.spec.replications,
            "seed": self.spec.seed,
            "runs": self.n_runs,
            "computed_runs": self.computed_runs,
            "reused_runs": self.reused_runs,
            "complete": self.complete,
            "seconds": None if math.isnan(self.seconds) else round(self.seconds, 3),
            "executor": self.executor,
        }


def _optional_count(name: str, value: Any) -> int | None:
    return None if value is None else whole_number(name, value, 1)


def _optional_seconds(name: str, value: Any, allow_zero: bool = False) -> float | None:
    if value is None:
        return None
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        raise ParameterError(f"{name} = {value!r} must be a {'non-negative' if allow_zero else 'positive'} number of seconds")
    return float(value)


def units_per_batch(todo_units: int, n_policies: int, workers: int, batch_runs: int | None) -> int:
    """Units per batch: many small batches per worker, but none so small that overhead shows."""
    if batch_runs is None:
        runs = math.ceil(todo_units * n_policies / (TASKS_PER_WORKER * workers)) if todo_units else 1
        batch_runs = min(MAX_BATCH_RUNS, max(n_policies, runs))
    return max(1, batch_runs // n_policies)


def sweep(
    design: Design | None = None,
    scenario: Scenario | str = "dynamic",
    policies: Any = ("annual", "quarterly_okr"),
    replications: int = 10,
    seed: int = 0,
    *,
    out: str | Path | None = None,
    executor: Any = "processes",
    workers: int | None = None,
    batch_runs: int | None = None,
    progress: bool = True,
    timeout: float | None = None,
    flush_rows: int = 10_000,
    flush_seconds: float = 10.0,
    connect_timeout: float = 10.0,
) -> SweepResult:
    """Run every design point under every policy in every replication.

    Parameters
    ----------
    design : Design, optional
        From `okrsim.experiments.designs` (`full_grid`, `latin_hypercube`, `sobol_design`, `morris_design`,
        `explicit_points`); None runs the scenario as it is (one point).
    scenario : Scenario, str, path or mapping
        Base world, anything `Scenario.coerce` takes (preset name, YAML/JSON file, mapping);
        world factors override it per point.
    policies : sequence
        Policies, preset names, files or mappings (`Policy.coerce_many`), compared at every
        point; the first is the baseline of paired analyses.  Lever factors
        ``policy.<lever>`` change every policy, ``<policy name>.<lever>`` only that one.
    replications : int
        Replications per point and policy.
    seed : int
        Master seed; replication r uses ``okrsim.core.streams.replication_seed(seed, r)`` for every
        point and policy (common random numbers), and every row records it.
    out : path, optional
        Result store directory.  Results stream there as Parquet chunks; running the same
        sweep again resumes it, computing only missing runs.  None keeps results in memory.
    executor : str, Executor or dask Client
        ``"processes"`` (default, all cores), ``"serial"``, any `concurrent.futures.Executor`,
        a ``dask.distributed.Client``, or a scheduler address (``"tcp://host:8786"``).
    workers : int, optional
        Processes for ``"processes"``.
    batch_runs : int, optional
        Runs per task; automatic by default (at most 64).  Never changes results.
    progress : bool
        Show a progress bar (a widget in notebooks).
    timeout : float, optional
        Give up when no batch finishes for this many seconds (parallel executors).
    flush_rows, flush_seconds : int, float
        Write a chunk when this many rows are buffered or this much time has passed.
    connect_timeout : float
        Seconds to wait for a dask scheduler.

    Returns
    -------
    SweepResult
        Call ``.frame()`` for the tidy results.

    Raises
    ------
    ParameterError
        Bad input of any kind, before any run and before anything is written.
    """
    start = time.perf_counter()
    spec = SweepSpec.build(design, scenario, policies, replications, seed)
    batch_runs = _optional_count("batch_runs", batch_runs)
    flush_rows = _optional_count("flush_rows", flush_rows) or 1
    timeout = _optional_seconds("timeout", timeout)
    flush_seconds = _optional_seconds("flush_seconds", flush_seconds, allow_zero=True) or 0.0
    if not isinstance(progress, bool):
        raise ParameterError(f"progress = {progress!r} must be true or false")
    n_pol = len(spec.policies)
    if out is not None:
        ResultStore.check(out, spec)  # read-only: bad paths and other sweeps fail before anything starts
        already = len(done_units(out, spec)) if Path(out, MANIFEST).is_file() else 0
    else:
        already = 0
    todo_estimate = spec.n_units - already
    n_tasks = math.ceil(todo_estimate / units_per_batch(todo_estimate, n_pol, workers or default_workers(), batch_runs))
    with open_evaluator(executor, workers, connect_timeout=connect_timeout, tasks=n_tasks,
                        preload=("okrsim.experiments.sweep_spec",)) as evaluator:
        sink: ResultStore | MemorySink
        if out is not None:
            sink = ResultStore.open(out, spec, flush_rows=flush_rows, flush_seconds=flush_seconds)
        else:
            sink = MemorySink(spec)
        done = sink.done_units()
        todo = np.setdiff1d(np.arange(spec.n_units, dtype=np.int64), done, assume_unique=True)
        per_batch = units_per_batch(len(todo), n_pol, evaluator.workers, batch_runs)
        computed, complete = 0, False
        bar = progress_bar(spec.n_runs, initial=len(done) * n_pol, enabled=progress, desc="okrsim sweep")
        try:
            tasks = (spec.batch(todo[i:i + per_batch]) for i in range(0, len(todo), per_batch))
            for runs in evaluator.imap_unordered(run_batch, tasks, timeout=timeout):
                sink.add(spec.rows(runs))
                computed += len(runs)
                bar.update(len(runs))
            complete = True
        except KeyboardInterrupt:
            if out is not None:
                print(f"okrsim sweep interrupted: finished runs are saved in {out}; run the same sweep again to resume",
                      file=sys.stderr)
            raise
        finally:
            bar.close()
            sink.close(complete=complete)  # writes what finished, even on error or interrupt
    frame = sink.frame() if isinstance(sink, MemorySink) else None
    return SweepResult(spec, Path(out) if out is not None else None, computed, len(done) * n_pol,
                       time.perf_counter() - start, evaluator.kind, frame)


def open_results(path: str | Path) -> SweepResult:
    """A stored sweep, for analysis without running anything (e.g. after ``okrsim sweep``)."""
    path = Path(path)
    manifest = read_manifest(path)
    spec = SweepSpec.from_dict(manifest["spec"], read_design(path, manifest))
    return SweepResult(spec, path, 0, len(done_units(path, spec)) * len(spec.policies))

