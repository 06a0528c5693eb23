"""The command line: commands, overrides, JSON, and errors without tracebacks."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from okrsim.cli.main import main, parse_sets
from okrsim.core.errors import ParameterError


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "okrsim.cli", *args], capture_output=True, text=True, timeout=120)


def test_demo_prints_the_headline_table():
    out = run("demo", "--replications", "6", "--no-report")
    assert out.returncode == 0, out.stderr
    assert "annual" in out.stdout and "quarterly_okr" in out.stdout
    assert "total_value (value)" in out.stdout and "wins" in out.stdout
    assert "95% CI" in out.stdout


def test_compare_json_schema(capsys):
    assert main(["compare", "--replications", "3", "--policies", "annual,only_learning", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["policies"] == ["annual", "only_learning"] and data["replications"] == 3 and data["seed"] == 0
    assert set(data["paired"]["estimation_error"]["only_learning"]) == {"mean_diff", "ci_low", "ci_high", "win_rate"}


def test_set_applies_to_world_all_policies_and_one_policy(capsys):
    args = ["compare", "--replications", "2", "--json", "--scenario", "stable", "--set", "market.shift_rate=2",
            "--set", "policy.planning_cost=0.3", "--set", "quarterly_okr.cadence_weeks=6"]
    world, levers = parse_sets(args[args.index("--set") + 1::2], ["annual", "quarterly_okr"])
    assert world == {"market.shift_rate": 2}
    assert levers == {"*": {"planning_cost": 0.3}, "quarterly_okr": {"cadence_weeks": 6}}
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["scenario"] == "stable"


def test_policy_and_scenario_files(tmp_path, capsys):
    policy = tmp_path / "semiannual.yaml"
    policy.write_text("preset: annual\nname: semiannual\ncadence_weeks: 26\n")
    scenario = tmp_path / "world.json"
    scenario.write_text(json.dumps({"preset": "turbulent", "name": "client_x", "organisation": {"n_teams": 6}}))
    assert main(["compare", "--replications", "2", "--json", "--scenario", str(scenario),
                 "--policies", f"annual,{policy}"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scenario"] == "client_x" and data["policies"] == ["annual", "semiannual"]


def test_run_writes_frames_and_inputs(tmp_path, capsys):
    assert main(["run", "--policy", "quarterly_okr", "--seed", "3", "--out", str(tmp_path)]) == 0
    assert "total_value" in capsys.readouterr().out
    names = {p.name for p in tmp_path.iterdir()}
    assert {"timeline.csv", "initiatives.csv", "events.csv", "scenario.yaml", "policy.yaml"} <= names
    assert main(["run", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["policy"] == "quarterly_okr"


def test_params_table_and_json(capsys):
    assert main(["params"]) == 0
    text = capsys.readouterr().out
    assert "market.shift_rate" in text and "per year" in text
    assert main(["params", "--json", "--section", "policy"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["section"] for d in data} == {"policy"}
    assert {"key", "type", "default", "low", "high", "unit", "meaning"} <= set(data[0])


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["compare", "--set", "market.shift_rat=3"], "did you mean market.shift_rate"),
        (["compare", "--set", "market.shift_rate=-1"], "market.shift_rate = -1"),
        (["compare", "--set", "shift_rate"], "section.name=value"),
        (["compare", "--set", "annuall.cadence_weeks=13"], "unknown parameter"),
        (["compare", "--replications", "0"], "replications = 0"),
        (["compare", "--scenario", "calm"], "unknown scenario preset 'calm'"),
        (["compare", "--policies", "annual,nope.yaml"], "does not exist"),
        (["run", "--set", "policy.cadence_weeks=13.5"], "policy.cadence_weeks = 13.5"),
        (["run", "--set", "market.n_themes=2", "--set", "policy.n_objectives=3"], "n_objectives = 3"),
    ],
)
def test_errors_go_to_stderr_without_traceback(args, fragment):
    out = run(*args)
    assert out.returncode == 2
    assert fragment in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_parse_sets_rejects_unknown_policy_names():
    with pytest.raises(ParameterError):
        parse_sets(["annuall.cadence_weeks=13"], ["annual"])


# ------------------------------------------------------------- where commands write, pipes, bugs
def test_demo_and_report_write_into_out_never_the_current_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--replications", "2"]) == 0
    assert "out/okrsim-demo-report.html" in capsys.readouterr().out
    assert main(["report", "--replications", "2"]) == 0
    capsys.readouterr()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "okrsim-demo-report.html", "okrsim-demo-report.yaml", "okrsim-report.html", "okrsim-report.yaml"}
    assert main(["demo", "--replications", "2", "--out", "elsewhere"]) == 0
    assert (tmp_path / "elsewhere" / "okrsim-demo-report.html").is_file()


def test_a_closed_pipe_ends_quietly():
    """``okrsim params | head``: the reader goes away; no traceback, no "Broken pipe" message, status 141."""
    proc = subprocess.Popen([sys.executable, "-m", "okrsim.cli", "params"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # before the command writes anything (it is still importing)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""


def test_a_closed_pipe_through_a_shell_ends_quietly():
    out = subprocess.run(["bash", "-o", "pipefail", "-c",
                          f"{sys.executable} -m okrsim.cli params --json | head -c 10"],
                         capture_output=True, text=True, timeout=120)
    assert out.stdout == "[\n  {\n    "[:10] and out.stderr == ""
    assert out.returncode in (0, 141)  # 0 when the output fitted in the pipe before head left


@pytest.mark.parametrize("bug", [KeyError("policy"), TypeError("unsupported operand"), ValueError("internal"),
                                 FileNotFoundError(2, "No such file or directory", "/usr/lib/okrsim-internal/x.dat")])
def test_an_internal_bug_is_not_turned_into_bad_input(monkeypatch, bug):
    """Only ParameterError and OS errors about the user's files exit 2; anything else keeps its traceback."""
    cli = importlib.import_module("okrsim.cli.main")  # the package's `main` attribute is the function

    def broken(args):
        raise bug

    monkeypatch.setattr(cli, "cmd_params", broken)
    with pytest.raises(type(bug)):
        cli.main(["params"])


def test_an_internal_bug_shows_its_traceback_on_the_command_line():
    program = ("import importlib, sys\nm = importlib.import_module('okrsim.cli.main')\n"
               "m.cmd_params = lambda args: {}['no such key']\n"
               "sys.exit(m.main(['params']))\n")
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert out.returncode not in (0, 2)
    assert "Traceback" in out.stderr and "KeyError: 'no such key'" in out.stderr


def test_an_os_error_about_a_file_the_user_named_is_bad_input(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    assert main(["run", "--out", str(blocker)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(blocker) in err and "Traceback" not in err
    assert main(["report", "--replications", "2", "--out", str(blocker / "r.html")]) == 2
    assert str(blocker) in capsys.readouterr().err
