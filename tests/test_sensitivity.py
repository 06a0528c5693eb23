"""Sensitivity: the pipeline reproduces known answers (Ishigami, linear Morris) before the model."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from okrsim import ParameterError, Scenario
from okrsim.experiments.designs import Factor, latin_hypercube, morris_design, sobol_design
from okrsim.experiments.outcomes import paired_by_point, parse_output, point_means
from okrsim.experiments.sensitivity import (
    MORRIS_COLUMNS,
    SOBOL2_COLUMNS,
    SOBOL_COLUMNS,
    morris_analysis,
    sensitivity,
    sobol_analysis,
    sobol_interactions,
)
from okrsim.experiments.sweeps import SweepResult, sweep

SMALL = Scenario.preset("dynamic").replace({"horizon.weeks": 52})


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Analytic first-order and total indices (Ishigami and Homma 1990)."""
    var = 0.5 + a**2 / 8 + b * math.pi**4 / 5 + b**2 * math.pi**8 / 18
    v1 = 0.5 + b * math.pi**4 / 5 + b**2 * math.pi**8 / 50
    v2 = a**2 / 8
    v13 = b**2 * math.pi**8 * 8 / 225
    return np.array([v1, v2, 0.0]) / var, np.array([v1 + v13, v2, v13]) / var


def test_sobol_pipeline_reproduces_the_ishigami_indices():
    d = sobol_design([Factor(f"x{i}", -math.pi, math.pi) for i in (1, 2, 3)], 1024, seed=3)
    f = sobol_analysis(d, {"y": ishigami(d.sample)}, seed=1)
    assert list(f.columns) == list(SOBOL_COLUMNS)
    s1, st = ishigami_indices()
    # SALib's own regression tests use an absolute tolerance of 0.05 at this sample size
    np.testing.assert_allclose(f["S1"], s1, atol=0.05)
    np.testing.assert_allclose(f["ST"], st, atol=0.05)
    assert (f["S1_conf"] > 0).all() and (f["S1_conf"] < 0.1).all() and (f["ST_conf"] < 0.1).all()
    # the same seed gives the same confidence intervals
    pd.testing.assert_frame_equal(f, sobol_analysis(d, {"y": ishigami(d.sample)}, seed=1))


def test_second_order_pipeline_finds_the_ishigami_interaction():
    """Only x1 and x3 interact in Ishigami's function: S13 = V13 / V, S12 = S23 = 0."""
    d = sobol_design([Factor(f"x{i}", -math.pi, math.pi) for i in (1, 2, 3)], 1024, seed=3, second_order=True)
    f = sobol_interactions(d, {"y": ishigami(d.sample)}, seed=1)
    assert list(f.columns) == list(SOBOL2_COLUMNS)
    assert f[["parameter", "other"]].values.tolist() == [["x1", "x2"], ["x1", "x3"], ["x2", "x3"]]
    s1, st = ishigami_indices()
    s13 = st[2]  # x3 acts only through its interaction with x1
    # SALib's second-order estimates are noisier than S1 and ST: half-widths about 0.07-0.11 here
    np.testing.assert_allclose(f["S2"], [0.0, s13, 0.0], atol=0.05)
    assert (f["S2_conf"] > 0).all() and (f["S2_conf"] < 0.15).all()
    # the first-order and total indices of the same design still agree with the analytic ones
    g = sobol_analysis(d, {"y": ishigami(d.sample)}, seed=1)
    np.testing.assert_allclose(g["S1"], s1, atol=0.05)
    np.testing.assert_allclose(g["ST"], st, atol=0.05)


def test_second_order_needs_a_design_sampled_for_it(sobol_sweep):
    d = sobol_design([Factor("x", 0, 1), Factor("z", 0, 1)], 8)
    with pytest.raises(ParameterError, match="second_order=True"):
        sobol_interactions(d, {"y": d.sample[:, 0]})
    with pytest.raises(ParameterError, match="second_order=True"):
        sensitivity(sobol_sweep, second_order=True)


def test_morris_pipeline_recovers_the_slopes_of_a_linear_function():
    """For y = 3a - 2b + 0.5c every elementary effect is slope x range: exact, with no spread."""
    d = morris_design([Factor("a", 0, 1), Factor("b", 0, 2), Factor("c", -1, 1)], trajectories=12, seed=2)
    y = 3 * d.sample[:, 0] - 2 * d.sample[:, 1] + 0.5 * d.sample[:, 2]
    f = morris_analysis(d, {"lin": y})
    assert list(f.columns) == list(MORRIS_COLUMNS)
    np.testing.assert_allclose(f["mu_star"], [3.0, 4.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(f["sigma"], 0.0, atol=1e-9)


def test_analysis_input_is_checked():
    d = sobol_design([Factor("x", 0, 1)], 8)
    with pytest.raises(ParameterError, match="9 values; the design has 24"):
        sobol_analysis(d, {"y": np.zeros(9)})
    y = np.ones(len(d))
    y[3] = np.nan
    with pytest.raises(ParameterError, match="undefined"):
        sobol_analysis(d, {"y": y})
    with pytest.raises(ParameterError, match="morris_design"):
        morris_analysis(d, {"y": np.ones(len(d))})
    with pytest.raises(ParameterError, match="conf_level"):
        sobol_analysis(d, {"y": np.arange(len(d), dtype=float)}, conf_level=1.5)


# -------------------------------------------------------------------------------- on the model
@pytest.fixture(scope="module")
def sobol_sweep() -> SweepResult:
    # waste_hurdle only changes how waste is counted, never what is delivered: an inert factor for value
    d = sobol_design({"market.shift_rate": (0, 6), "portfolio.waste_hurdle": (0, 2)}, 4, seed=5)
    return sweep(d, SMALL, ["annual", "quarterly_okr"], replications=2, seed=1, executor="serial", progress=False)


def test_sobol_indices_of_the_model(sobol_sweep):
    f = sensitivity(sobol_sweep, ["advantage", "annual:total_value", "advantage:waste_share"])
    assert list(f.columns) == list(SOBOL_COLUMNS)
    assert f["output"].unique().tolist() == ["advantage:total_value", "annual:total_value", "advantage:waste_share"]
    value = f[f["output"] == "advantage:total_value"].set_index("parameter")
    assert value.loc["portfolio.waste_hurdle", "ST"] == 0.0 and value.loc["portfolio.waste_hurdle", "S1"] == 0.0
    assert value.loc["market.shift_rate", "ST"] > 0
    waste = f[f["output"] == "advantage:waste_share"].set_index("parameter")
    assert waste.loc["portfolio.waste_hurdle", "ST"] > 0  # but it does move the waste KPI
    pd.testing.assert_frame_equal(f, sensitivity(sobol_sweep, ["advantage", "annual:total_value",
                                                               "advantage:waste_share"]))


def test_morris_screening_of_the_model():
    d = morris_design({"market.shift_rate": (0, 6), "portfolio.waste_hurdle": (0, 2)}, trajectories=3, seed=1)
    res = sweep(d, SMALL, ["annual", "quarterly_okr"], replications=1, seed=2, executor="serial", progress=False)
    f = sensitivity(res, "total_value").set_index("parameter")
    assert f.loc["portfolio.waste_hurdle", "mu_star"] == 0.0
    assert f.loc["market.shift_rate", "mu_star"] > 0


def test_sensitivity_refuses_other_designs_and_incomplete_sweeps(sobol_sweep):
    lhs = sweep(latin_hypercube(["market.shift_rate"], n=2), SMALL, ["annual", "quarterly_okr"], 1, 0,
                executor="serial", progress=False)
    with pytest.raises(ParameterError, match="sobol_design or morris_design"):
        sensitivity(lhs)
    partial = SweepResult(sobol_sweep.spec, None, 10, 0, _frame=sobol_sweep.frame().head(10))
    with pytest.raises(ParameterError, match="incomplete"):
        sensitivity(partial)
    with pytest.raises(ParameterError, match="lead_time_weekz"):
        sensitivity(sobol_sweep, "advantage:lead_time_weekz")


def test_output_names():
    pols = ["annual", "quarterly_okr"]
    assert parse_output("advantage", pols).name == "advantage:total_value"
    o = parse_output("advantage:waste_share", pols)
    assert (o.kpi, o.policy, o.baseline) == ("waste_share", "quarterly_okr", "annual")
    assert parse_output("total_value", pols).name == "quarterly_okr:total_value"
    assert parse_output("annual:lead_time_weeks", pols).policy == "annual"
    with pytest.raises(ParameterError, match="not in the sweep"):
        parse_output("monthly:total_value", pols)
    with pytest.raises(ParameterError, match="two policies"):
        parse_output("advantage", ["annual"])


def test_point_reductions_agree_with_a_hand_computation(sobol_sweep):
    f = sobol_sweep.frame()
    out = parse_output("advantage", sobol_sweep.policies)
    means = point_means(f, out, len(sobol_sweep.design))
    g = f[f["point"] == 5].set_index(["replication", "policy"])["total_value"].unstack()
    assert means[5] == pytest.approx((g["quarterly_okr"] - g["annual"]).mean(), rel=1e-12)
    pairs = paired_by_point(f, "annual", "quarterly_okr")
    assert pairs.loc[5, "advantage"] == pytest.approx(means[5], rel=1e-12)
    assert list(pairs.columns) == ["point", "advantage", "ci_low", "ci_high", "win_rate", "n"]
