"""Increments (issue 13, item 1; docs/model.md 7.8): a first increment (MVP) that earns a
share of an initiative's value once every part has done its share of the effort, keeps
earning when the rest is stopped, makes planners judge the rest by what it still adds, and
costs extra effort.

`mvp_value` 0 is the model without increments, bit for bit; these tests check that, the
release and its value to the last digit, what a stop keeps, the planners' view and the price.
What increments do to the comparison of policies is tested over three seeds in
tests/test_validation.py (the generated table of docs/model.md 7.8).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from okrsim import ParameterError, Policy, Scenario, replication_seed, simulate
from okrsim.core.streams import as_seed_sequence
from okrsim.model import governance as gov
from okrsim.model.planning import Planner
from okrsim.model.simulation import _Engine
from okrsim.model.teams import Team
from okrsim.model.world import draw_world

MVP = {"portfolio.mvp_value": 0.5}


def test_indivisible_initiatives_are_the_model_without_increments():
    """With `mvp_value` 0 the other two increment parameters change nothing: same KPIs, same
    events (the golden back-test pins the default itself)."""
    for policy in ("annual_gates", "quarterly_okr"):
        plain = simulate(Scenario(), Policy.preset(policy), 4)
        other = simulate(Scenario().replace({"portfolio.mvp_effort": 0.8, "portfolio.increment_cost": 0.7}),
                         Policy.preset(policy), 4)
        assert plain.kpis == other.kpis
        pd.testing.assert_frame_equal(plain.events, other.events)
        assert plain.initiatives["mvp_week"].isna().all()


def test_a_part_reaches_its_milestone_before_it_finishes():
    """A team's next event is the nearer of a part's milestone and a part's end; the
    milestone is reported once, the part finishes later."""
    team = Team(0, active={7: 10.0, 8: 4.0}, milestone={7: 7.0}, speed=0.5)
    assert team.time_to_next() == pytest.approx(3.0 * 2 / 0.5)  # 3 team-weeks, shared by two parts
    assert team.advance(12.0) == [] and team.reached == [7]
    team.reached.clear()
    assert team.milestone == {} and team.active == pytest.approx({7: 7.0, 8: 1.0})
    assert team.time_to_next() == pytest.approx(1.0 * 2 / 0.5)
    assert team.advance(16.0) == [8] and team.reached == []


def _value_at(world, i: int, t: float, half_life: float, commitment: float) -> float:
    return world.value[i] * 0.5 ** ((t - world.arrival[i]) / half_life) * commitment


@pytest.mark.parametrize("policy", ["annual", "quarterly_okr"])
def test_first_increment_earns_its_share_and_delivery_the_rest(policy):
    """The release earns `mvp_value` times the value as of its week (stale, realised with the
    sponsors' commitment), the delivery the rest as of its own week; every delivered
    initiative released its first increment first, and nothing released before it started."""
    scenario, pol, seed = Scenario().replace(MVP), Policy.preset(policy), 2
    run = simulate(scenario, pol, seed)
    world = draw_world(scenario, as_seed_sequence(seed))
    org, half_life = scenario.organisation, scenario.portfolio.staleness_half_life_weeks
    commitment = gov.commitment(gov.effective_political_weight(pol.political_weight, org.politics_floor),
                                org.commitment_loss)
    ev, ini = run.events, run.initiatives.set_index("initiative")
    released = ev[ev.kind == "mvp_released"].set_index("initiative")
    assert len(released) > 100 and released.index.is_unique
    for i, row in released.iterrows():
        assert row.amount == pytest.approx(0.5 * _value_at(world, i, row.time, half_life, commitment), rel=1e-12)
        assert ini.at[i, "mvp_week"] == row.time and row.time >= ini.at[i, "start_week"]
    delivered = ev[ev.kind == "delivery"].set_index("initiative")
    assert delivered.index.isin(released.index).all()
    for i, row in delivered.iterrows():
        rest = 0.5 * _value_at(world, i, row.time, half_life, commitment)
        assert row.amount == pytest.approx(released.at[i, "amount"] + rest, rel=1e-12)
        assert released.at[i, "time"] <= row.time
    assert (run.event_counts["mvp_released"]) == len(released)


def test_a_stopped_initiative_keeps_what_its_first_increment_earns():
    """Work not delivered after its first increment was released earns that increment's rate
    times its themes' attractiveness from the release to the horizon; undelivered work without
    a release earns nothing."""
    kept = 0
    for seed in (1, 2, 3):
        scenario = Scenario().replace(MVP)
        run = simulate(scenario, Policy.preset("quarterly_okr"), seed)
        world = draw_world(scenario, as_seed_sequence(seed))
        ini, rate = run.initiatives, run.events.query("kind == 'mvp_released'").set_index("initiative")["amount"]
        undelivered = ini[ini.status != "delivered"]
        with_mvp = undelivered[undelivered.mvp_week.notna()]
        for i, since in zip(with_mvp.initiative, with_mvp.mvp_week, strict=True):
            gained = np.diff(world.path.integral(np.array([since, float(scenario.horizon.weeks)])), axis=0)[0]
            expected = rate[i] * (world.w1[i] * gained[world.ideas.theme[i]] + world.w2[i] * gained[world.t2[i]])
            assert with_mvp.set_index("initiative").at[i, "realised_value"] == pytest.approx(expected, rel=1e-9)
        assert (undelivered.loc[undelivered.mvp_week.isna(), "realised_value"] == 0).all()
        kept += int((with_mvp.stops > 0).sum())
    assert kept > 0, "no stopped initiative kept a first increment at seeds 1-3"


def test_each_part_passes_its_milestone_with_the_rest_of_its_effort_left(monkeypatch):
    """A part reaches its share of the first increment when it has ``1 - mvp_effort / (1 +
    increment_cost)`` of its effort left (the cost falls on the rest), to the clock's precision."""
    scenario = Scenario().replace({**MVP, "portfolio.mvp_effort": 0.4, "portfolio.increment_cost": 0.25})
    left, reach = [], _Engine.reach

    def watch(self, team):
        for i in team.reached:
            left.append((team.active.get(i, 0.0), self.world.part_size[i]))
        reach(self, team)

    monkeypatch.setattr(_Engine, "reach", watch)
    _Engine(scenario, Policy.preset("quarterly_okr"), as_seed_sequence(2)).run()
    assert len(left) > 100
    remaining, size = np.array(left).T
    np.testing.assert_allclose(remaining, (1.0 - 0.4 / 1.25) * size, atol=1e-6)


def test_planners_stop_released_work_whose_rest_is_worth_less(monkeypatch):
    """Judging released work by what finishing still adds (`Planner.less_released`) makes
    quarterly_okr stop more work after its first increment than judging it by its whole
    value, at each seed (8 replications a seed)."""
    def stops_after_release(seed: int) -> int:
        n = 0
        for r in range(8):
            run = simulate(Scenario().replace(MVP), Policy.preset("quarterly_okr"), replication_seed(seed, r))
            stops = run.events.query("kind == 'stop'")
            released = run.initiatives.set_index("initiative").loc[stops.initiative, "mvp_week"].to_numpy()
            n += int((stops.time.to_numpy() > released).sum())
        return n

    for seed in (1, 2, 3):
        judged = stops_after_release(seed)
        with monkeypatch.context() as m:
            m.setattr(Planner, "less_released", lambda self, log_value, known: log_value)
            whole = stops_after_release(seed)
        assert judged > whole, (seed, judged, whole)


def test_increments_cost_effort_that_planners_know():
    """Building in increments takes `increment_cost` more effort, and the estimates include it."""
    seq = as_seed_sequence(3)
    plain = draw_world(Scenario(), seq)
    costly = draw_world(Scenario().replace({**MVP, "portfolio.increment_cost": 0.25}), seq)
    np.testing.assert_allclose(costly.ideas.effort, 1.25 * plain.ideas.effort, rtol=1e-15)
    np.testing.assert_allclose(costly.effort_estimate, 1.25 * plain.effort_estimate, rtol=1e-15)
    np.testing.assert_array_equal(costly.ideas.value, plain.ideas.value)


def test_planners_judge_released_work_by_what_finishing_still_adds():
    """Once a first increment earns, planners value the initiative at `1 - mvp_value` of
    their belief; other ideas are unchanged."""
    scenario = Scenario().replace({"portfolio.mvp_value": 0.8})
    engine = _Engine(scenario, Policy.preset("quarterly_okr"), as_seed_sequence(1))
    known = engine.initiatives.n_known
    log_value = np.linspace(-1.0, 1.0, known)
    assert engine.planner.less_released(log_value, known) is log_value  # nothing released
    engine.initiatives.mvp_week[3] = 5.0
    out = engine.planner.less_released(log_value, known)
    assert out[3] == pytest.approx(log_value[3] + math.log(0.2), rel=1e-15)
    np.testing.assert_array_equal(np.delete(out, 3), np.delete(log_value, 3))


@pytest.mark.parametrize(("key", "value"), [("portfolio.mvp_value", 0.95), ("portfolio.mvp_effort", 0.0),
                                            ("portfolio.increment_cost", -0.1)])
def test_bad_increment_parameters_name_the_parameter_and_its_range(key, value):
    with pytest.raises(ParameterError, match=rf"{key.split('.')[1]}.*{value:g}"):
        Scenario().replace({key: value})


def test_milestone_wake_ups_are_counted_apart_from_finished_parts():
    """A team that wakes because a part reached its milestone has not finished a part: the
    wake-up counts as ``milestone``, so ``part_done`` still counts at most one per part."""
    run = simulate(Scenario().replace(MVP), Policy.preset("quarterly_okr"), 0)
    counts, parts = run.event_counts, int(run.initiatives["teams_needed"].sum())
    assert 0 < counts["part_done"] <= parts and counts["milestone"] > 0
    assert counts["mvp_released"] == run.initiatives["mvp_week"].notna().sum()
