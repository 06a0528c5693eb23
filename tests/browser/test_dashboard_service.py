"""`okrsim dashboard` as a service: no process left after a signal, idle kernels culled, charts in view.

Each test starts the real command (``python -m okrsim.cli dashboard``) or the `voila` fixture,
drives Debian's Chromium, and waits with the test's `Deadline` (see conftest.py).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ipc_kernels import socket_dir

from conftest import Server, free_port

psutil = pytest.importorskip("psutil")

ROOT = Path(__file__).resolve().parents[2]
CHART = ".okrsim-chart-value svg.marks"
TABLE = ".okrsim-kpi-table"
#: Seconds of idleness after which the culling test's dashboard shuts down a kernel whose page
#: is closed: more than a page needs on a loaded machine between the notebook's run and the
#: page's connection (3 s culled a kernel of a page still loading).
CULL_IDLE = 15


def _kernels(procs: list) -> list:
    return [p for p in procs if _cmdline(p)[1:3] == ["-m", "ipykernel_launcher"]]


def _cmdline(proc) -> list[str]:
    try:
        return proc.cmdline()
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return []


def _running(procs: list) -> list:
    alive = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(proc)
        except psutil.NoSuchProcess:
            pass
    return alive


class Dashboard(Server):
    """``okrsim dashboard`` run as people run it, with the test's Jupyter folders and IPC kernels."""

    def __init__(self, notebook_dir: Path, home: Path, *args: str) -> None:
        self.port = free_port()
        config = home / "config"
        config.mkdir(parents=True, exist_ok=True)
        # Voila reads voila.json from JUPYTER_CONFIG_DIR: kernels on IPC sockets (tests/ipc_kernels.py)
        (config / "voila.json").write_text(json.dumps({
            "KernelManager": {"transport": "ipc"},
            "Voila": {"connection_dir_root": tempfile.mkdtemp(dir=socket_dir())}}))
        cmd = [sys.executable, "-m", "okrsim.cli", "dashboard", "--no-browser", f"--port={self.port}",
               f"--notebook={notebook_dir / 'dashboard.ipynb'}", *args]

        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        super().__init__(cmd, f"http://127.0.0.1:{self.port}", home, notebook_dir, env=env)

    def tree(self) -> list:
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text()


@pytest.fixture
def dashboard(notebook_dir: Path, tmp_path: Path) -> Iterator[object]:
    started: list[Dashboard] = []

    def start(*args: str) -> Dashboard:
        server = Dashboard(notebook_dir, tmp_path / f"dashboard-{len(started)}", *args)
        started.append(server)
        server.wait()
        return server

    yield start
    for server in started:
        server.stop()


def _open(page, url: str, waits) -> None:
    def load(deadline) -> None:
        page.goto(url + "/", wait_until="domcontentloaded", timeout=max(1.0, deadline.left_ms()))
        waits.selector(CHART, "the dashboard's value chart", deadline)

    waits.load(load, "the dashboard")


def _wait_for(condition, seconds: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if condition():
            return time.monotonic() - start
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {seconds} s")


def test_sigterm_leaves_no_voila_or_kernel_behind(dashboard, page_and_log, waits):
    page, log = page_and_log
    server = dashboard()
    # printed once okrsim sees the port answer (it polls; the test saw it answer first)
    _wait_for(lambda: f"serving at http://127.0.0.1:{server.port}/" in server.output(), 30, "the real address")
    _open(page, server.url, waits)
    # the kernel runs the explorer, which starts its pool of workers: all of them are in the tree
    tree = server.tree()
    kernels = _kernels(tree)
    voila = [p for p in tree if _cmdline(p)[1:3] == ["-m", "voila"]]
    assert len(voila) == 1 and len(kernels) == 1, [(p.pid, _cmdline(p)[:3]) for p in tree]
    before = len(_running(tree))
    start = time.monotonic()
    server.proc.send_signal(signal.SIGTERM)  # the page is still open, as in a training room
    assert server.proc.wait(timeout=60) == 128 + signal.SIGTERM
    took = time.monotonic() - start
    left = _running(tree)
    print(f"processes below okrsim before SIGTERM: {before} ({len(kernels)} kernel); "
          f"left after: {len(left)}; okrsim exited after {took:.1f} s")
    assert left == [], [(p.pid, _cmdline(p)) for p in left]
    assert before >= 3
    assert "stopped (SIGTERM)" in server.output()
    assert log.errors == [] or all("WebSocket" in e or "kernel" in e.lower() for e in log.errors)


def test_kernel_of_a_closed_page_is_culled_and_an_open_one_is_kept(dashboard, page_and_log, waits):
    page, log = page_and_log
    server = dashboard(f"--cull-idle={CULL_IDLE}")
    assert f"kernels of closed pages stop after {CULL_IDLE} s idle" in server.output()
    _open(page, server.url, waits)
    kept = _kernels(server.tree())
    assert len(kept) == 1
    # a second page, closed without its beforeunload handler (a laptop lid, a crashed tab):
    # only the culler can end its kernel
    other = page.context.new_page()
    other.on("pageerror", log.on_page_error)
    _open(other, server.url, waits.__class__(other, log, waits.deadline))
    closed = [k for k in _kernels(server.tree()) if k not in kept]
    assert len(closed) == 1
    other.close(run_before_unload=False)
    took = _wait_for(lambda: _running(closed) == [], 3 * CULL_IDLE + 30, "the closed page's kernel to be culled")
    print(f"kernel culled {took:.1f} s after its page closed (--cull-idle={CULL_IDLE})")
    assert "Culling 'idle' kernel" in server.output()
    # the first page has been open and idle for longer than the timeout all along: its kernel stays
    assert _running(kept) == kept, "a kernel whose page is open must not be culled"
    assert server.proc.poll() is None, "the dashboard keeps serving"
    assert log.errors == []


#: For each control tab of the dashboard: the parameter whose slider is moved (the lowest one
#: in the tab that changes the value chart, far down where a tab is long, so that the tab has to scroll).
#: (The ideas' last slider, waste_hurdle, changes the KPI table but not the value chart.)
SLIDERS = {"Market": "market-detection-lag-weeks", "Ideas": "portfolio-effort-noise", "Organisation": "horizon-weeks",
           "A: annual": "policy-retro-cost", "B: quarterly_okr": "policy-retro-cost", "Run": "run-replications"}


def _tab(page, label: str):
    return page.locator(".okrsim-controls .lm-TabBar-tab", has_text=re.compile(f"^{re.escape(label)}$")).first


def test_charts_stay_in_view_while_a_slider_in_each_tab_moves(voila, page_and_log, screenshot, waits):
    page, log = page_and_log
    page.set_viewport_size({"width": 1366, "height": 768})
    _open(page, voila.url, waits)
    # a few replications, so that each of the twelve slider moves below re-runs quickly
    table = page.locator(TABLE).first.inner_html()
    _tab(page, "Run").click()
    box = page.locator(".okrsim-param-run-replications input[type='text']").first
    box.fill("4")
    box.press("Enter")
    waits.function("b => document.querySelector('.okrsim-kpi-table').innerHTML !== b", "4 replications", arg=table)
    waits.function("() => document.querySelector('.okrsim-status').innerText.includes('4 paired')", "the status")
    # each slider moves one step up at the first size and back at the second: a second step up
    # could change nothing (a cost of a practice the policy does not use, once its name has changed)
    for width, height, key in ((1366, 768, "ArrowRight"), (1920, 1080, "ArrowLeft")):
        page.set_viewport_size({"width": width, "height": height})
        for label, param in SLIDERS.items():
            _tab(page, label).click()
            panel = page.locator(".okrsim-controls > .widget-tab-contents").first
            assert panel.bounding_box()["y"] + panel.bounding_box()["height"] <= height + 1, "the controls fit"
            chart = page.locator(CHART).first.inner_html()
            table = page.locator(TABLE).first.inner_html()
            handle = page.locator(f".okrsim-param-{param}:visible .noUi-handle").first  # the open tab's (A and B share names)
            handle.focus()  # scrolls the control panel, not the page
            handle.press(key)
            waits.function("b => document.querySelector('.okrsim-kpi-table').innerHTML !== b",
                           f"the KPI table to follow {param} ({label}, {width}x{height})", arg=table)
            waits.function("b => { const e = document.querySelector('.okrsim-chart-value svg.marks');"
                           " return e !== null && e.innerHTML !== b; }",
                           f"the value chart to follow {param} ({label}, {width}x{height})", arg=chart)
            shown = page.locator(".okrsim-chart-value").first.bounding_box()
            handle_box = handle.bounding_box()
            assert shown is not None and handle_box is not None
            assert shown["y"] >= 0 and shown["y"] + shown["height"] <= height, (label, width, shown)
            assert shown["x"] >= 0 and shown["x"] + shown["width"] <= width, (label, width, shown)
            assert 0 <= handle_box["y"] and handle_box["y"] + handle_box["height"] <= height, (label, handle_box)
            slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
            screenshot(page, f"voila-dashboard-{width}x{height}-{slug}")
    assert log.errors == []
