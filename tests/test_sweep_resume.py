"""Interrupted sweeps: kill -9, Ctrl-C in a terminal, an interrupt in a notebook; then resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest
from pyarrow import parquet as pq

import okrsim.experiments.sweeps as sweep_module
from okrsim import Scenario
from okrsim.experiments.designs import latin_hypercube
from okrsim.experiments.store import load_results, read_manifest
from okrsim.experiments.sweeps import sweep

SMALL = Scenario.preset("dynamic").replace({"horizon.weeks": 52})
DESIGN = latin_hypercube({"market.shift_rate": (0, 6), "policy.planning_cost": (0, 2)}, n=60, seed=5)
ARGS = {"design": DESIGN, "scenario": SMALL, "policies": ["annual", "quarterly_okr"], "replications": 4, "seed": 8}
TOTAL = 60 * 2 * 4

SCRIPT = """
import sys
from okrsim import Scenario
from okrsim.experiments.designs import latin_hypercube
from okrsim.experiments.sweeps import sweep

if __name__ == "__main__":
    d = latin_hypercube({"market.shift_rate": (0, 6), "policy.planning_cost": (0, 2)}, n=60, seed=5)
    scen = Scenario.preset("dynamic").replace({"horizon.weeks": 52})
    sweep(d, scen, ["annual", "quarterly_okr"], replications=4, seed=8, out=sys.argv[1], executor="processes",
          workers=2, batch_runs=4, flush_seconds=0, progress=False)
"""


@pytest.fixture(scope="module")
def uninterrupted():
    return sweep(**ARGS, executor="serial", progress=False).frame()


def _start(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    script = tmp_path / "run_sweep.py"
    script.write_text(textwrap.dedent(SCRIPT))
    out = tmp_path / "store"
    proc = subprocess.Popen([sys.executable, str(script), str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, text=True)
    return proc, out


def _wait_for_chunks(proc: subprocess.Popen, out: Path, n: int, limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if len(list((out / "chunks").glob("part-*.parquet"))) >= n if (out / "chunks").is_dir() else False:
            return
        if proc.poll() is not None:
            raise AssertionError(f"the sweep ended before it could be interrupted: {proc.stderr.read()}")
        time.sleep(0.01)
    raise AssertionError("no chunks appeared")


def _cleanup(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the session this test started, if anything is left
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait(timeout=10)


def _rows_on_disk(out: Path) -> int:
    return sum(pq.read_metadata(p).num_rows for p in (out / "chunks").glob("part-*.parquet"))


def _all_gone(procs: list[psutil.Process], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = []
        for p in procs:
            try:
                if p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(p)
            except psutil.NoSuchProcess:
                pass
        if not alive:
            return True
        time.sleep(0.1)
    return False


def test_sigkill_mid_sweep_then_resume_gives_exactly_the_uninterrupted_runs(tmp_path, uninterrupted):
    proc, out = _start(tmp_path)
    try:
        _wait_for_chunks(proc, out, 3)
        workers = psutil.Process(proc.pid).children(recursive=True)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        # the orphaned pool workers notice and exit by themselves
        assert _all_gone(workers, timeout=10), [w.pid for w in workers]
    finally:
        _cleanup(proc)
    saved = _rows_on_disk(out)
    assert 0 < saved < TOTAL  # really killed mid-way, with finished runs on disk
    assert read_manifest(out)["complete"] is False
    partial = load_results(out)
    assert not partial.duplicated(["point", "policy", "replication"]).any()

    res = sweep(**ARGS, executor="processes", workers=2, out=out, progress=False)
    assert res.reused_runs == saved and res.computed_runs == TOTAL - saved and res.complete
    final = load_results(out)
    assert len(final) == TOTAL and not final.duplicated(["point", "policy", "replication"]).any()
    pd.testing.assert_frame_equal(final, uninterrupted, check_exact=True)
    assert read_manifest(out)["complete"] is True


def test_ctrl_c_in_a_terminal_stops_workers_and_keeps_results(tmp_path, uninterrupted):
    proc, out = _start(tmp_path)
    try:
        _wait_for_chunks(proc, out, 3)
        family = psutil.Process(proc.pid).children(recursive=True)
        start = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # a terminal sends Ctrl-C to the whole foreground group
        _, err = proc.communicate(timeout=30)
        assert time.monotonic() - start < 15
        assert proc.returncode != 0
        assert "interrupted" in err and "Traceback (most recent call last)" in err  # one, from the main process
        assert err.count("Traceback") == 1, err
        assert _all_gone(family, timeout=10)
    finally:
        _cleanup(proc)
    saved = _rows_on_disk(out)
    assert 0 < saved < TOTAL
    res = sweep(**ARGS, executor="serial", out=out, progress=False)
    assert res.reused_runs == saved
    pd.testing.assert_frame_equal(load_results(out), uninterrupted, check_exact=True)


class _InterruptAfter:
    """A progress bar that presses Ctrl-C after some batches, as a notebook's interrupt would."""

    def __init__(self, batches: int) -> None:
        self.left = batches
        self.seen = 0

    def update(self, n: int = 1) -> None:
        self.seen += n
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt

    def close(self) -> None:
        pass


def test_interrupt_writes_every_finished_run_before_stopping(tmp_path, monkeypatch, uninterrupted):
    bar = _InterruptAfter(batches=5)
    monkeypatch.setattr(sweep_module, "progress_bar", lambda *a, **k: bar)
    out = tmp_path / "store"
    with pytest.raises(KeyboardInterrupt):
        sweep(**ARGS, executor="serial", out=out, batch_runs=4, flush_seconds=3600, flush_rows=10**6, progress=True)
    # nothing was due to be written by size or time: the interrupt itself flushed the buffer
    assert _rows_on_disk(out) == bar.seen == 5 * 4
    monkeypatch.undo()
    res = sweep(**ARGS, executor="serial", out=out, progress=False)
    assert res.reused_runs == 20
    pd.testing.assert_frame_equal(load_results(out), uninterrupted, check_exact=True)
