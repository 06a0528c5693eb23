"""Outcomes of a sweep, one value per design point: KPI means and paired advantages.

Analyses (sensitivity indices, break-even curves, maps) all start by reducing the tidy run
frame to one number per design point.  The reductions live here so that they agree: an
*advantage* is always the paired difference ``target - baseline`` of one KPI, replication by
replication (common random numbers make it far less noisy than a difference of means), and
only replications where both runs have a finite value count, exactly as in
`okrsim.experiments.statistics.paired`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from okrsim.core.errors import ParameterError
from okrsim.experiments.statistics import paired
from okrsim.model.kpis import kpi

__all__ = ["DEFAULT_KPI", "Output", "paired_by_point", "parse_output", "point_means"]

#: The KPI analyses use unless told otherwise: value delivered, the question of the kit.
DEFAULT_KPI = "total_value"


@dataclass(frozen=True)
class Output:
    """One analysed outcome: a KPI of one policy, or the advantage of one policy over another."""

    name: str
    kpi: str
    policy: str
    baseline: str | None = None

    @property
    def is_advantage(self) -> bool:
        return self.baseline is not None


def parse_output(text: str, policies: Sequence[str]) -> Output:
    """Read an output name.

    ``advantage`` or ``advantage:KPI``
        Paired advantage of the last policy over the first (default KPI total_value).
    ``POLICY:KPI``
        Mean KPI of one policy.  A bare ``KPI`` means the last policy's.
    """
    if not isinstance(text, str) or not text:
        raise ParameterError(f"output = {text!r} must be 'advantage', 'advantage:KPI', 'POLICY:KPI' or 'KPI'")
    head, sep, tail = text.partition(":")
    if head == "advantage":
        if len(policies) < 2:
            raise ParameterError(f"output {text!r} needs two policies to compare; the sweep has {list(policies)}")
        name = tail if sep else DEFAULT_KPI
        kpi(name)
        return Output(f"advantage:{name}", name, policies[-1], policies[0])
    if sep:
        if head not in policies:
            raise ParameterError(f"output {text!r} names policy {head!r}, which is not in the sweep: {list(policies)}")
        kpi(tail)
        return Output(text, tail, head)
    kpi(text)
    return Output(f"{policies[-1]}:{text}", text, policies[-1])


def _pivot(frame: pd.DataFrame, name: str, policies: Sequence[str]) -> pd.DataFrame:
    sub = frame[frame["policy"].isin(list(policies))]
    return sub.pivot_table(index=["point", "replication"], columns="policy", values=name, aggfunc="first", dropna=False)


def point_means(frame: pd.DataFrame, output: Output, n_points: int) -> np.ndarray:
    """Mean of `output` over replications at each point ``0 .. n_points - 1`` (NaN if none finite)."""
    if output.is_advantage:
        wide = _pivot(frame, output.kpi, [output.baseline, output.policy])  # type: ignore[list-item]
        values = (wide[output.policy] - wide[output.baseline]).rename("v").reset_index()
    else:
        values = frame.loc[frame["policy"] == output.policy, ["point", output.kpi]].rename(columns={output.kpi: "v"})
    means = values.groupby("point")["v"].mean()  # skips NaN
    return means.reindex(np.arange(n_points)).to_numpy(dtype=float)


def paired_by_point(frame: pd.DataFrame, baseline: str, target: str, kpi_name: str = DEFAULT_KPI) -> pd.DataFrame:
    """Paired advantage of `target` over `baseline` at every point, with CI and win rate.

    Returns
    -------
    DataFrame
        ``point``, ``advantage``, ``ci_low``, ``ci_high``, ``win_rate``, ``n``.
    """
    spec = kpi(kpi_name)
    wide = _pivot(frame, kpi_name, [baseline, target])
    for p in (baseline, target):
        if p not in wide.columns:
            raise ParameterError(f"policy {p!r} is not in the results; policies are {sorted(frame['policy'].unique())}")
    rows = []
    for point, g in wide.groupby(level="point", sort=True):
        res = paired(g[target].to_numpy(), g[baseline].to_numpy(), spec.better)
        rows.append({"point": int(point), "advantage": res["mean_diff"], "ci_low": res["ci_low"],
                     "ci_high": res["ci_high"], "win_rate": res["win_rate"], "n": int(res["n"])})
    return pd.DataFrame(rows, columns=["point", "advantage", "ci_low", "ci_high", "win_rate", "n"])
