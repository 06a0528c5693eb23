"""OKR check-ins: key results' leading measures of work in progress, read during the cycle and
weighed against the business case at the next plan or stage gate (docs/model.md 7.6)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from okrsim import Policy, Scenario, simulate
from okrsim.model import governance as gov
from okrsim.model.simulation import review_calendar


def test_leading_measure_sharpens_as_work_progresses():
    sd = gov.leading_sd(np.array([0.1, 0.5, 1.0]), leading_noise=0.8, observation_noise=0.3)
    assert sd[1] == pytest.approx(math.hypot(0.3, 0.8))  # half-way: the leading noise (and observation's)
    assert sd[2] == pytest.approx(0.3)  # at delivery: as good as observing the value
    assert sd[0] > sd[1] > sd[2]
    assert np.isfinite(gov.leading_sd(np.array([0.0, -0.2]), 0.8, 0.3)).all()  # not started: huge, finite


def test_evidence_is_weighed_by_precision():
    belief, measure = np.array([0.0, 0.0, 0.0]), np.array([1.0, 1.0, 1.0])
    out = gov.weigh_evidence(belief, measure, np.array([0.0, 0.5, 1e6]), case_sd=0.5)
    assert out == pytest.approx([1.0, 0.5, 0.0], abs=1e-9)


def test_checkins_fall_between_planning_events_and_give_way_to_gates():
    policy = Policy.preset("annual_gates").replace({"checkin_weeks": 4})
    calendar = dict(review_calendar(policy, 104))
    assert calendar[4.0] == "checkin" and calendar[13.0] == "gate" and calendar[26.0] == "reforecast"
    assert 52.0 not in calendar and 12.0 in calendar and 16.0 in calendar
    assert not any(kind == "checkin" for kind in dict(review_calendar(Policy.preset("annual"), 104)).values())


def test_checkins_cost_capacity_and_are_logged():
    scenario = Scenario()
    okr = Policy.preset("quarterly_okr")
    assert okr.checkin_weeks == 2
    free = simulate(scenario, okr.replace({"checkin_cost": 0.0}), 4)
    paid = simulate(scenario, okr.replace({"checkin_cost": 0.2}), 4)
    n = free.event_counts["checkin"]
    assert n == paid.event_counts["checkin"] > 50
    assert (free.events.kind == "checkin").sum() == n
    assert paid.kpis["overhead_share"] > free.kpis["overhead_share"]


def test_exact_measures_of_running_work_make_its_belief_exact():
    """With noiseless measures and no displacement, every initiative read at a check-in is
    believed at its true value afterwards: the evidence replaces the business case."""
    from okrsim.core.streams import as_seed_sequence
    from okrsim.model.simulation import _Engine

    scenario = Scenario().replace({"portfolio.leading_noise": 0.0, "portfolio.observation_noise": 0.0,
                                   "organisation.goal_displacement": 0.0})
    engine = _Engine(scenario, Policy.preset("quarterly_okr"), as_seed_sequence(2))
    engine.run()
    planner = engine.planner
    ids = planner.was_read.nonzero()[0]
    assert len(ids) > 20
    logv, _, _ = planner.believed_value(engine.initiatives.n_known, np.ones(scenario.market.n_themes),
                                        np.zeros(0, dtype=int))
    np.testing.assert_allclose(logv[ids], engine.world.log_value[ids], rtol=0, atol=1e-12)
    unread = np.setdiff1d(np.arange(engine.initiatives.n_known), ids)
    assert not np.isclose(logv[unread], engine.world.log_value[unread]).all()  # the rest: business cases
