"""Designs: factors checked against the registry, samplers, decoding of integers and booleans."""

from __future__ import annotations

import math

import numpy as np
import pytest

from okrsim import ParameterError
from okrsim.core.registry import lookup
from okrsim.experiments.designs import (
    Design,
    Factor,
    explicit_points,
    factor,
    full_grid,
    latin_hypercube,
    morris_design,
    resolve_key,
    single_point,
    sobol_design,
)


def test_factor_takes_bounds_and_kind_from_the_registry():
    f = factor("market.shift_rate")
    spec = lookup("market.shift_rate")
    assert (f.key, f.low, f.high, f.kind) == ("market.shift_rate", spec.low, spec.high, "float")
    assert factor("shift_rate").key == "market.shift_rate"  # unique bare names resolve
    assert factor("policy.cadence_weeks", (6, 52)).kind == "int"
    b = factor("policy.retrospectives")
    assert (b.kind, b.low, b.high) == ("bool", 0.0, 1.0)


def test_policy_scoped_factor_resolves_to_the_lever():
    spec, scope = resolve_key("quarterly_okr.planning_cost")
    assert spec.key == "policy.planning_cost" and scope == "quarterly_okr"
    assert factor("quarterly_okr.planning_cost", (0, 2)).key == "quarterly_okr.planning_cost"


@pytest.mark.parametrize(("key", "bounds", "words"), [
    ("market.shift_rat", None, ["unknown parameter", "market.shift_rate"]),
    ("market.shift_rate", (0, 20), ["market.shift_rate", "20", "[0, 12]"]),
    ("market.shift_rate", (-1, 3), ["market.shift_rate", "-1", "[0, 12]"]),
    ("market.shift_rate", (3, 3), ["empty", "market.shift_rate"]),
    ("policy.cadence_weeks", (1.5, 13), ["policy.cadence_weeks", "integer"]),
    ("market.shocks", None, ["cannot be swept"]),
    ("policy.retrospectives", (0, 1), ["true or false"]),
    ("market.shift_rate", "0-6", ["must be null"]),
])
def test_bad_factors_name_parameter_value_and_range(key, bounds, words):
    with pytest.raises(ParameterError) as err:
        factor(key, bounds)
    for w in words:
        assert w in str(err.value)


def test_full_grid_is_the_cartesian_product_first_factor_slowest():
    d = full_grid({"market.shift_rate": (0, 6), "policy.retrospectives": None,
                   "policy.cadence_weeks": {"values": [52, 13]}}, levels=3)
    f = d.frame()
    assert len(d) == 3 * 2 * 2
    assert f["market.shift_rate"].tolist()[:4] == [0.0] * 4
    assert sorted(set(f["market.shift_rate"])) == [0.0, 3.0, 6.0]
    assert f["policy.retrospectives"].dtype == bool and f["policy.cadence_weeks"].dtype == np.int64
    assert f.drop(columns="point").drop_duplicates().shape[0] == len(d)


def test_integer_grid_levels_are_distinct_integers():
    d = full_grid({"organisation.n_teams": (2, 4)}, levels=5)
    assert d.frame()["organisation.n_teams"].tolist() == [2, 3, 4]


def test_latin_hypercube_is_stratified_reproducible_and_within_bounds():
    d = latin_hypercube({"market.shift_rate": (0, 6), "organisation.n_teams": (2, 10)}, n=20, seed=3)
    again = latin_hypercube({"market.shift_rate": (0, 6), "organisation.n_teams": (2, 10)}, n=20, seed=3)
    other = latin_hypercube({"market.shift_rate": (0, 6), "organisation.n_teams": (2, 10)}, n=20, seed=4)
    assert np.array_equal(d.sample, again.sample) and not np.array_equal(d.sample, other.sample)
    x = d.frame()["market.shift_rate"].to_numpy()
    # one point in each of the 20 strata of [0, 6]
    assert sorted(np.floor(x / 6 * 20).astype(int).tolist()) == list(range(20))
    teams = d.frame()["organisation.n_teams"]
    assert teams.between(2, 10).all() and teams.dtype == np.int64


def test_integers_are_sampled_with_equal_chances_at_the_ends():
    """Sampling on [low - 0.5, high + 0.5] and rounding gives the end values their fair share."""
    f = Factor("k", 1, 3, "int")
    raw = np.linspace(*f.sampling_bounds, 30_001)[:-1]
    counts = np.bincount(f.decode(raw))[1:]
    assert counts.tolist() == [10_000, 10_000, 10_000]


def test_sobol_design_size_and_power_of_two_rule():
    d = sobol_design(["market.shift_rate", "policy.planning_cost"], 16, seed=1)
    assert len(d) == 16 * (2 + 2) and d.method == "sobol"
    assert len(sobol_design(["market.shift_rate"], 8, second_order=True)) == 8 * (2 * 1 + 2)
    for bad in (100, 0, 1, 3.0, True):
        with pytest.raises(ParameterError, match="power of two"):
            sobol_design(["market.shift_rate"], bad)
    with pytest.raises(ParameterError, match="try 64 or 128"):
        sobol_design(["market.shift_rate"], 100)


def test_morris_design_and_its_checks():
    d = morris_design(["market.shift_rate", "policy.planning_cost", "policy.can_stop_running_work"], 5, seed=2)
    assert len(d) == 5 * (3 + 1)
    # one factor changes between consecutive points of a trajectory
    steps = np.abs(np.diff(d.sample.reshape(5, 4, 3), axis=1)) > 0
    assert (steps.sum(axis=2) == 1).all()
    with pytest.raises(ParameterError, match="even"):
        morris_design(["market.shift_rate"], 5, levels=3)
    with pytest.raises(ParameterError, match="at least 2"):
        morris_design(["market.shift_rate"], 1)


def test_explicit_points_and_single_point():
    d = explicit_points({"market.shift_rate": [1, 2, 1], "policy.retrospectives": [True, False, True]})
    f = d.frame()
    assert f["market.shift_rate"].tolist() == [1.0, 2.0, 1.0]
    assert f["policy.retrospectives"].tolist() == [True, False, True]
    with pytest.raises(ParameterError, match="out of range"):
        explicit_points({"market.shift_rate": [1, 99]})
    s = single_point()
    assert len(s) == 1 and s.keys == ()


def test_cross_combines_world_and_lever_designs():
    world = latin_hypercube({"market.shift_rate": (0, 6)}, n=3, seed=1)
    levers = full_grid(["policy.retrospectives"])
    both = world.cross(levers)
    f = both.frame()
    assert len(both) == 6 and both.keys == ("market.shift_rate", "policy.retrospectives")
    assert f["policy.retrospectives"].tolist() == [False, True] * 3
    with pytest.raises(ParameterError, match="share factors"):
        world.cross(world)


def test_duplicate_and_empty_factor_lists_are_refused():
    with pytest.raises(ParameterError, match="more than once"):
        full_grid(["market.shift_rate", "shift_rate"])
    with pytest.raises(ParameterError, match="at least one factor"):
        latin_hypercube({}, n=3)


def test_free_factors_are_kept_for_test_functions():
    d = sobol_design([Factor("x1", -math.pi, math.pi), Factor("x2", 0, 1)], 8)
    assert d.keys == ("x1", "x2")
    assert d.problem["bounds"] == [[-math.pi, math.pi], [0.0, 1.0]]


def test_design_fingerprint_tracks_the_sample():
    a = latin_hypercube(["market.shift_rate"], n=5, seed=1)
    assert a.fingerprint() == latin_hypercube(["market.shift_rate"], n=5, seed=1).fingerprint()
    assert a.fingerprint() != latin_hypercube(["market.shift_rate"], n=5, seed=2).fingerprint()
    with pytest.raises(ValueError):
        a.sample[0, 0] = 1.0  # read-only: a design cannot change under a running sweep
    assert isinstance(a, Design)
