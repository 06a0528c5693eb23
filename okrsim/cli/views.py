"""Command-line views: ``okrsim dashboard`` (Voila app) and ``okrsim report`` (offline HTML).

Registered by `okrsim.cli` through its plug-in list; ``okrsim demo`` calls `demo_report`.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

from okrsim.core.errors import ParameterError
from okrsim.core.registry import show

__all__ = ["DASHBOARD_CELLS", "JUPYTER_DIR", "dashboard_command", "dashboard_env", "dashboard_notebook", "demo_report",
           "register"]

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


def dashboard_command(notebook: Path, port: int = 8866, open_browser: bool = True, ip: str = "127.0.0.1") -> list[str]:
    """The Voila command that serves the dashboard with code hidden (run it with `dashboard_env`)."""
    cmd = [sys.executable, "-m", "voila", str(notebook), f"--port={port}", f"--Voila.ip={ip}",
           "--strip_sources=True", "--theme=light", "--template=okrsim"]
    if not open_browser:
        cmd.append("--no-browser")
    return cmd


def cmd_dashboard(args: argparse.Namespace) -> int:
    if not 1 <= args.port <= 65535:
        raise ParameterError(f"--port = {show(args.port)} must be in [1, 65535]")
    notebook = Path(args.notebook) if args.notebook else dashboard_notebook()
    if not notebook.is_file():
        raise ParameterError(f"--notebook {str(notebook)!r} does not exist")
    cmd = dashboard_command(notebook, args.port, not args.no_browser, args.ip)
    url = f"http://{args.ip}:{args.port}/"
    if args.print_command:
        print(f"JUPYTER_PATH={shlex.quote(dashboard_env()['JUPYTER_PATH'])} {shlex.join(cmd)}")
        return 0
    print(f"okrsim dashboard: serving {notebook} with Voila at {url} (code hidden; Ctrl-C stops it)", flush=True)
    try:
        return subprocess.call(cmd, env=dashboard_env())
    except KeyboardInterrupt:
        return 130


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

    p = subparsers.add_parser("dashboard", help="interactive explorer as a Voila app in the browser (code hidden)")
    p.add_argument("--port", type=int, default=8866, help="port to serve on (default: 8866)")
    p.add_argument("--ip", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--notebook", help="serve this notebook instead of notebooks/dashboard.ipynb")
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
