"""The delivery forecast behind key results (`okrsim.model.forecast`): the teams' own rule of
work (processor sharing under a WIP limit, debt first), run forward on what planners know."""

from __future__ import annotations

import pytest

from okrsim.model.forecast import forecast_parts


def test_parts_share_capacity_under_the_wip_limit():
    # two parts of 2 and 4 team-weeks at WIP 2: the first ends at week 4 (half capacity each),
    # the second gets the whole team after that and ends at week 6; the third waits for a slot
    pending = {1: {0: 2.0}, 2: {0: 4.0}, 3: {0: 1.0}}
    done = forecast_parts({}, [1, 2, 3], pending, team=0, debt=0.0, wip=2, weeks=52)
    assert done == pytest.approx({1: 4.0, 3: 6.0, 2: 7.0})


def test_active_work_and_debt_come_first():
    pending = {5: {0: 3.0}}
    done = forecast_parts({9: 1.0}, [5], pending, team=0, debt=2.0, wip=1, weeks=52)
    assert done == pytest.approx({9: 3.0, 5: 6.0})


def test_only_parts_finished_within_the_horizon_count():
    pending = {1: {0: 5.0}, 2: {0: 5.0}}
    assert forecast_parts({}, [1, 2], pending, team=0, debt=0.0, wip=1, weeks=9) == pytest.approx({1: 5.0})
    assert forecast_parts({}, [1, 2], pending, team=0, debt=0.0, wip=1, weeks=4.9) == {}


def test_other_teams_parts_and_pace():
    pending = {1: {1: 5.0}, 2: {0: 2.0, 1: 2.0}}  # idea 1 has no part for team 0
    assert forecast_parts({}, [1, 2], pending, team=0, debt=0.0, wip=1, weeks=52) == pytest.approx({2: 2.0})
    # at half pace work and debt take twice as long; a pace of 0 forecasts nothing
    assert forecast_parts({}, [2], pending, team=0, debt=1.0, wip=1, weeks=52, pace=0.5) == pytest.approx({2: 6.0})
    assert forecast_parts({}, [2], pending, team=0, debt=0.0, wip=1, weeks=52, pace=0.0) == {}
