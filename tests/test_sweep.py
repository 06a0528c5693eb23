"""Sweeps: tidy results that match single runs, common random numbers, validation before work."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import okrsim
from okrsim import ParameterError, Policy, Scenario
from okrsim.experiments.designs import Design, Factor, explicit_points, full_grid, latin_hypercube
from okrsim.experiments.sweep_spec import SweepSpec
from okrsim.experiments.sweeps import sweep, units_per_batch
from okrsim.model.kpis import KPIS

#: A one-year world: the same model, three times cheaper to run.
SMALL = Scenario.preset("dynamic").replace({"horizon.weeks": 52})
KPI_NAMES = [k.name for k in KPIS]


@pytest.fixture(scope="module")
def lhs_result():
    d = latin_hypercube({"market.shift_rate": (0, 6), "quarterly_okr.planning_cost": (0, 2)}, n=4, seed=1)
    return sweep(d, SMALL, ["annual", "quarterly_okr"], replications=3, seed=7, executor="serial", progress=False)


def test_results_are_long_and_tidy(lhs_result):
    f = lhs_result.frame()
    assert list(f.columns) == ["point", "market.shift_rate", "quarterly_okr.planning_cost", "policy", "replication",
                               "seed", *KPI_NAMES]
    assert len(f) == 4 * 2 * 3 == lhs_result.n_runs
    assert not f.duplicated(["point", "policy", "replication"]).any()
    assert (f["seed"] == 7).all()
    assert f["policy"].tolist()[:6] == ["annual"] * 3 + ["quarterly_okr"] * 3
    assert lhs_result.complete and lhs_result.computed_runs == 24 and lhs_result.reused_runs == 0


def test_every_row_is_the_run_it_claims_to_be(lhs_result):
    """Rebuild three rows by hand from their parameters and seed: the KPIs must match exactly."""
    f = lhs_result.frame()
    for i in (0, 10, 23):
        row = f.iloc[i]
        scenario = SMALL.replace({"market.shift_rate": row["market.shift_rate"]})
        policy = Policy.preset(row["policy"])
        if row["policy"] == "quarterly_okr":
            policy = policy.replace({"planning_cost": row["quarterly_okr.planning_cost"]})
        run = okrsim.simulate(scenario, policy, okrsim.replication_seed(int(row["seed"]), int(row["replication"])))
        for k in KPI_NAMES:
            assert np.array_equal(run.kpis[k], row[k], equal_nan=True), k


def test_scoped_lever_changes_only_its_policy(lhs_result):
    """Annual's planning cost is not swept: its rows at each replication are one world apart only."""
    f = lhs_result.frame()
    annual = Policy.preset("annual")
    row = f[(f["policy"] == "annual")].iloc[4]
    run = okrsim.simulate(SMALL.replace({"market.shift_rate": row["market.shift_rate"]}), annual,
                          okrsim.replication_seed(7, int(row["replication"])))
    assert run.kpis["total_value"] == row["total_value"]


def test_common_random_numbers_across_points_and_policies():
    """Identical points and identical policies give identical KPIs within a replication."""
    d = explicit_points({"market.shift_rate": [1.0, 3.0, 1.0]})
    twin = Policy.preset("annual").replace({}, name="annual_copy")
    f = sweep(d, SMALL, ["annual", twin], replications=3, seed=2, executor="serial", progress=False).frame()
    kp = f.set_index(["point", "policy", "replication"])[KPI_NAMES]
    for r in range(3):
        assert kp.loc[(0, "annual", r)].equals(kp.loc[(2, "annual", r)])
        assert kp.loc[(0, "annual", r)].equals(kp.loc[(0, "annual_copy", r)])
    assert not kp.loc[(0, "annual", 0)].equals(kp.loc[(0, "annual", 1)])  # replications differ


def test_same_as_compare_for_a_single_point():
    res = sweep(None, SMALL, ["annual", "quarterly_okr"], replications=3, seed=5, executor="serial", progress=False)
    c = okrsim.compare(SMALL, ["annual", "quarterly_okr"], replications=3, seed=5)
    mine = res.frame().sort_values(["replication", "policy"])[KPI_NAMES].reset_index(drop=True)
    theirs = c.runs.sort_values(["replication", "policy"])[KPI_NAMES].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs)
    assert list(res.frame().columns) == ["point", "policy", "replication", "seed", *KPI_NAMES]


def test_batch_size_never_changes_results(lhs_result, tmp_path):
    d = lhs_result.design
    one = sweep(d, SMALL, ["annual", "quarterly_okr"], replications=3, seed=7, executor="serial", progress=False,
                batch_runs=2, out=tmp_path / "store", flush_rows=5)
    pd.testing.assert_frame_equal(one.frame(), lhs_result.frame(), check_exact=True)
    assert len(list((tmp_path / "store" / "chunks").glob("part-*.parquet"))) >= 3  # streamed in chunks


def test_units_per_batch():
    assert units_per_batch(10_000, 2, 2, None) == 32  # capped at 64 runs
    assert units_per_batch(100, 2, 2, None) == 2  # many small tasks for a small sweep
    assert units_per_batch(3, 16, 2, None) == 1  # at least one unit
    assert units_per_batch(1000, 2, 8, 10) == 5


# ------------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(("kwargs", "words"), [
    ({"replications": 0}, ["replications = 0", "at least 1"]),
    ({"replications": 2.5}, ["replications = 2.5"]),
    ({"seed": -1}, ["seed = -1"]),
    ({"policies": ["annual", "annual"]}, ["unique"]),
    ({"policies": ["anual"]}, ["unknown policy preset", "annual"]),
    ({"scenario": "dynamc"}, ["unknown scenario preset"]),
    ({"design": latin_hypercube({"organisation.n_teams": (1, 3)}, n=8, seed=0)}, ["design point", "n_teams", "multi_team_share"]),
    ({"design": full_grid({"other.planning_cost": (0, 1)})}, ["names policy 'other'", "not swept"]),
    ({"design": full_grid({"policy.planning_cost": (0, 1), "annual.planning_cost": (0, 2)})}, ["both set policy.planning_cost"]),
    ({"design": Design((Factor("market.shift_rate", 0, 50),), np.array([[1.0]]), "points")}, ["market.shift_rate", "50"]),
    ({"design": Design((Factor("x1", 0, 1),), np.array([[0.5]]), "points")}, ["'x1' is not a model parameter"]),
    ({"executor": "threads"}, ["executor = 'threads'"]),
    ({"workers": 0}, ["workers = 0"]),
    ({"batch_runs": 0}, ["batch_runs = 0"]),
    ({"timeout": -1}, ["timeout = -1"]),
    ({"executor": "tcp://127.0.0.1:1"}, ["cannot reach the dask scheduler"]),
])
def test_bad_input_fails_at_once_and_writes_nothing(tmp_path, kwargs, words):
    args = {"design": None, "scenario": SMALL, "policies": ["annual", "quarterly_okr"], "replications": 2, "seed": 0,
            "executor": "serial", "progress": False, "out": tmp_path / "store", **kwargs}
    with pytest.raises(ParameterError) as err:
        sweep(**args)
    for w in words:
        assert w in str(err.value), str(err.value)
    assert not (tmp_path / "store").exists()


def test_spec_round_trips_through_its_dict():
    d = latin_hypercube({"market.shift_rate": (0, 6)}, n=3, seed=1)
    spec = SweepSpec.build(d, "turbulent", ["annual", Policy.preset("quarterly_okr").replace({"cadence_weeks": 6})],
                           4, 9)
    again = SweepSpec.from_dict(spec.to_dict(), d)
    assert again.fingerprint() == spec.fingerprint()
    assert again.scenario == spec.scenario and again.policies == spec.policies
    other = SweepSpec.build(d, "turbulent", ["annual", "quarterly_okr"], 4, 9)
    assert other.fingerprint() != spec.fingerprint()


def test_progress_bar_can_be_shown_and_switched_off(capsys):
    d = latin_hypercube({"market.shift_rate": (0, 6)}, n=2, seed=1)
    sweep(d, SMALL, ["annual"], replications=1, executor="serial", progress=True)
    err = capsys.readouterr().err
    assert "okrsim sweep" in err and "2/2" in err
    sweep(d, SMALL, ["annual"], replications=1, executor="serial", progress=False)
    assert capsys.readouterr().err == ""
    with pytest.raises(ParameterError, match="progress"):
        sweep(d, SMALL, ["annual"], replications=1, executor="serial", progress="yes")
