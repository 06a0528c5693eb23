"""Validation the model must show (model-spec 'Validation'): statistical, paired, seeded.

These are the kit's honesty checks: if a model change breaks the story in either
direction (quarterly always wins, or never does), they fail.
"""

from __future__ import annotations

import numpy as np
import pytest

import okrsim
from okrsim import Policy, Scenario, compare
from okrsim.model.governance import Beliefs, learn
from okrsim.model.ideas import optimizers_curse

pytestmark = pytest.mark.slow


def _advantage(scenario: str, replications: int, seed: int = 2026) -> dict:
    c = compare(scenario, ["annual", "quarterly_okr"], replications=replications, seed=seed)
    return c.paired.set_index("kpi").loc["total_value"].to_dict()


def test_quarterly_advantage_grows_with_turbulence():
    """200 paired replications each; relative advantage, since the value at stake differs."""
    adv = {s: _advantage(s, 200) for s in ("stable", "dynamic", "turbulent")}
    assert adv["stable"]["rel_mean"] < adv["dynamic"]["rel_mean"] < adv["turbulent"]["rel_mean"]
    assert adv["stable"]["rel_ci_high"] < adv["turbulent"]["rel_ci_low"]  # non-overlapping CIs


def test_advantage_grows_with_shift_rate_alone():
    """Everything else fixed: more market shifts, more advantage (Clark 2016)."""
    rel = []
    for rate in (0.0, 1.5, 6.0):
        s = Scenario().replace({"market.shift_rate": rate})
        rel.append(compare(s, ["annual", "quarterly_okr"], replications=80, seed=7).paired.set_index("kpi").loc["total_value"])
    assert rel[0]["rel_mean"] < rel[1]["rel_mean"] < rel[2]["rel_mean"]
    assert rel[0]["rel_ci_high"] < rel[2]["rel_ci_low"]


def _total(scenario: str, policy: Policy, replications: int = 100, seed: int = 11):
    c = compare(scenario, [Policy.preset("annual"), policy], replications=replications, seed=seed)
    return c.paired.set_index("kpi").loc["total_value"]


def test_counter_case_annual_wins_in_a_mature_market_with_costly_planning():
    """Few shifts, few new ideas, heavy quarterly planning (2.5 team-weeks per team): annual wins."""
    costly = Policy.preset("quarterly_okr").replace({"planning_cost": 2.5}, name="quarterly_costly")
    assert _total("mature", costly)["ci_high"] < 0


def test_counter_case_ties_at_a_lower_planning_cost():
    tie = _total("mature", Policy.preset("quarterly_okr").replace({"planning_cost": 2.0}, name="quarterly_costly"))
    assert tie["ci_low"] < 0 < tie["ci_high"]


def test_counter_case_quarterly_cycles_alone():
    """Only the cadence (agility) switched on: costly planning loses, costly switching ties."""
    planning = Policy.preset("only_agility").replace({"planning_cost": 2.0}, name="cycles_costly_planning")
    assert _total("mature", planning)["ci_high"] < 0
    switching = Policy.preset("only_agility").replace(
        {"planning_cost": 1.0, "switch_loss": 0.8, "ramp_up_weeks": 4}, name="cycles_costly_switching")
    row = _total("mature", switching)
    assert row["ci_low"] < 0 < row["ci_high"]


@pytest.mark.parametrize(
    ("effect", "scenario", "kpi", "direction"),
    [
        ("agility", "dynamic", "lead_time_weeks", "down"),
        ("agility", "disruption", "adaptation_lag_weeks", "down"),
        ("agility", "dynamic", "aligned_capacity_share", "up"),
        ("alignment", "dynamic", "lead_time_weeks", "down"),  # horizontal alignment: shared work in step
        ("alignment", "disruption", "aligned_capacity_share", "up"),  # budgets and power stop following legacy
        ("alignment", "disruption", "adaptation_lag_weeks", "down"),
        ("transparency", "dynamic", "conflicts_caught_early", "up"),
        ("transparency", "dynamic", "conflicts_caught_late", "down"),
        ("learning", "dynamic", "estimation_error", "down"),
    ],
)
def test_each_ablation_moves_its_own_kpi(effect, scenario, kpi, direction):
    c = compare(scenario, ["annual", f"only_{effect}"], replications=40, seed=5)
    row = c.paired.set_index("kpi").loc[kpi]
    if direction == "up":
        assert row["ci_low"] > 0, row
    else:
        assert row["ci_high"] < 0, row


def test_each_ablation_pays_its_own_cost():
    c = compare("dynamic", ["annual", "only_agility", "only_alignment", "only_transparency", "only_learning"],
                replications=10, seed=3)
    overhead = c.paired[c.paired.kpi == "overhead_share"].set_index("policy")["mean_diff"]
    assert (overhead > 0).all(), overhead  # every effect's benefit comes with planning time


def test_optimizers_curse_reproduced_by_the_estimation_model():
    rng = np.random.default_rng(1)
    sigma = 0.5
    disappointment = optimizers_curse(3, sigma, 200_000, rng)
    assert disappointment == pytest.approx(0.846 * sigma, rel=0.02)  # E[max of 3 N(0,1)] = 0.8463
    assert optimizers_curse(1, sigma, 200_000, rng) == pytest.approx(0.0, abs=0.01)


def test_selected_work_disappoints_and_learning_cures_it():
    """The optimizer's curse emerges in the model: chosen work looked better than it was."""
    from okrsim.experiments.statistics import mean_ci

    def disappointment(policy: str) -> np.ndarray:
        return np.array([np.nanmean(okrsim.simulate(Scenario(), Policy.preset(policy), s).cycles["disappointment"])
                         for s in range(40)])

    naive, learning = disappointment("annual"), disappointment("quarterly_okr")
    assert mean_ci(naive)[1] > 0
    assert learning.mean() < naive.mean()


def test_learning_is_driven_by_evidence_not_by_meetings():
    rng = np.random.default_rng(0)
    errors, themes = rng.normal(0.3, 0.5, 40), rng.integers(0, 6, 40)
    naive = Beliefs.naive(6)
    assert learn(naive, errors[:0], themes[:0], 0.5, 1.0) is naive  # no evidence, nothing learned
    once = learn(naive, errors, themes, 0.5, 1.0)
    twice = learn(learn(naive, errors[:17], themes[:17], 0.5, 1.0), errors[17:], themes[17:], 0.5, 1.0)
    np.testing.assert_allclose(once.bias, twice.bias)  # the same evidence, sooner or in one go
    assert once.shrink == pytest.approx(twice.shrink)


def test_full_learning_rate_trusts_evidence_and_leaves_unseen_themes_alone():
    errors, themes = np.array([0.4, 0.6]), np.array([1, 1])
    b = learn(Beliefs.naive(6), errors, themes, 1.0, 1.0)
    assert b.bias[1] == pytest.approx(0.5) and np.all(b.bias[[0, 2, 3, 4, 5]] == 0)
    run = okrsim.simulate(Scenario(), Policy.preset("quarterly_okr").replace({"learning_rate": 1.0}), 3)
    assert np.isfinite(run.kpis["estimation_error"]) and run.cycles["estimation_error"].notna().all()


def test_budget_inertia_is_a_rate_per_year():
    from okrsim.model.governance import budget_step

    b, target = np.array([0.5, 0.5]), np.array([1.0, 0.0])
    yearly = budget_step(b, target, 0.6, 52)
    quarterly = b
    for _ in range(4):
        quarterly = budget_step(quarterly, target, 0.6, 13)
    np.testing.assert_allclose(yearly, quarterly)
