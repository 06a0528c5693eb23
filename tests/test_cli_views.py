"""The ``okrsim report``, ``okrsim dashboard`` and demo report commands."""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from okrsim import compare
from okrsim.cli.main import main
from okrsim.cli.views import CULL_IDLE_SECONDS, DASHBOARD_CELLS, check_port_free, cull_interval, dashboard_command, demo_report
from okrsim.core.errors import ParameterError
from okrsim.views.panels import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_report_command(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", "--scenario", "stable", "--replications", "3", "--set", "quarterly_okr.cadence_weeks=6",
                 "--out", str(out)]) == 0
    assert out.is_file() and "wrote" in capsys.readouterr().out
    s = Settings.load(out.with_suffix(".yaml"))
    assert s.scenario.name == "stable" and s.policies[1].cadence_weeks == 6 and s.replications == 3


def test_report_reproduces_from_params(tmp_path):
    Settings(replications=2, seed=5).save(tmp_path / "s.yaml")
    assert main(["report", "--params", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "x.html")]) == 0
    assert Settings.load(tmp_path / "x.yaml") == Settings(replications=2, seed=5)


@pytest.mark.parametrize("argv", [
    ["report", "--replications", "0"],
    ["report", "--set", "market.shift_rate=99", "--replications", "2"],
    ["report", "--params", "does-not-exist.yaml"],
    ["dashboard", "--port", "0", "--print-command"],
])
def test_bad_input_is_one_line_and_status_2(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"okrsim {argv[0]}: error:") and err.count("\n") == 1


def test_dashboard_command_hides_code(capsys):
    assert main(["dashboard", "--print-command", "--port", "9001", "--no-browser"]) == 0
    env, *cmd = shlex.split(capsys.readouterr().out)
    assert env.startswith("JUPYTER_PATH=") and env.split("=", 1)[1].split(":")[0].endswith("okrsim/views/jupyter")
    assert cmd[1:3] == ["-m", "voila"] and cmd[3].endswith("notebooks/dashboard.ipynb")
    assert "--strip_sources=True" in cmd and "--port=9001" in cmd and "--no-browser" in cmd
    assert "--template=okrsim" in cmd


def test_voila_template_has_no_cdn():
    from okrsim.cli.views import JUPYTER_DIR

    template = JUPYTER_DIR / "voila" / "templates" / "okrsim"
    assert (template / "conf.json").is_file()
    text = (template / "index.html.j2").read_text()
    assert "extends 'voila/templates/lab/index.html.j2'" in text


def test_dashboard_notebook_matches_its_source():
    nb_path = dashboard_command.__globals__["_repo_notebook"]()
    nb = nbformat.read(nb_path, as_version=4)
    assert [(c.cell_type, c.source) for c in nb.cells] == list(DASHBOARD_CELLS)
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code"), "store the notebook executed"


def test_demo_report_matches_the_comparison(tmp_path):
    c = compare("dynamic", replications=3, seed=4)
    path = demo_report(c, tmp_path / "demo.html")
    page = path.read_text()
    p = c.paired.set_index(["kpi", "policy"]).loc[("total_value", "quarterly_okr")]
    assert f"{p['rel_mean']:+.1%}" in page


def test_demo_command_writes_the_report(tmp_path, capsys):
    assert main(["demo", "--replications", "3", "--report", str(tmp_path / "d.html")]) == 0
    assert (tmp_path / "d.html").is_file()
    assert "opens offline" in capsys.readouterr().out


def test_dashboard_serves_exactly_its_port_and_culls_idle_kernels(capsys):
    assert main(["dashboard", "--print-command", "--port", "9001"]) == 0
    cmd = shlex.split(capsys.readouterr().out)[1:]
    assert "--Voila.port_retries=0" in cmd, "Voila must never move to another port silently"
    assert f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_SECONDS}" in cmd
    assert f"--MappingKernelManager.cull_interval={cull_interval(CULL_IDLE_SECONDS)}" in cmd
    assert "--MappingKernelManager.cull_connected=False" in cmd, "a page still open keeps its kernel"
    assert main(["dashboard", "--print-command", "--cull-idle", "0"]) == 0
    assert "cull" not in capsys.readouterr().out
    assert [cull_interval(s) for s in (1, 3, 10, 600, 3600)] == [1, 1, 5, 60, 60]


def test_dashboard_help_says_how_it_stops_and_culls(capsys):
    with pytest.raises(SystemExit):
        main(["dashboard", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--cull-idle SECONDS" in text and "SIGTERM stops Voila and every kernel" in text
    assert "a port in use is an error" in text


def test_dashboard_refuses_negative_cull_idle(capsys):
    assert main(["dashboard", "--cull-idle", "-1", "--print-command"]) == 2
    assert "--cull-idle = -1" in capsys.readouterr().err


def _voila_processes_on(port: int) -> list[int]:
    psutil = pytest.importorskip("psutil")
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if any("voila" in part for part in cmdline) and f"--port={port}" in cmdline:
            found.append(proc.pid)
    return found


def test_dashboard_on_a_busy_port_is_a_clear_error_and_starts_nothing(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ParameterError, match=f"port {port} on 127.0.0.1 is already in use"):
            check_port_free("127.0.0.1", port)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        run = subprocess.run([sys.executable, "-m", "okrsim.cli", "dashboard", "--no-browser", "--port", str(port)],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode == 2, run.stderr
        assert run.stderr.startswith(f"okrsim dashboard: error: port {port} on 127.0.0.1 is already in use")
        assert "--port" in run.stderr and run.stderr.count("\n") == 1
        assert "starting Voila" not in run.stdout
        assert _voila_processes_on(port) == []
    check_port_free("127.0.0.1", port)  # free again once the socket is closed


#: A stand-in for Voila: starts a "kernel" in a session of its own (as jupyter_client does) that
#: ignores SIGTERM, then waits; with an argument it exits with that status instead of waiting.
FAKE_SERVER = """
import subprocess, sys, time
kernel = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                           "print('kernel up', flush=True); time.sleep(600)"], start_new_session=True)
print("server", kernel.pid, flush=True)
time.sleep(1.0)
if len(sys.argv) > 1:
    sys.exit(int(sys.argv[1]))
time.sleep(600)
"""

SUPERVISOR = """
import sys
from okrsim.cli.views import run_supervised
sys.exit(run_supervised([sys.executable, "-c", sys.argv[1], *sys.argv[2:]], grace=2.0))
"""


def _run_fake(tmp_path, *server_args: str) -> tuple[subprocess.Popen, list]:
    psutil = pytest.importorskip("psutil")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    sup = subprocess.Popen([sys.executable, "-c", SUPERVISOR, FAKE_SERVER, *server_args], cwd=tmp_path, env=env,
                           stdout=subprocess.PIPE, text=True)
    assert sup.stdout.readline().startswith("server")
    assert sup.stdout.readline().startswith("kernel up")
    tree = psutil.Process(sup.pid).children(recursive=True)
    assert len(tree) == 2, tree
    return sup, tree


def _gone(procs) -> bool:
    import psutil

    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            pass
    return True


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_supervisor_stops_the_server_and_its_kernels_on_a_signal(tmp_path, sig):
    sup, tree = _run_fake(tmp_path)
    sup.send_signal(sig)
    assert sup.wait(timeout=60) == 128 + sig
    assert _gone(tree), "a kernel that ignores SIGTERM must be killed after the grace time"


def test_supervisor_exits_with_the_server_status_and_stops_what_it_left(tmp_path):
    sup, tree = _run_fake(tmp_path, "3")
    assert sup.wait(timeout=60) == 3
    assert _gone(tree), "the kernel of a server that died must not be left running"
