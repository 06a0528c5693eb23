"""The command line: commands, overrides, JSON, and errors without tracebacks."""

from __future__ import annotations

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
