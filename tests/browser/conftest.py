"""Real-browser fixtures: Debian's Chromium driven by Playwright, servers started and stopped by PID.

Without Chromium these tests skip with a message, unless ``OKRSIM_REQUIRE_BROWSER=1`` (set in
CI) turns a missing browser into a failure.  Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

#: Console messages that are not errors of the kit: JupyterLab asks the server for optional
#: endpoints that a minimal server does not provide.
BENIGN_CONSOLE = ("favicon", "the server responded with a status of 404", "lsp", "Failed to fetch")


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

    def on_console(self, msg: object) -> None:
        if msg.type == "error" and not any(b in msg.text for b in BENIGN_CONSOLE):  # type: ignore[attr-defined]
            self.errors.append(msg.text)  # type: ignore[attr-defined]

    def on_page_error(self, exc: object) -> None:
        self.errors.append(f"page error: {exc}")


@pytest.fixture
def page_and_log(browser: object) -> Iterator[tuple[object, ConsoleLog]]:
    context = browser.new_context(viewport={"width": 1500, "height": 1100})  # type: ignore[attr-defined]
    page = context.new_page()
    log = ConsoleLog()
    page.on("console", log.on_console)
    page.on("pageerror", log.on_page_error)
    yield page, log
    context.close()


def _screenshot(page: object, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


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
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "IPYTHONDIR": str(home / "ipython"),
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
        self.log_path = home / "server.log"

    def wait(self, path: str | None = None, timeout: float = 60) -> None:
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
    """A copy of notebooks/, so that autosave in the browser never touches the stored notebooks."""
    target = tmp_path / "notebooks"
    shutil.copytree(ROOT / "notebooks", target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return target


@pytest.fixture
def lab(browser: object, notebook_dir: Path, tmp_path: Path) -> Iterator[Server]:
    port = free_port()
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ServerApp.token=",
           "--ServerApp.password=", "--allow-root", "--ServerApp.ip=127.0.0.1", f"--ServerApp.root_dir={notebook_dir}",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    server = Server(cmd, f"http://127.0.0.1:{port}", tmp_path / "lab-home", notebook_dir)
    try:
        server.wait("/api/status", timeout=90)
        yield server
    finally:
        server.stop()


@pytest.fixture
def voila(browser: object, notebook_dir: Path, tmp_path: Path) -> Iterator[Server]:
    from okrsim.cli.views import dashboard_command, dashboard_env

    port = free_port()
    cmd = dashboard_command(notebook_dir / "dashboard.ipynb", port=port, open_browser=False)
    cmd.append(f"--Voila.connection_dir_root={tmp_path}")
    server = Server(cmd, f"http://127.0.0.1:{port}", tmp_path / "voila-home", notebook_dir, env=dashboard_env())
    try:
        server.wait(timeout=120)
        yield server
    finally:
        server.stop()
