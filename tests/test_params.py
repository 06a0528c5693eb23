"""Parameters: registry, presets, validation, files."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

import okrsim
from okrsim import ParameterError, Policy, Scenario
from okrsim.core.params import _SECTION_CLASSES, effect_levers, mix_effects
from okrsim.core.registry import EFFECTS, REGISTRY, lookup, specs


def test_every_field_is_in_the_registry_and_back():
    fields = {f"{s}.{f.name}" for s, cls in _SECTION_CLASSES.items() for f in dataclasses.fields(cls)}
    fields |= {f"policy.{f.name}" for f in dataclasses.fields(Policy) if f.name != "name"}
    assert fields == {p.key for p in REGISTRY}


def test_registry_records_are_complete_and_defaults_valid():
    for p in REGISTRY:
        assert p.unit is not None and p.meaning, p.key
        assert p.validate(p.default) == p.default or p.kind == "shocks"
        if p.is_numeric:
            assert p.low <= p.default <= p.high, p.key
        if p.section == "policy":
            assert p.effect in EFFECTS, p.key
            assert p.role in ("lever", "cost", "setting"), p.key


@pytest.mark.parametrize("name", ["stable", "dynamic", "turbulent", "mature", "disruption"])
def test_scenario_presets_build(name):
    s = Scenario.preset(name)
    assert s.name == name
    assert Scenario.from_dict(s.to_dict() | {"preset": "dynamic"}) == dataclasses.replace(s, name=name)


def test_presets_differ_as_documented():
    stable, dynamic, turbulent = (Scenario.preset(n) for n in ("stable", "dynamic", "turbulent"))
    assert stable.market.shift_rate < dynamic.market.shift_rate < turbulent.market.shift_rate
    disruption = Scenario.preset("disruption")
    assert len(disruption.market.shocks) >= 1 and Scenario().market.shocks == ()
    assert Scenario.preset("dynamic") == Scenario()


@pytest.mark.parametrize("name", okrsim.POLICY_PRESETS)
def test_policy_presets_build(name):
    assert Policy.preset(name).name == name


def test_ablation_presets_switch_exactly_one_effect():
    annual, quarterly = Policy.preset("annual"), Policy.preset("quarterly_okr")
    levers = {e: {p.name for p in effect_levers(e)} for e in EFFECTS}
    assert all(levers.values()), levers
    differing = {f.name for f in dataclasses.fields(Policy) if f.name != "name"
                 and getattr(annual, f.name) != getattr(quarterly, f.name)}
    assert set().union(*levers.values()) == differing
    for e in EFFECTS:
        ablation = Policy.preset(f"only_{e}")
        for f in dataclasses.fields(Policy):
            if f.name == "name":
                continue
            expected = getattr(quarterly if f.name in levers[e] else annual, f.name)
            assert getattr(ablation, f.name) == expected, (e, f.name)
    assert mix_effects(EFFECTS).to_dict() | {"name": "x"} == quarterly.to_dict() | {"name": "x"}
    assert mix_effects([]).to_dict() | {"name": "x"} == annual.to_dict() | {"name": "x"}


def test_presets_encode_the_spec():
    a, q = Policy.preset("annual"), Policy.preset("quarterly_okr")
    assert (a.cadence_weeks, q.cadence_weeks) == (52, 13)
    assert not a.can_stop_running_work and q.can_stop_running_work
    assert a.political_weight > q.political_weight and a.budget_inertia > q.budget_inertia
    assert a.transparency < q.transparency and not a.retrospectives and q.retrospectives
    # every benefit has a price: the quarterly preset pays more planning overhead per year
    assert q.planning_cost * 52 / q.cadence_weeks > a.planning_cost * 52 / a.cadence_weeks


def test_objects_are_immutable():
    s = Scenario()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.market.shift_rate = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Policy().cadence_weeks = 13  # type: ignore[misc]


@pytest.mark.parametrize(
    ("build", "fragments"),
    [
        (lambda: Scenario().replace({"market.shift_rat": 2}), ["market.shift_rat", "did you mean", "market.shift_rate"]),
        (lambda: Scenario().replace({"market.shift_rate": -1}), ["market.shift_rate", "-1", "[0, 12]"]),
        (lambda: Scenario().replace({"market.shift_rate": math.nan}), ["market.shift_rate", "nan", "finite"]),
        (lambda: Scenario().replace({"market.shift_rate": math.inf}), ["market.shift_rate", "inf"]),
        (lambda: Scenario().replace({"market.shift_rate": "fast"}), ["market.shift_rate", "'fast'", "[0, 12]"]),
        (lambda: Scenario().replace({"market.shift_rate": True}), ["market.shift_rate", "True"]),
        (lambda: Scenario().replace({"organisation.n_teams": 7.5}), ["organisation.n_teams", "7.5", "integer"]),
        (lambda: Scenario().replace({"horizon.weeks": 5}), ["horizon.weeks", "5", "[13, 1040]"]),
        (lambda: Policy().replace({"cadence_weeks": 0}), ["policy.cadence_weeks", "0", "[1, 52]"]),
        (lambda: Policy().replace({"retrospectives": "yes"}), ["policy.retrospectives", "'yes'", "true or false"]),
        (lambda: Policy().replace({"cadance_weeks": 13}), ["cadance_weeks", "did you mean", "cadence_weeks"]),
        (lambda: Policy(name="two words"), ["policy name", "two words"]),
        (lambda: Scenario.preset("calm"), ["calm", "stable", "dynamic"]),
        (lambda: Policy.preset("quarterly"), ["quarterly", "quarterly_okr"]),
        (lambda: Scenario().replace({"market.shocks": [[200, 0, 2.0]]}), ["market.shocks", "200", "horizon.weeks = 156"]),
        (lambda: Scenario().replace({"market.shocks": [[10, 9, 2.0]]}), ["market.shocks", "theme 9", "n_themes = 6"]),
        (lambda: Scenario().replace({"market.shocks": [[10, 1, 0.0]]}), ["market.shocks", "(0, 100]"]),
        (lambda: Scenario().replace({"market.shocks": [[10, 1]]}), ["market.shocks", "[week, theme, factor]"]),
        (lambda: Scenario().replace({"organisation.n_teams": 1}), ["multi_team_share", "n_teams = 1"]),
        (lambda: Scenario().replace({"market.detection_lag_weeks": 20, "horizon.weeks": 20}),
         ["detection_lag_weeks", "horizon.weeks = 20"]),
        (lambda: Scenario().replace({"policy.cadence_weeks": 13}), ["policy lever"]),
        (lambda: Scenario.from_dict({"markets": {}}), ["markets", "did you mean 'market'"]),
        (lambda: Scenario.from_dict({"market": {"spred": 1}}), ["spred", "did you mean", "market.spread"]),
    ],
)
def test_invalid_input_is_refused_with_a_clear_message(build, fragments):
    with pytest.raises(ParameterError) as info:
        build()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_inconsistent_policy_and_scenario_are_refused_before_running():
    tiny = Scenario().replace({"market.n_themes": 2})
    with pytest.raises(ParameterError, match=r"n_objectives = 3 exceeds market\.n_themes = 2"):
        okrsim.simulate(tiny, Policy().replace({"n_objectives": 3}))
    short = Scenario().replace({"horizon.weeks": 26})
    with pytest.raises(ParameterError, match=r"cadence_weeks = 52 exceeds horizon\.weeks = 26"):
        okrsim.simulate(short, Policy())
    with pytest.raises(ParameterError, match="seed = -1"):
        okrsim.simulate(Scenario(), Policy(), -1)


def test_integral_floats_and_numpy_scalars_are_accepted():
    import numpy as np

    s = Scenario().replace({"organisation.n_teams": 10.0, "market.shift_rate": np.float64(2.0)})
    assert s.organisation.n_teams == 10 and isinstance(s.organisation.n_teams, int)
    assert Policy().replace({"cadence_weeks": np.int64(13)}).cadence_weeks == 13


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_save_and_load_round_trip(tmp_path, suffix):
    s = Scenario.preset("disruption").replace({"portfolio.idea_rate": 1.1})
    p = Policy.preset("quarterly_okr").replace({"planning_cost": 0.7}, name="custom")
    assert Scenario.load(s.save(tmp_path / f"s{suffix}")) == s
    assert Policy.load(p.save(tmp_path / f"p{suffix}")) == p


def test_policy_file_lists_only_what_differs(tmp_path):
    path = tmp_path / "semiannual.yaml"
    path.write_text("preset: annual\nname: semiannual\ncadence_weeks: 26\n")
    p = Policy.load(path)
    assert p.name == "semiannual" and p.cadence_weeks == 26
    assert p.replace({"cadence_weeks": 52}, name="annual") == Policy.preset("annual")


def test_bad_files_are_refused(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        Scenario.load(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ParameterError, match="cannot parse"):
        Scenario.load(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    with pytest.raises(ParameterError, match="mapping"):
        Policy.load(listy)
    with pytest.raises(ParameterError, match=r"\.yaml, \.yml or \.json"):
        Scenario().save(tmp_path / "scenario.txt")
    assert not (tmp_path / "scenario.txt").exists()


def test_saved_file_holds_every_parameter(tmp_path):
    data = json.loads(Scenario().save(tmp_path / "s.json").read_text())
    assert {f"{s}.{k}" for s in ("market", "portfolio", "organisation", "horizon") for k in data[s]} == {
        p.key for p in REGISTRY if p.section != "policy"}


def test_lookup_by_bare_name_and_sections():
    assert lookup("shift_rate").key == "market.shift_rate"
    assert {p.section for p in specs("policy")} == {"policy"}
    with pytest.raises(ParameterError, match="did you mean"):
        lookup("shfit_rate")
