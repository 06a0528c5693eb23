"""Key performance indicators of a run: definitions and computation.

Each KPI is defined once here (name, unit, which direction is better, meaning); tables,
charts, comparisons and win rates read these definitions.  The computation works on the raw
record of a run with numpy, without building DataFrames, so that comparisons and sweeps that
only need KPIs stay fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from okrsim.model.governance import Beliefs, believed_log_value
from okrsim.model.market import MarketPath

if TYPE_CHECKING:
    from okrsim.model.run import RunRecord

__all__ = [
    "ADAPTATION_WINDOW",
    "ADAPTED_SHARE",
    "KPIS",
    "KpiSpec",
    "adaptation_lags",
    "belief_error",
    "budget_allocation",
    "compute_kpis",
    "kpi",
    "realised_values",
    "reallocation_shares",
    "weekly_attractiveness",
]


@dataclass(frozen=True)
class KpiSpec:
    """Definition of one KPI.

    Attributes
    ----------
    name : str
        Key in `Run.kpis`.
    unit : str
        Unit for tables and axes.
    better : str
        ``"higher"`` or ``"lower"``: which direction counts as a win in comparisons.
    meaning : str
        One line; the full definition is in docs/model.md.
    """

    name: str
    unit: str
    better: str
    meaning: str


KPIS: tuple[KpiSpec, ...] = (
    KpiSpec("total_value", "value", "higher", "customer value delivered within the horizon"),
    KpiSpec("end_value_rate", "value/week", "higher", "value per week in the last week"),
    KpiSpec("aligned_capacity_share", "share", "higher", "share of work on the currently most attractive themes"),
    KpiSpec("adaptation_lag_weeks", "weeks", "lower",
            "weeks from a change of the leading themes until half of the work follows it"),
    KpiSpec("waste_share", "share", "lower", "capacity lost to stopping, switching and work that delivered below the hurdle"),
    KpiSpec("overhead_share", "share", "lower", "capacity spent on planning, alignment, workshops and retrospectives"),
    KpiSpec("lead_time_weeks", "weeks", "lower", "weeks from an idea's arrival to its delivery"),
    KpiSpec("conflicts_caught_early", "conflicts", "higher",
            "conflicts discovered by workshops before both sides were delivered"),
    KpiSpec("conflicts_caught_late", "conflicts", "lower", "conflicts that surfaced only when both sides were live"),
    KpiSpec("synergy_value", "value", "higher", "value from synergies between delivered initiatives"),
    KpiSpec("deadline_penalty", "value", "lower",
            "value lost to penalties while mandatory work was past its deadline (included in total_value)"),
    KpiSpec("estimation_error", "log ratio", "lower", "mean absolute log error of planners' value beliefs at the end"),
    KpiSpec("okr_score_mean", "score", "higher", "mean key-result score (0-1) of completed OKR cycles"),
    KpiSpec("initiatives_delivered", "initiatives", "higher", "initiatives delivered within the horizon"),
    KpiSpec("initiatives_stopped", "stops", "lower", "times running work was stopped"),
    KpiSpec("unplanned_starts", "initiatives", "higher",
            "initiatives started before any plan included them (they arrived after the plan in force)"),
    KpiSpec("reallocation_share", "share per year", "higher",
            "share of capacity that moved between themes from one year to the next"),
    KpiSpec("budget_reallocation_share", "share per year", "higher",
            "share of allocated capacity (budget split and approved changes) moved between themes from one year to the next"),
    KpiSpec("in_year_starts", "initiatives", "higher",
            "initiatives started that arrived after the plan in force: ad-hoc intake and change-board approvals"),
    KpiSpec("changes_approved", "initiatives", "higher", "new ideas a change board admitted into the plan in force"),
)

_BY_NAME = {k.name: k for k in KPIS}


def kpi(name: str) -> KpiSpec:
    """Definition of KPI `name`, with the valid names in the error."""
    try:
        return _BY_NAME[name]
    except KeyError:
        from okrsim.core.errors import ParameterError

        raise ParameterError(f"unknown KPI {name!r}; valid KPIs are {', '.join(_BY_NAME)}") from None


def weekly_attractiveness(weeks: int, path: MarketPath) -> np.ndarray:
    """True attractiveness (weeks x themes) in force when each week's value is booked.

    World events act before the ledger at equal times, so week t sees every shift and
    shock up to and including time t.
    """
    if weeks == len(path.week_segment):  # the horizon the path was drawn for
        return path.levels[path.week_segment]
    return path.levels[path.times.searchsorted(np.arange(weeks), side="right") - 1]


def realised_values(record: RunRecord) -> np.ndarray:
    """Value each initiative earned within the horizon (0 if it neither was delivered nor
    released a first increment).

    Each delivered initiative has segments of constant value rate (it changes when its first
    increment is released, when it is delivered and when a conflict cannibalises it); its
    value is the rate times the attractiveness of its themes, integrated exactly over each
    segment.
    """
    return _realised(record, _delivered(record))


def _delivered(record: RunRecord) -> np.ndarray:
    """Indices of the delivered initiatives."""
    return (~np.isnan(record.delivery_week)).nonzero()[0]


def _realised(record: RunRecord, delivered: np.ndarray) -> np.ndarray:
    """`realised_values` given the delivered initiatives (`_delivered`), which `compute_kpis`
    needs as well."""
    ids, lo, hi, rate = _segments(record, delivered)
    if len(ids) == 0:
        return np.zeros(record.ideas.n)
    cum = record.path.integral(np.concatenate([lo, hi]))
    # (bincount adds each initiative's segments in their order, as ``np.add.at`` would, faster)
    return np.bincount(ids, weights=rate * _theme_weighted(record, cum[len(lo):] - cum[:len(lo)], ids),
                       minlength=record.ideas.n)


def _segments(record: RunRecord, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Initiative, start, end and value rate of each segment of constant value rate: first the
    segments of released first increments (MVPs, 7.8, delivered or not), then those from
    delivery on (of the delivered initiatives `ids`), then those after conflict cuts, in the
    order of the cuts (so each initiative's segments come in time order)."""
    lo = record.delivery_week[ids]
    rate = record.delivered_rate[ids]
    mvp = (~np.isnan(record.mvp_week)).nonzero()[0]
    if len(mvp):
        ids, lo, rate = (np.concatenate([mvp, ids]), np.concatenate([record.mvp_week[mvp], lo]),
                         np.concatenate([record.mvp_rate[mvp], rate]))
    if record.rate_changes:
        cut_ids, cut_from, cut_rate = zip(*record.rate_changes, strict=True)
        ids, lo, rate = np.concatenate([ids, cut_ids]), np.concatenate([lo, cut_from]), np.concatenate([rate, cut_rate])
    # a segment ends where the initiative's next one starts, or at the horizon
    hi = np.full(len(ids), float(record.weeks))
    order = ids.argsort(kind="stable")  # each initiative's segments, in time order
    same = ids[order[1:]] == ids[order[:-1]]
    hi[order[:-1][same]] = lo[order[1:][same]]
    return ids, lo, hi, rate


def _theme_weighted(record: RunRecord, by_theme: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Row r of `by_theme` (per theme) weighted by the themes of initiative ``ids[r]``.

    Only the primary and the secondary theme have weight, so two lookups give exactly the
    weighted sum over all themes.
    """
    flat = by_theme.ravel()
    at = np.arange(len(ids)) * by_theme.shape[1]
    return record.w1[ids] * flat.take(at + record.ideas.theme[ids]) + record.w2[ids] * flat.take(at + record.t2[ids])


def belief_error(record: RunRecord, beliefs: Beliefs, known: int) -> float:
    """Mean absolute log error of the planners' value beliefs over the first `known` ideas."""
    if known == 0:
        return math.nan
    ideas = record.ideas
    log_value = np.log(ideas.value[:known])
    logv = believed_log_value(log_value + ideas.est_error[:known], ideas.theme[:known], beliefs,
                              math.log(record.portfolio.value_median))
    return float(np.mean(np.abs(logv - log_value)))


def reallocation_shares(theme_capacity: np.ndarray, year: int = 52) -> np.ndarray:
    """Share of capacity moved between themes from each whole year to the next.

    Half the sum over themes of the absolute change in each theme's share of the year's work
    (0: the same split, 1: all work moved), the measure of McKinsey's resource-reallocation
    studies (Hall, Lovallo and Musters 2012; Atsmon 2016: the average firm moves about 8% of
    its capital between units a year).  One value per pair of consecutive whole years.
    """
    years = len(theme_capacity) // year
    if years < 2:
        return np.empty(0)
    work = theme_capacity[: years * year].reshape(years, year, -1).sum(axis=1)
    total = work.sum(axis=1, keepdims=True)
    share = np.divide(work, total, out=np.zeros_like(work), where=total > 0)
    return 0.5 * np.abs(share[1:] - share[:-1]).sum(axis=1)  # (what np.diff computes, without its overhead)


def budget_allocation(budget_rows: list[tuple[float, np.ndarray]], approvals: list[tuple[float, int, float]],
                      themes: np.ndarray, commit: float, n_teams: int, weeks: int, *, year: int = 52) -> np.ndarray:
    """Capacity the organisation allocated to each theme in each whole year (years x themes, shares).

    The allocation of a year is the committed share (`commit`, the capacity the plan does not
    hold back for the change board) of the budget split in force, averaged over the year's
    weeks, plus the effort of the changes the board approved in the year as a share of the
    year's capacity, normalised to sum to one.  This is what McKinsey's reallocation studies
    measure (capital allocated to units, not the output they produced); `reallocation_shares`
    applied to it gives the ``budget_reallocation_share`` KPI.

    Parameters
    ----------
    budget_rows : list of (time, split)
        Every re-budgeting, in time order (the first at week 0).
    approvals : list of (time, idea, effort)
        The change board's approvals.
    themes : ndarray of int
        Primary theme of every idea.
    """
    years = weeks // year
    k = len(budget_rows[0][1]) if budget_rows else 0
    out = np.zeros((years, k))
    if years == 0 or k == 0:
        return out
    ends = [t for t, _ in budget_rows[1:]] + [math.inf]
    for (t0, split), t1 in zip(budget_rows, ends, strict=True):
        committed = commit * split
        for y in _years_touched(t0, t1, year, years):
            overlap = min(t1, (y + 1) * year) - max(t0, y * year)
            if overlap > 0:
                out[y] += committed * (overlap / year)
    for t, i, effort in approvals:
        y = int(t // year)
        if y < years:
            out[y, themes[i]] += effort / (n_teams * year)
    total = out.sum(axis=1, keepdims=True)
    return np.divide(out, total, out=np.zeros_like(out), where=total > 0)


def _years_touched(t0: float, t1: float, year: int, years: int) -> range:
    """The years among the first `years` that the interval ``[t0, t1)`` may overlap.

    A budget split is in force for a few years at most, so looking only at those (instead of
    at every year for every split) halves the time of `budget_allocation`, a fixed cost of
    every run.  The range
    may include a year of zero overlap at either end; callers test the overlap anyway.
    """
    first = max(0, int(t0 // year))
    return range(first, years if math.isinf(t1) else min(years, int(t1 // year) + 1))


#: Share of work the new leading themes must reach for the organisation to count as adapted.
ADAPTED_SHARE = 0.5
#: Weeks over which the work share is averaged before comparing it with `ADAPTED_SHARE`.
ADAPTATION_WINDOW = 4


def adaptation_lags(record: RunRecord) -> list[float]:
    """Weeks from each change of the leading themes until the organisation followed it.

    A change is a market shift or shock after which the top third of themes (by true
    attractiveness) contains a theme it did not contain before.  The organisation has
    adapted when the work on the new leading themes, averaged over `ADAPTATION_WINDOW`
    weeks, first reaches `ADAPTED_SHARE` of all work.  The wait is censored at the next
    change (or the horizon): a policy that never follows scores the whole interval.
    """
    path = record.path
    changes = [(float(path.times[s]), path.leaders[s]) for s in path.leader_changes]
    if not changes:
        return []
    work = record.theme_capacity
    total = work.sum(axis=1)
    kernel = np.ones(ADAPTATION_WINDOW)
    # the smoothed work on the leaders that counts as adapted, in every week (computed once
    # for all changes; each change looks at a slice)
    adapted = ADAPTED_SHARE * np.maximum(np.convolve(total, kernel)[: len(total)], 1e-12)
    lags = []
    for n, (when, leaders) in enumerate(changes):
        until = changes[n + 1][0] if n + 1 < len(changes) else float(record.weeks)
        share_on = np.convolve(work[:, leaders].sum(axis=1), kernel)[: len(total)]
        first = math.ceil(when) + ADAPTATION_WINDOW - 1  # the first week with a full window
        last = min(math.ceil(until), record.weeks)
        ok = (share_on[first:last] >= adapted[first:last]).nonzero()[0]
        lags.append(min(float(first + ok[0]) + 1.0 if len(ok) else until, until) - when)
    return lags


def compute_kpis(record: RunRecord) -> dict[str, float]:
    """All KPIs of `KPIS` for one run (definitions in docs/model.md)."""
    tl = record.timeline
    capacity = float(record.n_teams * record.weeks)
    a = record.attractiveness
    work_by_theme = record.theme_capacity
    weekly = record.path.leaders[record.path.week_segment]
    aligned = work_by_theme.ravel().take(weekly + np.arange(0, a.size, a.shape[1])[:, None]).sum()  # the leaders' work
    work_total = work_by_theme.sum()

    delivered = _delivered(record)
    realised = _realised(record, delivered)
    pf = record.portfolio
    hurdle = pf.waste_hurdle * pf.value_median / pf.effort_median
    # (live since it first earned: its first increment, if it had one, or its delivery)
    live = record.weeks - np.fmin(record.mvp_week[delivered], record.delivery_week[delivered])
    first_rate = record.delivered_rate[delivered] * _theme_weighted(
        record, a[np.minimum(record.delivery_week[delivered].astype(int), record.weeks - 1)], delivered)
    # the mean rate earned while live; an initiative delivered in the last week is judged by
    # its first rate
    rate = np.where(live >= 1.0, realised[delivered] / np.maximum(live, 1.0), first_rate)
    below = rate / record.ideas.effort[delivered] < hurdle
    wasted = record.lost.sum() + tl["switching"].sum() + (record.spent[delivered][below] - record.lost[delivered][below]).sum()

    scores = [row[-1] for row in record.scorecards]
    started = ~np.isnan(record.start_week)
    lead = record.delivery_week[delivered] - record.ideas.arrival[delivered]
    return {
        "total_value": float(tl["value"].sum() + tl["synergy"].sum() - tl["penalty"].sum()),
        "end_value_rate": float(tl["value"][-1] + tl["synergy"][-1] - tl["penalty"][-1]),
        "aligned_capacity_share": min(1.0, float(aligned / work_total)) if work_total > 0 else math.nan,
        "adaptation_lag_weeks": float(np.mean(lags)) if (lags := adaptation_lags(record)) else math.nan,
        "waste_share": float(wasted / capacity),
        "overhead_share": float(tl["overhead"].sum() / capacity),
        "lead_time_weeks": float(lead.mean()) if len(lead) else math.nan,
        "conflicts_caught_early": float(record.caught_early),
        "conflicts_caught_late": float(record.caught_late),
        "synergy_value": float(tl["synergy"].sum()),
        "deadline_penalty": float(tl["penalty"].sum()),
        "estimation_error": belief_error(record, record.final_beliefs, record.n_known),
        "okr_score_mean": float(np.mean(scores)) if scores else math.nan,
        "initiatives_delivered": float(len(delivered)),
        "initiatives_stopped": float(record.n_stops.sum()),
        # chosen on no plan's (or change board's) estimates: ad-hoc intake
        "unplanned_starts": float(np.count_nonzero(started & np.isnan(record.selected_logv))),
        "reallocation_share": float(moved.mean()) if len(moved := reallocation_shares(work_by_theme)) else math.nan,
        "budget_reallocation_share": float(b.mean()) if len(b := _moved(record.allocation)) else math.nan,
        "in_year_starts": float(np.count_nonzero(started & (np.isnan(record.selected_logv) | (record.approved > 0)))),
        "changes_approved": float(np.count_nonzero(record.approved)),
    }


def _moved(allocation: np.ndarray) -> np.ndarray:
    """Half the absolute change of each theme's share between consecutive years (`reallocation_shares`)."""
    if len(allocation) < 2:
        return np.empty(0)
    return 0.5 * np.abs(allocation[1:] - allocation[:-1]).sum(axis=1)
