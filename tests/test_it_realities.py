"""IT-portfolio realities (model 2, issue 13 item 4): effort that overruns its estimate, and
mandatory work with deadlines that every policy must serve (docs/model.md 7.2, 7.5 and 7.8)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from validation_helpers import SEEDS

from okrsim import Policy, Scenario, simulate
from okrsim.core.errors import ParameterError
from okrsim.core.streams import as_seed_sequence
from okrsim.model.simulation import _Engine
from okrsim.model.world import draw_world, mandatory_chance

EXACT_EFFORT = {"portfolio.effort_noise": 0.0, "portfolio.effort_bias": 0.0}
NO_MANDATORY = {"portfolio.mandatory_share": 0.0}


def _engine(scenario: Scenario, policy: str | Policy, seed: int) -> _Engine:
    engine = _Engine(scenario, Policy.coerce(policy), as_seed_sequence(seed))
    engine.run()
    return engine


# ----------------------------------------------------------------------------- effort estimates
def test_effort_overruns_its_estimate_as_the_literature_reports():
    """At the defaults about 70% of initiatives overrun and the mean overrun is about 30%
    (Moløkken and Jørgensen 2003: 60-80% overrun, by 30-40% on average)."""
    world = draw_world(Scenario().replace({"portfolio.initial_backlog": 500, "portfolio.idea_rate": 10.0}),
                       as_seed_sequence(3))
    actual_over_estimate = 1.0 / world.effort_ratio
    assert world.ideas.n > 1500
    assert 0.62 < np.mean(actual_over_estimate > 1.0) < 0.76
    assert 1.25 < actual_over_estimate.mean() < 1.40
    assert np.median(np.log(actual_over_estimate)) == pytest.approx(0.2, abs=0.03)
    assert np.std(np.log(actual_over_estimate)) == pytest.approx(0.4, abs=0.03)
    np.testing.assert_array_equal(world.effort_estimate, world.ideas.effort * world.effort_ratio)


def test_exact_estimates_are_the_actual_effort():
    world = draw_world(Scenario().replace(EXACT_EFFORT), as_seed_sequence(3))
    np.testing.assert_array_equal(world.effort_estimate, world.ideas.effort)


def test_retrospectives_learn_the_overrun_into_the_forecast():
    """With every estimate a third too low, a forecast at face value promises half again what
    the teams deliver; retrospectives learn the pace (7.6), so the key results recover."""
    scenario = Scenario().replace({**NO_MANDATORY, "portfolio.effort_noise": 0.0, "portfolio.effort_bias": 0.5})
    for seed in SEEDS:
        rows = {}
        for retro in (False, True):
            policy = Policy.preset("quarterly_okr").replace({"retrospectives": retro})
            engine = _engine(scenario, policy, seed)
            cycles = simulate(scenario, Policy.coerce(policy), seed).cycles
            rows[retro] = (engine.planner.pace, cycles.delivered.sum() / cycles.forecast.sum())
        assert rows[False][0] == 1.0 and rows[False][1] < 0.75
        assert rows[True][0] < 0.8 and rows[True][1] > 0.85


@pytest.mark.parametrize("name, value", [("portfolio.effort_noise", -0.1), ("portfolio.effort_bias", 2.5),
                                         ("portfolio.mandatory_share", 0.6), ("portfolio.deadline_weeks", 0.5),
                                         ("portfolio.late_penalty", -1.0)])
def test_bad_values_name_the_parameter_and_its_range(name, value):
    with pytest.raises(ParameterError, match=name.split(".")[1]):
        Scenario().replace({name: value})


# ----------------------------------------------------------------------------- mandatory work
def test_mandatory_work_demands_its_share_of_the_capacity():
    """`mandatory_share` is a share of the change capacity (as compliance is a share of the IT
    budget), not of the ideas: with more work arriving than the teams can do, fewer ideas are
    mandatory; where ideas are scarce, the share of ideas (docs/model.md 7.2)."""
    scenario = Scenario().replace({"portfolio.mandatory_share": 0.2, "portfolio.idea_rate": 6.0, "horizon.weeks": 520})
    pf, org = scenario.portfolio, scenario.organisation
    chance = mandatory_chance(pf, org)
    mean_effort = pf.effort_median * math.exp(pf.effort_sigma ** 2 / 2)
    assert chance == pytest.approx(0.2 * 8 / (6.0 * mean_effort))
    world = draw_world(scenario, as_seed_sequence(4))
    arrived = world.ideas.arrival > 0
    demand = world.ideas.effort[arrived & world.mandatory].sum() / 520  # team-weeks a week
    assert demand / 8 == pytest.approx(0.2, rel=0.15)
    scarce = Scenario.preset("mature").replace({"portfolio.mandatory_share": 0.2})
    assert mandatory_chance(scarce.portfolio, scarce.organisation) == 0.2
    shared = scenario.replace({"organisation.run_share": 0.5})
    assert mandatory_chance(shared.portfolio, shared.organisation) == pytest.approx(chance / 2)


def test_mandatory_ideas_and_their_deadlines_are_drawn_as_specified():
    scenario = Scenario().replace({"portfolio.initial_backlog": 500, "portfolio.mandatory_share": 0.2,
                                   "portfolio.deadline_weeks": 20.0})
    world = draw_world(scenario, as_seed_sequence(4))
    share = world.mandatory.mean()
    assert share == pytest.approx(mandatory_chance(scenario.portfolio, scenario.organisation), abs=0.03)
    slack = world.deadline[world.mandatory] - world.ideas.arrival[world.mandatory]
    assert slack.min() >= 10.0 and slack.max() <= 30.0 and slack.mean() == pytest.approx(20.0, abs=1.0)
    assert np.isinf(world.deadline[~world.mandatory]).all()
    # the other sources keep their draws: the ideas are those of the world without mandatory work
    plain = draw_world(scenario.replace(NO_MANDATORY), as_seed_sequence(4))
    np.testing.assert_array_equal(world.ideas.value, plain.ideas.value)
    np.testing.assert_array_equal(world.effort_ratio, plain.effort_ratio)


@pytest.mark.parametrize("policy", ["annual", "annual_gates", "quarterly_okr"])
def test_every_policy_serves_mandatory_work_first(policy):
    """Mandatory work waits far less than the rest, under every policy, at every seed."""
    scenario = Scenario().replace({"portfolio.mandatory_share": 0.2})
    for seed in SEEDS:
        engine = _engine(scenario, policy, seed)
        ini = simulate(scenario, Policy.coerce(policy), seed).initiatives
        mandatory = engine.world.mandatory[:len(ini)]
        lead = ini.lead_time_weeks.to_numpy()
        assert np.nanmean(lead[mandatory]) < 0.6 * np.nanmean(lead[~mandatory])


def test_a_change_board_admits_mandatory_work_whatever_its_reserve():
    """Without a reserve, the board admits nothing but regulation."""
    scenario = Scenario().replace({"portfolio.mandatory_share": 0.2})
    policy = Policy.preset("annual").replace({"change_reserve": 0.0})
    for seed in SEEDS:
        engine = _engine(scenario, policy, seed)
        approved = [i for _, i, _ in engine.planner.approvals]
        assert approved and engine.world.mandatory[approved].all()


def test_the_penalty_is_booked_exactly_while_mandatory_work_is_late():
    """`deadline_penalty` is the penalty rate times the weeks past each deadline within the
    horizon, it is part of `total_value`, and nothing in the run depends on it."""
    scenario = Scenario().replace({"portfolio.mandatory_share": 0.3, "portfolio.deadline_weeks": 8.0})
    free = scenario.replace({"portfolio.late_penalty": 0.0})
    for policy in ("annual", "quarterly_okr"):
        for seed in SEEDS:
            engine = _engine(scenario, policy, seed)
            run = simulate(scenario, Policy.coerce(policy), seed)
            world, st, weeks = engine.world, engine.initiatives, float(scenario.horizon.weeks)
            late = 0.0
            for i in np.flatnonzero(world.mandatory).tolist():
                end = st.delivery[i] if not math.isnan(st.delivery[i]) else weeks
                late += max(0.0, min(end, weeks) - world.deadline[i])
            assert late > 10.0
            assert run.kpis["deadline_penalty"] == pytest.approx(late * scenario.portfolio.late_penalty, rel=1e-9)
            base = simulate(free, Policy.coerce(policy), seed).kpis
            assert base["deadline_penalty"] == 0.0
            assert run.kpis["total_value"] == pytest.approx(base["total_value"] - late, rel=1e-12)
            assert run.kpis["initiatives_delivered"] == base["initiatives_delivered"]
            assert run.timeline.value.sum() == pytest.approx(run.kpis["total_value"], rel=1e-12)


def test_without_mandatory_work_or_estimation_error_the_model_is_unchanged():
    """Without mandatory work, the deadline and penalty parameters change nothing (no penalty,
    the same decisions), so mandatory_share 0 is the model without it."""
    scenario = Scenario().replace({**EXACT_EFFORT, **NO_MANDATORY})
    run = simulate(scenario, Policy.preset("quarterly_okr"), 2)
    again = simulate(scenario.replace({"portfolio.late_penalty": 3.0, "portfolio.deadline_weeks": 5.0}),
                     Policy.preset("quarterly_okr"), 2)
    assert run.kpis == again.kpis
    assert run.kpis["deadline_penalty"] == 0.0


# ----------------------------------------------------------------------------- run and change
def test_run_work_takes_its_share_first_and_the_process_is_paid_from_change_capacity():
    """Run work takes `run_share` of every team-week; planning events cost the same team-weeks
    as without it, paid from the smaller change capacity, so they weigh twice as much on it at
    run_share 0.5 (docs/model.md 7.7)."""
    policy = Policy.preset("quarterly_okr")
    # (renegotiation is charged per initiative in flight, which the run share changes)
    world = Scenario().replace({"organisation.renegotiation_cost": 0.0})
    for seed in SEEDS:
        change_only = simulate(world, policy, seed)
        shared = simulate(world.replace({"organisation.run_share": 0.5}), policy, seed)
        tl = shared.timeline
        np.testing.assert_allclose(tl["run"], 4.0, rtol=1e-12)  # 8 teams, half their time
        np.testing.assert_allclose(tl["work"] + tl["overhead"] + tl["switching"] + tl["idle"], 4.0, atol=1e-9)
        np.testing.assert_allclose(tl["capacity"], 8.0)
        assert (change_only.timeline["run"] == 0.0).all()
        # the same planning events cost the same team-weeks (no change board: nothing else varies)
        # (to the clock grid: a debt ends on the 2**-32-week grid, at half speed twice as often off it)
        assert tl["overhead"].sum() == pytest.approx(change_only.timeline["overhead"].sum(), rel=1e-6)
        change = lambda run: run.timeline[["work", "overhead", "switching", "idle"]].to_numpy().sum()  # noqa: E731
        share = tl["overhead"].sum() / change(shared)
        assert share == pytest.approx(2 * change_only.timeline["overhead"].sum() / change(change_only), rel=1e-6)
        assert shared.kpis["initiatives_delivered"] < 0.6 * change_only.kpis["initiatives_delivered"]


def test_plans_count_change_capacity():
    """The capacity line, the forecast and the stop rule's horizons count change capacity: at
    run_share 0.5 the forecast promises about half as much per cycle."""
    for seed in SEEDS:
        full = simulate(Scenario(), Policy.preset("quarterly_okr"), seed).cycles.forecast.mean()
        half = simulate(Scenario().replace({"organisation.run_share": 0.5}), Policy.preset("quarterly_okr"),
                        seed).cycles.forecast.mean()
        assert 0.35 < half / full < 0.65
