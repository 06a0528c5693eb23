"""Replication statistics: means with confidence intervals, paired differences, win rates.

Kept separate from the simulation so that every consumer (comparisons, sweeps, notebooks,
exercise checks) summarises replications the same way.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["mean_ci", "paired"]


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and Student-t confidence interval of finite `values`.

    Returns ``(mean, low, high, n)``; with fewer than two finite values the interval is NaN,
    because one replication says nothing about the spread.
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    m = float(x.mean())
    if n < 2:
        return m, math.nan, math.nan, n
    from scipy import stats  # imported here: scipy costs half of `import okrsim`

    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return m, m - half, m + half, n


def paired(values: np.ndarray, baseline: np.ndarray, better: str = "higher", level: float = 0.95) -> dict[str, float]:
    """Paired comparison of `values` against `baseline`, replication by replication.

    Parameters
    ----------
    values, baseline : ndarray
        One entry per replication, the same replications in the same order (common random
        numbers make the difference far less noisy than the two means).
    better : {"higher", "lower"}
        Direction that counts as a win.

    Returns
    -------
    dict
        ``mean_diff``, ``ci_low``, ``ci_high`` of ``values - baseline``; ``win_rate``, the share
        of replications where `values` is better (ties count half); ``rel_mean``, ``rel_ci_low``,
        ``rel_ci_high`` of the relative difference ``(values - baseline) / |baseline|``; ``n``.
    """
    v = np.asarray(values, dtype=float)
    b = np.asarray(baseline, dtype=float)
    ok = np.isfinite(v) & np.isfinite(b)
    d = v[ok] - b[ok]
    mean, low, high, n = mean_ci(d, level)
    if n == 0:
        win = math.nan
    else:
        sign = d if better == "higher" else -d
        win = float(np.mean(sign > 0) + 0.5 * np.mean(sign == 0))
    nonzero = ok & (b != 0)
    rel = (v[nonzero] - b[nonzero]) / np.abs(b[nonzero])
    rmean, rlow, rhigh, _ = mean_ci(rel, level)
    return {"mean_diff": mean, "ci_low": low, "ci_high": high, "win_rate": win,
            "rel_mean": rmean, "rel_ci_low": rlow, "rel_ci_high": rhigh, "n": n}
