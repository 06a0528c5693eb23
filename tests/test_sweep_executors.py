"""Executors: identical frames on every backend; timeouts and interrupts never hang."""

from __future__ import annotations

import concurrent.futures as cf
import json
import logging
import os
import sys
import textwrap
import time

import pandas as pd
import psutil
import pytest
from ipc_kernels import AsyncIpcKernelManager

from okrsim import ParameterError, Scenario
from okrsim.experiments.designs import latin_hypercube
from okrsim.experiments.executors import SweepTimeout, open_evaluator
from okrsim.experiments.sweeps import sweep

SMALL = Scenario.preset("dynamic").replace({"horizon.weeks": 52})
DESIGN = latin_hypercube({"market.shift_rate": (0, 6), "policy.planning_cost": (0, 2)}, n=5, seed=11)
ARGS = {"design": DESIGN, "scenario": SMALL, "policies": ["annual", "quarterly_okr"], "replications": 3, "seed": 21,
        "progress": False, "batch_runs": 4}


@pytest.fixture(scope="module")
def serial_frame():
    return sweep(**ARGS, executor="serial").frame()


def test_process_pool_gives_the_serial_frame(serial_frame, tmp_path):
    res = sweep(**ARGS, executor="processes", workers=2, out=tmp_path / "s")
    assert res.executor == "processes"
    pd.testing.assert_frame_equal(res.frame(), serial_frame, check_exact=True)


def test_any_executor_gives_the_serial_frame(serial_frame):
    with cf.ThreadPoolExecutor(2) as pool:
        res = sweep(**ARGS, executor=pool)
        assert res.executor == "ThreadPoolExecutor"
        pd.testing.assert_frame_equal(res.frame(), serial_frame, check_exact=True)
        pool.submit(int).result()  # a user's executor is used, not shut down


def test_dask_local_cluster_gives_the_serial_frame(serial_frame, tmp_path):
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                       local_directory=str(tmp_path / "dask"), silence_logs=logging.ERROR)
    try:
        with distributed.Client(cluster) as client:
            res = sweep(**ARGS, executor=client, out=tmp_path / "s")
            assert res.executor == "dask"
            pd.testing.assert_frame_equal(res.frame(), serial_frame, check_exact=True)
            # the same cluster by address, as --scheduler does
            res2 = sweep(**ARGS, executor=cluster.scheduler_address)
            pd.testing.assert_frame_equal(res2.frame(), serial_frame, check_exact=True)
    finally:
        cluster.close()


def test_unreachable_scheduler_fails_fast():
    start = time.monotonic()
    with pytest.raises(ParameterError, match="cannot reach the dask scheduler"):
        open_evaluator("tcp://127.0.0.1:1", connect_timeout=5)
    assert time.monotonic() - start < 3
    with pytest.raises(ParameterError, match="tcp://HOST:PORT"):
        open_evaluator("localhost:notaport")


def test_timeout_stops_and_terminates_the_pool():
    """A stuck batch: the sweep gives up after `timeout` and kills the workers it started."""
    start = time.monotonic()
    ev = open_evaluator("processes", 2)
    procs = []
    with pytest.raises(SweepTimeout, match="no batch finished"):
        with ev:
            it = ev.imap_unordered(time.sleep, [30, 30, 30], timeout=0.5)
            try:
                next(it)
            finally:
                procs = [psutil.Process(p.pid) for p in ev._executor._processes.values()]  # type: ignore[union-attr]
    assert procs
    _, alive = psutil.wait_procs(procs, timeout=5)
    assert not alive
    assert time.monotonic() - start < 15


def test_worker_errors_surface(tmp_path):
    with open_evaluator("processes", 2) as ev, pytest.raises(ValueError, match="invalid literal"):
        list(ev.imap_unordered(int, ["1", "x"]))


NOTEBOOK_CELL = """
import okrsim
from okrsim.experiments.designs import latin_hypercube
from okrsim.experiments.sweeps import sweep
d = latin_hypercube({"market.shift_rate": (0, 6)}, n=3, seed=1)
scen = okrsim.Scenario.preset("dynamic").replace({"horizon.weeks": 52})
res = sweep(d, scen, ["annual", "quarterly_okr"], replications=2, seed=4, executor="processes", workers=2,
            progress=True, timeout=120)
import sys
print(sys.executable)
print(res.executor, len(res.frame()), round(float(res.frame()["total_value"].sum()), 6))
"""


def test_sweep_with_processes_runs_inside_a_jupyter_kernel(tmp_path):
    """What users complain about most: parallel runs that hang notebooks.  Run one in a real kernel."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        os.environ[name] = str(tmp_path / name.lower())
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_code_cell(textwrap.dedent(NOTEBOOK_CELL)))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}},
                                     kernel_manager_class=AsyncIpcKernelManager)
    try:
        client.execute()
    finally:
        for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
            os.environ.pop(name, None)
    text = "".join(o.get("text", "") for o in nb.cells[0].outputs if o.get("output_type") == "stream")
    expected = sweep(latin_hypercube({"market.shift_rate": (0, 6)}, n=3, seed=1), SMALL, ["annual", "quarterly_okr"],
                     2, 4, executor="serial", progress=False).frame()
    assert text.splitlines()[0] == sys.executable  # the kernel runs this interpreter
    assert f"processes 12 {round(float(expected['total_value'].sum()), 6)}" in text, json.dumps(nb.cells[0].outputs)[:2000]


def test_a_dying_worker_is_a_clear_error_not_a_hang():
    with open_evaluator("processes", 2) as ev, pytest.raises(ChildProcessError, match="worker process died"):
        list(ev.imap_unordered(os._exit, [1, 1], timeout=60))


def test_a_program_read_from_stdin_gets_a_clear_error_instead_of_dead_workers(tmp_path):
    import subprocess

    program = textwrap.dedent("""
        from okrsim import ParameterError
        from okrsim.experiments.designs import latin_hypercube
        from okrsim.experiments.sweeps import sweep
        try:
            sweep(latin_hypercube({"market.shift_rate": (0, 6)}, n=3), "dynamic", ["annual"], 4,
                  out=r"%s", workers=2, progress=False)
        except ParameterError as exc:
            print("refused:", exc)
    """) % (tmp_path / "store")
    done = subprocess.run([sys.executable, "-"], input=program, capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert "refused: local worker processes cannot start from a program read from '<stdin>'" in done.stdout, done.stderr
    assert not (tmp_path / "store").exists()
