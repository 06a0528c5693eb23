"""Command-line views: ``okrsim dashboard`` (Voila app) and ``okrsim report`` (offline HTML).

Registered by `okrsim.cli` through its plug-in list; ``okrsim demo`` calls `demo_report`.
"""

from __future__ import annotations

import argparse
import errno
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from okrsim.core.errors import ParameterError
from okrsim.core.registry import show

__all__ = ["CULL_IDLE_SECONDS", "DASHBOARD_CELLS", "JUPYTER_DIR", "STOP_GRACE_SECONDS", "check_port_free",
           "cull_interval", "dashboard_command", "dashboard_env", "dashboard_notebook", "demo_report", "register",
           "run_supervised"]

#: Source of the dashboard notebook, used when the repository's notebooks/ is not at hand
#: (an installed wheel).  notebooks/dashboard.ipynb is the executed copy of these cells.
DASHBOARD_CELLS: tuple[tuple[str, str], ...] = (
    ("markdown", "# okrsim: annual plan or quarterly OKR portfolio?\n\n"
                 "Pick a story, move any lever and watch how the two portfolios diverge. Every chart renders "
                 "offline; **Export** writes PNG, SVG and an HTML report together with the settings as YAML."),
    ("code", "from okrsim import Explorer, notebook_setup\n\n_ = notebook_setup()"),
    ("code", "# NBVAL_IGNORE_OUTPUT\nexplorer = Explorer()\nexplorer.widget"),
)


def _repo_notebook() -> Path:
    return Path(__file__).resolve().parents[2] / "notebooks" / "dashboard.ipynb"


def dashboard_notebook(directory: Path | None = None) -> Path:
    """Path of the dashboard notebook: the repository's, or a fresh copy written to `directory` (default ``out/``)."""
    repo = _repo_notebook()
    if repo.is_file():
        return repo
    import nbformat

    from okrsim.core.fileio import write_text_atomic

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "markdown" else nbformat.v4.new_code_cell(src)
                for kind, src in DASHBOARD_CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    target = (directory or Path("out")) / "okrsim-dashboard.ipynb"  # never the current directory
    write_text_atomic(target, nbformat.writes(nb))
    return target


#: Folder added to JUPYTER_PATH so that Voila finds the ``okrsim`` template.
JUPYTER_DIR = Path(__file__).resolve().parents[1] / "views" / "jupyter"


def dashboard_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for Voila: the okrsim template (Voila's lab template minus its CDN fonts) on JUPYTER_PATH."""
    env = dict(os.environ if base is None else base)
    env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(JUPYTER_DIR), env.get("JUPYTER_PATH", "")]))
    return env


#: Seconds a dashboard kernel may sit idle with no page connected before Voila shuts it down
#: (``okrsim dashboard --cull-idle``; 0 keeps kernels until the dashboard stops).  A kernel with
#: an open page is never culled, however long the room looks at it.
CULL_IDLE_SECONDS = 600
#: Seconds `run_supervised` gives Voila to shut its kernels down after a signal before it kills what is left.
STOP_GRACE_SECONDS = 10.0


def cull_interval(idle_seconds: int) -> int:
    """Seconds between two checks for idle kernels: half the idle timeout, from 1 to 60 s."""
    return max(1, min(60, idle_seconds // 2))


def dashboard_command(notebook: Path, port: int = 8866, open_browser: bool = True, ip: str = "127.0.0.1",
                      cull_idle: int = CULL_IDLE_SECONDS) -> list[str]:
    """The Voila command that serves the dashboard with code hidden (run it with `dashboard_env`).

    Voila serves exactly `port` (``--Voila.port_retries=0``: no silent move to a neighbouring
    port) and shuts down kernels that have had no page connected for `cull_idle` seconds
    (jupyter_server's ``MappingKernelManager`` culler; 0 turns culling off).
    """
    cmd = [sys.executable, "-m", "voila", str(notebook), f"--port={port}", f"--Voila.ip={ip}",
           "--Voila.port_retries=0", "--strip_sources=True", "--theme=light", "--template=okrsim"]
    if cull_idle > 0:
        cmd += [f"--MappingKernelManager.cull_idle_timeout={cull_idle}",
                f"--MappingKernelManager.cull_interval={cull_interval(cull_idle)}",
                "--MappingKernelManager.cull_connected=False", "--MappingKernelManager.cull_busy=False"]
    if not open_browser:
        cmd.append("--no-browser")
    return cmd


def _addresses(ip: str, port: int) -> list[tuple]:
    """The socket addresses Tornado binds for `ip` (every address of a name, both families for ``""``)."""
    try:
        infos = socket.getaddrinfo(ip or None, port, socket.AF_UNSPEC, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ParameterError(f"--ip {ip!r} is not an address of this machine ({exc.strerror})") from None
    return [(family, addr) for family, _, _, _, addr in dict.fromkeys(infos)]


def check_port_free(ip: str, port: int) -> None:
    """Raise `ParameterError` naming the port if a server already listens on `port` at `ip`.

    Binds as Tornado does (``SO_REUSEADDR``, so a port left in TIME_WAIT by a stopped dashboard
    counts as free) and lets go at once.
    """
    for family, addr in _addresses(ip, port):
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and hasattr(socket, "IPPROTO_IPV6"):
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                s.bind(addr)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise ParameterError(
                        f"port {port} on {ip} is already in use (another dashboard or server is running there); "
                        f"stop it, or choose a free port with --port, e.g. --port {port + 1 if port < 65535 else 8866}"
                    ) from None
                if exc.errno == errno.EADDRNOTAVAIL:
                    raise ParameterError(f"--ip {ip!r} is not an address of this machine") from None
                if exc.errno == errno.EACCES:
                    raise ParameterError(f"no permission to listen on port {port} (ports below 1024 need root); "
                                         "choose another with --port") from None
                raise


def _url(ip: str, port: int) -> str:
    host = f"[{ip}]" if ":" in ip else ip
    return f"http://{host}:{port}/"


def _answers(ip: str, port: int) -> bool:
    """Whether something accepts connections on `port` at `ip` (the loopback for a wildcard address)."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(ip, ip)
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class _Descendants:
    """The processes started below one PID (Voila: its kernels, their worker pools), remembered while they run.

    Kernels run in sessions of their own (jupyter_client starts them so), so the process group
    of Voila does not reach them; and a kernel whose Voila was killed is re-parented and can no
    longer be found from it.  Hence the tree is recorded as it grows, and whatever of it is
    still running at the end is stopped.  psutil (which comes with IPython) guards against a PID
    reused meanwhile; without it only Voila's own shutdown of its kernels is relied on.
    """

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.known: dict[int, object] = {}
        try:
            import psutil
        except ImportError:  # pragma: no cover - psutil comes with IPython
            self.psutil = None
        else:
            self.psutil = psutil

    def record(self) -> None:
        if self.psutil is None:
            return
        try:
            children = self.psutil.Process(self.pid).children(recursive=True)
        except (self.psutil.NoSuchProcess, self.psutil.AccessDenied):
            return
        for child in children:
            self.known.setdefault(child.pid, child)

    def running(self) -> list:
        if self.psutil is None:
            return []
        alive = []
        for proc in self.known.values():
            try:
                if proc.is_running() and proc.status() != self.psutil.STATUS_ZOMBIE:  # type: ignore[attr-defined]
                    alive.append(proc)
            except self.psutil.NoSuchProcess:
                pass
        return alive

    def stop(self, grace: float) -> None:
        """SIGTERM to what is left, then SIGKILL to what is still there after `grace` seconds."""
        if self.psutil is None:
            return
        alive = self.running()
        for proc in alive:
            try:
                proc.terminate()  # type: ignore[attr-defined]
            except self.psutil.NoSuchProcess:
                pass
        _, alive = self.psutil.wait_procs(alive, timeout=grace)
        for proc in alive:
            try:
                proc.kill()
            except self.psutil.NoSuchProcess:
                pass
        self.psutil.wait_procs(alive, timeout=grace)


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def run_supervised(cmd: list[str], env: dict[str, str] | None = None, grace: float = STOP_GRACE_SECONDS,
                   on_ready: Callable[[], bool] | None = None, ready: Callable[[], None] | None = None) -> int:
    """Run `cmd` (Voila) in a session of its own and leave no process of it behind.

    SIGINT, SIGTERM and SIGHUP to this process stop it: Voila gets SIGTERM and shuts its
    kernels down; if it is still there after `grace` seconds its process group gets SIGKILL;
    then every process recorded below it (kernels, their workers) that still runs gets
    SIGTERM, and SIGKILL after another `grace` seconds.
    If Voila ends by itself, what it left is stopped the same way.  `on_ready` is polled
    until it returns True, then `ready` is called once (to print the address).

    Returns
    -------
    int
        Voila's exit status, or 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM).
    """
    received: list[int] = []

    def note(signum: int, _frame: object) -> None:
        received.append(signum)

    stop_signals = [signal.SIGINT, signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {sig: signal.signal(sig, note) for sig in stop_signals}
    try:
        proc = subprocess.Popen(cmd, env=env, start_new_session=True)
        tree = _Descendants(proc.pid)
        announced = on_ready is None
        next_record = 0.0
        try:
            while not received and proc.poll() is None:
                now = time.monotonic()
                if now >= next_record:
                    tree.record()
                    next_record = now + 0.5
                if not announced and on_ready is not None and on_ready():
                    announced = True
                    if ready is not None:
                        ready()
                time.sleep(0.1)
        finally:
            tree.record()
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # Voila stops its loop and shuts every kernel down
                try:
                    proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    _signal_group(proc.pid, signal.SIGKILL)  # Voila is not reaped yet: the group id is still its own
                    proc.wait()
            tree.stop(grace)  # kernels (sessions of their own) and their workers that outlived Voila
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        return 128 + received[0]
    return proc.returncode if proc.returncode >= 0 else 128 - proc.returncode


def cmd_dashboard(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        raise ParameterError(f"--port = {show(args.port)} must be in [1, 65535]")
    if args.cull_idle < 0:
        raise ParameterError(f"--cull-idle = {show(args.cull_idle)} must be 0 (no culling) or more seconds")
    notebook = Path(args.notebook) if args.notebook else dashboard_notebook()
    if not notebook.is_file():
        raise ParameterError(f"--notebook {str(notebook)!r} does not exist")
    cmd = dashboard_command(notebook, args.port, not args.no_browser, args.ip, args.cull_idle)
    url = _url(args.ip, args.port)
    if args.print_command:
        print(f"JUPYTER_PATH={shlex.quote(dashboard_env()['JUPYTER_PATH'])} {shlex.join(cmd)}")
        return 0
    check_port_free(args.ip, args.port)
    if 0 < args.cull_idle < 60:
        print(f"okrsim dashboard: note: --cull-idle {args.cull_idle} is short; a page still loading on a slow "
              "machine may lose its kernel (60 s or more is safe)", file=sys.stderr, flush=True)
    culling = (f"kernels of closed pages stop after {args.cull_idle} s idle" if args.cull_idle > 0
               else "kernels are not culled")
    print(f"okrsim dashboard: starting Voila for {notebook} on {url} (code hidden; {culling})", flush=True)

    def ready() -> None:
        print(f"okrsim dashboard: serving at {url}  (Ctrl-C stops Voila and its kernels)", flush=True)

    status = run_supervised(cmd, env=dashboard_env(), on_ready=lambda: _answers(args.ip, args.port), ready=ready)
    if status >= 128 and status - 128 in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", -1)):
        print(f"okrsim dashboard: stopped ({signal.Signals(status - 128).name}); Voila and its kernels are gone",
              flush=True)
    elif status != 0:
        print(f"okrsim dashboard: Voila exited with status {status}", file=sys.stderr, flush=True)
    return status


def cmd_report(args: argparse.Namespace) -> int:
    from okrsim.cli.main import need_two_policies, policies_from_args
    from okrsim.views.panels import Settings, build_panel
    from okrsim.views.report import comparison_report

    if args.params:
        settings = Settings.load(args.params)
        where = f"--params {args.params!r}"
    else:
        scenario, policies = policies_from_args(args)
        settings = Settings(scenario, tuple(policies), args.replications, args.seed)
        where = f"--policies {args.policies!r}"
    need_two_policies([p.name for p in settings.policies], "report", where)
    panel = build_panel(settings)
    path = comparison_report(panel, args.out)
    print(f"okrsim report: {' vs '.join(panel.policy_names)} in {settings.scenario.name!r}, "
          f"{settings.replications} paired replications, seed {settings.seed}")
    print(f"wrote {path} (opens offline) and {path.with_suffix('.yaml')} (settings to reproduce it)")
    return 0


def demo_report(comparison: object, path: str | Path) -> Path:
    """Write the offline HTML report of `okrsim demo`'s comparison and return its path.

    The comparison's scenario, policies, replications and seed are re-run with frames;
    common random numbers make the KPIs identical to the comparison's.
    """
    from okrsim.views.panels import build_panel
    from okrsim.views.report import comparison_report

    panel = build_panel(comparison)  # type: ignore[arg-type]
    return comparison_report(panel, path)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``dashboard`` and ``report`` to the ``okrsim`` command line."""
    from okrsim.cli.main import add_world_options

    p = subparsers.add_parser(
        "dashboard", help="interactive explorer as a Voila app in the browser (code hidden)",
        description="Serve the explorer with Voila (code hidden) on exactly --port; a port in use is an error. "
                    "Ctrl-C or SIGTERM stops Voila and every kernel it started; idle kernels of closed pages are "
                    "shut down after --cull-idle seconds.")
    p.add_argument("--port", type=int, default=8866, help="port to serve on (default: 8866)")
    p.add_argument("--ip", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--notebook", help="serve this notebook instead of notebooks/dashboard.ipynb")
    p.add_argument("--cull-idle", type=int, default=CULL_IDLE_SECONDS, metavar="SECONDS",
                   help=f"shut down a kernel whose page was closed after SECONDS without activity; pages still open "
                        f"keep theirs (default: {CULL_IDLE_SECONDS}; 0: never)")
    p.add_argument("--print-command", action="store_true", help="print the Voila command instead of running it")
    p.set_defaults(func=cmd_dashboard)

    p = subparsers.add_parser("report", help="self-contained HTML report of a comparison (charts inline, opens offline)")
    add_world_options(p)
    p.add_argument("--replications", type=int, default=30, help="paired replications (default: 30)")
    p.add_argument("--out", default="out/okrsim-report.html", metavar="FILE",
                   help="HTML file to write, with its settings next to it as YAML (default: out/okrsim-report.html)")
    p.add_argument("--params", metavar="FILE",
                   help="reproduce the settings of an export or a report (YAML); overrides the world options")
    p.set_defaults(func=cmd_report)
