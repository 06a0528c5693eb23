"""Interactions with stakes (model 2, issue 13 item 3): blocking dependencies, interactions
concentrated within themes, and integration rework when a conflict or dependency is found only
at delivery (docs/model.md 7.4)."""

from __future__ import annotations

import numpy as np
import pytest

from okrsim import Policy, Scenario, simulate
from okrsim.core.streams import as_seed_sequence
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
