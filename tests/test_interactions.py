"""Interactions with stakes (model 2, issue 13 item 3): blocking dependencies, duplicate work,
interactions concentrated within themes and shared teams, and integration rework when a
conflict, duplicate or dependency is found only at delivery (docs/model.md 7.4)."""

from __future__ import annotations

import numpy as np
import pytest

from okrsim import ParameterError, Policy, Scenario, simulate
from okrsim.core.streams import as_seed_sequence
from okrsim.model import governance as gov
from okrsim.model.simulation import _Engine
from okrsim.model.state import DELIVERED, IN_PROGRESS, WAITING
from okrsim.model.world import draw_world

STAKES = {"portfolio.dependency_rate": 1.0, "portfolio.interaction_locality": 0.7, "portfolio.rework_share": 0.3}


def test_locality_pairs_ideas_of_the_same_theme():
    def same_theme_share(locality: float) -> float:
        world = draw_world(Scenario().replace({"portfolio.interaction_locality": locality}), as_seed_sequence(5))
        theme = world.ideas.theme
        return float(np.mean(theme[world.pairs.a] == theme[world.pairs.b]))

    at_random, half, full = same_theme_share(0.0), same_theme_share(0.5), same_theme_share(1.0)
    assert at_random < 0.45 and half > at_random + 0.2 and full > half
    assert full > 0.99  # (a theme with a single idea keeps its random partner)


def test_dependencies_point_from_later_to_earlier_ideas():
    world = draw_world(Scenario().replace(STAKES), as_seed_sequence(5))
    pairs = world.pairs
    assert pairs.dependency.sum() > 50
    assert not (pairs.dependency & pairs.conflict).any()
    assert (pairs.a < pairs.b).all()
    for b, ps in world.prerequisites.items():
        assert all(world.pair_b[p] == b and world.pairs.dependency[p] for p in ps)
    assert all(not world.pairs.dependency[p] for ps in world.partners.values() for p in ps)


@pytest.mark.parametrize("policy", ["annual", "quarterly_okr"])
def test_a_dependent_pays_only_once_its_prerequisites_are_delivered(policy):
    run = simulate(Scenario().replace(STAKES), Policy.preset(policy), 7)
    world = draw_world(Scenario().replace(STAKES), as_seed_sequence(7))
    ini = run.initiatives.set_index("initiative")
    delivered = ini.status == "delivered"
    checked = 0
    for b, ps in world.prerequisites.items():
        if not delivered.get(b, False):
            continue
        for p in ps:
            a = world.pair_a[p]
            assert delivered[a] and ini.delivery_week[a] <= ini.delivery_week[b] + 1e-9, (a, b)
            checked += 1
    assert checked > 10
    assert (run.events.kind == "blocked").sum() > 0


def test_late_discovery_costs_rework_and_early_discovery_avoids_it():
    scenario = Scenario().replace(STAKES)
    late = simulate(scenario, Policy.preset("quarterly_okr").replace({"transparency": 0.0}), 3)
    free = simulate(scenario.replace({"portfolio.rework_share": 0.0}),
                    Policy.preset("quarterly_okr").replace({"transparency": 0.0}), 3)
    surfaced = late.events.kind.isin(["conflict_surfaced", "dependency_surfaced"]).sum()
    assert late.event_counts["rework"] == surfaced > 10
    assert late.timeline["switching"].sum() > free.timeline["switching"].sum()
    assert late.kpis["waste_share"] > free.kpis["waste_share"]
    early = simulate(scenario, Policy.preset("quarterly_okr").replace({"transparency": 1.0}), 3)
    assert early.event_counts.get("rework", 0) < late.event_counts["rework"] / 2


# ------------------------------------------------------------------ duplicates and shared teams
#: A world of duplicates only: every interaction is a duplicate pair.
ONLY_DUPLICATES = {"portfolio.duplicate_rate": 1.0, "portfolio.conflict_rate": 0.0, "portfolio.synergy_rate": 0.0,
                   "portfolio.dependency_rate": 0.0}


def _pair_set(pairs, mask) -> set:
    return set(zip(pairs.a[mask].tolist(), pairs.b[mask].tolist(), pairs.conflict[mask].tolist(),
                   pairs.dependency[mask].tolist(), pairs.visibility[mask].tolist(), strict=True))


def test_duplicates_come_at_their_rate_from_their_own_stream_and_leave_the_other_kinds_alone():
    """About ``duplicate_rate * n / 2`` pairs (Poisson; a few fall on a pair of another kind and
    are dropped); every other pair, its kind and its visibility stay as in the world without
    duplicates; a duplicate is a conflict of severity 1."""
    drawn, expected = 0, 0.0
    for seed in range(1, 11):
        seq = as_seed_sequence(seed)
        without = draw_world(Scenario(), seq).pairs
        world = draw_world(Scenario().replace({"portfolio.duplicate_rate": 0.5}), seq)
        pairs = world.pairs
        assert _pair_set(pairs, ~pairs.duplicate) == _pair_set(without, np.ones(without.n, bool))
        assert (pairs.conflict[pairs.duplicate]).all() and not (pairs.dependency & pairs.duplicate).any()
        kind_severity = np.where(pairs.duplicate, 1.0, np.where(pairs.conflict, 0.5, 0.0))
        assert (pairs.severity == kind_severity).all()
        assert world.pair_severity == pairs.severity.tolist()
        drawn += int(pairs.duplicate.sum())
        expected += 0.5 * world.ideas.n / 2
    assert 0.9 < drawn / expected < 1.05, (drawn, expected)
    assert not draw_world(Scenario(), as_seed_sequence(1)).pairs.duplicate.any()


def test_a_late_duplicate_loses_the_smaller_value_entirely_and_costs_rework():
    """Without workshops every duplicate surfaces at its second delivery: the smaller of the two
    live values is lost entirely (the event's amount; the smaller one's rate drops to 0), it
    counts as a conflict caught late, and the teams of the initiative just delivered owe
    ``rework_share`` times its effort, as for a late conflict."""
    scenario = Scenario().replace(ONLY_DUPLICATES)
    engine = _Engine(scenario, Policy.preset("annual").replace({"transparency": 0.0}), as_seed_sequence(2))
    booked: list[tuple[int, float]] = []
    rework = engine.rework

    def record(i: int, effort: float) -> None:
        booked.append((i, effort))
        rework(i, effort)

    engine.rework = record  # type: ignore[method-assign]
    engine.run()
    st, world = engine.initiatives, engine.world
    surfaced = [e for e in engine.events if e[1] == "duplicate_surfaced"]
    assert len(surfaced) > 10 and not any(e[1] == "conflict_surfaced" for e in engine.events)
    assert engine.pairs.caught_late == len(surfaced) == len(booked) == len(st.rate_changes)
    assert engine.pairs.caught_early == 0
    rates = {e[2]: e[4] for e in engine.events if e[1] == "delivery"}  # value rate at delivery
    for (t, _, a, b, loss), (i, effort), cut in zip(surfaced, booked, st.rate_changes, strict=True):
        assert i in (a, b) and st.delivery[i] == t  # the initiative just delivered
        assert effort == pytest.approx(0.2 * world.ideas.effort[i], rel=1e-12)
        other = b if i == a else a
        small = i if rates[i] <= rates[other] else other
        assert loss == rates[small] and cut == (small, t, 0.0)  # (a value cut before stays cut)
        rates[small] = 0.0
    assert any(loss > 0 for *_, loss in surfaced)


def test_planners_who_found_a_duplicate_value_the_less_committed_idea_at_what_it_adds():
    """A duplicate found in a workshop is a conflict of severity 1: the less committed idea
    carries the smaller value as a loss, so it is worth nothing if it is the smaller and only
    its surplus if it is the larger; a conflict of severity 0.5 carries half of that."""
    value = np.array([2.0, 3.0, 3.0, 2.0])
    status = np.array([WAITING, WAITING, WAITING, IN_PROGRESS], np.int8)
    a, b, conflict = np.array([0, 2]), np.array([1, 3]), np.array([True, True])
    adj = gov.interaction_adjustment(value, status, a, b, conflict, np.array([1.0, 1.0]), 0.4)
    assert (value + adj).tolist() == [0.0, 3.0, 1.0, 2.0]
    half = gov.interaction_adjustment(value, status, a, b, conflict, 0.5, 0.4)
    assert (value + half).tolist() == [1.0, 3.0, 2.0, 2.0]
    mixed = gov.interaction_adjustment(value, status, a, b, conflict, np.array([1.0, 0.5]), 0.4)
    assert (value + mixed).tolist() == [0.0, 3.0, 2.0, 2.0]
    delivered = np.array([WAITING, DELIVERED, WAITING, DELIVERED], np.int8)
    assert (value + gov.interaction_adjustment(value, delivered, a, b, conflict, 1.0, 0.4)).tolist() == [0.0, 3.0, 1.0, 2.0]


def _both_delivered_share(run, world) -> float:
    delivered = run._record.status == DELIVERED
    dup = world.pairs.duplicate
    return float(np.mean(delivered[world.pairs.a[dup]] & delivered[world.pairs.b[dup]]))


def test_workshops_that_find_duplicates_early_mostly_deliver_one_of_the_two():
    scenario = Scenario().replace(ONLY_DUPLICATES)
    okr = Policy.preset("quarterly_okr")
    for seed in (1, 2):
        world = draw_world(scenario, as_seed_sequence(seed))
        blind = _both_delivered_share(simulate(scenario, okr.replace({"transparency": 0.0}), seed), world)
        seeing = _both_delivered_share(simulate(scenario, okr.replace({"transparency": 1.0}), seed), world)
        assert seeing < 0.5 * blind, (seed, seeing, blind)


def _team_share(over: dict, seed: int) -> tuple[float, int]:
    world = draw_world(Scenario().replace({"portfolio.conflict_rate": 3.0, **over}), as_seed_sequence(seed))
    m = world.ideas.members
    return float((m[world.pairs.a] & m[world.pairs.b]).any(axis=1).mean()), world.pairs.n


def test_team_locality_pairs_ideas_that_share_a_team_as_often_as_it_says():
    """A share ``(1 - interaction_locality) * team_locality`` of the pairs is redrawn within a
    team of the first idea; the rest share a team as often as random pairs do."""
    for seed in (1, 2):
        for theme_share in (0.0, 0.5):
            at_random, n = _team_share({"portfolio.interaction_locality": theme_share}, seed)
            assert 0.2 < at_random < 0.4
            for team_share in (0.5, 1.0):
                local = (1 - theme_share) * team_share
                measured, _ = _team_share({"portfolio.interaction_locality": theme_share,
                                           "portfolio.team_locality": team_share}, seed)
                expected = local + (1 - local) * at_random
                assert abs(measured - expected) < 3 * np.sqrt(expected * (1 - expected) / n) + 0.01, \
                    (seed, theme_share, team_share, measured, expected)


def test_team_locality_zero_keeps_the_pairs_and_leaves_theme_locality_its_share():
    """``team_locality`` 0 draws nothing (the pairs are those of the world without it), and
    team locality only redraws pairs theme locality left alone, so the share of pairs within
    a theme barely moves (team-local partners share the theme by chance)."""
    for seed in (1, 2, 3):
        seq = as_seed_sequence(seed)
        base = draw_world(Scenario(), seq).pairs
        same = draw_world(Scenario().replace({"portfolio.team_locality": 0.0, "portfolio.duplicate_rate": 0.0}),
                          seq).pairs
        assert _pair_set(base, np.ones(base.n, bool)) == _pair_set(same, np.ones(same.n, bool))
        assert base.a.tolist() == same.a.tolist() and base.b.tolist() == same.b.tolist()
        dense = {"portfolio.conflict_rate": 3.0}
        theme_share = []
        for team_share in (0.0, 1.0):
            world = draw_world(Scenario().replace({**dense, "portfolio.team_locality": team_share}), seq)
            theme = world.ideas.theme
            theme_share.append(np.mean(theme[world.pairs.a] == theme[world.pairs.b]))
        assert theme_share[0] > 0.5 and abs(theme_share[1] - theme_share[0]) < 0.03, theme_share


@pytest.mark.parametrize(("key", "value", "valid"), [
    ("portfolio.duplicate_rate", 6, "[0, 5] per idea"),
    ("portfolio.duplicate_rate", -0.1, "[0, 5] per idea"),
    ("portfolio.team_locality", 1.5, "[0, 1] share"),
])
def test_duplicate_and_team_parameters_are_validated(key, value, valid):
    with pytest.raises(ParameterError) as info:
        Scenario().replace({key: value})
    message = str(info.value)
    assert f"{key} = {float(value)}" in message and valid in message, message
