"""Data preparation for the views: run paired replications, gather tidy frames, aggregate.

Charts, the explorer and reports all need the same thing: for each compared policy and each
replication (with common random numbers) the KPIs, the weekly timeline, the planning cycles
and the market's shifts, plus the detailed frames of one example replication.  This module
gathers them once into a `Panel` and offers the pure aggregations (quantile bands, binned
theme shares, event-aligned averages) that keep every chart below altair's row limit.

It knows nothing of widgets or altair, so batch scripts and tests use it as they are.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from okrsim.core.errors import ParameterError
from okrsim.core.params import Policy, Scenario
from okrsim.core.streams import as_seed_sequence, replication_seed
from okrsim.experiments.comparison import Comparison, summarise
from okrsim.experiments.executors import as_evaluator
from okrsim.model.kpis import KPIS
from okrsim.model.simulation import check_compatible, simulate

__all__ = [
    "STORIES",
    "Digest",
    "Panel",
    "RunCache",
    "Settings",
    "Story",
    "band",
    "build_panel",
    "digest_batch",
    "digest_run",
    "event_aligned",
    "paired_differences",
    "theme_shares",
]


# ------------------------------------------------------------------------------ settings
@dataclass(frozen=True)
class Settings:
    """Everything that determines a panel: world, policies, replications, seed.

    Exported next to every picture as YAML, so that any chart can be reproduced exactly
    (``Settings.load(path).panel()`` or ``okrsim report --params path``).  `scenario` and
    `policies` take whatever `Scenario.coerce` and `Policy.coerce_many` take (names, files,
    mappings), like every other entry point.
    """

    scenario: Scenario = field(default_factory=Scenario)
    policies: tuple[Policy, ...] = field(default_factory=lambda: (Policy.preset("annual"), Policy.preset("quarterly_okr")))
    replications: int = 30
    seed: int = 0
    example_replication: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "scenario", Scenario.coerce(self.scenario))
        policies = Policy.coerce_many(self.policies)
        object.__setattr__(self, "policies", policies)
        for p in policies:
            check_compatible(self.scenario, p)
        reps = self.replications
        if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or not 1 <= reps <= 10_000:
            raise ParameterError(f"replications = {reps!r} must be a whole number in [1, 10000]")
        as_seed_sequence(self.seed)
        ex = self.example_replication
        if isinstance(ex, bool) or not isinstance(ex, (int, np.integer)) or not 0 <= ex < reps:
            raise ParameterError(f"example_replication = {ex!r} must be a whole number in [0, {reps - 1}] "
                                 f"(replications = {reps})")
        object.__setattr__(self, "replications", int(reps))
        object.__setattr__(self, "seed", int(self.seed))
        object.__setattr__(self, "example_replication", int(ex))

    def to_dict(self) -> dict[str, Any]:
        """Plain data for YAML: the full scenario and every lever of every policy."""
        from okrsim.core.version import __version__

        return {
            "okrsim_version": __version__,
            "scenario": self.scenario.to_dict(),
            "policies": [p.to_dict() for p in self.policies],
            "replications": self.replications,
            "seed": self.seed,
            "example_replication": self.example_replication,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, relative_to: Any = None) -> Settings:
        """Inverse of `to_dict`; refuses unknown keys so that a typo is not silently ignored.

        File names of the scenario and policies are read relative to `relative_to` (the
        settings file's directory when read by `load`).
        """
        if not isinstance(data, Mapping):
            raise ParameterError(f"settings must be a mapping; got {type(data).__name__}")
        known = {"okrsim_version", "scenario", "policies", "replications", "seed", "example_replication"}
        unknown = set(data) - known
        if unknown:
            raise ParameterError(f"unknown keys {sorted(unknown, key=str)} in settings; valid keys are {sorted(known)}")
        scenario = data.get("scenario", {})
        policies = data.get("policies", ["annual", "quarterly_okr"])
        if not isinstance(policies, list):
            raise ParameterError(f"settings policies must be a list; got {policies!r}")
        return cls(
            scenario=Scenario.coerce(scenario, relative_to=relative_to),
            policies=Policy.coerce_many(policies, relative_to=relative_to, what="settings policies"),
            replications=data.get("replications", 30),
            seed=data.get("seed", 0),
            example_replication=data.get("example_replication", 0),
        )

    def to_yaml(self) -> str:
        """YAML text, with a comment that says how to reproduce."""
        from okrsim.core.values import dump_yaml

        head = ("# okrsim settings: reproduce with `okrsim report --params THIS_FILE` or\n"
                "# okrsim.views.panels.Settings.load(THIS_FILE).panel() in Python.\n")
        return head + dump_yaml(self.to_dict())

    def save(self, path: Any) -> Any:
        """Write YAML atomically."""
        from okrsim.core.fileio import write_text_atomic

        return write_text_atomic(path, self.to_yaml())

    @classmethod
    def load(cls, path: Any) -> Settings:
        """Read a YAML file written by `save` (or an explorer export), as every input file is read."""
        from pathlib import Path

        from okrsim.core.fileio import read_mapping

        return cls.from_dict(read_mapping(path, "settings"), relative_to=Path(path).parent)

    def panel(self, executor: Any = None, cache: RunCache | None = None) -> Panel:
        """Run the replications and gather the frames (see `build_panel`)."""
        return build_panel(self, executor=executor, cache=cache)


# -------------------------------------------------------------------------------- stories
@dataclass(frozen=True)
class Story:
    """A ready-made demonstration: a world, two policies and what to look for."""

    title: str
    scenario: str
    world: Mapping[str, Any]
    policies: tuple[tuple[str, Mapping[str, Any]], ...]
    lesson: str

    def settings(self, replications: int = 30, seed: int = 0) -> Settings:
        """The story as explorer settings."""
        scenario = Scenario.preset(self.scenario)
        if self.world:
            scenario = scenario.replace(dict(self.world))
        policies = tuple(Policy.preset(p).replace(dict(changes)) if changes else Policy.preset(p)
                         for p, changes in self.policies)
        return Settings(scenario, policies, replications, seed)


_BOTH = (("annual", {}), ("quarterly_okr", {}))

#: Demonstration presets of the explorer, in menu order.
STORIES: dict[str, Story] = {
    "default": Story("Default: a dynamic market", "dynamic", {}, _BOTH,
                     "About one market shift every eight months: the starting point of every discussion."),
    "stable market": Story("Stable market", "stable", {}, _BOTH,
                           "Little changes, so quarterly re-deciding has little to react to and its overhead shows."),
    "turbulent market": Story("Turbulent market", "turbulent", {}, _BOTH,
                              "Four shifts a year: the annual plan keeps funding yesterday's priorities."),
    "disruption": Story("Disruption after one year", "disruption", {}, _BOTH,
                        "The leading theme collapses in week 52 and the weakest one booms: watch who follows."),
    "political portfolio": Story(
        "Political portfolio", "dynamic", {},
        (("annual", {"political_weight": 0.9, "budget_inertia": 0.95}), ("quarterly_okr", {})),
        "Sponsor power and last year's budget split decide the annual plan almost entirely."),
    "no learning": Story(
        "OKRs without learning loops", "dynamic", {},
        (("annual", {}), ("quarterly_okr", {"retrospectives": False})),
        "Quarterly cycles without retrospectives: the estimation error never shrinks."),
    "costly planning": Story(
        "Calm market, costly planning", "mature", {},
        (("annual", {}), ("quarterly_okr", {"planning_cost": 2.0, "switch_loss": 0.6})),
        "The counter-case: when little changes and every planning event is expensive, annual ties or wins."),
}


# -------------------------------------------------------------------------------- digests
@dataclass(frozen=True)
class Digest:
    """What the views need from one run: small, picklable, independent of the `Run`."""

    policy: str
    replication: int
    kpis: dict[str, float]
    timeline: dict[str, np.ndarray]
    cycles: dict[str, np.ndarray]
    shifts: np.ndarray
    shocks: np.ndarray
    themes: pd.DataFrame | None = None
    scorecards: pd.DataFrame | None = None


def digest_run(scenario: Scenario, policy: Policy, seed: int, replication: int, detail: bool = False) -> Digest:
    """Simulate replication `replication` of `policy` and keep what the views need.

    Parameters
    ----------
    detail : bool
        Also keep the per-theme and scorecard frames (only the example replication needs
        them, and they are the largest part).
    """
    run = simulate(scenario, policy, replication_seed(seed, replication))
    tl = run.timeline
    cy = run.cycles
    ev = run.events
    kinds = ev["kind"].astype(str).to_numpy()
    times = ev["time"].to_numpy(dtype=float)
    themes = scorecards = None
    if detail:
        themes = run.themes[["week", "theme", "attractiveness", "work", "top"]].copy()
        scorecards = run.scorecards.copy()
    return Digest(
        policy=policy.name,
        replication=int(replication),
        kpis=dict(run.kpis),
        timeline={c: tl[c].to_numpy(dtype=float) for c in ("value", "cumulative_value", "aligned_share")},
        cycles={c: cy[c].to_numpy(dtype=float) for c in ("cycle", "end_week", "estimation_error", "okr_score")},
        shifts=times[kinds == "shift"],
        shocks=times[kinds == "shock"],
        themes=themes,
        scorecards=scorecards,
    )


def digest_batch(job: tuple[Scenario, int, tuple[tuple[int, tuple[Policy, ...]], ...], int]) -> list[Digest]:
    """Digests of several replications, each for the policies it needs: the unit of work of a pool.

    Replication-major order lets the policies of one replication share the drawn world (the
    model caches it per scenario and seed), and batching amortises the cost of sending the
    scenario to a worker (a run takes milliseconds, so one task per run would mostly message).
    """
    scenario, seed, items, detail_rep = job
    return [digest_run(scenario, p, seed, r, detail=(r == detail_rep)) for r, policies in items for p in policies]


class RunCache:
    """Least-recently-used store of digests keyed by (scenario, policy, seed, replication).

    Moving one policy's lever in the explorer then re-runs only that policy: the other
    policy's replications are unchanged, because scenarios and policies are immutable and
    hashable and every run is fully determined by them and the seed.
    """

    def __init__(self, max_items: int = 2000):
        self.max_items = int(max_items)
        self._items: OrderedDict[Hashable, Digest] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable) -> Digest | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: Hashable, value: Digest) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


def _key(settings: Settings, policy: Policy, r: int) -> Hashable:
    return (settings.scenario, policy, settings.seed, r, r == settings.example_replication)


def collect_digests(settings: Settings, executor: Any = None, cache: RunCache | None = None,
                    workers: int | None = None) -> list[Digest]:
    """Digests of every (policy, replication) of `settings`, from `cache` where possible.

    `executor` is anything `okrsim.experiments.executors.open_evaluator` takes, or an open
    `Evaluator`; None runs in this process.  Results do not depend on it.
    """
    missing: dict[int, list[Policy]] = {}
    found: dict[tuple[str, int], Digest] = {}
    for r in range(settings.replications):
        for p in settings.policies:
            hit = cache.get(_key(settings, p, r)) if cache is not None else None
            if hit is not None:
                found[(p.name, r)] = hit
            else:
                missing.setdefault(r, []).append(p)
    items = [(r, tuple(ps)) for r, ps in missing.items()]
    by_name = {p.name: p for p in settings.policies}
    if items:
        evaluator, owned = as_evaluator(executor, workers, tasks=len(items), preload=(__name__,))
        try:
            n_jobs = max(1, min(evaluator.workers, len(items)))
            jobs = [(settings.scenario, settings.seed, tuple(items[i::n_jobs]), settings.example_replication)
                    for i in range(n_jobs)]
            for batch in evaluator.imap_unordered(digest_batch, jobs):
                for d in batch:
                    found[(d.policy, d.replication)] = d
                    if cache is not None:
                        cache.put(_key(settings, by_name[d.policy], d.replication), d)
        except BaseException:
            if owned:
                evaluator.close(abort=True)
            raise
        if owned:
            evaluator.close()
    return [found[(p.name, r)] for p in settings.policies for r in range(settings.replications)]


# ---------------------------------------------------------------------------------- panel
@dataclass(frozen=True)
class Panel:
    """Tidy frames of a paired comparison, ready for `okrsim.views.charts`.

    Attributes
    ----------
    settings : Settings
    runs : DataFrame
        ``replication``, ``policy`` and every KPI (as `Comparison.runs`).
    summary, paired : DataFrame
        As `Comparison.summary` and `Comparison.paired` (the first policy is the baseline).
    timeline : DataFrame
        ``policy``, ``replication``, ``week``, ``value``, ``cumulative_value``, ``aligned_share``.
    cycles : DataFrame
        ``policy``, ``replication``, ``cycle``, ``end_week``, ``estimation_error``, ``okr_score``.
    market : DataFrame
        ``replication``, ``time``, ``kind`` (``shift`` or ``shock``); common to all policies.
    themes : DataFrame
        Example replication only: ``policy``, ``week``, ``theme``, ``attractiveness``, ``work``, ``top``.
    scorecards : DataFrame
        Example replication only: ``policy`` and the columns of `Run.scorecards`.
    elapsed : float
        Seconds spent building the panel (simulation and gathering).
    """

    settings: Settings
    runs: pd.DataFrame
    summary: pd.DataFrame
    paired: pd.DataFrame
    timeline: pd.DataFrame
    cycles: pd.DataFrame
    market: pd.DataFrame
    themes: pd.DataFrame
    scorecards: pd.DataFrame
    elapsed: float = 0.0

    @property
    def policy_names(self) -> list[str]:
        """Policy names in comparison order (the first is the baseline)."""
        return [p.name for p in self.settings.policies]

    @property
    def comparison(self) -> Comparison:
        """The same results as `okrsim.compare` would return for these settings."""
        s = self.settings
        return Comparison(s.scenario, s.policies, s.seed, s.replications, self.runs, self.summary, self.paired)


def build_panel(settings: Settings | Comparison, executor: Any = None, cache: RunCache | None = None,
                workers: int | None = None) -> Panel:
    """Run (or fetch from `cache`) every paired replication and gather the panel's frames.

    Parameters
    ----------
    settings : Settings or Comparison
        What to run.  A `Comparison` is re-run with its own scenario, policies, replications
        and seed; common random numbers make the KPIs identical to the comparison's.
    executor : str, Executor, dask Client or Evaluator, optional
        Where the batches of replications run: ``"processes"`` (a local pool gives about
        x1.9 on 2 cores), ``"serial"``, anything `okrsim.experiments.executors.open_evaluator`
        takes, or an open `Evaluator` (the explorer keeps one).  None runs in this process.
    cache : RunCache, optional
        Reuses digests of runs already done with the same scenario, policy and seed.
    workers : int, optional
        Local worker processes (default: all cores); results do not depend on it.
    """
    if isinstance(settings, Comparison):
        c = settings
        settings = Settings(c.scenario, c.policies, c.replications, c.seed)
    t0 = time.perf_counter()
    digests = collect_digests(settings, executor, cache, workers)
    names = [p.name for p in settings.policies]
    kpi_names = [k.name for k in KPIS]
    runs = pd.DataFrame([{"replication": d.replication, "policy": d.policy, **d.kpis} for d in digests])
    runs = runs.sort_values(["replication"], kind="stable").reset_index(drop=True)
    summary, paired = summarise(runs, names, kpi_names)
    timeline = _stack(digests, "timeline", lambda d: {"week": np.arange(len(d.timeline["value"]))})
    cycles = _stack(digests, "cycles", lambda d: {})
    cycles["cycle"] = cycles["cycle"].astype(int)
    first = [d for d in digests if d.policy == names[0]]
    market = pd.DataFrame({
        "replication": np.concatenate([np.full(len(d.shifts) + len(d.shocks), d.replication) for d in first]),
        "time": np.concatenate([np.concatenate([d.shifts, d.shocks]) for d in first]),
        "kind": np.concatenate([["shift"] * len(d.shifts) + ["shock"] * len(d.shocks) for d in first]).astype(str),
    }).sort_values(["replication", "time"], kind="stable").reset_index(drop=True)
    detail = [d for d in digests if d.themes is not None]
    themes = pd.concat([d.themes.assign(policy=d.policy) for d in detail], ignore_index=True)
    scorecards = pd.concat([d.scorecards.assign(policy=d.policy) for d in detail], ignore_index=True)
    for frame in (timeline, cycles, themes, scorecards):
        frame["policy"] = pd.Categorical(frame["policy"], categories=names)
    return Panel(settings, runs, summary, paired, timeline, cycles, market,
                 _front(themes, "policy"), _front(scorecards, "policy"), time.perf_counter() - t0)


def _front(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    return frame[[column, *[c for c in frame.columns if c != column]]]


def _stack(digests: Sequence[Digest], attr: str, extra: Any) -> pd.DataFrame:
    parts = []
    for d in digests:
        cols = getattr(d, attr)
        n = len(next(iter(cols.values())))
        parts.append(pd.DataFrame({"policy": [d.policy] * n, "replication": np.full(n, d.replication),
                                   **extra(d), **cols}))
    return pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------------------- aggregations
def band(frame: pd.DataFrame, by: Sequence[str], value: str, quantiles: tuple[float, float] = (0.1, 0.9)) -> pd.DataFrame:
    """Median, mean and a quantile band of `value` across replications, per group `by`.

    Returns ``by`` + ``low``, ``median``, ``high``, ``mean``, ``n``.  A band across
    replications shows what to expect in one organisation; the CI of a mean (in the KPI
    charts) shows how sure the comparison is.  Both matter and are kept apart.
    """
    g = frame.groupby(list(by), observed=True, sort=True)[value]
    out = pd.DataFrame({
        "low": g.quantile(quantiles[0]),
        "median": g.median(),
        "high": g.quantile(quantiles[1]),
        "mean": g.mean(),
        "n": g.count(),
    }).reset_index()
    return out


def paired_differences(runs: pd.DataFrame, kpi: str, baseline: str | None = None) -> pd.DataFrame:
    """Per-replication difference of `kpi` between each policy and the baseline.

    Returns ``replication``, ``policy``, ``difference``, ``relative`` (difference over the
    baseline's absolute value; NaN where the baseline is 0).
    """
    if kpi not in runs.columns:
        have = ", ".join(c for c in runs.columns if c not in ("replication", "policy"))
        raise ParameterError(f"unknown KPI {kpi!r}; the runs frame has {have}")
    names = list(dict.fromkeys(runs["policy"].astype(str)))
    baseline = baseline or names[0]
    if baseline not in names:
        raise ParameterError(f"baseline {baseline!r} is not among the policies {names}")
    wide = runs.pivot_table(index="replication", columns="policy", values=kpi, observed=True)
    base = wide[baseline]
    rows = []
    for p in names:
        if p == baseline:
            continue
        d = wide[p] - base
        rel = d / base.abs().where(base != 0)
        rows.append(pd.DataFrame({"replication": wide.index, "policy": p, "difference": d.to_numpy(),
                                  "relative": rel.to_numpy()}))
    if not rows:
        return pd.DataFrame(columns=["replication", "policy", "difference", "relative"])
    return pd.concat(rows, ignore_index=True)


def theme_shares(themes: pd.DataFrame, bin_weeks: int = 4) -> pd.DataFrame:
    """Share of each policy's work per theme in bins of `bin_weeks`, and which themes were top.

    Returns ``policy``, ``week`` (first week of the bin), ``theme``, ``share`` (of the work
    done in that bin), ``top`` (share of the bin's weeks in which the theme was among the
    truly most attractive ones).
    """
    if bin_weeks < 1:
        raise ParameterError(f"bin_weeks = {bin_weeks!r} must be at least 1")
    t = themes.assign(week=(themes["week"] // bin_weeks) * bin_weeks, top=themes["top"].astype(float))
    g = t.groupby(["policy", "week", "theme"], observed=True, sort=True).agg(work=("work", "sum"), top=("top", "mean"))
    g = g.reset_index()
    total = g.groupby(["policy", "week"], observed=True)["work"].transform("sum")
    g["share"] = np.where(total > 0, g["work"] / total.where(total > 0, 1.0), 0.0)
    return g[["policy", "week", "theme", "share", "top", "work"]]


def event_aligned(timeline: pd.DataFrame, market: pd.DataFrame, value: str = "aligned_share",
                  window: tuple[int, int] = (-8, 39), kinds: Iterable[str] = ("shift", "shock")) -> pd.DataFrame:
    """`value` around market changes, averaged over every change of every replication.

    Returns ``policy``, ``offset`` (weeks since the change), ``mean``, ``low``, ``high``
    (a 95% interval of the mean across changes) and ``n`` (changes seen at that offset).
    Aligning on the changes shows how fast each policy moves its capacity after the market
    moves, which a calendar-time average blurs because shifts fall on random weeks.
    """
    kinds = tuple(kinds)
    events = market[market["kind"].isin(kinds)]
    lo, hi = window
    offsets = np.arange(lo, hi + 1)
    pieces = []
    for p, tl in timeline.groupby("policy", observed=True, sort=False):
        by_rep = {r: g[value].to_numpy(dtype=float) for r, g in tl.groupby("replication", sort=False)}
        rows = []
        for r, when in zip(events["replication"], events["time"], strict=True):
            series = by_rep.get(r)
            if series is None:
                continue
            weeks = math.ceil(when) + offsets
            ok = (weeks >= 0) & (weeks < len(series))
            vals = np.full(len(offsets), np.nan)
            vals[ok] = series[weeks[ok]]
            rows.append(vals)
        if not rows:
            continue
        m = np.vstack(rows)
        n = np.sum(np.isfinite(m), axis=0)
        mean = _nanmean(m)
        half = 1.96 * _nanstd(m) / np.sqrt(np.maximum(n, 1))
        pieces.append(pd.DataFrame({"policy": p, "offset": offsets, "mean": mean, "low": mean - half,
                                    "high": mean + half, "n": n}))
    if not pieces:
        return pd.DataFrame(columns=["policy", "offset", "mean", "low", "high", "n"])
    return pd.concat(pieces, ignore_index=True)


def _nanmean(m: np.ndarray) -> np.ndarray:
    n = np.sum(np.isfinite(m), axis=0)
    s = np.nansum(m, axis=0)
    return np.where(n > 0, s / np.maximum(n, 1), np.nan)


def _nanstd(m: np.ndarray) -> np.ndarray:
    n = np.sum(np.isfinite(m), axis=0)
    mean = _nanmean(m)
    dev = np.nansum((m - mean) ** 2, axis=0)
    return np.where(n > 1, np.sqrt(dev / np.maximum(n - 1, 1)), 0.0)
