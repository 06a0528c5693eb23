"""Paired equivalence test (TOST): a tie must be shown, not assumed."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from validation_helpers import SEEDS, over_seeds

from okrsim import ParameterError
from okrsim.experiments.statistics import equivalence, mean_ci


@pytest.fixture
def baseline() -> np.ndarray:
    return np.random.default_rng(42).normal(100.0, 10.0, 60)


def test_equivalent_data_passes(baseline):
    values = baseline + np.random.default_rng(1).normal(0.0, 0.5, baseline.size)
    res = equivalence(values, baseline, margin=1.0)
    assert res["equivalent"] and res["p"] < 0.05
    assert -1.0 < res["ci_low"] < res["mean_diff"] < res["ci_high"] < 1.0
    assert res["n"] == baseline.size and res["margin"] == 1.0


def test_a_shift_beyond_the_margin_is_not_equivalent(baseline):
    values = baseline + 1.5 + np.random.default_rng(1).normal(0.0, 0.5, baseline.size)
    res = equivalence(values, baseline, margin=1.0)
    assert not res["equivalent"]
    assert res["p_upper"] > 0.5 and res["p_lower"] < 1e-6  # clearly above +margin, clearly above -margin


def test_noisy_data_with_a_small_margin_is_not_equivalent(baseline):
    """The CI includes zero, yet nothing shows a tie: absence of evidence is not evidence of equivalence."""
    values = baseline + np.random.default_rng(2).normal(0.0, 20.0, baseline.size)
    res = equivalence(values, baseline, margin=1.0)
    assert res["ci_low"] < 0 < res["ci_high"]
    assert not res["equivalent"] and res["p"] > 0.05


def test_matches_two_one_sided_t_tests_by_hand():
    values = np.array([10.2, 9.8, 10.5, 10.1, 9.9, 10.3, np.nan, 10.0])
    base = np.array([10.0, 10.0, 10.1, 9.9, 10.0, 10.2, 10.0, np.inf])
    d = (values - base)[:6]  # non-finite pairs dropped
    res = equivalence(values, base, margin=0.3, level=0.95)
    p_lower = stats.ttest_1samp(d, -0.3, alternative="greater").pvalue
    p_upper = stats.ttest_1samp(d, 0.3, alternative="less").pvalue
    assert res["n"] == 6
    assert res["mean_diff"] == pytest.approx(d.mean())
    assert res["p_lower"] == pytest.approx(p_lower) and res["p_upper"] == pytest.approx(p_upper)
    assert res["p"] == pytest.approx(max(p_lower, p_upper))
    ci = stats.ttest_1samp(d, 0.0).confidence_interval(confidence_level=0.90)
    assert (res["ci_low"], res["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert res["equivalent"] == (res["p"] < 0.05) == (-0.3 < ci.low and ci.high < 0.3)


def test_level_sets_both_the_tests_and_the_interval(baseline):
    values = baseline + np.random.default_rng(3).normal(0.1, 1.0, baseline.size)
    res = equivalence(values, baseline, margin=0.5, level=0.99)
    assert (res["ci_low"], res["ci_high"]) == pytest.approx(mean_ci(values - baseline, 0.98)[1:3])
    assert res["equivalent"] == (res["p"] < 0.01)


@pytest.mark.parametrize("margin", [0, -1.0, math.nan, math.inf, "1", None, True])
def test_bad_margin_is_refused_with_its_name_and_range(margin):
    with pytest.raises(ParameterError, match=r"margin = .* must be a finite number greater than 0"):
        equivalence([1.0, 2.0], [1.0, 2.0], margin)


@pytest.mark.parametrize("level", [0.5, 1.0, 0.2, math.nan])
def test_bad_level_is_refused(level):
    with pytest.raises(ParameterError, match=r"level = .* must be a number in \(0\.5, 1\)"):
        equivalence([1.0, 2.0], [1.0, 2.0], 1.0, level)


@pytest.mark.parametrize(("values", "base"), [([1.0], [1.0]), ([], []), ([1.0, np.nan], [1.0, 1.0])])
def test_fewer_than_two_pairs_show_nothing(values, base):
    res = equivalence(values, base, margin=1.0)
    assert math.isnan(res["p"]) and math.isnan(res["p_lower"]) and math.isnan(res["ci_low"])
    assert res["equivalent"] is False and res["n"] < 2


def test_zero_variance_is_decided_by_the_exact_difference():
    base = np.array([5.0, 6.0, 7.0])
    inside = equivalence(base + 0.5, base, margin=1.0)
    assert inside["equivalent"] and inside["p"] == 0.0
    assert inside["ci_low"] == inside["ci_high"] == pytest.approx(0.5)
    outside = equivalence(base - 1.0, base, margin=1.0)  # on the margin is not inside it
    assert not outside["equivalent"] and outside["p_lower"] == 1.0 and outside["p_upper"] == 0.0


def test_over_seeds_runs_every_seed_and_names_each_failure():
    """The validation suite's helper: a claim must hold at every seed, and a report shows where it does not."""
    assert SEEDS == (1, 2, 3)
    assert over_seeds(lambda seed: seed * 10) == {1: 10, 2: 20, 3: 30}
    seen = []

    def claim(seed: int) -> int:
        seen.append(seed)
        assert seed == 2, f"numbers at {seed}"
        return seed

    with pytest.raises(AssertionError, match=r"fails at 2 of 3 seeds:\n  seed 1: numbers at 1\n  seed 3: numbers at 3$"):
        over_seeds(claim)
    assert seen == [1, 2, 3]
