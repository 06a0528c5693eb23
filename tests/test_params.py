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


# ------------------------------------------------------------- sections generated from the registry
SECTION_CLASSES = [*_SECTION_CLASSES.values(), Policy]


@pytest.mark.parametrize("cls", SECTION_CLASSES, ids=lambda c: c.__name__)
def test_generated_classes_pickle_and_copy_like_hand_written_ones(cls):
    """Process pools and dask pickle scenarios and policies: the generated classes must be importable by name."""
    import copy
    import pickle

    obj = cls()
    assert cls.__module__ == "okrsim.core.params" and cls.__qualname__ == cls.__name__
    assert getattr(__import__(cls.__module__, fromlist=[cls.__name__]), cls.__name__) is cls
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(obj, protocol=protocol))
        assert back == obj and hash(back) == hash(obj) and type(back) is cls
    assert copy.deepcopy(obj) == obj
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen
    assert repr(obj).startswith(f"{cls.__name__}(")


def test_scenario_and_policy_pickle_with_every_preset():
    import pickle

    for name in okrsim.SCENARIO_PRESETS:
        s = Scenario.preset(name)
        assert pickle.loads(pickle.dumps(s)) == s
    for name in okrsim.POLICY_PRESETS:
        p = Policy.preset(name)
        assert pickle.loads(pickle.dumps(p)) == p


def test_fields_types_defaults_and_docs_come_from_the_registry():
    for cls in SECTION_CLASSES:
        own = [f for f in dataclasses.fields(cls) if f.name != "name"]
        assert [f.name for f in own] == [p.name for p in specs(cls.section)]  # registry order
        for f, p in zip(own, specs(cls.section), strict=True):
            assert f.default == p.default, p.key
            assert f.type == {"int": "int", "float": "float", "bool": "bool",
                              "shocks": "tuple[tuple[int, int, float], ...]"}[p.kind], p.key
            assert f"{p.name} : " in cls.__doc__ and p.describe_range() in cls.__doc__, p.key
    assert next(f.name for f in dataclasses.fields(Policy)) == "name"  # positional construction keeps its order


def test_a_class_cannot_define_a_registry_parameter_a_second_time():
    from okrsim.core.params import _Section, from_registry

    with pytest.raises(TypeError, match=r"defines \['shift_rate'\] itself"):
        @from_registry("market")
        class Twice(_Section):
            shift_rate: float = 2.0


def _extended_registry():
    from okrsim.core.registry import ParamSpec

    return (*REGISTRY, ParamSpec("market", "hype_rate", "float", 0.5, 0, 2, "per year", "expected hype cycles per year"))


def test_a_section_built_from_an_extended_registry_has_the_new_parameter():
    """The mechanism of "one edit": the same decorator, given a table with one more line."""
    from okrsim.core.params import _Section, from_registry

    table = _extended_registry()

    @from_registry("market", registry=table)
    class MarketPlus(_Section):
        """The market, with one more parameter."""

    m = MarketPlus()
    assert m.hype_rate == 0.5 and m.shift_rate == Scenario().market.shift_rate
    assert MarketPlus(hype_rate=1.25).to_dict()["hype_rate"] == 1.25
    assert MarketPlus.from_dict({"hype_rate": 2}).hype_rate == 2.0
    assert "hype_rate : float, default 0.5" in MarketPlus.__doc__ and "[0, 2] per year" in MarketPlus.__doc__
    with pytest.raises(ParameterError, match=r"market\.hype_rate = 3\.0 is out of range: valid is a number in \[0, 2\]"):
        MarketPlus(hype_rate=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.hype_rate = 1  # type: ignore[misc]


def test_a_slip_in_a_registry_line_fails_at_once():
    from okrsim.core.params import _Section, from_registry
    from okrsim.core.registry import ParamSpec, check_registry

    bad = [
        (ParamSpec("markt", "x", "float", 1, 0, 2, "", "typo in the section"), "section must be one of"),
        (ParamSpec("market", "x", "flaot", 1, 0, 2, "", "typo in the kind"), "kind must be one of"),
        (ParamSpec("market", "x", "float", 3, 0, 2, "", "default outside the range"), "low <= default <= high"),
        (ParamSpec("market", "to_dict", "float", 1, 0, 2, "", "a method's name"), "name must be"),
        (ParamSpec("policy", "x", "float", 1, 0, 2, "", "a lever without an effect"), "levers need an effect"),
        (lookup("market.shift_rate"), "defined twice"),
    ]
    for spec, fragment in bad:
        with pytest.raises(ValueError, match=fragment):
            check_registry((*REGISTRY, spec))
    with pytest.raises(ValueError, match=r"registry entry market\.x"):
        from_registry("market", registry=(*REGISTRY, bad[2][0]))(type("M", (_Section,), {}))


ONE_EDIT_LINES = (
    '    _p("market", "hype_rate", "float", 0.5, 0, 2, "per year", "expected hype cycles per year"),\n',
    '    _p("policy", "okr_pride", "float", 0.0, 0, 1, "share", "pride in one\'s own OKRs", "alignment", "setting"),\n',
)

ONE_EDIT_PROGRAM = r'''
import contextlib, io, json, sys, pathlib
import okrsim
from okrsim import ParameterError, Policy, Scenario
from okrsim.cli.main import main
from okrsim.experiments.designs import factor
from okrsim.views.explorer import Explorer
from okrsim.views.panels import Settings

out = {"file": okrsim.__file__}
s = Scenario.preset("turbulent").replace({"market.hype_rate": 1.5})
out["attribute"] = [Scenario().market.hype_rate, s.market.hype_rate, Policy().okr_pride]
out["flat"] = ["market.hype_rate" in Scenario().flat(), "policy.okr_pride" in Policy.preset("quarterly_okr").flat()]
out["file_round_trip"] = [Scenario.load(s.save(pathlib.Path(sys.argv[1]) / "s.yaml")) == s,
                          Policy.coerce({"preset": "annual", "okr_pride": 0.5}).okr_pride]
errors = []
for build in (lambda: Scenario().replace({"market.hype_rate": 3}), lambda: Policy().replace({"okr_pride": 2})):
    try:
        build()
    except ParameterError as exc:
        errors.append(str(exc))
out["errors"] = errors
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    main(["params"])
out["params"] = [line.split()[0] for line in buf.getvalue().splitlines() if "hype_rate" in line or "okr_pride" in line]
f = factor("market.hype_rate")
out["sweep_bounds"] = [f.low, f.high]
e = Explorer(settings=Settings(replications=2), workers=1, debounce=0)
out["widgets"] = ["market.hype_rate" in e.controls, "okr_pride" in e.policy_controls[0]]
e.close()
print(json.dumps(out))
'''


@pytest.mark.slow
def test_adding_a_parameter_is_one_edit(tmp_path):
    """Copy the package, add ONE line to REGISTRY, and the parameter is everywhere.

    In the section object, `flat`, files, validation, `okrsim params`, sweep bounds and the
    explorer's widgets, with no other change (docs/architecture.md, "Adding a parameter", step 1).
    """
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    src = Path(okrsim.__file__).parent
    copy = tmp_path / "okrsim"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("__pycache__"))
    registry = copy / "core" / "registry.py"
    lines = registry.read_text().splitlines(keepends=True)
    after = next(i for i, line in enumerate(lines) if '"detection_lag_weeks"' in line)
    lines.insert(after + 1, ONE_EDIT_LINES[0])
    after = next(i for i, line in enumerate(lines) if '"retro_cost"' in line)
    lines.insert(after + 1, ONE_EDIT_LINES[1])
    registry.write_text("".join(lines))
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", ONE_EDIT_PROGRAM, str(tmp_path)], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["file"] == str(copy / "__init__.py")
    assert out["attribute"] == [0.5, 1.5, 0.0]
    assert out["flat"] == [True, True]
    assert out["file_round_trip"] == [True, 0.5]
    assert "market.hype_rate = 3" in out["errors"][0] and "[0, 2] per year" in out["errors"][0]
    assert "policy.okr_pride = 2" in out["errors"][1] and "[0, 1]" in out["errors"][1]
    assert out["params"] == ["market.hype_rate", "policy.okr_pride"]
    assert out["sweep_bounds"] == [0.0, 2.0]
    assert out["widgets"] == [True, True]


def test_every_parameter_is_documented_in_model_md():
    """Step 3 of adding a parameter: a row in docs/model.md section 10 (bare names continue a row's section)."""
    import re
    from pathlib import Path

    text = Path(__file__).parents[1].joinpath("docs", "model.md").read_text()
    table = text.split("## 10. Parameters, defaults and their reasons", 1)[1].split("\n### ", 1)[0]
    documented = set()
    for row in table.splitlines():
        if not row.startswith("| `"):
            continue
        names = re.findall(r"`([\w.]+)`", row.split("|")[1])
        section = names[0].split(".")[0]
        documented |= {n if "." in n else f"{section}.{n}" for n in names}
    assert {p.key for p in REGISTRY} <= documented, sorted({p.key for p in REGISTRY} - documented)
