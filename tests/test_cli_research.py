"""Command line: okrsim sweep / sensitivity / decompose / breakeven, with --json and bad input."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest

from okrsim import ParameterError
from okrsim.cli.main import main
from okrsim.experiments.store import load_results

SPEC = """
scenario: {preset: dynamic, horizon: {weeks: 52}}
policies: [annual, quarterly_okr]
design:
  method: lhs
  n: 3
  seed: 1
  factors:
    market.shift_rate: [0, 6]
    quarterly_okr.planning_cost: null
replications: 2
seed: 5
"""
SMALL = ["--set", "horizon.weeks=52", "--workers", "1"]


def run_json(capsys, argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def fails(capsys, argv, *words):
    assert main(argv) == 2
    err = capsys.readouterr().err
    for w in words:
        assert w in err, err
    assert "Traceback" not in err


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(textwrap.dedent(SPEC))
    return path


def test_sweep_command_writes_a_resumable_store(capsys, spec_file, tmp_path):
    out = tmp_path / "runs"
    first = run_json(capsys, ["sweep", str(spec_file), "--out", str(out), "--workers", "1"])
    assert first["runs"] == 12 and first["computed_runs"] == 12 and first["complete"] is True
    assert first["factors"] == ["market.shift_rate", "quarterly_okr.planning_cost"] and first["seed"] == 5
    again = run_json(capsys, ["sweep", str(spec_file), "--out", str(out), "--workers", "1"])
    assert again["computed_runs"] == 0 and again["reused_runs"] == 12
    frame = load_results(out)
    assert len(frame) == 12 and set(frame["policy"]) == {"annual", "quarterly_okr"}
    assert main(["sweep", str(spec_file), "--out", str(out), "--workers", "1"]) == 0
    assert "0 runs computed, 12 reused" in capsys.readouterr().out


@pytest.mark.parametrize(("edit", "words"), [
    (("n: 3", "n: 3\n  size: 4"), ["unknown keys ['size']"]),
    (("method: lhs", "method: lhc"), ["design method = 'lhc'"]),
    (("[0, 6]", "[0, 60]"), ["market.shift_rate", "60", "[0, 12]"]),
    (("market.shift_rate", "market.shift_rat"), ["unknown parameter", "did you mean"]),
    (("replications: 2", "replications: 0"), ["replications = 0"]),
    (("method: lhs\n  n: 3", "method: sobol\n  n: 3"), ["power of two"]),
    (("seed: 5", "seeds: 5"), ["unknown keys ['seeds']"]),
])
def test_bad_spec_files_fail_at_once_and_write_nothing(capsys, spec_file, tmp_path, edit, words):
    spec_file.write_text(textwrap.dedent(SPEC).replace(*edit))
    out = tmp_path / "runs"
    fails(capsys, ["sweep", str(spec_file), "--out", str(out), "--workers", "1"], *words)
    assert not out.exists()


def test_sweep_command_needs_out_and_a_reachable_scheduler(capsys, spec_file, tmp_path):
    fails(capsys, ["sweep", str(spec_file), "--workers", "1"], "--out")
    out = tmp_path / "runs"
    fails(capsys, ["sweep", str(spec_file), "--out", str(out), "--scheduler", "tcp://127.0.0.1:1"],
          "cannot reach the dask scheduler")
    assert not out.exists()
    fails(capsys, ["sweep", str(tmp_path / "missing.yaml"), "--out", str(out)], "does not exist")
    fails(capsys, ["sweep", str(spec_file), "--out", str(out), "--workers", "0"], "--workers 0")
    with pytest.raises(SystemExit):
        main(["sweep", str(spec_file), "--out", str(out), "--workers", "2", "--scheduler", "tcp://x:1"])
    assert not out.exists()


def test_sensitivity_command(capsys, tmp_path):
    data = run_json(capsys, ["sensitivity", "--factor", "market.shift_rate=0:6", "--factor", "portfolio.waste_hurdle",
                             "--n", "4", "--replications", "1", "--output", "advantage", "--output", "annual:waste_share",
                             *SMALL])
    rows = pd.DataFrame(data["indices"])
    assert list(rows.columns) == ["output", "parameter", "S1", "S1_conf", "ST", "ST_conf"]
    assert set(rows["output"]) == {"advantage:total_value", "annual:waste_share"}
    assert data["sweep"]["points"] == 4 * (2 + 2) and data["method"] == "sobol"
    morris = run_json(capsys, ["sensitivity", "--method", "morris", "--factor", "market.shift_rate",
                               "--trajectories", "2", "--replications", "1", *SMALL])
    assert {r["parameter"] for r in morris["indices"]} == {"market.shift_rate"}
    assert "mu_star" in morris["indices"][0]
    fails(capsys, ["sensitivity", "--factor", "market.shift_rate", "--n", "6", *SMALL], "power of two")
    fails(capsys, ["sensitivity", "--factor", "market.shift_rate=6", *SMALL], "LOW:HIGH")
    fails(capsys, ["sensitivity", *SMALL], "--factor")
    fails(capsys, ["sensitivity", "--factor", "market.shift_rate", "--output", "advantage:valu", *SMALL], "unknown KPI")
    fails(capsys, ["sensitivity", "--method", "morris", "--second-order", "--factor", "market.shift_rate", *SMALL],
          "--second-order needs --method sobol")


def test_sensitivity_command_reports_pairs_with_second_order(capsys):
    data = run_json(capsys, ["sensitivity", "--second-order", "--factor", "market.shift_rate=0:6",
                             "--factor", "portfolio.waste_hurdle", "--n", "4", "--replications", "1", *SMALL])
    assert data["sweep"]["points"] == 4 * (2 * 2 + 2)
    pairs = pd.DataFrame(data["interactions"])
    assert list(pairs.columns) == ["output", "parameter", "other", "S2", "S2_conf"]
    assert pairs[["parameter", "other"]].values.tolist() == [["market.shift_rate", "portfolio.waste_hurdle"]]
    assert np.isfinite(pairs[["S2", "S2_conf"]].to_numpy()).all()
    assert len(data["indices"]) == 2


def test_decompose_command(capsys):
    data = run_json(capsys, ["decompose", "--replications", "2", *SMALL])
    effects = {r["effect"]: r for r in data["effects"]}
    assert list(effects) == ["agility", "alignment", "transparency", "learning", "total"]
    total = sum(effects[e]["contribution"] for e in ("agility", "alignment", "transparency", "learning"))
    assert total == pytest.approx(data["total"]["advantage"], rel=1e-12)
    assert len(data["coalitions"]) == 16 and data["sweep"]["runs"] == 32
    assert main(["decompose", "--replications", "2", *SMALL]) == 0
    assert "Shapley decomposition" in capsys.readouterr().out
    fails(capsys, ["decompose", "--policies", "annual", *SMALL], "two policies")


def test_breakeven_command(capsys):
    data = run_json(capsys, ["breakeven", "--parameter", "quarterly_okr.planning_cost", "--values", "0,2,4",
                             "--replications", "2", *SMALL])
    assert [r["value"] for r in data["curve"]] == [0.0, 2.0, 4.0]
    assert data["message"] and "crossing" in data and "crossing_low" in data
    grid = run_json(capsys, ["breakeven", "--parameter", "market.shift_rate", "--range", "0:4", "--points", "2",
                             "--y-parameter", "quarterly_okr.planning_cost", "--y-values", "0,4",
                             "--replications", "2", *SMALL])
    assert len(grid["map"]) == 4 and {"x", "y", "advantage", "win_rate"} <= set(grid["map"][0])
    assert main(["breakeven", "--parameter", "market.shift_rate", "--values", "0,4", "--replications", "2", *SMALL]) == 0
    text = capsys.readouterr().out
    assert "advantage" in text and ("zero at" in text or "no break-even in [0, 4]" in text)
    fails(capsys, ["breakeven", "--parameter", "market.shift_rate", "--range", "0-4", *SMALL], "LOW:HIGH")
    fails(capsys, ["breakeven", "--parameter", "market.shift_rate", "--values", "a,b", *SMALL], "numbers")


def test_sweep_file_designs_and_relative_files(tmp_path):
    from okrsim import Policy
    from okrsim.experiments.sweep_file import design_from_dict, read_sweep_file

    grid = design_from_dict({"method": "grid", "levels": {"market.shift_rate": 3},
                             "factors": {"market.shift_rate": [0, 6], "policy.cadence_weeks": {"values": [52, 13]}}})
    assert len(grid) == 6 and grid.method == "grid"
    pts = design_from_dict({"method": "points", "points": {"market.shift_rate": [1, 2]}})
    assert pts.frame()["market.shift_rate"].tolist() == [1.0, 2.0]
    morris = design_from_dict({"method": "morris", "trajectories": 3, "factors": {"market.shift_rate": None}})
    assert len(morris) == 3 * 2
    sobol = design_from_dict({"method": "sobol", "n": 8, "second_order": True, "factors": {"market.shift_rate": None}})
    assert len(sobol) == 8 * 4
    assert design_from_dict(None) is None
    Policy.preset("quarterly_okr").replace({"cadence_weeks": 6}, name="q6").save(tmp_path / "q6.yaml")
    (tmp_path / "s.yaml").write_text("policies: [annual, q6.yaml]\nreplications: 3\n")
    inputs = read_sweep_file(tmp_path / "s.yaml")
    assert [p.name for p in inputs["policies"]] == ["annual", "q6"] and inputs["policies"][1].cadence_weeks == 6
    assert inputs["design"] is None and inputs["replications"] == 3 and inputs["seed"] == 0
    (tmp_path / "bad.yaml").write_text("design: {method: lhs, factors: {market.shift_rate: null}}\n")
    with pytest.raises(ParameterError, match="needs n"):
        read_sweep_file(tmp_path / "bad.yaml")
    (tmp_path / "broken.yaml").write_text("design: [\n")
    with pytest.raises(ParameterError, match="cannot parse"):
        read_sweep_file(tmp_path / "broken.yaml")
