"""The model's side of every check: reference values computed at check time, cached per process.

Checks never compare with numbers typed into the code: they run the model with fixed seeds and
paired replications (common random numbers) when asked, so that a model change moves the
reference with it.  Results are cached by their inputs (scenarios and policies are immutable
and hashable), so a second check of the same task, or a second task on the same baseline,
costs nothing.  Everything runs in-process and serially: no shared state, no pools that could
hang inside a notebook.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from okrsim.core.params import Policy, Scenario
from okrsim.core.streams import replication_seed
from okrsim.experiments.statistics import mean_ci, paired
from okrsim.model.kpis import KPIS, kpi
from okrsim.model.simulation import simulate

__all__ = ["Band", "advantage_curve", "crossing_band", "kpi_runs", "learning_runs", "paired_kpi", "worse_better_tied"]


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    a.setflags(write=False)
    return a


@lru_cache(maxsize=512)
def kpi_runs(scenario: Scenario, policy: Policy, replications: int, seed: int) -> Mapping[str, np.ndarray]:
    """Every KPI of `policy` in replications 0..n-1 of `seed`, as read-only arrays.

    Replication r uses ``replication_seed(seed, r)``, exactly as `okrsim.compare` does, so
    runs of different policies cached separately still pair up.
    """
    rows = [simulate(scenario, policy, replication_seed(seed, r)).kpis for r in range(replications)]
    return {k.name: _frozen([row[k.name] for row in rows]) for k in KPIS}


def paired_kpi(scenario: Scenario, base: Policy, target: Policy, kpi_name: str, replications: int,
               seed: int) -> dict[str, float]:
    """`okrsim.experiments.statistics.paired` of target against base for one KPI (means, CIs, win rate)."""
    b = kpi_runs(scenario, base, replications, seed)[kpi_name]
    t = kpi_runs(scenario, target, replications, seed)[kpi_name]
    out = paired(t, b, kpi(kpi_name).better)
    out["base_mean"] = mean_ci(b)[0]
    out["target_mean"] = mean_ci(t)[0]
    return out


def worse_better_tied(scenario: Scenario, base: Policy, target: Policy, replications: int,
                      seed: int) -> dict[str, dict[str, float]]:
    """Every KPI's paired comparison, labelled ``worse``, ``better`` or ``tied`` for the target.

    A KPI is worse (better) when the 95% CI of the paired difference lies entirely on the bad
    (good) side of zero, in the KPI's own direction; otherwise the data cannot tell them apart.
    """
    out = {}
    for spec in KPIS:
        row = paired_kpi(scenario, base, target, spec.name, replications, seed)
        lo, hi = row["ci_low"], row["ci_high"]
        good_side_low = lo if spec.better == "higher" else -hi
        good_side_high = hi if spec.better == "higher" else -lo
        if math.isnan(lo) or math.isnan(hi):
            label = "tied"
        elif good_side_low > 0:
            label = "better"
        elif good_side_high < 0:
            label = "worse"
        else:
            label = "tied"
        out[spec.name] = {**row, "label": label}
    return out


@lru_cache(maxsize=64)
def learning_runs(scenario: Scenario, policy: Policy, replications: int, seed: int,
                  after_week: int = 52) -> tuple[np.ndarray, np.ndarray]:
    """Final estimation error and mean disappointment of cycles starting at or after `after_week`.

    Disappointment (believed minus true log value of planned work delivered in a cycle) is the
    optimizer's curse as the running model shows it; the first year is left out because
    nothing can have been learned before the first retrospective.
    """
    errors, late = [], []
    for r in range(replications):
        run = simulate(scenario, policy, replication_seed(seed, r))
        errors.append(run.kpis["estimation_error"])
        cycles = run.cycles
        d = cycles.loc[cycles["start_week"] >= after_week, "disappointment"].to_numpy(dtype=float)
        d = d[np.isfinite(d)]
        late.append(float(d.mean()) if len(d) else math.nan)
    return _frozen(errors), _frozen(late)


@lru_cache(maxsize=32)
def advantage_curve(scenarios: tuple[Scenario, ...], bases: tuple[Policy, ...], targets: tuple[Policy, ...],
                    replications: int, seed: int, relative: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Paired total-value advantage of targets[i] over bases[i] in scenarios[i], for every i.

    Returns mean, CI low and CI high arrays (relative to the base when `relative`).  Runs of a
    policy that is the same at several points (the annual base of a planning-cost sweep) are
    computed once.
    """
    mean, low, high = [], [], []
    for scenario, base, target in zip(scenarios, bases, targets, strict=True):
        row = paired_kpi(scenario, base, target, "total_value", replications, seed)
        if relative:
            mean.append(row["rel_mean"])
            low.append(row["rel_ci_low"])
            high.append(row["rel_ci_high"])
        else:
            mean.append(row["mean_diff"])
            low.append(row["ci_low"])
            high.append(row["ci_high"])
    return _frozen(mean), _frozen(low), _frozen(high)


@dataclass(frozen=True)
class Band:
    """Where an advantage curve crosses zero, and how sure the replications are about it.

    Attributes
    ----------
    crossing : float
        First zero crossing of the mean curve (linear interpolation between grid values); NaN
        if the mean does not change sign in the range.
    low, high : float
        The connected stretch around the crossing where the 95% CI contains zero: parameter
        values at which the data cannot tell the two policies apart.
    open_low, open_high : bool
        Whether that stretch reaches the end of the range (the true bound may lie beyond).
    rising : bool
        Whether the advantage goes from negative to positive at the crossing.
    """

    crossing: float
    low: float
    high: float
    open_low: bool
    open_high: bool
    rising: bool

    def contains(self, x: float, slack: float = 0.0) -> bool:
        """Whether `x` lies in the band, widened by `slack` on each closed side."""
        lo = -math.inf if self.open_low else self.low - slack
        hi = math.inf if self.open_high else self.high + slack
        return lo <= x <= hi


def crossing_band(x: Sequence[float], mean: Sequence[float], low: Sequence[float], high: Sequence[float],
                  resolution: int = 4001) -> Band:
    """The `Band` of a piecewise-linear advantage curve with a pointwise CI band.

    The CI-band interval is the usual inverse-regression reading of a confidence band; it is
    evaluated on a fine grid (`resolution` points), which is far finer than any tolerance a
    check uses.
    """
    x = np.asarray(x, dtype=float)
    m, lo, hi = (np.asarray(a, dtype=float) for a in (mean, low, high))
    fine = np.linspace(x[0], x[-1], resolution)
    fm, flo, fhi = (np.interp(fine, x, a) for a in (m, lo, hi))
    sign = np.sign(fm)
    changes = np.nonzero((sign[:-1] * sign[1:] < 0) | (sign[:-1] == 0))[0]
    if len(changes) == 0:
        return Band(math.nan, math.nan, math.nan, False, False, bool(m[-1] > m[0]))
    i = int(changes[0])
    crossing = float(fine[i] - fm[i] * (fine[i + 1] - fine[i]) / (fm[i + 1] - fm[i])) if fm[i + 1] != fm[i] else float(fine[i])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        inside = (flo <= 0) & (fhi >= 0)
    a = b = i
    while a > 0 and inside[a - 1]:
        a -= 1
    while b < resolution - 1 and inside[b + 1]:
        b += 1
    return Band(crossing, float(fine[a]), float(fine[b]), a == 0, b == resolution - 1, bool(fm[i + 1] > fm[i]))
