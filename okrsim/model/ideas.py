"""Ideas, their estimates and their interactions (conflicts, synergies, dependencies, duplicates).

All draws happen up front, row by row from uniforms, so that the first ideas of a
replication are the same whatever the idea rate or the backlog size, and so that every
policy sees the same ideas.  The SimPy process `arrival_process` reveals them on time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass

import numpy as np
import simpy
from scipy.special import ndtri

from okrsim.core.params import Organisation, Portfolio
from okrsim.model.clock import on_grid_array
from okrsim.model.market import MarketPath

__all__ = [
    "SECONDARY_WEIGHT",
    "Ideas",
    "Interactions",
    "arrival_process",
    "bias_path",
    "draw_ideas",
    "draw_interactions",
    "optimizers_curse",
    "theme_bias",
]

#: Share of an idea's value that depends on its secondary theme, when it has one.
SECONDARY_WEIGHT = 1.0 / 3.0

# column layout of one idea's row of uniforms (then n_teams team-choice and n_teams
# local-priority columns)
_GAP, _THEME, _HAS2, _THEME2, _EFFORT, _MULTI, _SIZE, _VALUE, _EST, _SPONSOR = range(10)
_FIXED = 10


@dataclass(frozen=True)
class Ideas:
    """Every idea of one replication, known or not yet arrived, ordered by arrival.

    Attributes
    ----------
    arrival : ndarray of float
        Week the idea becomes known (0 for the initial backlog).
    theme, theme2 : ndarray of int
        Primary and secondary theme (``-1``: none).
    effort : ndarray of float
        Total effort in team-weeks, split equally over the teams it needs.
    teams : tuple of tuple of int
        The specific teams whose work it needs.
    members : ndarray of bool, shape (n, n_teams)
        The same as a membership matrix.
    value : ndarray of float
        True value rate per week at attractiveness 1, before staleness.
    est_error : ndarray of float
        Log error of the business case: ``log(estimate / value)``, noise plus theme bias.
    log_sponsor : ndarray of float
        Log of the political power of the idea's sponsor (normal, so the power is lognormal):
        higher in themes that were attractive at week 0 (established business lines); a share
        ``local_knowledge`` of its spread reflects what the business case gets wrong (sponsors
        know their ideas).  Kept as a log, computed as a sum of logs (never as the log of an
        exponential), so that worlds without sponsor spread give exactly equal powers, whose
        ties the planners break by arrival, on every CPU (see tests/test_clock.py).
    local : ndarray, shape (n, n_teams)
        Standard-normal local preference of each team for each idea, informed like the
        sponsor's power by ``local_knowledge``.
    """

    arrival: np.ndarray
    theme: np.ndarray
    theme2: np.ndarray
    effort: np.ndarray
    teams: tuple[tuple[int, ...], ...]
    members: np.ndarray
    value: np.ndarray
    est_error: np.ndarray
    log_sponsor: np.ndarray
    local: np.ndarray

    @property
    def sponsor(self) -> np.ndarray:
        """Political power of each idea's sponsor, ``exp(log_sponsor)`` (for tables)."""
        return np.exp(self.log_sponsor)

    @property
    def n(self) -> int:
        """Number of ideas."""
        return len(self.arrival)


@dataclass(frozen=True)
class Interactions:
    """Pairwise conflicts, synergies, dependencies and duplicates between ideas.

    Attributes
    ----------
    a, b : ndarray of int
        The two ideas of each pair (``a < b``).
    conflict : ndarray of bool
        True for a conflict, and for a duplicate (a conflict of severity 1): both cut the
        smaller value once both ideas are live, so the model treats them alike.
    visibility : ndarray of float
        Uniform draw that decides after how many joint workshops the pair is discovered
        (see `okrsim.model.governance.workshops_needed`).
    dependency : ndarray of bool
        True for a blocking dependency: `b` (the later idea) delivers its value only once `a`
        is delivered.  A pair that is none of these is a synergy.
    duplicate : ndarray of bool
        True for a duplicate: two ideas that do the same thing (its `conflict` is True too).
    severity : ndarray of float
        Share of the smaller value a pair's conflict cuts: ``conflict_severity`` for a
        conflict, 1 for a duplicate, 0 for the other kinds.
    """

    a: np.ndarray
    b: np.ndarray
    conflict: np.ndarray
    visibility: np.ndarray
    dependency: np.ndarray
    duplicate: np.ndarray
    severity: np.ndarray

    @property
    def n(self) -> int:
        """Number of pairs."""
        return len(self.a)


def theme_bias(n_themes: int, assumption_bias: float, rng: np.random.Generator) -> np.ndarray:
    """Systematic log bias of estimates in each theme, unknown to the planners."""
    return assumption_bias * rng.standard_normal(n_themes)


def bias_path(market: MarketPath, bias: np.ndarray, drift: float, assumption_bias: float,
              rng: np.random.Generator) -> np.ndarray:
    """The assumption bias of each theme in each market segment, shape ``(segments, K)``.

    When a shift or shock moves a theme, a share `drift` of the variance of its bias is
    redrawn (``b <- sqrt(1 - drift) * b + sqrt(drift) * assumption_bias * z``), so the spread
    of biases stays the same while what planners learned about the theme ages, as knowledge of
    a moving environment does (Posen & Levinthal 2012).  Themes the change leaves alone keep
    their bias.  One row of standard normals per market change, in order, so that worlds that
    differ only in the shift rate share their first draws.
    """
    rows = np.empty((len(market.times), len(bias)))
    rows[0] = bias
    if len(rows) == 1:
        return rows
    z = rng.standard_normal((len(rows) - 1, len(bias)))
    keep, fresh = math.sqrt(1.0 - drift), math.sqrt(drift) * assumption_bias
    for m in range(1, len(rows)):
        moved = market.levels[m] != market.levels[m - 1]
        rows[m] = np.where(moved, keep * rows[m - 1] + fresh * z[m - 1], rows[m - 1])
    return rows


def _rows(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    return rng.random((n, width))


def _arrival_rows(rng: np.random.Generator, rate: float, weeks: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    if rate <= 0:
        return np.empty(0), np.empty((0, width))
    chunk = int(rate * weeks * 1.2) + 16
    blocks, times, t = [], [], 0.0
    while True:
        block = _rows(rng, chunk, width)
        with np.errstate(over="ignore"):  # a vanishing rate puts the next arrival at infinity: none
            gaps = -np.log1p(-block[:, _GAP]) / rate
            arrivals = on_grid_array(t + gaps.cumsum())  # event times fall on the clock's grid
        keep = int(arrivals.searchsorted(weeks))  # arrival times never decrease
        blocks.append(block[:keep])
        times.append(arrivals[:keep])
        if keep < chunk:
            break
        t = float(arrivals[-1])
    if len(blocks) == 1:
        return times[0], blocks[0]
    return np.concatenate(times), np.vstack(blocks)


def draw_ideas(
    portfolio: Portfolio,
    organisation: Organisation,
    market: MarketPath,
    weeks: int,
    bias: np.ndarray,
    rng_backlog: np.random.Generator,
    rng_arrivals: np.random.Generator,
) -> Ideas:
    """Draw the initial backlog and every idea that arrives within the horizon.

    An idea's theme is drawn with probability proportional to the theme's true
    attractiveness at the idea's arrival, raised to ``idea_attraction``: opportunities
    (and the people proposing them) gather where the market moves.  `bias` is the assumption
    bias of each theme in each market segment (`bias_path`); an idea's business case carries
    the bias of its theme when it arrives.
    """
    n_themes = market.levels.shape[1]
    n_teams = organisation.n_teams
    width = _FIXED + 2 * n_teams
    first = _rows(rng_backlog, portfolio.initial_backlog, width)
    later_times, later = _arrival_rows(rng_arrivals, portfolio.idea_rate, weeks, width)
    rows = np.concatenate((first, later)) if len(later) else first
    arrival = np.concatenate([np.zeros(len(first)), later_times])

    segment = market.times.searchsorted(arrival, side="right") - 1
    at_arrival = market.levels[segment]
    weight = at_arrival ** portfolio.idea_attraction
    cdf = weight.cumsum(axis=1)
    theme = np.minimum((cdf < rows[:, _THEME, None] * cdf[:, -1, None]).sum(axis=1), n_themes - 1)
    offset = 1 + np.minimum((rows[:, _THEME2] * (n_themes - 1)).astype(int), n_themes - 2)
    theme2 = np.where(rows[:, _HAS2] < portfolio.secondary_theme_share, (theme + offset) % n_themes, -1)
    effort = portfolio.effort_median * np.exp(portfolio.effort_sigma * ndtri(rows[:, _EFFORT]))
    value = portfolio.value_median * np.exp(portfolio.value_sigma * ndtri(rows[:, _VALUE]))
    z_est = ndtri(rows[:, _EST])
    est_error = portfolio.estimation_noise * z_est + bias[segment, theme]
    # Local knowledge: what the business case gets wrong about this idea (-z_est, standard
    # normal) is known in part to its sponsor and its teams.  Their preferences mix it with
    # noise so that the spread stays the same; at local_knowledge 0 they are pure noise
    # (bit-identical to the model without it).
    know = organisation.local_knowledge
    informed, noisy = math.sqrt(know), math.sqrt(1.0 - know)
    log_sponsor = (organisation.sponsor_legacy * np.log(market.levels[0][theme])
                   + organisation.sponsor_spread * (noisy * ndtri(rows[:, _SPONSOR]) - informed * z_est))
    multi = rows[:, _MULTI] < portfolio.multi_team_share
    size = np.where(multi, np.where((rows[:, _SIZE] < 0.5) | (n_teams < 3), 2, 3), 1)
    # each idea's order of the teams; it needs the first `size` of them (at most three)
    first = rows[:, _FIXED:_FIXED + n_teams].argsort(axis=1, kind="stable")[:, :3]
    size = np.minimum(size, n_teams)
    members = np.zeros((len(rows), n_teams), bool)
    at = first + np.arange(0, members.size, n_teams)[:, None]  # positions in the flattened matrix
    members.ravel()[at[np.arange(first.shape[1]) < size[:, None]]] = True
    teams = _team_tuples(first, size)
    local = noisy * ndtri(rows[:, _FIXED + n_teams:]) - informed * z_est[:, None]
    return Ideas(arrival, theme, theme2, effort, teams, members, value, est_error, log_sponsor, local)


def _team_tuples(first: np.ndarray, size: np.ndarray) -> tuple[tuple[int, ...], ...]:
    """Tuple of the first ``size[i]`` entries of each row of `first`, built a column at a time
    for each size (much faster than slicing row by row)."""
    out: list[tuple[int, ...]] = [()] * len(size)
    columns = first.T
    for s in range(1, first.shape[1] + 1):
        ids = (size == s).nonzero()[0]
        for i, t in zip(ids.tolist(), zip(*columns[:s, ids].tolist(), strict=True), strict=True):
            out[i] = t
    return tuple(out)


def _pairs(rng: np.random.Generator, n: int, rate: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random pairs ``a < b`` of `n` ideas (the same pair may come more than once) and their
    visibility draws."""
    if n < 2 or rate <= 0:
        return np.empty(0, int), np.empty(0, int), np.empty(0)
    count = rng.poisson(rate * n / 2.0)
    u = rng.random((count, 3))
    a = np.minimum((u[:, 0] * n).astype(int), n - 1)
    b = (a + 1 + np.minimum((u[:, 1] * (n - 1)).astype(int), n - 2)) % n
    a, b = np.minimum(a, b), np.maximum(a, b)
    return a, b, u[:, 2]


def _first_draws(key: np.ndarray) -> np.ndarray:
    """Mask of the entries of `key` that are the first of their value."""
    order = key.argsort(kind="stable")
    first = np.ones(len(key), bool)
    first[order[1:]] = key[order[1:]] != key[order[:-1]]
    return first


def draw_interactions(portfolio: Portfolio, n_ideas: int, rng_conflicts: np.random.Generator,
                      rng_synergies: np.random.Generator, rng_dependencies: np.random.Generator,
                      theme: np.ndarray, rng_locality: np.random.Generator, rng_duplicates: np.random.Generator,
                      members: np.ndarray, rng_team_locality: np.random.Generator) -> Interactions:
    """Draw conflict, synergy, dependency and duplicate pairs among all ideas of the replication.

    Each kind comes from its own stream, so changing the synergy rate leaves the conflicts of a
    replication unchanged.  A pair drawn as more than one kind keeps its first (conflicts,
    then synergies, then dependencies, then duplicates): duplicates come last so that adding
    them never changes a pair of another kind (a duplicate drawn on a pair that already
    interacts is dropped).  With ``interaction_locality`` L > 0, a share L of all pairs is
    redrawn within the first idea's theme; with ``team_locality`` T > 0, a share T of the
    pairs that theme locality left alone is redrawn among the ideas that share a team with
    the first idea (`members`), so a share ``(1 - L) T`` of all pairs is local by team.  Each
    redraw comes from a stream of its own and draws for every pair whatever the share, so that
    worlds without locality keep their pairs, and a world's team-local pairs do not move when
    L changes which pairs are left to them.
    """
    ca, cb, cv = _pairs(rng_conflicts, n_ideas, portfolio.conflict_rate)
    sa, sb, sv = _pairs(rng_synergies, n_ideas, portfolio.synergy_rate)
    da, db, dv = _pairs(rng_dependencies, n_ideas, portfolio.dependency_rate)
    ua, ub, uv = _pairs(rng_duplicates, n_ideas, portfolio.duplicate_rate)
    a, b = np.concatenate([ca, sa, da, ua]), np.concatenate([cb, sb, db, ub])
    visibility = np.concatenate([cv, sv, dv, uv])
    by_theme = np.zeros(len(a), bool)
    if portfolio.interaction_locality > 0 and len(a):
        a, b, by_theme = _localise(a, b, theme, portfolio.interaction_locality, rng_locality)
    if portfolio.team_locality > 0 and len(a):
        a, b = _team_localise(a, b, ~by_theme, members, portfolio.team_locality, rng_team_locality)
    kind = np.repeat(np.arange(4), [len(ca), len(sa), len(da), len(ua)])
    first = _first_draws(a * n_ideas + b)  # each pair once, at its first draw (conflicts come first)
    kind = kind[first]
    duplicate = kind == 3
    severity = np.where(duplicate, 1.0, np.where(kind == 0, portfolio.conflict_severity, 0.0))
    return Interactions(a[first], b[first], (kind == 0) | duplicate, visibility[first], kind == 2, duplicate,
                        severity)


def _localise(a: np.ndarray, b: np.ndarray, theme: np.ndarray, locality: float,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Redraw the partner of a share `locality` of the pairs among the ideas of the first
    idea's theme (two uniforms per pair, drawn for every pair so that the draws do not depend
    on the locality); returns the pairs ordered ``a < b`` again, and the mask of those
    redrawn."""
    u = rng.random((len(a), 2))
    order = np.argsort(theme, kind="stable")
    start = np.searchsorted(theme[order], np.arange(theme.max() + 2))
    lo, size = start[theme[a]], start[theme[a] + 1] - start[theme[a]]
    local = (u[:, 0] < locality) & (size > 1)
    rank = np.empty(len(theme), dtype=int)
    rank[order] = np.arange(len(theme))
    # one of the theme's other ideas: skip the first idea's own place in the theme's list
    k = np.minimum((u[:, 1] * (size - 1)).astype(int), np.maximum(size - 2, 0))
    k += k >= rank[a] - lo
    partner = order[np.minimum(lo + k, len(theme) - 1)]
    b = np.where(local, partner, b)
    return np.minimum(a, b), np.maximum(a, b), local


def _team_localise(a: np.ndarray, b: np.ndarray, eligible: np.ndarray, members: np.ndarray, locality: float,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Redraw the partner of a share `locality` of the `eligible` pairs among the ideas that
    share a team with the first idea: one of its teams, then one of that team's other ideas,
    each uniformly (three uniforms per pair, drawn for every pair so that the draws do not
    depend on the locality or on which pairs are eligible).  Work that shares a team shares
    its code, data and people, so it is where initiatives collide or build on each other.
    Returns the pairs ordered ``a < b`` again."""
    u = rng.random((len(a), 3))
    n, n_teams = members.shape
    # the first idea's c-th team (its teams in column order)
    own = members[a]
    c = np.minimum((u[:, 1] * own.sum(axis=1)).astype(int), own.sum(axis=1) - 1)
    team = (own.cumsum(axis=1) <= c[:, None]).sum(axis=1)
    # every team's ideas in increasing order, one team after the other
    flat = np.flatnonzero(members.T.ravel())  # team * n + idea
    start = np.searchsorted(flat, np.arange(n_teams + 1) * n)
    lo, size = start[team], start[team + 1] - start[team]
    local = eligible & (u[:, 0] < locality) & (size > 1)
    # one of the team's other ideas: skip the first idea's own place in the team's list
    own_place = np.searchsorted(flat, team * n + a) - lo
    k = np.minimum((u[:, 2] * (size - 1)).astype(int), np.maximum(size - 2, 0))
    k += k >= own_place
    partner = flat[np.minimum(lo + k, len(flat) - 1)] % n
    b = np.where(local, partner, b)
    return np.minimum(a, b), np.maximum(a, b)


def arrival_process(
    env: simpy.Environment, arrival: Sequence[float], first_new: int, on_arrival: Callable[[int], None],
) -> Generator[simpy.Event, None, None]:
    """Wait for each idea's arrival and reveal it (the initial backlog is known from week 0)."""
    for index in range(first_new, len(arrival)):
        yield env.timeout(float(arrival[index]) - env.now)
        on_arrival(index)


def optimizers_curse(n_options: int, sigma: float, trials: int, rng: np.random.Generator) -> float:
    """Mean log disappointment of picking the best-looking of `n_options` equal ideas.

    Uses the same estimate model as the simulation (true value times lognormal noise).  With
    equal true values the expected disappointment is ``sigma`` times the expected maximum
    of `n_options` standard normals (about 0.85 sigma for three), which is the optimizer's
    curse of Smith and Winkler (2006).
    """
    true_log = np.zeros((trials, n_options))
    estimate_log = true_log + sigma * rng.standard_normal((trials, n_options))
    chosen = np.argmax(estimate_log, axis=1)
    rows = np.arange(trials)
    return float(np.mean(estimate_log[rows, chosen] - true_log[rows, chosen]))
