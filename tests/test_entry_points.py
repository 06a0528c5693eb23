"""One way in: the same scenario and policy files work in every entry point, with the same errors.

`Scenario.coerce` / `Policy.coerce` read a preset name, a file path (str or Path), a mapping or
the object itself.  compare, sweep (API and sweep files), decompose, breakeven, the command
line, the views' `Settings`, the explorer and the exercise checks all go through them, so a
file that works in one works in all, and a bad name fails with the same words everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import okrsim
from okrsim import ParameterError, Policy, Scenario
from okrsim.cli.main import main

WORLD = "preset: turbulent\nname: client_x\nhorizon: {weeks: 52}\norganisation: {n_teams: 4}\n"
POLICY = "preset: quarterly_okr\nname: q6\ncadence_weeks: 6\n"
KPI = "total_value"


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "world.yaml").write_text(WORLD)
    (tmp_path / "q6.yaml").write_text(POLICY)
    return tmp_path / "world.yaml", tmp_path / "q6.yaml"


def expected_scenario() -> Scenario:
    return Scenario.preset("turbulent").replace({"horizon.weeks": 52, "organisation.n_teams": 4}, name="client_x")


def expected_policy() -> Policy:
    return Policy.preset("quarterly_okr").replace({"cadence_weeks": 6}, name="q6")


def test_coerce_reads_every_form(files, tmp_path):
    world, q6 = files
    s, p = expected_scenario(), expected_policy()
    (tmp_path / "world.json").write_text(json.dumps({"preset": "turbulent", "name": "client_x",
                                                     "horizon": {"weeks": 52}, "organisation": {"n_teams": 4}}))
    for form in (world, str(world), tmp_path / "world.json", s, {"preset": "turbulent", "name": "client_x",
                                                                 "horizon": {"weeks": 52}, "organisation": {"n_teams": 4}}):
        assert Scenario.coerce(form) == s, form
    assert Scenario.coerce("world.yaml", relative_to=tmp_path) == s
    assert Scenario.coerce("turbulent") == Scenario.preset("turbulent")
    for form in (q6, str(q6), p, {"preset": "quarterly_okr", "name": "q6", "cadence_weeks": 6}):
        assert Policy.coerce(form) == p, form
    assert Policy.coerce("q6.yaml", relative_to=tmp_path) == p
    assert Policy.coerce_many(["annual", q6]) == (Policy.preset("annual"), p)
    assert Policy.coerce_many("annual") == (Policy.preset("annual"),)


def test_the_same_files_work_in_compare_sweep_cli_settings_and_explorer(files, tmp_path, capsys):
    world, q6 = files
    c = okrsim.compare(str(world), ["annual", str(q6)], replications=2, seed=3)
    assert c.scenario == expected_scenario() and c.policies[1] == expected_policy()
    by_run = c.runs.set_index(["policy", "replication"])[KPI].sort_index()

    # the API's sweep, with Path objects this time
    res = okrsim.sweep(None, world, ["annual", q6], replications=2, seed=3, executor="serial", progress=False)
    swept = res.frame().set_index(["policy", "replication"])[KPI].sort_index()
    pd.testing.assert_series_equal(swept, by_run, check_names=False)

    # the command line, by file name
    assert main(["compare", "--scenario", str(world), "--policies", f"annual,{q6}", "--replications", "2",
                 "--seed", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scenario"] == "client_x" and data["policies"] == ["annual", "q6"]
    means = c.summary.set_index(["kpi", "policy"])["mean"]
    assert data["kpis"][KPI]["q6"]["mean"] == pytest.approx(means[(KPI, "q6")], rel=1e-12)

    # a sweep file that names them relative to itself
    (tmp_path / "spec.yaml").write_text("scenario: world.yaml\npolicies: [annual, q6.yaml]\nreplications: 2\nseed: 3\n")
    store = tmp_path / "store"
    assert main(["sweep", str(tmp_path / "spec.yaml"), "--out", str(store), "--workers", "1", "--no-progress"]) == 0
    capsys.readouterr()
    stored = okrsim.load_results(store).set_index(["policy", "replication"])[KPI].sort_index()
    pd.testing.assert_series_equal(stored, by_run, check_names=False)

    # views: Settings take names and files too, and the explorer runs them
    from okrsim.views.explorer import Explorer
    from okrsim.views.panels import Settings

    settings = Settings(Scenario.coerce(world), ("annual", q6), replications=2, seed=3)
    assert settings == Settings(str(world), ["annual", str(q6)], replications=2, seed=3)
    explorer = Explorer(settings=settings, workers=1, debounce=0)
    try:
        assert explorer.settings.scenario.organisation.n_teams == 4
        assert explorer.settings.policies[1].cadence_weeks == 6
        runs = explorer.panel.runs.set_index(["policy", "replication"])[KPI].sort_index()
        assert np.array_equal(runs.to_numpy(), by_run.to_numpy())
    finally:
        explorer.close()


def test_decompose_breakeven_report_and_checks_take_files(files, tmp_path, capsys):
    world, q6 = files
    be = okrsim.breakeven("policy.planning_cost", [0.4, 1.0], scenario=world, policies=["annual", q6],
                          replications=1, executor="serial", progress=False)
    assert be.sweep.spec.scenario == expected_scenario() and be.sweep.spec.policies[1].cadence_weeks == 6
    d = okrsim.decompose(str(world), "annual", str(q6), replications=1, executor="serial", progress=False)
    assert d.target == "q6" and d.sweep.spec.scenario == expected_scenario()
    assert main(["report", "--scenario", str(world), "--policies", f"annual,{q6}", "--replications", "2",
                 "--out", str(tmp_path / "r.html")]) == 0
    capsys.readouterr()
    from okrsim.views.panels import Settings

    assert Settings.load(tmp_path / "r.yaml").scenario == expected_scenario()
    from okrsim.teaching.checks.answers import levers

    chosen = levers(str(q6), "your levers", Policy.preset("annual"))
    assert chosen.cadence_weeks == 6 and chosen.planning_cost == Policy.preset("annual").planning_cost  # prices stay


def _message(call) -> str:
    with pytest.raises(ParameterError) as info:
        call()
    return str(info.value)


@pytest.mark.parametrize(("bad", "fragment"), [
    ("turb", "unknown scenario preset 'turb'; valid presets are stable, dynamic, turbulent, mature, disruption"),
    ("missing.yaml", "file 'missing.yaml' does not exist"),
    (42, "scenario = 42 (int) must be a preset name"),
])
def test_a_bad_scenario_gets_the_same_message_everywhere(bad, fragment, tmp_path, monkeypatch, capsys):
    from okrsim.views.panels import Settings

    monkeypatch.chdir(tmp_path)
    messages = {
        "coerce": _message(lambda: Scenario.coerce(bad)),
        "compare": _message(lambda: okrsim.compare(bad, replications=1)),
        "sweep": _message(lambda: okrsim.sweep(None, bad, replications=1, executor="serial", progress=False)),
        "decompose": _message(lambda: okrsim.decompose(bad, replications=1, executor="serial", progress=False)),
        "breakeven": _message(lambda: okrsim.breakeven("policy.planning_cost", [0.5, 1], scenario=bad,
                                                       replications=1, executor="serial", progress=False)),
        "settings": _message(lambda: Settings(bad)),
    }
    assert fragment in messages["coerce"], messages["coerce"]
    assert set(messages.values()) == {messages["coerce"]}, messages
    if isinstance(bad, str):
        assert main(["compare", "--scenario", bad]) == 2
        assert messages["coerce"] in capsys.readouterr().err


@pytest.mark.parametrize(("bad", "fragment"), [
    ("quarterly", "unknown policy preset 'quarterly'; valid presets are annual, annual_gates, quarterly_okr"),
    ("nope.yml", "file 'nope.yml' does not exist"),
])
def test_a_bad_policy_gets_the_same_message_everywhere(bad, fragment, tmp_path, monkeypatch, capsys):
    from okrsim.views.panels import Settings

    monkeypatch.chdir(tmp_path)
    messages = {
        "coerce": _message(lambda: Policy.coerce(bad)),
        "compare": _message(lambda: okrsim.compare("dynamic", ["annual", bad], replications=1)),
        "sweep": _message(lambda: okrsim.sweep(None, "dynamic", ["annual", bad], replications=1, executor="serial",
                                               progress=False)),
        "decompose": _message(lambda: okrsim.decompose("dynamic", "annual", bad, replications=1, executor="serial",
                                                       progress=False)),
        "settings": _message(lambda: Settings(policies=("annual", bad))),
    }
    assert fragment in messages["coerce"], messages["coerce"]
    assert set(messages.values()) == {messages["coerce"]}, messages
    assert main(["compare", "--policies", f"annual,{bad}"]) == 2
    assert messages["coerce"] in capsys.readouterr().err
