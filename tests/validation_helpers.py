"""Helpers for the validation suite: a statistical claim holds at every one of several seeds.

A claim checked at one seed may hold by luck (or because the seed was picked until it did).
`over_seeds` runs the same claim, with the same parameters and replications, at each of
`SEEDS` and fails with every seed's numbers when it fails at any of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np

from okrsim import Comparison
from okrsim.experiments.statistics import equivalence

__all__ = ["SEEDS", "numbers", "over_seeds", "tie"]

#: The seeds of every claim: the same three everywhere, none picked per claim.
SEEDS: tuple[int, ...] = (1, 2, 3)

T = TypeVar("T")


def over_seeds(claim: Callable[[int], T], seeds: tuple[int, ...] = SEEDS) -> dict[int, T]:
    """Check `claim(seed)` at every seed in `seeds`; return each seed's result.

    `claim` asserts and returns the numbers it judged.  Every seed runs even after one
    fails, and the AssertionError raised at the end names each failing seed with its
    message, so a report shows whether a claim fails at one seed or at all of them.
    """
    results: dict[int, T] = {}
    failures: dict[int, str] = {}
    for seed in seeds:
        try:
            results[seed] = claim(seed)
        except AssertionError as exc:
            failures[seed] = str(exc).splitlines()[0] if str(exc) else repr(exc)
    if failures:
        lines = "\n".join(f"  seed {s}: {msg}" for s, msg in failures.items())
        raise AssertionError(f"fails at {len(failures)} of {len(seeds)} seeds:\n{lines}")
    return results


def numbers(row: Mapping[str, Any]) -> str:
    """One line of the statistics of a paired or equivalence result, for assertion messages."""
    parts = []
    for key, fmt in (("mean_diff", "{:.4g}"), ("ci_low", "{:.4g}"), ("ci_high", "{:.4g}"), ("rel_mean", "{:.4f}"),
                     ("rel_ci_low", "{:.4f}"), ("rel_ci_high", "{:.4f}"), ("margin", "{:.4g}"), ("p", "{:.3g}"),
                     ("n", "{:d}")):
        if key in row:
            value = int(row[key]) if key == "n" else float(row[key])
            parts.append(f"{key}={fmt.format(value)}")
    return " ".join(parts)


def tie(c: Comparison, policy: str, share: float, kpi: str = "total_value") -> dict[str, Any]:
    """Equivalence test of `policy` against the baseline of `c` on `kpi`.

    The margin is `share` of the baseline's mean `kpi` in the same replications: computed
    by one rule at every seed, never typed in or chosen per seed.
    """
    runs = c.runs.sort_values("replication")
    base = runs.loc[runs.policy == c.baseline.name, kpi].to_numpy(dtype=float)
    values = runs.loc[runs.policy == policy, kpi].to_numpy(dtype=float)
    return equivalence(values, base, margin=share * abs(float(np.nanmean(base))))
