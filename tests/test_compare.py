"""Paired comparison: common random numbers, statistics, JSON form."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import okrsim
from okrsim import ParameterError, Policy, Scenario, compare
from okrsim.experiments.statistics import mean_ci, paired
from okrsim.model.kpis import KPIS


@pytest.fixture(scope="module")
def comparison() -> okrsim.Comparison:
    return compare("dynamic", ["annual", "quarterly_okr", "only_agility"], replications=12, seed=4)


def test_runs_frame_is_tidy(comparison):
    runs = comparison.runs
    assert list(runs.columns) == ["replication", "policy", *[k.name for k in KPIS]]
    assert len(runs) == 12 * 3
    assert runs.groupby("policy").size().eq(12).all()


def test_replication_r_is_the_same_world_for_every_policy(comparison):
    """Recompute replication 5 by hand: compare used replication_seed(seed, 5) for each policy."""
    seq = okrsim.replication_seed(4, 5)
    for name in ("annual", "quarterly_okr"):
        run = okrsim.simulate(Scenario(), Policy.preset(name), seq)
        row = comparison.runs.query("policy == @name and replication == 5").iloc[0]
        assert row["total_value"] == run.kpis["total_value"]


def test_summary_and_paired_statistics(comparison):
    runs = comparison.runs
    s = comparison.summary.set_index(["kpi", "policy"]).loc[("total_value", "annual")]
    values = runs.query("policy == 'annual'")["total_value"].to_numpy()
    assert s["mean"] == pytest.approx(values.mean())
    assert s["ci_low"] < s["mean"] < s["ci_high"]
    p = comparison.paired.set_index(["kpi", "policy"]).loc[("total_value", "quarterly_okr")]
    q = runs.query("policy == 'quarterly_okr'").sort_values("replication")["total_value"].to_numpy()
    a = runs.query("policy == 'annual'").sort_values("replication")["total_value"].to_numpy()
    assert p["mean_diff"] == pytest.approx((q - a).mean())
    assert p["win_rate"] == pytest.approx(np.mean(q > a))
    # common random numbers make the paired interval much narrower than the unpaired one
    unpaired = math.sqrt(q.var(ddof=1) / len(q) + a.var(ddof=1) / len(a))
    assert (p["ci_high"] - p["ci_low"]) / 2 < 1.96 * unpaired


def test_versus_pairs_any_two_policies_of_the_runs(comparison):
    """Against the baseline it is the row of `paired`; between two other policies it pairs them
    replication by replication (and respects the KPI's direction)."""
    for kpi_name in ("total_value", "lead_time_weeks"):
        row = comparison.paired.set_index(["kpi", "policy"]).loc[(kpi_name, "quarterly_okr")]
        mine = comparison.versus("quarterly_okr", kpi_name=kpi_name)
        assert mine.to_dict() == pytest.approx(row[mine.index].to_dict(), nan_ok=True)
    runs = comparison.runs.sort_values("replication")
    q = runs.query("policy == 'quarterly_okr'")["total_value"].to_numpy()
    g = runs.query("policy == 'only_agility'")["total_value"].to_numpy()
    other = comparison.versus("quarterly_okr", "only_agility")
    assert other.to_dict() == pytest.approx(paired(q, g), nan_ok=True)
    assert other["mean_diff"] == pytest.approx((q - g).mean()) and other["mean_diff"] != 0


def test_win_rate_respects_direction():
    better_lower = paired(np.array([1.0, 2.0, 3.0, 3.0]), np.array([2.0, 3.0, 1.0, 3.0]), better="lower")
    assert better_lower["win_rate"] == pytest.approx((2 + 0.5) / 4)
    assert better_lower["mean_diff"] == pytest.approx(0.0)


def test_mean_ci_matches_student_t():
    m, _, hi, n = mean_ci(np.array([1.0, 2.0, 3.0, 4.0, np.nan]))
    assert (m, n) == (2.5, 4)
    assert hi - m == pytest.approx(3.182446305284263 * np.std([1, 2, 3, 4], ddof=1) / 2)
    assert math.isnan(mean_ci(np.array([1.0]))[1])


def test_json_form_matches_the_documented_schema(comparison):
    data = json.loads(json.dumps(comparison.to_dict(), allow_nan=False))
    assert set(data) == {"scenario", "seed", "replications", "policies", "kpis", "paired"}
    assert data["policies"] == ["annual", "quarterly_okr", "only_agility"]
    assert set(data["kpis"]["total_value"]["annual"]) == {"mean", "ci_low", "ci_high"}
    assert set(data["paired"]["total_value"]["quarterly_okr"]) == {"mean_diff", "ci_low", "ci_high", "win_rate"}
    assert "annual" not in data["paired"]["total_value"]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"replications": 0}, "replications = 0"),
        ({"replications": 2.5}, "replications = 2.5"),
        ({"policies": ["annual", "annual"]}, "unique"),
        ({"policies": []}, "at least one"),
        ({"policies": ["anual"]}, "unknown policy preset 'anual'"),
        ({"seed": -3}, "seed = -3"),
    ],
)
def test_bad_comparisons_fail_before_running(kwargs, fragment):
    with pytest.raises(ParameterError, match=fragment):
        compare("dynamic", **{"policies": ["annual", "quarterly_okr"], "replications": 2, **kwargs})


def test_same_seed_same_comparison():
    a = compare("stable", replications=3, seed=9).runs
    b = compare("stable", replications=3, seed=9).runs
    assert a.equals(b)
