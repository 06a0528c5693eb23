"""Real-browser fixtures: Debian's Chromium driven by Playwright, servers started and stopped by PID.

Without Chromium these tests skip with a message, unless ``OKRSIM_REQUIRE_BROWSER=1`` (set in
CI) turns a missing browser into a failure.  Screenshots go to ``test-artifacts/``.

Waiting on a loaded machine: a 2-core machine running a second test suite needs several times
as long as an idle one for a kernel start or a chart, so no step has a fixed short limit.  Each
test has one time budget (`Deadline`, ``OKRSIM_BROWSER_BUDGET`` seconds, 600 by default) and
every wait polls its condition with what is left of it (`wait_until`), while failing at once
when the page reports an error, so a real fault is still reported quickly.  A page load that
is merely slow (no error) is retried once (`load_with_one_retry`), and the retry is recorded
as a warning in the test output; a load that failed with page errors is not retried.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ipc_kernels import SERVER_KERNEL_FLAGS, socket_dir

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
#: The JupyterLab settings `make lab` uses (``--LabApp.app_settings_dir``).
LAB_SETTINGS = ROOT / "jupyter" / "lab" / "settings"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

#: Console messages that are not errors of the kit: JupyterLab asks the server for optional
#: endpoints that a minimal server does not provide.
BENIGN_CONSOLE = ("favicon", "the server responded with a status of 404", "lsp", "Failed to fetch")
#: Seconds one browser test may take in all (every wait uses what is left).
BUDGET_SECONDS = float(os.environ.get("OKRSIM_BROWSER_BUDGET", "600"))
#: Seconds a server may take to start answering (it is polled; an early exit fails at once).
SERVER_START_SECONDS = 300.0
#: Longest single Playwright wait; between slices `wait_until` checks the page's error log.
SLICE_MS = 5_000.0


#: What JupyterLab's widget renderer logs when a displayed widget's model never arrived (see `Waits.lab_run`).
LAB_LOST_MODEL = "Error: widget model not found"


def clear_outputs(path: Path) -> None:
    """Remove every output and execution count of the notebook at `path`, in place."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


#: The warning a retried page load or notebook run gives (shown in pytest's warnings summary).
#: A plain UserWarning: pytest-xdist re-creates a worker's warning in the controller by importing
#: the class's module by name, and a class defined in this conftest cannot be found there (it
#: crashed a whole run with INTERNALERROR the first time a retry happened under xdist).
RETRY_WARNING = UserWarning


class Deadline:
    """One time budget for a whole test: a slow step leaves less for the later ones.

    Fixed limits per step fail a test on a loaded machine although every step would finish;
    one overall budget tolerates any slow step as long as the whole test finishes in time.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start = time.monotonic()
        self.end = self.start + seconds

    def left_ms(self) -> float:
        """Milliseconds left (0 when the budget is spent)."""
        return max(0.0, (self.end - time.monotonic()) * 1000.0)

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def part(self, share: float, at_most: float) -> Deadline:
        """A deadline for a first attempt: `share` of what is left, at most `at_most` seconds."""
        sub = Deadline(0.0)
        sub.seconds = min(share * self.left_ms() / 1000.0, at_most)
        sub.end = min(self.end, time.monotonic() + sub.seconds)
        return sub


def wait_until(step: Callable[[float], Any], log: ConsoleLog, deadline: Deadline, what: str) -> Any:
    """Call ``step(timeout_ms)`` (a Playwright wait) in slices until it succeeds.

    Between slices the page's error log is checked: an error fails the test at once (the
    strict end-of-test check would fail it anyway, only later).  Past the deadline the last
    Playwright timeout is raised, named after `what`.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    while True:
        if log.errors:
            pytest.fail(f"the page reported errors while waiting for {what}: {log.errors}")
        left = deadline.left_ms()
        if left <= 0:
            raise PlaywrightTimeout(f"{what}: not within {deadline.elapsed():.0f} s (budget {deadline.seconds:.0f} s)")
        try:
            return step(min(left, SLICE_MS))
        except PlaywrightTimeout:
            continue


def load_with_one_retry(load: Callable[[Deadline], None], log: ConsoleLog, deadline: Deadline, what: str,
                        first_at_most: float = 240.0) -> int:
    """Run ``load(deadline)`` (navigate and wait until the page is ready); retry once if it was only slow.

    The first attempt gets half of the budget (at most `first_at_most` seconds).  If it times
    out or the navigation fails while the page has reported no error, the load runs once more
    with the rest of the budget, and a warning says so in the test output.  A
    load that went wrong with page errors is not retried: those errors fail the test.

    Returns
    -------
    int
        The number of retries (0 or 1).
    """
    from playwright.sync_api import Error as PlaywrightError

    try:
        load(deadline.part(0.5, first_at_most))
        return 0
    except PlaywrightError as exc:
        if log.errors or deadline.left_ms() <= 0:
            raise
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        message = f"{what}: first load not ready after {deadline.elapsed():.0f} s ({first_line}); reloading once"
    print(message, flush=True)
    warnings.warn(message, RETRY_WARNING, stacklevel=2)
    load(deadline)
    return 1


def _chromium() -> str | None:
    """Debian's Chromium, or the browser named by ``OKRSIM_CHROMIUM`` (a missing path counts as no browser)."""
    override = os.environ.get("OKRSIM_CHROMIUM")
    if override:
        return override if Path(override).is_file() else None
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _missing(reason: str) -> None:
    if os.environ.get("OKRSIM_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} and OKRSIM_REQUIRE_BROWSER=1 requires the browser tests to run")
    pytest.skip(f"{reason}: install Debian's chromium (apt-get install -y chromium) to run the browser tests")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    path = _chromium()
    if path is None:
        _missing("Chromium is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright Python package is not installed")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class ConsoleLog:
    """Errors the page reported: console errors and uncaught exceptions."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        #: msg_type of every message the page sent to a kernel (see `KernelTraffic`).
        self.kernel_requests: list[str] = []

    def on_console(self, msg: object) -> None:
        if msg.type == "error" and not any(b in msg.text for b in BENIGN_CONSOLE):  # type: ignore[attr-defined]
            self.errors.append(msg.text)  # type: ignore[attr-defined]

    def on_page_error(self, exc: object) -> None:
        self.errors.append(f"page error: {exc}")


#: ``OKRSIM_BROWSER_TRACE=FILE`` appends every kernel message the page sends or receives (type,
#: channel, comm id, widget model, children), every console message and navigation to FILE, with
#: times: what is needed to tell apart the ways a widget model can go missing.
TRACE = os.environ.get("OKRSIM_BROWSER_TRACE", "")
#: ``OKRSIM_BROWSER_THROTTLE=N`` runs the page's JavaScript N times slower (Chromium's CPU throttling).
THROTTLE = float(os.environ.get("OKRSIM_BROWSER_THROTTLE", "0") or 0)


def describe_kernel_message(payload: str | bytes) -> tuple[str, str]:
    """(msg_type, one-line summary) of a kernel websocket frame.

    JupyterLab speaks the ``v1.kernel.websocket.jupyter.org`` protocol (binary frames: a count
    and offsets, then channel, header, parent header, metadata, content, buffers); older
    frontends send JSON text.  Contents over 200 kB (the vega library widget) are not parsed.
    """
    if isinstance(payload, str):
        msg = json.loads(payload)
        channel, header, parent, content = (msg.get("channel"), msg.get("header", {}),
                                            msg.get("parent_header", {}), msg.get("content", {}))
    else:
        count = struct.unpack_from("<Q", payload, 0)[0]
        offsets = [*struct.unpack_from(f"<{count}Q", payload, 8), len(payload)]

        def part(i: int) -> bytes:
            return payload[offsets[i]:offsets[i + 1]]

        channel, header, parent = part(0).decode(), json.loads(part(1)), json.loads(part(2))
        content = json.loads(part(4)) if len(part(4)) < 200_000 else {"size": len(part(4))}
    info = {k: content[k] for k in ("comm_id", "target_name", "execution_state", "status", "size") if k in content}
    data = content.get("data")
    if isinstance(data, dict):
        state = data.get("state")
        if isinstance(state, dict):
            info.update(model=state.get("_model_name"), children=state.get("children"))
        info.update({k: data[k] for k in ("method",) if k in data})
    subshell = header.get("subshell_id") or parent.get("subshell_id")
    return header.get("msg_type", "?"), (f"{channel} {header.get('msg_type')} (reply to {parent.get('msg_type')}"
                                         f"{', subshell ' + subshell if subshell else ''}) {json.dumps(info)[:2000]}")


class KernelTraffic:
    """Records the kernel messages a page sends (into ``log.kernel_requests``) and, with a
    trace file, everything the page exchanges with its kernels."""

    def __init__(self, page: Any, log: ConsoleLog, trace: Path | None) -> None:
        self.log, self.start, self.out = log, time.monotonic(), None
        if trace is not None:
            trace.parent.mkdir(parents=True, exist_ok=True)
            self.out = trace.open("a", encoding="utf-8")
            page.on("console", lambda m: self.write(f"console {m.type}: {m.text[:2000]}"))
            page.on("pageerror", lambda e: self.write(f"page error: {e}"))
            page.on("framenavigated", lambda f: self.write(f"navigated to {f.url}") if f == page.main_frame else None)
        page.on("websocket", self.on_websocket)

    def write(self, line: str) -> None:
        if self.out is not None:
            self.out.write(f"{time.monotonic() - self.start:9.3f} {line}\n")
            self.out.flush()

    def on_websocket(self, ws: Any) -> None:
        if "/api/kernels/" not in ws.url:
            return
        self.write(f"websocket open {ws.url}")
        ws.on("close", lambda _: self.write(f"websocket closed {ws.url}"))
        ws.on("framesent", lambda payload: self.frame(">", payload))
        ws.on("framereceived", lambda payload: self.frame("<", payload) if self.out is not None else None)

    def frame(self, direction: str, payload: str | bytes) -> None:
        try:
            msg_type, line = describe_kernel_message(payload)
        except (ValueError, struct.error, UnicodeDecodeError) as exc:
            msg_type, line = "?", f"undecodable frame: {exc!r}"
        if direction == ">":
            self.log.kernel_requests.append(msg_type)
        self.write(f"{direction} {line}")


@pytest.fixture
def page_and_log(browser: object) -> Iterator[tuple[object, ConsoleLog]]:
    context = browser.new_context(viewport={"width": 1500, "height": 1100})  # type: ignore[attr-defined]
    # Clicks and navigations wait for their element or response as long as a test may last;
    # the waits for conditions use the test's Deadline.
    context.set_default_timeout(BUDGET_SECONDS * 1000)
    page = context.new_page()
    log = ConsoleLog()
    page.on("console", log.on_console)
    page.on("pageerror", log.on_page_error)
    if THROTTLE:  # a slow machine on a fast one: Chromium runs its JavaScript this many times slower
        context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
    KernelTraffic(page, log, Path(TRACE) if TRACE else None)
    yield page, log
    context.close()


def _screenshot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


class Waits:
    """The waits of one test on one page, sharing the test's `Deadline` and the page's error log."""

    def __init__(self, page: Any, log: ConsoleLog, deadline: Deadline) -> None:
        self.page = page
        self.log = log
        self.deadline = deadline
        self.retries = 0

    def until(self, step: Callable[[float], Any], what: str) -> Any:
        """``step(timeout_ms)`` in slices until it succeeds (see `wait_until`)."""
        return wait_until(step, self.log, self.deadline, what)

    def function(self, js: str, what: str, arg: Any = None) -> None:
        """Until the JavaScript predicate `js` (called with `arg`) is true."""
        self.until(lambda ms: self.page.wait_for_function(js, arg=arg, timeout=ms), what)

    def selector(self, selector: str, what: str | None = None, deadline: Deadline | None = None) -> None:
        """Until an element matching `selector` is visible (by `deadline`, default the test's)."""
        wait_until(lambda ms: self.page.wait_for_selector(selector, timeout=ms), self.log, deadline or self.deadline,
                   what or selector)

    def load(self, load: Callable[[Deadline], None], what: str) -> None:
        """A page load, retried once if it was only slow (see `load_with_one_retry`)."""
        self.retries += load_with_one_retry(load, self.log, self.deadline, what)

    def lab_run(self, attempt: Callable[[], None], server: Server, what: str) -> None:
        """Open and run a notebook in JupyterLab (``attempt()``), once more if JupyterLab lost a
        widget model.

        "widget model not found" means that JupyterLab built a container widget before one of
        its children had arrived (its manager waits 2 s for it).  It was seen in about one run
        in six of the explorer's tests with a second ``make test`` running, and twice in a row
        in one CI run, while JupyterLab sent widget messages to a kernel subshell, whose
        callbacks run beside the cells (see docs/architecture.md); the kit's Lab settings now
        turn that off, and the test checks that no subshell was asked for.  Should it happen
        all the same, and if that is the only error and no page load was retried yet, the page
        is left for ``about:blank`` first (so that no late error of the old page, whose model
        requests are still waiting out their 2 s, is blamed on the new one), the kernel is
        shut down, the outputs are cleared, and the notebook is opened and run once more; a
        warning says so.  A second failure fails the test.
        """
        try:
            attempt()
            return
        except pytest.fail.Exception as exc:
            lost = self.log.errors and all(LAB_LOST_MODEL in e for e in self.log.errors)
            if not lost or self.retries or self.deadline.left_ms() <= 0:
                raise
            message = f"{what}: JupyterLab lost a widget model ({str(exc).splitlines()[0][:160]}); running once more"
        print(message, flush=True)
        warnings.warn(message, RETRY_WARNING, stacklevel=2)
        self.retries += 1
        self.page.goto("about:blank")  # the old page's scripts stop here, and with them its errors
        server.shut_down_kernels()
        for path in Path(server.cwd).glob("*.ipynb"):
            clear_outputs(path)
        self.log.errors.clear()
        attempt()


@pytest.fixture
def budget_seconds() -> float:
    """Seconds one browser test may take in all (``OKRSIM_BROWSER_BUDGET``)."""
    return BUDGET_SECONDS


@pytest.fixture
def waits(page_and_log: tuple[Any, ConsoleLog]) -> Waits:
    """Waits for the test's page under one time budget, started after the servers (request it last)."""
    page, log = page_and_log
    return Waits(page, log, Deadline(BUDGET_SECONDS))


@pytest.fixture
def screenshot() -> object:
    """``screenshot(page, name)`` saves a full-page PNG to test-artifacts/ (kept by CI)."""
    return _screenshot


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A server process started in its own process group and stopped by its PID."""

    def __init__(self, cmd: list[str], url: str, home: Path, cwd: Path, env: dict[str, str] | None = None):
        env = dict(os.environ if env is None else env)
        env.update({
            "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
            # kernels listen on IPC sockets there (SERVER_KERNEL_FLAGS): a socket path must stay short
            "JUPYTER_RUNTIME_DIR": tempfile.mkdtemp(dir=socket_dir()), "IPYTHONDIR": str(home / "ipython"),
            "JUPYTER_PLATFORM_DIRS": "1", "PYTHONUNBUFFERED": "1",
        })
        # The kernelspec of this interpreter must stay visible with a fresh data dir.
        env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(Path(sys.prefix) / "share" / "jupyter"),
                                                             env.get("JUPYTER_PATH", "")]))
        home.mkdir(parents=True, exist_ok=True)
        self.log = (home / "server.log").open("w")
        self.proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.url = url
        self.cwd = cwd
        self.log_path = home / "server.log"

    def shut_down_kernels(self) -> None:
        """Delete every session (and its kernel) through the server's REST API."""
        with urllib.request.urlopen(self.url + "/api/sessions", timeout=30) as r:
            sessions = json.loads(r.read())
        for session in sessions:
            request = urllib.request.Request(f"{self.url}/api/sessions/{session['id']}", method="DELETE")
            urllib.request.urlopen(request, timeout=60).close()

    def wait(self, path: str | None = None, timeout: float = SERVER_START_SECONDS) -> None:
        """Until `path` answers 200 (or, with no path, the port accepts connections)."""
        host, port = self.url.rsplit("/", 1)[-1].split(":")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early:\n{self.log_path.read_text()[-3000:]}")
            try:
                if path is None:
                    with socket.create_connection((host, int(port)), timeout=2):
                        return
                with urllib.request.urlopen(self.url + path, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"server did not answer in {timeout} s:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the group this server started (its kernels)
                self.proc.wait(timeout=5)
        self.log.close()


@pytest.fixture
def notebook_dir(tmp_path: Path) -> Path:
    """A copy of notebooks/ with every output cleared, so that autosave in the browser never
    touches the stored notebooks, and the tests see only what running the notebook draws.

    A stored widget output names a model that died with the kernel that made it; JupyterLab
    logs "widget model not found" for it if the new kernel connects before the output is
    replaced, which on a loaded machine it sometimes does (jupyterlab/jupyterlab#15361).
    Those errors say nothing about the notebook, and would hide the ones that do.
    """
    target = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    for path in target.glob("*.ipynb"):
        clear_outputs(path)
    return target


@pytest.fixture
def lab(browser: object, notebook_dir: Path, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ServerApp.token=",
           "--ServerApp.password=", "--allow-root", "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={notebook_dir}",
           "--ServerApp.disable_check_xsrf=True",  # lets `Server.shut_down_kernels` DELETE sessions (local test server)
           f"--LabApp.app_settings_dir={LAB_SETTINGS}",  # the kit's Lab settings, as `make lab` (no comms over subshells)
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           *SERVER_KERNEL_FLAGS]
    server = Server(cmd, f"http://127.0.0.1:{port}", tmp_path / "lab-home", notebook_dir)
    try:
        server.wait("/api/status")
        yield server
    finally:
        server.stop()


@pytest.fixture
def voila(browser: object, notebook_dir: Path, tmp_path: Path) -> Iterator[Server]:
    from okrsim.cli.views import dashboard_command, dashboard_env

    port = free_port()
    cmd = dashboard_command(notebook_dir / "dashboard.ipynb", port=port, open_browser=False)
    cmd += [f"--Voila.connection_dir_root={tempfile.mkdtemp(dir=socket_dir())}", *SERVER_KERNEL_FLAGS]
    server = Server(cmd, f"http://127.0.0.1:{port}", tmp_path / "voila-home", notebook_dir, env=dashboard_env())
    try:
        server.wait()
        yield server
    finally:
        server.stop()


def makefile_lab_flags() -> list[str]:
    """The flags `make lab` gives ``jupyter lab``, read from ``make -n`` (so the test runs what people run)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(["make", "--no-print-directory", "-s", "-n", "-o", ".venv/.okrsim-installed", "lab"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if " lab " in f"{line} ")
    args = shlex.split(line)
    return args[args.index("lab") + 1: -1]  # without the binary and the folder to open


@pytest.fixture
def make_lab(browser: object, notebook_dir: Path, tmp_path: Path) -> Iterator[Server]:
    """JupyterLab started with exactly the flags of `make lab` (no --allow-root added here)."""
    port = free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", *makefile_lab_flags(), "--no-browser", f"--port={port}",
           "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.root_dir={notebook_dir}", *SERVER_KERNEL_FLAGS]
    server = Server(cmd, f"http://127.0.0.1:{port}", tmp_path / "make-lab-home", notebook_dir)
    try:
        server.wait("/api/status")
        yield server
    finally:
        server.stop()
