"""Paired comparison of policies in one scenario, with common random numbers.

Replication r of every policy uses the same seed (`okrsim.core.streams.replication_seed`), so
all policies face the same market, the same ideas and the same noise; the paired
differences then measure the policies, not luck.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from okrsim.core.params import Policy, Scenario
from okrsim.core.streams import SeedLike, as_seed_sequence, replication_seed
from okrsim.experiments.designs import whole_number
from okrsim.experiments.statistics import mean_ci, paired
from okrsim.model.kpis import KPIS, kpi
from okrsim.model.simulation import check_compatible, simulate

__all__ = ["Comparison", "compare", "run_replications", "summarise", "versus"]


def _check_replications(replications: int) -> int:
    return whole_number("replications", replications, 1)


def run_replications(scenario: Scenario, policies: Sequence[Policy], replications: range | Sequence[int],
                     seed: SeedLike) -> pd.DataFrame:
    """KPIs of each policy in each of `replications`, one row per (replication, policy).

    A top-level function of plain inputs, so that process pools and dask can run batches of
    replications without pickling closures.
    """
    rows = []
    for r in replications:
        seq = replication_seed(seed, r)
        for p in policies:
            run = simulate(scenario, p, seq)
            rows.append({"replication": r, "policy": p.name, **run.kpis})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Comparison:
    """Result of `compare`.

    Attributes
    ----------
    scenario : Scenario
    policies : tuple of Policy
        In the order given; the first is the baseline of the paired differences.
    seed : int
    replications : int
    runs : DataFrame
        One row per replication and policy: ``replication``, ``policy`` and every KPI.
    summary : DataFrame
        One row per KPI and policy: ``mean``, ``ci_low``, ``ci_high``, ``n``.
    paired : DataFrame
        One row per KPI and non-baseline policy: ``mean_diff``, ``ci_low``, ``ci_high``,
        ``win_rate``, ``rel_mean``, ``rel_ci_low``, ``rel_ci_high``, ``n``.
    """

    scenario: Scenario
    policies: tuple[Policy, ...]
    seed: int
    replications: int
    runs: pd.DataFrame
    summary: pd.DataFrame
    paired: pd.DataFrame

    @property
    def baseline(self) -> Policy:
        """The policy every other is compared with."""
        return self.policies[0]

    def versus(self, policy: str, baseline: str | None = None, kpi_name: str = "total_value") -> pd.Series:
        """Paired statistics of `policy` against any other policy of the comparison (default:
        the baseline), in `kpi_name`; the same fields as a row of `paired`."""
        return versus(self.runs, policy, baseline or self.baseline.name, kpi_name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of ``okrsim compare --json`` (NaN becomes null)."""
        def clean(x: float) -> float | None:
            return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)

        kpis: dict[str, dict[str, dict[str, float | None]]] = {}
        for row in self.summary.itertuples(index=False):
            kpis.setdefault(row.kpi, {})[row.policy] = {
                "mean": clean(row.mean), "ci_low": clean(row.ci_low), "ci_high": clean(row.ci_high)}
        pairs: dict[str, dict[str, dict[str, float | None]]] = {}
        for row in self.paired.itertuples(index=False):
            pairs.setdefault(row.kpi, {})[row.policy] = {
                "mean_diff": clean(row.mean_diff), "ci_low": clean(row.ci_low),
                "ci_high": clean(row.ci_high), "win_rate": clean(row.win_rate)}
        return {
            "scenario": self.scenario.name,
            "seed": self.seed,
            "replications": self.replications,
            "policies": [p.name for p in self.policies],
            "kpis": kpis,
            "paired": pairs,
        }


def versus(runs: pd.DataFrame, policy: str, baseline: str, kpi_name: str = "total_value") -> pd.Series:
    """Paired statistics of `policy` against `baseline` in a runs frame (one row per
    replication and policy), whichever policy the frame was compared with first.

    `paired` compares with the first policy only; a headline with two baselines (the typical
    annual process and the one with stage gates) needs the other pairs from the same runs,
    not a second simulation.  Returns ``mean_diff``, ``ci_low``, ``ci_high``, ``win_rate``,
    ``rel_mean``, ``rel_ci_low``, ``rel_ci_high``, ``n`` (see `okrsim.experiments.statistics.paired`).
    """
    wide = runs.pivot(index="replication", columns="policy", values=kpi_name)
    stats = paired(wide[policy].to_numpy(dtype=float), wide[baseline].to_numpy(dtype=float), kpi(kpi_name).better)
    return pd.Series(stats, name=policy)


def summarise(runs: pd.DataFrame, policies: Sequence[str], kpis: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-policy means with CIs and paired differences against the first policy."""
    summary, pairs = [], []
    by_policy = {p: g.sort_values("replication") for p, g in runs.groupby("policy", sort=False)}
    base = by_policy[policies[0]]
    for name in kpis:
        for p in policies:
            m, lo, hi, n = mean_ci(by_policy[p][name].to_numpy())
            summary.append({"kpi": name, "policy": p, "mean": m, "ci_low": lo, "ci_high": hi, "n": n})
            if p != policies[0]:
                res = paired(by_policy[p][name].to_numpy(), base[name].to_numpy(), kpi(name).better)
                pairs.append({"kpi": name, "policy": p, **res})
    return pd.DataFrame(summary), pd.DataFrame(pairs)


def compare(
    scenario: Scenario | str | os.PathLike[str] | Mapping[str, Any],
    policies: Sequence[Policy | str | os.PathLike[str] | Mapping[str, Any]] = ("annual", "quarterly_okr"),
    replications: int = 30,
    seed: int = 0,
) -> Comparison:
    """Compare `policies` in `scenario` over paired replications.

    Parameters
    ----------
    scenario : Scenario, str, path or mapping
        The world: anything `Scenario.coerce` takes (a preset name, a YAML/JSON file, a mapping).
    policies : sequence
        Policies, preset names, policy files or mappings (see `Policy.coerce_many`); the first
        is the baseline.  A list, not a dict: a dict's keys are not policies.
    replications : int
        Paired replications (30 gives CIs of a few percent on the default scenario).
    seed : int
        Master seed; replication r uses ``replication_seed(seed, r)`` for every policy.

    Examples
    --------
    >>> c = compare("dynamic", ["annual", "quarterly_okr"], replications=5, seed=1)
    >>> list(c.paired.columns)[:3]
    ['kpi', 'policy', 'mean_diff']
    """
    scenario = Scenario.coerce(scenario)
    policy_list = list(Policy.coerce_many(policies))
    replications = _check_replications(replications)
    as_seed_sequence(seed)
    for p in policy_list:
        check_compatible(scenario, p)
    runs = run_replications(scenario, policy_list, range(replications), seed)
    names = [p.name for p in policy_list]
    summary, pairs = summarise(runs, names, [k.name for k in KPIS])
    return Comparison(scenario, tuple(policy_list), int(seed), replications, runs, summary, pairs)
