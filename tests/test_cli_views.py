"""The ``okrsim report``, ``okrsim dashboard`` and demo report commands."""

from __future__ import annotations

import shlex

import nbformat
import pytest

from okrsim import compare
from okrsim.cli.main import main
from okrsim.cli.views import DASHBOARD_CELLS, dashboard_command, demo_report
from okrsim.views.panels import Settings


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
