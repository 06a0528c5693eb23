"""Break-even: exact crossings and intervals on known curves, then on the model; 2-D maps."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from okrsim import ParameterError, Scenario
from okrsim.experiments.outcomes import paired_by_point
from okrsim.experiments.thresholds import CURVE_COLUMNS, MAP_COLUMNS, advantage_map, breakeven, find_crossing

SMALL = Scenario.preset("dynamic").replace({"horizon.weeks": 52})
QUIET = {"executor": "serial", "progress": False}


def curve(x, m, half):
    x, m = np.asarray(x, float), np.asarray(m, float)
    return pd.DataFrame({"value": x, "advantage": m, "ci_low": m - half, "ci_high": m + half})


def test_crossing_and_interval_of_a_straight_line_are_exact():
    # m = 3 - 2x crosses at 1.5; the band m +- 1.5 contains zero for x in [0.75, 2.25]
    crossing, low, high, all_, msg = find_crossing(curve([0, 1, 2, 3], [3, 1, -1, -3], 1.5))
    assert (crossing, low, high, all_) == (1.5, 0.75, 2.25, (1.5,))
    assert "falls below zero at 1.5" in msg


def test_rising_curve_and_interval_reaching_the_range_end():
    crossing, low, high, _, msg = find_crossing(curve([0, 1, 2, 3], [-3, -1, 1, 3], 4.0))
    assert crossing == 1.5 and (low, high) == (0.0, 3.0)
    assert "rises above" in msg and "widen" in msg


def test_no_crossing_gives_nan_and_says_why():
    crossing, low, high, all_, msg = find_crossing(curve([0, 1, 2], [5, 4, 3], 1.0))
    assert math.isnan(crossing) and math.isnan(low) and math.isnan(high) and all_ == ()
    assert "no break-even in [0, 2]" in msg and "stays positive" in msg


def test_several_crossings_are_all_reported():
    crossing, _, _, all_, msg = find_crossing(curve([0, 1, 2, 3], [1, -1, 1, -1], 0.1))
    assert crossing == 0.5 and all_ == (0.5, 1.5, 2.5)
    assert "3 times" in msg


def test_unsorted_input_and_single_replication():
    c = curve([2, 0, 1], [-2, 2, 0.5], 0.5).sample(frac=1, random_state=1)
    crossing, *_ = find_crossing(c)
    assert crossing == pytest.approx(1 + 0.5 / 2.5)
    c = curve([0, 1], [1, -1], np.nan)
    crossing, low, high, _, msg = find_crossing(c)
    assert crossing == 0.5 and math.isnan(low) and math.isnan(high) and "2 replications" in msg


@pytest.fixture(scope="module")
def planning_cost():
    """Quarterly planning made ever dearer (annual's untouched) in a one-year world."""
    return breakeven("quarterly_okr.planning_cost", points=5, scenario=SMALL, replications=4, seed=2, **QUIET)


def test_breakeven_on_the_model(planning_cost):
    b = planning_cost
    f = b.frame
    assert list(f.columns) == list(CURVE_COLUMNS)
    assert f["value"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0] and (f["parameter"] == b.parameter).all()
    assert f["advantage"].iloc[0] > 0 > f["advantage"].iloc[-1]  # cheap planning pays, dear planning does not
    i = int(np.flatnonzero(np.diff(np.sign(f["advantage"])))[0])
    m0, m1 = f["advantage"].iloc[i], f["advantage"].iloc[i + 1]
    assert b.crossing == pytest.approx(f["value"].iloc[i] + m0 / (m0 - m1), rel=1e-12)
    assert b.crossing_low <= b.crossing <= b.crossing_high
    # the curve is the paired comparison at each value
    runs = b.sweep.frame()
    pairs = paired_by_point(runs, "annual", "quarterly_okr")
    np.testing.assert_allclose(f["advantage"], pairs["advantage"], rtol=1e-12)
    assert b.to_dict()["crossing"] == b.crossing


def test_advantage_map_matches_the_pointwise_comparison():
    m = advantage_map("market.shift_rate", "quarterly_okr.planning_cost", x_values=[0, 4], y_values=[0, 2, 4],
                      scenario=SMALL, replications=3, seed=2, **QUIET)
    assert list(m.columns) == list(MAP_COLUMNS) and len(m) == 6
    assert set(m["x_parameter"]) == {"market.shift_rate"} and set(m["y_parameter"]) == {"quarterly_okr.planning_cost"}
    one = breakeven("quarterly_okr.planning_cost", [0, 2, 4], scenario=SMALL.replace({"market.shift_rate": 4.0}),
                    replications=3, seed=2, **QUIET)
    cells = m[m["x"] == 4.0].sort_values("y")
    np.testing.assert_allclose(cells["advantage"], one.frame["advantage"], rtol=1e-12)


def test_bad_breakeven_input_fails_before_running():
    with pytest.raises(ParameterError, match="values or bounds"):
        breakeven("market.shift_rate", [1, 2], bounds=(0, 3), **QUIET)
    with pytest.raises(ParameterError, match="two policies"):
        breakeven("market.shift_rate", policies=["annual"], **QUIET)
    with pytest.raises(ParameterError, match="points = 1"):
        breakeven("market.shift_rate", points=1, **QUIET)
    with pytest.raises(ParameterError, match="out of range"):
        breakeven("market.shift_rate", bounds=(0, 99), **QUIET)
    with pytest.raises(ParameterError, match="unknown parameter"):
        advantage_map("market.shift_rate", "policy.plannin_cost", **QUIET)
