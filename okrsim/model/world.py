"""The random world of one replication: market path, ideas, their interactions.

A world depends only on the scenario and the seed, never on the policy; that is what common
random numbers mean.  Drawing it once and sharing it between the policies of a replication
(a small LRU cache keyed by the world parameters and the seed) saves a third of a paired
comparison's time without changing a single number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from okrsim.core.params import Horizon, Market, Organisation, Portfolio, Scenario
from okrsim.core.streams import key_generators
from okrsim.model.ideas import SECONDARY_WEIGHT, Ideas, Interactions, bias_path, draw_ideas, draw_interactions, theme_bias
from okrsim.model.kpis import weekly_attractiveness
from okrsim.model.market import MarketPath, draw_market

__all__ = ["World", "draw_world", "increment_factor", "mandatory_chance"]


@dataclass(frozen=True)
class World:
    """Everything random about one replication, plus read-only views the model indexes fast.

    Attributes
    ----------
    path : MarketPath
    bias_path : ndarray, shape (segments, K)
        The unknown per-theme log bias of estimates in each market segment (it drifts when the
        market moves a theme; `okrsim.model.ideas.bias_path`); `bias` is its first row.
    observed_error : ndarray
        ``log(estimate / observed value)`` of each idea once delivered: the business case's
        error plus the noise of observing value (``observation_noise``); what retrospectives
        learn from.
    leading_z : ndarray
        Standard-normal error of each idea's key-result leading measure; the measure read at
        progress ``p`` is off by ``leading_sd(p) * leading_z`` (`okrsim.model.governance.leading_sd`),
        so successive readings of one idea converge on its true value.
    ideas : Ideas
    effort_estimate : ndarray
        The effort planners believe each idea needs: the actual effort divided by
        ``exp(effort_bias + effort_noise * z)``, one draw per idea (most work overruns).
    effort_ratio : ndarray
        ``effort_estimate / effort``: planners see how much of an initiative's work is done as
        a share, so what they believe remains is the actual remaining effort times this.
    mandatory : ndarray of bool
        Mandatory ideas (regulation): ranked first by every policy, earliest deadline first.
    deadline : ndarray of float
        Week each mandatory idea is due (infinite for the others).
    waits : ndarray, shape (n, n_teams), or None
        Weeks each team's part of each idea waits for others once started
        (``wait_weeks`` times a unit exponential); None where work never waits.
    pairs : Interactions
    attractiveness : ndarray, shape (weeks, K)
        True attractiveness in force in each week.
    log_value, log_estimate : ndarray
        True and estimated log value rates.
    w1, w2, t2 : ndarray
        Weight of the primary theme, weight and index of the secondary theme (index 0 and
        weight 0 when there is none): how much the idea's value depends on each theme, without
        a matrix of mostly zeros.
    partners : dict
        Conflict, duplicate and synergy pair indices by idea (in increasing order), for
        delivery-time lookups.
    prerequisites : dict
        Dependency pair indices by dependent idea (the pair's `b`): what must be delivered
        before its value starts.

    The list attributes (``theme``, ``theme2``, ``value``, ``arrival``, ``part_size``,
    ``n_parts``, ``pair_a``, ``pair_b``, ``pair_conflict``, ``pair_severity``,
    ``pair_duplicate``) hold the same data as Python lists, because the weekly loops index
    single elements, which lists do several times faster than numpy arrays.  Nothing may
    modify them.
    """

    path: MarketPath
    bias_path: np.ndarray
    observed_error: np.ndarray
    leading_z: np.ndarray
    ideas: Ideas
    effort_estimate: np.ndarray
    effort_ratio: np.ndarray
    mandatory: np.ndarray
    deadline: np.ndarray
    waits: np.ndarray | None
    pairs: Interactions
    attractiveness: np.ndarray
    log_value: np.ndarray
    log_estimate: np.ndarray
    w1: np.ndarray
    w2: np.ndarray
    t2: np.ndarray
    partners: dict[int, list[int]]
    prerequisites: dict[int, list[int]]
    theme: list[int]
    theme2: list[int]
    value: list[float]
    arrival: list[float]
    part_size: list[float]
    n_parts: list[int]
    pair_a: list[int]
    pair_b: list[int]
    pair_conflict: list[bool]
    pair_severity: list[float]
    pair_duplicate: list[bool]

    @property
    def bias(self) -> np.ndarray:
        """The per-theme log bias of estimates at week 0."""
        return self.bias_path[0]


def draw_world(scenario: Scenario, seq: np.random.SeedSequence) -> World:
    """The world of `scenario` for seed `seq` (shared between policies of a replication)."""
    key = (seq.entropy, seq.spawn_key, seq.pool_size)
    return _draw(scenario.market, scenario.portfolio, scenario.organisation, scenario.horizon, key)


def mandatory_chance(portfolio: Portfolio, organisation: Organisation) -> float:
    """The chance that an idea is mandatory, such that mandatory work demands a share
    ``mandatory_share`` of the teams' change capacity on average (or of the ideas' work, where
    the ideas demand less than the capacity).

    Regulation takes a share of the IT budget (compliance about 10% of banks' IT spend), not a
    share of the ideas: with more ideas than capacity, or larger ones, a fixed share of ideas
    would demand ever more of the capacity.  So the chance is the share times the change
    capacity per week, divided by the effort the ideas bring per week (`idea_rate` times the
    lognormal's mean effort) when that is larger; where ideas are scarce (a mature market) it
    is the share itself, so that regulation does not become most of the little there is.
    """
    share = portfolio.mandatory_share
    mean_effort = portfolio.effort_median * math.exp(portfolio.effort_sigma ** 2 / 2) * increment_factor(portfolio)
    demand = portfolio.idea_rate * mean_effort
    capacity = organisation.n_teams * (1.0 - organisation.run_share)
    if share <= 0 or demand <= capacity:
        return share
    return share * capacity / demand


def increment_factor(portfolio: Portfolio) -> float:
    """How much more effort building in increments takes (``1 + increment_cost`` with
    increments, else exactly 1): a second release and integration (7.8)."""
    return 1.0 + portfolio.increment_cost if portfolio.mvp_value > 0 and portfolio.increment_cost > 0 else 1.0


@lru_cache(maxsize=16)
def _draw(market: Market, portfolio: Portfolio, organisation: Organisation, horizon: Horizon,
          key: tuple) -> World:
    rng = key_generators(*key)
    weeks = horizon.weeks
    path = draw_market(market, weeks, rng["market"], rng["perception"])
    bias = theme_bias(market.n_themes, portfolio.assumption_bias, rng["bias"])
    biases = bias_path(path, bias, portfolio.bias_drift, portfolio.assumption_bias, rng["drift"])
    ideas = draw_ideas(portfolio, organisation, path, weeks, biases, rng["backlog"], rng["arrivals"])
    if (factor := increment_factor(portfolio)) != 1.0:
        # building in increments costs a second release and integration (7.8); planners know it
        ideas = replace(ideas, effort=ideas.effort * factor)
    # one draw per idea, in the order of the ideas (backlog first, then arrivals)
    observed_error = ideas.est_error + portfolio.observation_noise * rng["observation"].standard_normal(ideas.n)
    leading_z = rng["leading"].standard_normal(ideas.n)
    effort_ratio = np.exp(-(portfolio.effort_bias + portfolio.effort_noise * rng["effort"].standard_normal(ideas.n)))
    draws = rng["mandatory"].random((ideas.n, 2))
    mandatory = draws[:, 0] < mandatory_chance(portfolio, organisation)
    deadline = np.where(mandatory, ideas.arrival + portfolio.deadline_weeks * (0.5 + draws[:, 1]), np.inf)
    # weeks each team's part of each idea waits for others once started (drawn only where
    # work waits; the draws do not depend on the mean, so worlds that differ in it share them)
    waits = (organisation.wait_weeks * rng["waits"].exponential(size=(ideas.n, organisation.n_teams))
             if organisation.wait_weeks > 0 else None)
    pairs = draw_interactions(portfolio, ideas.n, rng["conflicts"], rng["synergies"], rng["dependencies"],
                              ideas.theme, rng["locality"], rng["duplicates"], ideas.members, rng["team_locality"])
    partners: dict[int, list[int]] = {}
    prerequisites: dict[int, list[int]] = {}
    pair_a, pair_b = pairs.a.tolist(), pairs.b.tolist()
    for p, (a, b, dep) in enumerate(zip(pair_a, pair_b, pairs.dependency.tolist(), strict=True)):
        if dep:
            prerequisites.setdefault(b, []).append(p)
            continue
        partners.setdefault(a, []).append(p)
        partners.setdefault(b, []).append(p)
    log_value = np.log(ideas.value)
    n_parts = ideas.members.sum(axis=1)
    has2 = ideas.theme2 >= 0
    return World(
        path=path,
        bias_path=biases,
        observed_error=observed_error,
        leading_z=leading_z,
        ideas=ideas,
        effort_estimate=ideas.effort * effort_ratio,
        effort_ratio=effort_ratio,
        mandatory=mandatory,
        deadline=deadline,
        waits=waits,
        pairs=pairs,
        attractiveness=weekly_attractiveness(weeks, path),
        log_value=log_value,
        log_estimate=log_value + ideas.est_error,
        w1=np.where(has2, 1.0 - SECONDARY_WEIGHT, 1.0),
        w2=np.where(has2, SECONDARY_WEIGHT, 0.0),
        t2=np.maximum(ideas.theme2, 0),
        partners=partners,
        prerequisites=prerequisites,
        theme=ideas.theme.tolist(),
        theme2=ideas.theme2.tolist(),
        value=ideas.value.tolist(),
        arrival=ideas.arrival.tolist(),
        part_size=(ideas.effort / n_parts).tolist(),
        n_parts=n_parts.tolist(),
        pair_a=pair_a,
        pair_b=pair_b,
        pair_conflict=pairs.conflict.tolist(),
        pair_severity=pairs.severity.tolist(),
        pair_duplicate=pairs.duplicate.tolist(),
    )
