"""The simulation: determinism, common random numbers, equivalences and invariants."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import okrsim
from okrsim import Policy, Scenario, simulate
from okrsim.core.registry import specs
from okrsim.core.streams import replication_seed
from okrsim.model.clock import TICK
from okrsim.model.kpis import KPIS

FRAMES = {
    "timeline": ["week", "capacity", "work", "mandatory_work", "overhead", "switching", "idle", "run", "value", "synergy_value",
                 "deadline_penalty", "cumulative_value", "aligned_share", "delivered"],
    "themes": ["week", "theme", "attractiveness", "perceived", "rank", "top", "work"],
    "initiatives": ["initiative", "arrival_week", "theme", "secondary_theme", "teams_needed", "teams", "effort",
                    "effort_estimate", "mandatory", "deadline_week", "value_rate", "estimate", "sponsor_power", "status",
                    "start_week", "delivery_week", "mvp_week", "lead_time_weeks", "stops", "effort_spent", "effort_lost",
                    "delivered_value_rate", "realised_value", "believed_value_at_start", "change_approved"],
    "scorecards": ["cycle", "start_week", "end_week", "objective", "theme", "key_result", "commitment", "target", "achieved",
                   "score"],
    "cycles": ["cycle", "start_week", "end_week", "started", "stopped", "delivered", "forecast", "estimation_error",
               "disappointment", "okr_score"],
    "events": ["time", "kind", "initiative", "partner", "theme", "amount"],
}

FROZEN = Scenario().replace({
    "market.shift_rate": 0, "portfolio.idea_rate": 0, "portfolio.estimation_noise": 0,
    "portfolio.assumption_bias": 0, "market.perception_noise": 0, "portfolio.conflict_rate": 0,
    "portfolio.synergy_rate": 0, "portfolio.staleness_half_life_weeks": 0, "portfolio.observation_noise": 0,
    "portfolio.dependency_rate": 0, "portfolio.effort_noise": 0, "portfolio.effort_bias": 0,
    "portfolio.mandatory_share": 0,
    # free planning: no leaders' attention, no renegotiation (the policy's costs are in FREE)
    "organisation.attention_cost": 0, "organisation.renegotiation_cost": 0,
})
FREE = Policy.preset("annual").replace({
    "political_weight": 0, "budget_inertia": 0, "planning_cost": 0, "switch_loss": 0, "ramp_up_weeks": 0,
    "workshop_cost": 0, "retro_cost": 0, "alignment_cost": 0,
})


@pytest.fixture(scope="module")
def run() -> okrsim.Run:
    return simulate(Scenario(), Policy.preset("quarterly_okr"), 11)


def test_kpis_are_all_there_and_read_only(run):
    assert set(run.kpis) == {k.name for k in KPIS}
    with pytest.raises(TypeError):
        run.kpis["total_value"] = 0  # type: ignore[index]
    assert all(isinstance(v, float) for v in run.kpis.values())


@pytest.mark.parametrize("name", FRAMES)
def test_frames_have_the_documented_columns(run, name):
    frame = getattr(run, name)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == FRAMES[name]
    assert len(frame) > 0


def test_frames_are_documented_in_model_md():
    from pathlib import Path

    text = Path(__file__).parents[1].joinpath("docs", "model.md").read_text()
    for name, columns in FRAMES.items():
        assert f"`Run.{name}`" in text, name
        for column in columns:
            assert f"`{column}`" in text, (name, column)
    for k in KPIS:
        assert f"`{k.name}`" in text, k.name


def test_same_seed_same_results_bit_for_bit():
    a = simulate(Scenario(), Policy.preset("quarterly_okr"), 5)
    b = simulate(Scenario(), Policy.preset("quarterly_okr"), 5)
    assert dict(a.kpis) == dict(b.kpis)
    assert a.n_events == b.n_events
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name), check_exact=True)


def test_different_seed_different_results():
    a = simulate(Scenario(), Policy(), 5)
    b = simulate(Scenario(), Policy(), 6)
    assert a.kpis["total_value"] != b.kpis["total_value"]
    assert not a.initiatives["value_rate"].equals(b.initiatives["value_rate"])


def test_seed_sequence_and_int_agree():
    assert simulate(Scenario(), Policy(), np.random.SeedSequence(7)).kpis == simulate(Scenario(), Policy(), 7).kpis


def test_policies_share_market_and_ideas_within_a_replication():
    seq = replication_seed(3, 4)
    runs = [simulate(Scenario.preset("turbulent"), Policy.preset(p), seq) for p in ("annual", "quarterly_okr", "only_learning")]
    market = [r.themes[["week", "theme", "attractiveness"]] for r in runs]
    for other in market[1:]:
        pd.testing.assert_frame_equal(market[0], other, check_exact=True)
    shifts = [r.events.query("kind in ['shift', 'shock']")[["time", "kind"]].reset_index(drop=True) for r in runs]
    arrivals = [r.events.query("kind == 'arrival'")[["time", "initiative", "theme", "amount"]].reset_index(drop=True)
                for r in runs]
    assert len(shifts[0]) > 0 and len(arrivals[0]) > 0
    for i in (1, 2):
        pd.testing.assert_frame_equal(shifts[0], shifts[i], check_exact=True)
        pd.testing.assert_frame_equal(arrivals[0], arrivals[i], check_exact=True)
        for column in ("arrival_week", "theme", "effort", "value_rate", "estimate", "teams"):
            assert runs[0].initiatives[column].equals(runs[i].initiatives[column]), column
    # ...but the policies do act differently on them
    assert runs[0].kpis["total_value"] != runs[1].kpis["total_value"]


def test_common_random_numbers_across_parameter_values():
    """Scaling a parameter rescales draws instead of reshuffling them (CRN for sweeps)."""
    low = simulate(Scenario().replace({"portfolio.value_median": 1.0}), Policy(), 2).initiatives
    high = simulate(Scenario().replace({"portfolio.value_median": 2.0}), Policy(), 2).initiatives
    np.testing.assert_allclose(high["value_rate"], 2 * low["value_rate"])


@pytest.mark.parametrize("seed", range(6))
def test_replanning_in_a_frozen_world_changes_nothing(seed):
    """Degenerate equivalence: with nothing to learn and free planning, cadence is irrelevant."""
    annual = simulate(FROZEN, FREE, seed)
    quarterly = simulate(FROZEN, FREE.replace({"cadence_weeks": 13}, name="quarterly"), seed)
    assert annual.kpis["total_value"] == quarterly.kpis["total_value"]
    pd.testing.assert_frame_equal(annual.timeline, quarterly.timeline, check_exact=True)
    assert quarterly.events.query("kind == 'planning'").shape[0] == 12
    assert annual.events.query("kind == 'planning'").shape[0] == 3


def test_replanning_does_change_something_when_the_world_moves():
    moving = FROZEN.replace({"market.shift_rate": 4.0, "portfolio.idea_rate": 1.0})
    a = simulate(moving, FREE, 1).kpis["total_value"]
    q = simulate(moving, FREE.replace({"cadence_weeks": 13}), 1).kpis["total_value"]
    assert a != q


@pytest.mark.parametrize("name", ["annual", "annual_gates", "quarterly_okr", "only_learning", "only_transparency",
                                  "gates_with_checkins"])
def test_overhead_is_exactly_what_the_planning_events_cost(name):
    """Overhead is the sum of what each event costs: planning events, change-board meetings,
    stage gates, reforecasts, retrospectives, post-implementation reviews and check-ins."""
    policy = (Policy.preset("annual_gates").replace({"checkin_weeks": 3}, name=name) if name == "gates_with_checkins"
              else Policy.preset(name))
    # (renegotiation is charged per initiative in flight: its exact accounting is
    # tests/test_practice_costs.py's)
    scenario = Scenario().replace({"organisation.renegotiation_cost": 0.0})
    r = simulate(scenario, policy, 4)
    kinds = r.events["kind"].value_counts()
    n = {k: int(kinds.get(k, 0)) for k in ("planning", "retrospective", "change_board", "gate", "reforecast",
                                           "post_implementation_review", "checkin")}
    per_plan = (policy.planning_cost + policy.alignment_cost * policy.horizontal_alignment
                + policy.workshop_cost * policy.transparency)
    expected = Scenario().organisation.n_teams * (
        n["planning"] * per_plan + (n["retrospective"] + n["post_implementation_review"]) * policy.retro_cost
        + n["gate"] * policy.review_cost + n["reforecast"] * policy.reforecast_cost
        + n["checkin"] * policy.checkin_cost)  # (check-ins are booked with the planning events)
    # the leaders' attention at every planning event, reforecast and gate, shared by the teams
    expected += scenario.organisation.attention_cost * (n["planning"] + n["gate"] + n["reforecast"])
    # each team of an approved change pays for its impact analysis
    expected += int(r.initiatives.loc[r.initiatives["change_approved"], "teams_needed"].sum()) * policy.change_cost
    # exact up to the clock's grid: each team pays each debt off at a grid time, at most half a
    # tick from the exact moment (okrsim.model.clock)
    debts = Scenario().organisation.n_teams * sum(n.values()) + int(r.initiatives["change_approved"].sum())
    assert abs(r.timeline["overhead"].sum() - expected) <= debts * TICK / 2 + 1e-9
    assert n["retrospective"] == (n["planning"] - 1 if policy.retrospectives else 0)
    assert n["post_implementation_review"] == (n["gate"] + n["reforecast"] if policy.retrospectives else 0)
    assert (n["change_board"] > 0) == (policy.change_board_weeks > 0)


def test_events_are_ordered_in_time(run):
    assert run.events["time"].is_monotonic_increasing


def test_weeks_are_ordered_world_then_planning_then_work():
    """A shock at week w is booked in week w's value, and planning at w acts before work at w."""
    s = Scenario.preset("disruption")
    r = simulate(s, Policy(), 1)
    a = r.themes.pivot(index="week", columns="theme", values="attractiveness")
    assert a.loc[52, 0] == pytest.approx(a.loc[51, 0] * 0.2)
    assert a.loc[52, 5] == pytest.approx(a.loc[51, 5] * 8.0)


def test_disruption_is_followed_faster_by_quarterly_planning():
    s = Scenario.preset("disruption")
    lags = {p: np.mean([simulate(s, Policy.preset(p), seed).kpis["adaptation_lag_weeks"] for seed in range(8)])
            for p in ("annual", "quarterly_okr")}
    assert lags["quarterly_okr"] < lags["annual"]


# ------------------------------------------------------------------------------ invariants
def _value(spec, data):
    if spec.kind == "bool":
        return data.draw(st.booleans(), label=spec.key)
    low, high = spec.low, spec.high
    caps = {  # keep property runs fast while covering the shape of the space
        "horizon.weeks": 104, "organisation.n_teams": 12, "portfolio.initial_backlog": 120,
        "portfolio.idea_rate": 3.0, "portfolio.conflict_rate": 2.0, "portfolio.synergy_rate": 2.0,
        "market.shift_rate": 8.0, "portfolio.effort_median": 40,
    }
    high = min(high, caps.get(spec.key, high))
    if spec.kind == "int":
        return data.draw(st.integers(int(low), int(high)), label=spec.key)
    return data.draw(st.floats(low, high, allow_nan=False, allow_infinity=False), label=spec.key)


@st.composite
def world_and_policy(draw):
    data = draw(st.data())
    world = {p.key: _value(p, data) for p in specs() if p.section != "policy" and p.kind != "shocks"}
    if world["organisation.n_teams"] < 2:
        world["portfolio.multi_team_share"] = 0.0
    world["market.detection_lag_weeks"] = min(world["market.detection_lag_weeks"], world["horizon.weeks"] - 1)
    levers = {p.name: _value(p, data) for p in specs("policy")}
    levers["n_objectives"] = min(levers["n_objectives"], world["market.n_themes"])
    levers["cadence_weeks"] = min(levers["cadence_weeks"], world["horizon.weeks"])
    if draw(st.booleans()):
        week = draw(st.integers(0, world["horizon.weeks"] - 1))
        theme = draw(st.integers(0, world["market.n_themes"] - 1))
        world["market.shocks"] = [[week, theme, draw(st.floats(0.05, 20))]]
    return Scenario().replace(world), Policy().replace(levers), draw(st.integers(0, 2**32))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(world_and_policy())
def test_invariants_hold_for_random_valid_parameters(case):
    scenario, policy, seed = case
    r = simulate(scenario, policy, seed)
    tl, ini, ev = r.timeline, r.initiatives, r.events
    # capacity: work (counted part by part) + overhead + switching + idle + run = capacity, every week
    np.testing.assert_allclose(tl["work"] + tl["overhead"] + tl["switching"] + tl["idle"] + tl["run"], tl["capacity"],
                               atol=1e-9)
    assert (tl[["work", "overhead", "switching", "idle", "run"]] >= -1e-12).all().all()
    # (the themes frame has the discretionary work: mandatory work has no choice of theme)
    assert np.allclose(r.themes.groupby("week")["work"].sum().to_numpy(), (tl["work"] - tl["mandatory_work"]).to_numpy())
    assert (tl["mandatory_work"] >= -1e-12).all() and (tl["mandatory_work"] <= tl["work"] + 1e-9).all()
    # no initiative is delivered twice, or before it was started or known
    deliveries = ev.query("kind == 'delivery'")["initiative"]
    assert deliveries.is_unique
    done = ini[ini["status"] == "delivered"]
    assert len(done) == len(deliveries)
    assert (done["start_week"] >= done["arrival_week"].apply(math.floor)).all()
    assert (done["delivery_week"] >= done["start_week"]).all()
    assert ini.loc[ini["status"] != "delivered", "delivery_week"].isna().all()
    # effort: what was spent is what was needed plus what was lost, never negative
    assert (ini["effort_spent"] >= -1e-9).all() and (ini["effort_lost"] >= 0).all()
    np.testing.assert_allclose(done["effort_spent"], done["effort"] + done["effort_lost"], rtol=1e-9, atol=1e-9)
    # value before penalties is never negative, and the per-initiative ledger adds up to the weekly one
    assert (tl["value"] + tl["deadline_penalty"] >= -1e-9).all() and (ini["realised_value"] >= -1e-9).all()
    assert (tl["deadline_penalty"] >= -1e-12).all()
    total = ini["realised_value"].sum() + tl["synergy_value"].sum() - tl["deadline_penalty"].sum()
    assert total == pytest.approx(r.kpis["total_value"], rel=1e-9, abs=1e-9)
    # KPI ranges
    k = r.kpis
    for share in ("waste_share", "overhead_share"):
        assert 0 <= k[share] <= 1
    assert math.isnan(k["aligned_capacity_share"]) or 0 <= k["aligned_capacity_share"] <= 1
    assert math.isnan(k["okr_score_mean"]) or 0 <= k["okr_score_mean"] <= 1
    assert r.scorecards["score"].between(0, 1).all()
    assert k["conflicts_caught_early"] >= 0 and k["conflicts_caught_late"] >= 0
    if len(ini):  # with no idea known there is nothing to be wrong about (NaN)
        assert math.isfinite(k["estimation_error"]) and k["estimation_error"] >= 0


def test_event_counts_by_kind_match_what_happened():
    """SimPy's own benchmark asserts event counts; so do we (catches silent scheduling changes)."""
    r = simulate(Scenario(), Policy(), 0)
    kinds = r.events["kind"].value_counts()
    counts = r.event_counts
    assert counts["arrival"] == kinds["arrival"]
    assert counts.get("shift", 0) + counts.get("shock", 0) == kinds["shift"] + kinds["shock"]
    assert counts["planning"] == kinds["planning"] - 1  # the first plan is made before the run starts
    parts = int(r.initiatives["teams_needed"].sum())  # a wake-up finishes one part or more
    assert 0 < counts["part_done"] <= parts
    assert counts["end"] == 1 and r.n_events == sum(counts.values())


@pytest.mark.parametrize("weeks", [156, 520])
def test_nothing_ticks_weekly(weeks):
    """An empty, frozen world has only its planning events, the teams' overhead after each of
    them and the interruptions that hand them their (empty) plans: however long the horizon,
    no process wakes up week by week."""
    s = Scenario().replace({"portfolio.initial_backlog": 0, "portfolio.idea_rate": 0.0,
                            "market.shift_rate": 0.0, "horizon.weeks": weeks})
    r = simulate(s, Policy.preset("annual"), 0)
    plans = math.ceil(weeks / 52)
    teams = s.organisation.n_teams
    assert dict(r.event_counts) == {"debt_paid": plans * teams, "end": 1, "planning": plans - 1,
                                    "team_interrupted": (plans - 1) * teams}


def test_default_run_has_fewer_events_than_weekly_ticks_alone_would_make():
    """Model 1 ticked every team and the ledger weekly: 156 x 9 = 1,404 events before anything
    happened; now every event is an arrival, a shift, a plan, a check-in or a change of a
    team's work (a check-in reads progress without waking any team)."""
    for name in ("annual", "quarterly_okr"):
        r = simulate(Scenario(), Policy.preset(name), 1)
        assert r.n_events < 156 * (8 + 1) * 0.65, (name, dict(r.event_counts))


def test_reallocation_share_is_half_the_change_of_theme_shares_between_years():
    from okrsim.model.kpis import reallocation_shares

    year = np.zeros((52, 3))
    year[:, 0] = 1.0  # all work on theme 0
    moved = year.copy()
    moved[:, 0], moved[:, 1] = 0.75, 0.25  # a quarter moves to theme 1
    assert reallocation_shares(np.vstack([year, moved, moved])).tolist() == [0.25, 0.0]
    assert len(reallocation_shares(year)) == 0  # one year: nothing to compare
    r = simulate(Scenario(), Policy.preset("annual"), 3)
    assert 0.0 <= r.kpis["reallocation_share"] <= 1.0


def test_budget_allocation_is_measured_over_whole_years():
    """One row per whole year of the horizon (3 for 156 weeks), not per some shorter window: the
    engine once passed the number of themes as the year's length, so the calibrated
    ``budget_reallocation_share`` compared 6-week windows."""
    r = simulate(Scenario(), Policy.preset("annual"), 3)
    allocation = r._record.allocation
    assert allocation.shape == (3, Scenario().market.n_themes)
    np.testing.assert_allclose(allocation.sum(axis=1), 1.0)


def test_unplanned_starts_count_ideas_started_before_any_plan_included_them():
    r = simulate(Scenario(), Policy.preset("annual"), 5)
    ini = r.initiatives
    started = ini["start_week"].notna()
    assert r.kpis["unplanned_starts"] == (started & ini["believed_value_at_start"].isna()).sum()
    frozen = Scenario().replace({"portfolio.idea_rate": 0.0})  # nothing arrives after the first plan
    assert simulate(frozen, Policy.preset("annual"), 5).kpis["unplanned_starts"] == 0


# ----------------------------------------------------------------------------- knowledge decay, noisy observation
def test_bias_path_keeps_the_bias_of_themes_the_market_leaves_alone():
    from okrsim.core.streams import source_generators
    from okrsim.model.ideas import bias_path
    from okrsim.model.market import draw_market

    market = Scenario().replace({"market.shift_rate": 6.0}).market
    rng = source_generators(4)
    path = draw_market(market, 156, rng["market"], rng["perception"])
    bias = np.array([0.1, -0.2, 0.3, -0.4, 0.5, -0.6])
    still = bias_path(path, bias, 0.0, 0.4, rng["drift"])
    assert (still == bias).all(), "without drift the bias never changes"
    moving = bias_path(path, bias, 1.0, 0.4, source_generators(4)["drift"])
    moved = path.levels[1:] != path.levels[:-1]
    assert moved.any() and (~moved).any()
    assert (moving[1:][~moved] == moving[:-1][~moved]).all(), "a theme the market leaves alone keeps its bias"
    assert (moving[1:][moved] != moving[:-1][moved]).all(), "a theme the market moves gets a fresh bias"


def test_bias_drift_keeps_the_spread_of_biases():
    from okrsim.model.ideas import bias_path
    from okrsim.model.market import MarketPath

    levels = np.array([[1.0] * 4] + [[1.0 + m] * 4 for m in range(1, 400)])  # every theme moves every time
    path = MarketPath(np.arange(400.0), levels, ("initial",) + ("shift",) * 399, np.ones((1, 4)))
    rows = bias_path(path, np.random.default_rng(0).normal(0, 0.4, 4), 0.5, 0.4, np.random.default_rng(1))
    assert abs(rows[50:].std() - 0.4) < 0.04
    # half the variance redrawn per move: consecutive biases correlate by sqrt(0.5)
    r = np.corrcoef(rows[50:-1].ravel(), rows[51:].ravel())[0, 1]
    assert abs(r - 0.5 ** 0.5) < 0.08


def test_knowledge_decay_changes_nothing_in_a_frozen_market():
    frozen = Scenario().replace({"market.shift_rate": 0.0})
    policy = Policy.preset("quarterly_okr")
    for seed in range(3):
        a = simulate(frozen, policy, seed)
        b = simulate(frozen.replace({"portfolio.bias_drift": 1.0}), policy, seed)
        assert dict(a.kpis) == dict(b.kpis)


def test_noisy_observation_slows_learning_and_changes_only_learning():
    """Retrospectives learn from the value observed after delivery; with `observation_noise`
    they learn less (higher estimation error), and a policy without retrospectives is not
    affected at all."""
    exact = Scenario().replace({"portfolio.observation_noise": 0.0})
    noisy = Scenario().replace({"portfolio.observation_noise": 1.5})
    learner, blind = Policy.preset("quarterly_okr"), Policy.preset("annual")
    err = {s.portfolio.observation_noise: [simulate(s, learner, seed).kpis["estimation_error"] for seed in range(12)]
           for s in (exact, noisy)}
    assert np.mean(err[1.5]) > np.mean(err[0.0])
    for seed in range(3):
        assert dict(simulate(exact, blind, seed).kpis) == dict(simulate(noisy, blind, seed).kpis)
