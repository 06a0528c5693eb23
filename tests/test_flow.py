"""Flow (issue 13, item 1; docs/model.md 7.7): work that waits for others once started, the
capacity lost to parallel work, and the OKR focus rule that caps each team's parallel work.

All three are off by default (the model without them, bit for bit; the golden back-test pins
the default).  These tests check what is exactly off, the team mechanics to the last digit,
that the ledger books the switching loss, that waits delay the work they hold, that the rule
caps every team's work in progress, and bad input.  Where the rule pays and where it costs is
tested over three seeds in tests/test_validation.py (docs/model.md 7.7).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from okrsim import ParameterError, Policy, Scenario, simulate
from okrsim.core.streams import as_seed_sequence
from okrsim.model import governance as gov
from okrsim.model.simulation import _Engine
from okrsim.model.teams import Team
from okrsim.model.world import draw_world

WAIT, MULTI = "organisation.wait_weeks", "organisation.multitasking_cost"


def _same(a, b) -> None:
    assert a.kpis == b.kpis
    pd.testing.assert_frame_equal(a.events, b.events)


def test_what_is_exactly_off():
    """A focus rule at or above the organisation's limit is no rule, and a multitasking cost
    changes nothing where teams work on one part at a time."""
    okr = Policy.preset("quarterly_okr")
    _same(simulate(Scenario(), okr, 5), simulate(Scenario(), okr.replace({"focus_wip": 2}), 5))
    single = Scenario().replace({"organisation.wip_limit": 1})
    _same(simulate(single, okr, 5), simulate(single.replace({MULTI: 0.6}), okr, 5))
    assert gov.wip_in_force(3, 0) == 3 and gov.wip_in_force(3, 1) == 1 and gov.wip_in_force(2, 5) == 2


def test_a_waiting_part_gets_no_capacity_and_wakes_its_team():
    """While one of two parts waits, the other gets all the capacity; the team's next event
    is the wait's end when that comes first, and the part is worked on from then."""
    team = Team(0, active={1: 4.0, 2: 6.0}, waiting={2: 3.0}, speed=1.0)
    assert team.time_to_next() == 3.0  # the wait ends before part 1 (4 weeks alone)
    assert team.advance(3.0) == [] and team.waiting == {}
    assert team.active == pytest.approx({1: 1.0, 2: 6.0})
    assert team.time_to_next() == pytest.approx(2.0)  # part 1 now shares the capacity
    assert team.advance(5.0) == [1]


def test_parallel_work_keeps_the_documented_share_of_capacity():
    """With n parts at once a team works at 1 / (1 + c (n - 1)) of its capacity."""
    team = Team(0, active={1: 3.0, 2: 3.0, 3: 3.0}, speed=0.5, multitasking_cost=0.25)
    assert team.focus(3) == pytest.approx(1 / 1.5) and team.focus(1) == 1.0
    rate = 0.5 * (1 / 1.5) / 3  # per part
    assert team.time_to_next() == pytest.approx(3.0 / rate)
    team.advance(2.0)
    assert team.active == pytest.approx({i: 3.0 - 2.0 * rate for i in (1, 2, 3)})


def test_the_ledger_books_the_multitasking_loss_as_switching():
    """Without stops or rework, the switching column is exactly the capacity parallel work
    loses, and capacity still adds up every week."""
    scenario = Scenario().replace({MULTI: 0.25, "portfolio.rework_share": 0.0})
    plain = simulate(scenario.replace({MULTI: 0.0}), Policy.preset("annual"), 2).timeline
    run = simulate(scenario, Policy.preset("annual"), 2)
    tl = run.timeline
    assert plain["switching"].sum() == 0.0 and tl["switching"].sum() > 0.05 * tl["capacity"].sum()
    np.testing.assert_allclose(tl["work"] + tl["overhead"] + tl["switching"] + tl["idle"] + tl["run"],
                               tl["capacity"], atol=1e-9)
    assert run.kpis["waste_share"] > simulate(scenario.replace({MULTI: 0.0}), Policy.preset("annual"), 2).kpis["waste_share"]


def test_a_part_cannot_finish_before_its_wait_is_over():
    """A single-team initiative started once and delivered took at least its wait plus its
    effort (the wait holds it; the team's capacity is one team-week a week at most)."""
    scenario, seed = Scenario().replace({WAIT: 3.0}), 1
    ini = simulate(scenario, Policy.preset("annual"), seed).initiatives
    waits = draw_world(scenario, as_seed_sequence(seed)).waits
    done = ini[(ini.status == "delivered") & (ini.teams_needed == 1) & (ini.stops == 0)]
    assert len(done) > 50
    team = done.teams.astype(int).to_numpy()
    floor = waits[done.initiative.to_numpy(), team] + done.effort.to_numpy()
    assert (done.delivery_week.to_numpy() - done.start_week.to_numpy() >= floor - 1e-6).all()
    assert (waits > 0).all() and waits.mean() == pytest.approx(3.0, rel=0.1)


def test_the_focus_rule_caps_every_teams_work_in_progress(monkeypatch):
    """With `focus_wip` 1 no team ever has more than one part in progress (waiting or not)."""
    seen = []
    advance = Team.advance

    def watch(self, now):
        seen.append(len(self.active))
        return advance(self, now)

    monkeypatch.setattr(Team, "advance", watch)
    engine = _Engine(Scenario().replace({WAIT: 1.0}), Policy.preset("quarterly_okr").replace({"focus_wip": 1}),
                     as_seed_sequence(3))
    engine.run()
    assert engine.wip == engine.planner.wip == 1
    assert max(seen) == 1 and sum(seen) > 100


@pytest.mark.parametrize(("key", "value"), [(WAIT, -1.0), (WAIT, 30.0), (MULTI, 1.5)])
def test_bad_flow_parameters_name_the_parameter_and_its_range(key, value):
    with pytest.raises(ParameterError, match=rf"{key.split('.')[1]}.*{value:g}"):
        Scenario().replace({key: value})


def test_bad_focus_rule_names_the_lever():
    with pytest.raises(ParameterError, match="focus_wip"):
        Policy.preset("quarterly_okr").replace({"focus_wip": 11})


def test_wait_ends_are_counted_apart_from_finished_parts():
    """A team that wakes because a part's wait ended has not finished a part."""
    run = simulate(Scenario().replace({WAIT: 2.0}), Policy.preset("quarterly_okr"), 0)
    counts, parts = run.event_counts, int(run.initiatives["teams_needed"].sum())
    assert 0 < counts["part_done"] <= parts and counts["wait_over"] > 0
