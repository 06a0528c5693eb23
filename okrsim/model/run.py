"""The outcome of one run: KPIs at once, tidy frames on demand.

SimPy ships no monitoring on purpose; the model appends plain tuples and lists while it
runs, and this module turns them into documented pandas frames only when somebody asks.
Sweeps of thousands of runs read `Run.kpis` and never pay for DataFrames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from okrsim.model.governance import Beliefs
from okrsim.model.ideas import Ideas, Interactions
from okrsim.model.kpis import belief_error, compute_kpis, realised_values
from okrsim.model.market import MarketPath, n_top_themes

if TYPE_CHECKING:
    from okrsim.core.params import Policy, Portfolio, Scenario

__all__ = ["EVENT_KINDS", "Run", "RunRecord"]

_STATUS = {-1: "unknown", 0: "waiting", 1: "in_progress", 2: "delivered"}
_PAIR_EVENTS = ("conflict_discovered", "synergy_discovered", "conflict_surfaced", "synergy_harvested",
                "dependency_discovered", "dependency_surfaced", "duplicate_discovered", "duplicate_surfaced")
#: Every kind of event in `Run.events`, in a fixed order so frames of different runs concatenate.
EVENT_KINDS = ("shift", "shock", "arrival", "planning", "objective", "retrospective", "start", "stop", "delivery",
               *_PAIR_EVENTS, "gate", "reforecast", "post_implementation_review", "change_board", "change_approved",
               "checkin", "blocked", "mvp_released")


@dataclass(frozen=True)
class RunRecord:
    """Raw arrays and tuples a run leaves behind (internal; frames are the public form).

    ``w1``, ``w2`` and ``t2`` weigh each idea's primary and secondary theme (see
    `okrsim.model.world.World`); ``delivered_rate`` is each initiative's value rate at delivery (NaN
    if not delivered), and ``rate_changes`` lists later cuts by conflicts as (initiative,
    first week of the new rate, new rate), in the order they happened.
    """

    weeks: int
    n_teams: int
    path: MarketPath
    attractiveness: np.ndarray
    ideas: Ideas
    effort_estimate: np.ndarray
    deadline: np.ndarray
    pairs: Interactions
    w1: np.ndarray
    w2: np.ndarray
    t2: np.ndarray
    timeline: dict[str, np.ndarray]
    theme_capacity: np.ndarray
    status: np.ndarray
    n_known: int
    start_week: np.ndarray
    delivery_week: np.ndarray
    mvp_week: np.ndarray
    mvp_rate: np.ndarray
    spent: np.ndarray
    lost: np.ndarray
    n_stops: np.ndarray
    delivered_rate: np.ndarray
    rate_changes: list[tuple[int, float, float]]
    selected_logv: np.ndarray
    approved: np.ndarray
    allocation: np.ndarray
    pair_found: np.ndarray
    cycles: list[tuple]
    scorecards: list[tuple]
    events: list[tuple[float, str, int, int, float]]
    caught_early: int
    caught_late: int
    final_beliefs: Beliefs
    event_counts: dict[str, int]
    portfolio: Portfolio
    lag: int


class Run:
    """One simulated replication of a policy in a scenario.

    Attributes
    ----------
    scenario, policy : Scenario, Policy
        The inputs.
    seed : numpy.random.SeedSequence
        The seed the run's streams were derived from.
    kpis : Mapping[str, float]
        Read-only KPIs (see `okrsim.model.kpis.KPIS` and docs/model.md).
    event_counts : Mapping[str, int]
        Events the run's processes acted on, by kind: ``arrival``, ``shift``, ``shock``,
        ``planning``, ``debt_paid`` (a team paid what it owed), ``part_done`` (a team finished
        one or more parts), ``milestone`` (a team's part did its share of a first increment,
        docs/model.md 7.8), ``wait_over`` (a part's wait for others ended, 7.7),
        ``mvp_released``, ``team_interrupted`` (a plan, an arrival or a partner changed a
        team's work), the reviews (``checkin``, ``gate``, ``reforecast``, ``change_board``),
        ``rework`` and ``end``.
    n_events : int
        Their total: a cheap fingerprint of the run and the basis of benchmarks.

    Frames (built on first access; columns documented in docs/model.md):
    `timeline`, `themes`, `initiatives`, `scorecards`, `cycles`, `events`.
    """

    def __init__(self, scenario: Scenario, policy: Policy, seed: np.random.SeedSequence, record: RunRecord):
        self.scenario = scenario
        self.policy = policy
        self.seed = seed
        self._record = record
        self.event_counts = MappingProxyType(dict(sorted(record.event_counts.items())))
        self.n_events = sum(record.event_counts.values())
        self.kpis = MappingProxyType(compute_kpis(self._record))

    def __repr__(self) -> str:
        return (f"Run(scenario={self.scenario.name!r}, policy={self.policy.name!r}, "
                f"total_value={self.kpis['total_value']:.1f}, events={self.n_events})")

    @cached_property
    def timeline(self) -> pd.DataFrame:
        """One row per week: capacity use, value booked, alignment."""
        r = self._record
        tl = r.timeline
        a = r.attractiveness
        n_top = n_top_themes(a.shape[1])
        top = np.argsort(-a, axis=1, kind="stable")[:, :n_top]
        chosen = r.theme_capacity.sum(axis=1)  # discretionary work: mandatory work has no choice of theme
        work = chosen + tl["mandatory"]
        aligned = np.take_along_axis(r.theme_capacity, top, axis=1).sum(axis=1)
        value = tl["value"] + tl["synergy"] - tl["penalty"]
        delivered = np.bincount(
            r.delivery_week[~np.isnan(r.delivery_week)].astype(int), minlength=r.weeks
        )[: r.weeks]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(chosen > 0, np.minimum(aligned / np.where(chosen > 0, chosen, 1), 1.0), np.nan)
        return pd.DataFrame({
            "week": np.arange(r.weeks),
            "capacity": np.full(r.weeks, float(r.n_teams)),
            "work": work,
            "mandatory_work": tl["mandatory"],
            "overhead": tl["overhead"],
            "switching": tl["switching"],
            "idle": tl["idle"],
            "run": tl["run"],
            "value": value,
            "synergy_value": tl["synergy"],
            "deadline_penalty": tl["penalty"],
            "cumulative_value": np.cumsum(value),
            "aligned_share": share,
            "delivered": np.cumsum(delivered),
        })

    @cached_property
    def themes(self) -> pd.DataFrame:
        """One row per week and theme: true and perceived attractiveness, work spent."""
        r = self._record
        a = r.attractiveness
        weeks, k = a.shape
        perceived = np.vstack([r.path.perceived(t, r.lag) for t in range(weeks)])
        rank = np.argsort(np.argsort(-a, axis=1, kind="stable"), axis=1) + 1
        return pd.DataFrame({
            "week": np.repeat(np.arange(weeks), k),
            "theme": np.tile(np.arange(k), weeks),
            "attractiveness": a.ravel(),
            "perceived": perceived.ravel(),
            "rank": rank.ravel(),
            "top": (rank <= n_top_themes(k)).ravel(),
            "work": r.theme_capacity.ravel(),
        })

    @cached_property
    def initiatives(self) -> pd.DataFrame:
        """One row per idea known by the end of the run."""
        r = self._record
        n = r.n_known
        ideas = r.ideas
        realised = realised_values(r)
        return pd.DataFrame({
            "initiative": np.arange(n),
            "arrival_week": ideas.arrival[:n],
            "theme": ideas.theme[:n],
            "secondary_theme": ideas.theme2[:n],
            "teams_needed": np.array([len(t) for t in ideas.teams[:n]]),
            "teams": [",".join(map(str, t)) for t in ideas.teams[:n]],
            "effort": ideas.effort[:n],
            "effort_estimate": r.effort_estimate[:n],
            "mandatory": np.isfinite(r.deadline[:n]),
            "deadline_week": np.where(np.isfinite(r.deadline[:n]), r.deadline[:n], np.nan),
            "value_rate": ideas.value[:n],
            "estimate": ideas.value[:n] * np.exp(ideas.est_error[:n]),
            "sponsor_power": ideas.sponsor[:n],
            "status": pd.Categorical([_STATUS[int(s)] for s in r.status[:n]], categories=list(_STATUS.values())[1:]),
            "start_week": r.start_week[:n],
            "delivery_week": r.delivery_week[:n],
            "mvp_week": r.mvp_week[:n],
            "lead_time_weeks": r.delivery_week[:n] - ideas.arrival[:n],
            "stops": r.n_stops[:n],
            "effort_spent": r.spent[:n],
            "effort_lost": r.lost[:n],
            "delivered_value_rate": r.delivered_rate[:n],
            "realised_value": realised[:n],
            "believed_value_at_start": np.exp(r.selected_logv[:n]),
            "change_approved": r.approved[:n].astype(bool),
        })

    @cached_property
    def scorecards(self) -> pd.DataFrame:
        """One row per key result of every completed OKR cycle."""
        cols = ["cycle", "start_week", "end_week", "objective", "theme", "key_result", "commitment", "target", "achieved",
                "score"]
        return pd.DataFrame(self._record.scorecards, columns=cols)

    @cached_property
    def cycles(self) -> pd.DataFrame:
        """One row per completed planning cycle: flow, learning and OKR summary."""
        r = self._record
        rows = []
        for index, start, end, started, stopped, delivered, forecast, okr_score, beliefs, known, ids in r.cycles:
            ids = np.asarray(ids, dtype=int)
            # ad-hoc intake was not chosen on estimates, mandatory work not on value at all
            planned = ids[~np.isnan(r.selected_logv[ids]) & ~np.isfinite(r.deadline[ids])]
            disappointment = float(np.mean(r.selected_logv[planned] - np.log(r.ideas.value[planned]))) if len(planned) else np.nan
            rows.append((index, start, end, started, stopped, delivered, forecast, belief_error(r, beliefs, known),
                         disappointment, okr_score))
        cols = ["cycle", "start_week", "end_week", "started", "stopped", "delivered", "forecast",
                "estimation_error", "disappointment", "okr_score"]
        return pd.DataFrame(rows, columns=cols)

    @cached_property
    def events(self) -> pd.DataFrame:
        """The event log: what happened when, one row per event."""
        rows = []
        for time, kind, a, b, amount in self._record.events:
            if kind in _PAIR_EVENTS:
                rows.append((time, kind, a, b, -1, amount))
            else:
                rows.append((time, kind, a, -1, b, amount))
        df = pd.DataFrame(rows, columns=["time", "kind", "initiative", "partner", "theme", "amount"])
        df["kind"] = pd.Categorical(df["kind"], categories=EVENT_KINDS)
        return df

    @property
    def market_changes(self) -> pd.DataFrame:
        """Times and kinds (shift or shock) of the market changes, without building the event log."""
        path = self._record.path
        return pd.DataFrame({"time": path.times[1:], "kind": list(path.kinds[1:])})

    def frames(self) -> dict[str, pd.DataFrame]:
        """All frames by name, e.g. to save a run."""
        return {name: getattr(self, name) for name in ("timeline", "themes", "initiatives", "scorecards", "cycles", "events")}

    def summary(self) -> dict[str, Any]:
        """Inputs, seed and KPIs as plain data (for JSON output)."""
        return {
            "scenario": self.scenario.name,
            "policy": self.policy.name,
            "seed": _seed_repr(self.seed),
            "n_events": self.n_events,
            "kpis": {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in self.kpis.items()},
        }


def _seed_repr(seq: np.random.SeedSequence) -> dict[str, Any]:
    return {"entropy": int(seq.entropy), "spawn_key": list(seq.spawn_key)}  # type: ignore[arg-type]
