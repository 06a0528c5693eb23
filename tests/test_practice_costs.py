"""Costs of the quarterly practice that practitioners name (issue 13, item 5; docs/model.md
7.10): the OKR adoption curve, management attention per planning event and the
renegotiation of work in flight at every re-plan.

Each is small by default and exactly off at 0 (the model without it, bit for bit); these
tests check that 0 is exactly off, that each cost acts where the docs say and only there,
that it is charged exactly as documented, and that it moves the KPI it should at every seed.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from validation_helpers import SEEDS, over_seeds

from okrsim import ParameterError, Policy, Scenario, simulate
from okrsim.core.streams import as_seed_sequence
from okrsim.experiments.comparison import run_replications
from okrsim.model import governance as gov
from okrsim.model.simulation import _Engine
from okrsim.model.state import IN_PROGRESS

ADOPTION, ATTENTION, RENEGOTIATION = ("organisation.okr_adoption_cycles", "organisation.attention_cost",
                                      "organisation.renegotiation_cost")
#: The default world without the three costs: each test adds the one it is about.
BASE = Scenario().replace({ADOPTION: 0.0, ATTENTION: 0.0, RENEGOTIATION: 0.0})

#: Every other cost a planning event or review books as overhead, set to 0 so that the only
#: overhead left is the cost under test.
NO_OTHER_OVERHEAD = {"planning_cost": 0.0, "alignment_cost": 0.0, "workshop_cost": 0.0, "checkin_cost": 0.0,
                     "retro_cost": 0.0, "review_cost": 0.0, "reforecast_cost": 0.0, "change_cost": 0.0}


def _same_run(a: Any, b: Any) -> None:
    """Two runs are the same: every KPI (NaN equal to NaN) and the event log."""
    assert a.kpis.keys() == b.kpis.keys()
    for name, x in a.kpis.items():
        y = b.kpis[name]
        assert x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y)), (name, x, y)
    pd.testing.assert_frame_equal(a.events, b.events)


# ----------------------------------------------------------------------------- zero is off
@pytest.mark.parametrize("policy", ["annual_gates", "quarterly_okr"])
def test_zero_costs_are_off_exactly(policy):
    """At 0 the three costs book nothing and blur nothing: with every other overhead at 0 as
    well, no team owes anything, ever, and the OKR mechanics are those of a practised
    organisation (maturity exactly 1, the focus boost ``log1p(okr_focus * weight)``)."""
    for key in (ADOPTION, ATTENTION, RENEGOTIATION):
        assert Scenario().get(key) > 0  # in force by default (docs/model.md 7.10)
    engine = _Engine(BASE, Policy.preset(policy).replace(NO_OTHER_OVERHEAD), as_seed_sequence(3))
    engine.run()
    assert engine.record().timeline["overhead"].sum() == 0.0
    planner = engine.planner
    assert planner.maturity == 1.0
    np.testing.assert_array_equal(planner.focus_all, np.log1p(planner.policy.okr_focus * planner.weight_all))


@pytest.mark.parametrize(("key", "value"), [(ADOPTION, -1.0), (ADOPTION, 8.5), (ATTENTION, -0.1), (ATTENTION, 4.5),
                                            (RENEGOTIATION, -0.1), (RENEGOTIATION, 1.5), (ADOPTION, math.nan)])
def test_bad_values_name_the_parameter(key, value):
    with pytest.raises(ParameterError, match=key.replace(".", r"\.")):
        BASE.replace({key: value})


# ----------------------------------------------------------------------------- adoption curve
def test_maturity_works_from_the_second_cycle():
    assert gov.okr_maturity(0, 0.0) == gov.okr_maturity(5, 0.0) == 1.0  # practised from the start
    assert [gov.okr_maturity(k, 1.0) for k in range(3)] == [0.5, 0.75, 0.875]
    assert gov.okr_maturity(0, 2.0) == pytest.approx(1 - 0.5**0.5)
    slow = [gov.okr_maturity(k, 8.0) for k in range(12)]
    assert all(0 < a < b < 1 for a, b in itertools.pairwise(slow))


@pytest.mark.parametrize("preset", ["annual", "annual_gates"])
def test_maturity_acts_only_on_the_okr_practice(preset):
    """The curve is the cost of introducing OKRs: the annual processes (no check-ins on key
    results) plan with their strategic themes as they always have, focus boost included; the
    same policy with check-ins is learning the practice and feels the curve."""
    policy = Policy.preset(preset)
    assert policy.checkin_weeks == 0 and policy.okr_focus > 0
    for seed in SEEDS:
        _same_run(simulate(BASE.replace({ADOPTION: 2.0}), policy, seed), simulate(BASE, policy, seed))
    practising = policy.replace({"checkin_weeks": 2})
    assert simulate(BASE.replace({ADOPTION: 2.0}), practising, 2).kpis != simulate(BASE, practising, 2).kpis


def test_an_immature_cycle_focuses_less_and_reads_worse():
    """One quarterly cycle in its first OKR cycle (maturity 0.5 at a half-life of one cycle):
    the focus boost is log1p(okr_focus * 0.5 * weight), and every key result read at its
    check-ins has twice the noise and twice the goal displacement."""
    obs, displacement = 0.3, 0.2
    scenario = BASE.replace({"horizon.weeks": 13, ADOPTION: 1.0, "portfolio.leading_noise": 0.0,
                                   "portfolio.observation_noise": obs, "organisation.goal_displacement": displacement})
    policy = Policy.preset("quarterly_okr")
    engine = _Engine(scenario, policy, as_seed_sequence(2))
    engine.run()
    planner = engine.planner
    assert planner.cycle is not None and planner.cycle.index == 0 and planner.maturity == 0.5
    np.testing.assert_allclose(planner.focus_all, np.log1p(policy.okr_focus * 0.5 * planner.weight_all), rtol=1e-15)
    ids = planner.was_read.nonzero()[0]
    assert len(ids) > 10
    np.testing.assert_allclose(planner.reading_sd[ids], obs / 0.5, rtol=1e-12)
    world = engine.world
    displaced = planner.reading[ids] - world.log_value[ids] - planner.reading_sd[ids] * world.leading_z[ids]
    np.testing.assert_allclose(displaced, displacement / 0.5 * planner.weight_all[ids], rtol=0, atol=1e-12)
    assert planner.weight_all[ids].any()


def test_maturity_follows_the_cycle_in_force():
    """Two quarterly cycles: readings of the first cycle have the noise / 0.5, of the second / 0.75."""
    scenario = BASE.replace({"horizon.weeks": 26, ADOPTION: 1.0, "portfolio.leading_noise": 0.0})
    engine = _Engine(scenario, Policy.preset("quarterly_okr"), as_seed_sequence(1))
    engine.run()
    planner = engine.planner
    assert planner.cycle is not None and planner.cycle.index == 1 and planner.maturity == 0.75
    obs = scenario.portfolio.observation_noise  # the whole noise of a measure without leading noise
    sds = np.unique(np.round(planner.reading_sd[planner.was_read], 12))
    assert sds.tolist() == [round(obs / 0.75, 12), round(obs / 0.5, 12)]


def test_immaturity_costs_check_ins_where_they_pay():
    """Where check-ins pay (poor business cases, telling measures; docs/model.md section 11), an
    organisation that learns OKRs slowly loses value and stops less work on evidence (10
    paired replications at each seed)."""
    telling = BASE.replace({"portfolio.estimation_noise": 2.0, "portfolio.value_sigma": 1.5,
                                  "portfolio.effort_median": 20.0, "portfolio.leading_noise": 0.2})
    okr = Policy.preset("quarterly_okr")

    def claim(seed: int) -> tuple[float, float]:
        practised = run_replications(telling, [okr], range(10), seed)
        learning = run_replications(telling.replace({ADOPTION: 8.0}), [okr], range(10), seed)
        value = learning.total_value.mean() - practised.total_value.mean()
        stops = learning.initiatives_stopped.mean() - practised.initiatives_stopped.mean()
        assert value < 0 and stops < 0, (value, stops)
        return value, stops

    over_seeds(claim)


# ----------------------------------------------------------------------------- overhead accounting
def _overhead_by_event(scenario: Scenario, policy: Policy, seed: int) -> tuple[list[tuple[Any, ...]], _Engine]:
    """Run `policy` and record, at every planning event, reforecast, gate and check-in: its
    week, its kind, whether it is a re-plan, the overhead it booked on each team and the
    initiatives in progress once it was over."""
    engine = _Engine(scenario, policy, as_seed_sequence(seed))
    planner, teams, st = engine.planner, engine.teams, engine.initiatives
    rows: list[tuple[Any, ...]] = []

    def recorded(step: Any, default: str) -> Any:
        def call(t: int, kind: str = default) -> None:
            replan = kind == "reforecast" or (kind == "plan" and planner.cycle is not None)
            before = np.array([team.overhead for team in teams])
            step(t) if kind == default else step(t, kind)
            booked = np.array([team.overhead for team in teams]) - before
            running = (np.frombuffer(st.status, np.int8, st.n_known) == IN_PROGRESS).nonzero()[0]
            rows.append((float(t), kind, replan, booked, running))
        return call

    planner.plan = recorded(planner.plan, "plan")
    planner.checkin = recorded(planner.checkin, "checkin")
    engine.run()
    return rows, engine


@pytest.mark.parametrize("preset", ["annual_gates", "quarterly_okr"])
def test_renegotiation_is_charged_per_team_of_each_initiative_in_flight(preset):
    """At each re-plan (a planning event after the first, a reforecast), each team pays the
    cost once for every initiative of its in flight after the re-plan's stops; never at the
    first plan, a stage gate or a check-in."""
    cost = 0.25
    policy = Policy.preset(preset).replace(NO_OTHER_OVERHEAD)
    # (seed 5: a seed at which annual_gates stops work at a re-plan, not only at its gates)
    rows, engine = _overhead_by_event(BASE.replace({RENEGOTIATION: cost}), policy, 5)
    idea_teams, n = engine.world.ideas.teams, len(engine.teams)
    total = expected_total = 0.0
    for t, kind, replan, booked, running in rows:
        expected = np.zeros(n)
        if replan:
            for i in running.tolist():
                expected[list(idea_teams[i])] += cost
        np.testing.assert_allclose(booked, expected, rtol=1e-12, atol=1e-12, err_msg=f"{kind} at week {t}")
        total += booked.sum()
        expected_total += cost * sum(len(idea_teams[i]) for i in running.tolist()) if replan else 0.0
    assert total == pytest.approx(expected_total, rel=1e-12) and total > 0
    kinds = {kind for _, kind, replan, _, _ in rows if replan}
    assert kinds == ({"plan", "reforecast"} if preset == "annual_gates" else {"plan"})
    assert not rows[0][2]  # the first plan: nothing in flight to renegotiate
    # stops at re-plans happened, so charging before them would have shown above
    events = engine.events
    replans = {t for t, _, replan, _, _ in rows if replan}
    assert any(kind == "stop" and t in replans for t, kind, *_ in events)


@pytest.mark.parametrize("n_teams", [4, 16])
def test_attention_is_shared_by_the_teams_at_plans_reforecasts_and_gates(n_teams):
    """Each planning event, reforecast and stage gate takes `attention_cost` from the whole
    organisation, attention_cost / n_teams from each team; check-ins take none."""
    attention = 1.0
    scenario = BASE.replace({ATTENTION: attention, "organisation.n_teams": n_teams})
    policy = Policy.preset("annual_gates").replace({**NO_OTHER_OVERHEAD, "checkin_weeks": 4})
    rows, _ = _overhead_by_event(scenario, policy, 2)
    assert {kind for _, kind, *_ in rows} == {"plan", "reforecast", "gate", "checkin"}
    for t, kind, _, booked, _ in rows:
        share = 0.0 if kind == "checkin" else attention / n_teams
        np.testing.assert_allclose(booked, share, rtol=1e-15, atol=0, err_msg=f"{kind} at week {t}")


# ----------------------------------------------------------------------------- directions
@pytest.mark.parametrize(("key", "value"), [(ATTENTION, 1.0), (RENEGOTIATION, 0.1)])
def test_costs_take_capacity_at_every_seed(key, value):
    for preset in ("annual", "annual_gates", "quarterly_okr"):
        policy = Policy.preset(preset)
        for seed in SEEDS:
            free, paid = simulate(BASE, policy, seed), simulate(BASE.replace({key: value}), policy, seed)
            assert paid.kpis["overhead_share"] > free.kpis["overhead_share"], (preset, seed)


@pytest.mark.parametrize(("key", "value"), [(ATTENTION, 1.0), (RENEGOTIATION, 0.1)])
def test_costs_lose_value_at_every_seed(key, value):
    """Capacity spent on attention or renegotiation is not spent on work (10 paired
    replications of quarterly_okr at each seed)."""
    okr = Policy.preset("quarterly_okr")

    def claim(seed: int) -> float:
        free = run_replications(BASE, [okr], range(10), seed).total_value.mean()
        paid = run_replications(BASE.replace({key: value}), [okr], range(10), seed).total_value.mean()
        assert paid < free, (paid, free)
        return paid - free

    over_seeds(claim)


def test_renegotiation_needs_a_re_plan():
    """Within one annual cycle without a reforecast there is no re-plan: nothing to renegotiate."""
    scenario = BASE.replace({"horizon.weeks": 52})
    for preset in ("annual", "annual_gates"):  # annual_gates has a reforecast at week 26
        policy = Policy.preset(preset)
        free, paid = simulate(scenario, policy, 1), simulate(scenario.replace({RENEGOTIATION: 1.0}), policy, 1)
        if policy.reforecast:
            assert paid.kpis["overhead_share"] > free.kpis["overhead_share"]
        else:
            _same_run(paid, free)
