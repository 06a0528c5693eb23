"""Which part of the OKR practice produces the advantage?  Shapley values over the four effects.

The advantage of a target policy (``quarterly_okr``) over a base (``annual``) is split into
agility, alignment, transparency and learning.  Effects interact (a shorter cadence is worth
more when retrospectives learn from each cycle), so "switch one effect on alone" and "switch
one off last" give different answers; the Shapley value averages an effect's marginal
contribution over every order in which the four could be switched on, which is the unique
split that is fair to interactions and adds up exactly:

    phi_i = sum over coalitions S without i of |S|! (n - |S| - 1)! / n! * (v(S + i) - v(S))

with v(S) the KPI of the base policy with the levers of the effects in S taken from the
target.  All 16 coalitions run in every replication with common random numbers, the split is
computed replication by replication (so the four contributions sum to that replication's
total advantage to floating-point precision, which is checked), and the means get
confidence intervals across replications.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from okrsim.core.errors import ParameterError
from okrsim.core.params import Policy, Scenario
from okrsim.core.registry import EFFECTS, POLICY_SECTION, specs
from okrsim.experiments.outcomes import DEFAULT_KPI
from okrsim.experiments.statistics import mean_ci
from okrsim.experiments.sweeps import SweepResult, sweep
from okrsim.model.kpis import kpi

__all__ = ["Decomposition", "coalition_policies", "decompose", "effect_changes", "shapley"]

#: Relative tolerance of the check that contributions add up to the total advantage.
SUM_TOLERANCE = 1e-9


def effect_changes(base: Policy, target: Policy) -> dict[str, dict[str, Any]]:
    """For each effect, the levers in which `target` differs from `base`, with target's values.

    For ``annual`` and ``quarterly_okr`` these are exactly `okrsim.core.params.effect_levers`;
    for other pairs every differing lever is assigned to its effect in the registry, so the
    full coalition always equals the target.
    """
    out: dict[str, dict[str, Any]] = {e: {} for e in EFFECTS}
    for p in specs(POLICY_SECTION):
        if getattr(base, p.name) != getattr(target, p.name):
            if p.effect not in out:  # pragma: no cover - every lever has an effect in the registry
                raise ParameterError(f"lever {p.key} belongs to no effect and cannot be decomposed")
            out[p.effect][p.name] = getattr(target, p.name)
    return out


def coalition_policies(base: Policy, target: Policy) -> list[Policy]:
    """The 16 policies: coalition with bit mask m has the effects ``EFFECTS[i]`` with bit i set.

    Coalition 0 is `base`, coalition 15 has every difference switched and equals `target`
    in every lever.  Coalition 0 keeps the base's name, the others are named by their effects
    joined by ``+`` (``agility+learning``).
    """
    changes = effect_changes(base, target)
    out = []
    for mask in range(2 ** len(EFFECTS)):
        members = [e for i, e in enumerate(EFFECTS) if mask >> i & 1]
        levers = {k: v for e in members for k, v in changes[e].items()}
        out.append(base.replace(levers, name="+".join(members) if members else base.name))
    return out


def _weights(n: int) -> np.ndarray:
    return np.array([math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)])


def shapley(values: np.ndarray) -> np.ndarray:
    """Shapley values of the game ``values[..., mask]`` over ``n`` players.

    Parameters
    ----------
    values : ndarray, shape (..., 2**n)
        v(S) for every coalition, indexed by bit mask (bit i = player i).

    Returns
    -------
    ndarray, shape (..., n)
        Contributions; they sum to ``values[..., -1] - values[..., 0]``.
    """
    values = np.asarray(values, dtype=float)
    size = values.shape[-1]
    n = size.bit_length() - 1
    if size != 2**n or n < 1:
        raise ParameterError(f"a game needs 2**n coalition values; got {size}")
    w = _weights(n)
    out = np.zeros((*values.shape[:-1], n))
    for i in range(n):
        bit = 1 << i
        for mask in range(size):
            if not mask & bit:
                out[..., i] += w[bin(mask).count("1")] * (values[..., mask | bit] - values[..., mask])
    return out


@dataclass(frozen=True, eq=False)
class Decomposition:
    """Result of `decompose`.

    Attributes
    ----------
    frame : DataFrame
        One row per effect and a last row ``effect == "total"``: ``effect``, ``contribution``
        (mean Shapley value), ``ci_low``, ``ci_high``, ``share`` (of the total advantage),
        ``alone`` (mean advantage of switching only this effect), ``last`` (mean loss from
        switching only this effect off again), ``n`` (replications).
    per_replication : DataFrame
        ``replication``, ``effect``, ``contribution``, including ``total`` rows.
    coalitions : DataFrame
        Mean KPI of every coalition: ``coalition``, one boolean column per effect, ``mean``,
        ``ci_low``, ``ci_high``.
    total, total_ci_low, total_ci_high : float
        Mean advantage of target over base and its confidence interval.
    kpi, base, target : str
    sweep : SweepResult
        The underlying runs (16 coalitions x replications).
    """

    frame: pd.DataFrame
    per_replication: pd.DataFrame
    coalitions: pd.DataFrame
    total: float
    total_ci_low: float
    total_ci_high: float
    kpi: str
    base: str
    target: str
    sweep: SweepResult

    def __repr__(self) -> str:
        return (f"Decomposition of {self.target} - {self.base} on {self.kpi} "
                f"({self.sweep.spec.replications} replications):\n{self.frame.to_string(index=False)}")


def decompose(
    scenario: Scenario | str = "dynamic",
    base: Policy | str = "annual",
    target: Policy | str = "quarterly_okr",
    *,
    kpi_name: str = DEFAULT_KPI,
    replications: int = 60,
    seed: int = 0,
    out: Any = None,
    executor: Any = "processes",
    workers: int | None = None,
    progress: bool = True,
    **sweep_options: Any,
) -> Decomposition:
    """Split the advantage of `target` over `base` on `kpi_name` into the four effects.

    Parameters
    ----------
    scenario : Scenario, str, path or mapping
        Anything `Scenario.coerce` takes.
    base, target : Policy, str, path or mapping
        Anything `Policy.coerce` takes; default ``annual`` and ``quarterly_okr``.
    kpi_name : str
        KPI to decompose (default ``total_value``).  Contributions are in the KPI's unit and
        signed as ``target - base``: for KPIs where lower is better, a negative contribution
        is an improvement.
    replications : int
        Replications; 16 runs each.  40 to 100 give useful intervals.
    seed, out, executor, workers, progress, **sweep_options
        As for `okrsim.experiments.sweeps.sweep`; with `out` the runs are stored and resumable.

    Returns
    -------
    Decomposition
    """
    spec = kpi(kpi_name)
    base_p, target_p = Policy.coerce(base), Policy.coerce(target)
    coalitions = coalition_policies(base_p, target_p)
    if coalitions[-1].to_dict() | {"name": ""} != target_p.to_dict() | {"name": ""}:  # pragma: no cover - by construction
        raise AssertionError("the full coalition does not reproduce the target policy")
    res = sweep(None, scenario, coalitions, replications, seed, out=out, executor=executor, workers=workers,
                progress=progress, **sweep_options)
    frame = res.frame(columns=["policy", "replication", spec.name])
    wide = frame.pivot(index="replication", columns="policy", values=spec.name)[[p.name for p in coalitions]]
    values = wide.to_numpy(dtype=float)
    return _summarise(values, wide.index.to_numpy(), [p.name for p in coalitions], spec.name,
                      base_p.name, target_p.name, res)


def _summarise(values: np.ndarray, reps: np.ndarray, names: Sequence[str], kpi_name: str, base: str, target: str,
               res: SweepResult) -> Decomposition:
    phi = shapley(values)
    total = values[:, -1] - values[:, 0]
    ok = np.isfinite(values).all(axis=1)
    gap = np.abs(phi[ok].sum(axis=1) - total[ok])
    scale = np.maximum(1.0, np.abs(values[ok]).max(axis=1)) if ok.any() else np.ones(0)
    if (gap > SUM_TOLERANCE * scale).any():  # pragma: no cover - an algebraic identity; guards future edits
        raise AssertionError(f"Shapley contributions do not add up to the total (largest gap {gap.max():g})")
    t_mean, t_lo, t_hi, t_n = mean_ci(total)
    n_eff = len(EFFECTS)
    rows = []
    for i, e in enumerate(EFFECTS):
        m, lo, hi, n = mean_ci(phi[:, i])
        alone = float(np.nanmean(values[:, 1 << i] - values[:, 0]))
        last = float(np.nanmean(values[:, -1] - values[:, (2**n_eff - 1) ^ (1 << i)]))
        rows.append({"effect": e, "contribution": m, "ci_low": lo, "ci_high": hi,
                     "share": m / t_mean if t_mean else math.nan, "alone": alone, "last": last, "n": n})
    rows.append({"effect": "total", "contribution": t_mean, "ci_low": t_lo, "ci_high": t_hi, "share": 1.0,
                 "alone": math.nan, "last": math.nan, "n": t_n})
    per_rep = pd.DataFrame({
        "replication": np.repeat(reps, n_eff + 1),
        "effect": np.tile([*EFFECTS, "total"], len(reps)),
        "contribution": np.column_stack([phi, total]).ravel(),
    })
    coal = []
    for mask, name in enumerate(names):
        m, lo, hi, _ = mean_ci(values[:, mask])
        coal.append({"coalition": name, **{e: bool(mask >> i & 1) for i, e in enumerate(EFFECTS)},
                     "mean": m, "ci_low": lo, "ci_high": hi})
    return Decomposition(pd.DataFrame(rows), per_rep, pd.DataFrame(coal), t_mean, t_lo, t_hi, kpi_name, base, target, res)

