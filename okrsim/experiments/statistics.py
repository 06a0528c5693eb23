"""Replication statistics: means with confidence intervals, paired differences, win rates,
and paired equivalence tests.

Kept separate from the simulation so that every consumer (comparisons, sweeps, notebooks,
exercise checks) summarises replications the same way.
"""

from __future__ import annotations

import math

import numpy as np

from okrsim.core.errors import ParameterError

__all__ = ["equivalence", "mean_ci", "paired"]


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


def equivalence(values: np.ndarray, baseline: np.ndarray, margin: float, level: float = 0.95) -> dict[str, float]:
    """Paired equivalence test (TOST) of `values` against `baseline` within ``±margin``.

    Claiming that two policies "tie" because the confidence interval of their difference
    happens to include zero confuses absence of evidence with evidence of absence: a noisy or
    small experiment includes zero by default.  Two one-sided tests (Schuirmann 1987) turn the
    burden of proof around: the null hypothesis is that the policies differ by at least
    `margin`, and equivalence is claimed only when both ``mean(values - baseline) > -margin``
    and ``mean(values - baseline) < +margin`` are shown at significance ``1 - level``.  That
    is the same as the ``1 - 2 * (1 - level)`` confidence interval (90% for ``level=0.95``)
    lying inside ``(-margin, +margin)``.  More noise or fewer replications can then only make
    a tie harder to claim, never easier.

    Parameters
    ----------
    values, baseline : ndarray
        One entry per replication, the same replications in the same order (as for `paired`).
        Pairs where either value is not finite are dropped.
    margin : float
        The largest difference, in the KPI's own units, that still counts as no difference.
        Choose it before looking at the data, from what matters in the KPI (for example a
        small share of the baseline's mean), and state it with the claim.
    level : float
        Confidence level; each one-sided test runs at significance ``alpha = 1 - level``.

    Returns
    -------
    dict
        ``mean_diff`` of ``values - baseline``; ``ci_low``, ``ci_high``, its ``1 - 2*alpha``
        confidence interval; ``margin``; ``p_lower``, the p-value of the test against
        ``mean_diff <= -margin``, and ``p_upper`` against ``mean_diff >= +margin``; ``p``, the
        larger of the two; ``equivalent``, whether ``p < alpha``; ``n``, the pairs used.
        With fewer than two pairs nothing is known about the spread: the interval and the
        p-values are NaN and ``equivalent`` is False.  When every difference is the same
        (zero variance) the t statistic is undefined; the differences are then known exactly,
        so the interval is that one value, each p-value is 0 or 1, and ``equivalent`` is
        ``abs(mean_diff) < margin``.

    Raises
    ------
    ParameterError
        If `margin` is not a finite number greater than 0, or `level` is not in (0.5, 1).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> base = rng.normal(100, 10, 50)
    >>> equivalence(base + rng.normal(0, 0.5, 50), base, margin=1.0)["equivalent"]
    True
    """
    if isinstance(margin, bool) or not isinstance(margin, (int, float, np.integer, np.floating)) \
            or not math.isfinite(margin) or margin <= 0:
        raise ParameterError(f"margin = {margin!r} must be a finite number greater than 0, "
                             "in the KPI's own units")
    if isinstance(level, bool) or not isinstance(level, (int, float, np.integer, np.floating)) \
            or not 0.5 < level < 1:
        raise ParameterError(f"level = {level!r} must be a number in (0.5, 1), e.g. 0.95")
    margin, alpha = float(margin), 1.0 - float(level)
    v = np.asarray(values, dtype=float)
    b = np.asarray(baseline, dtype=float)
    ok = np.isfinite(v) & np.isfinite(b)
    d = v[ok] - b[ok]
    mean, low, high, n = mean_ci(d, 1.0 - 2.0 * alpha)
    if n < 2:
        p_lower = p_upper = math.nan
    elif np.all(d == d[0]):  # zero variance: the difference is known exactly
        low = high = mean
        p_lower = 0.0 if mean > -margin else 1.0
        p_upper = 0.0 if mean < margin else 1.0
    else:
        from scipy import stats

        p_lower = float(stats.ttest_1samp(d, -margin, alternative="greater").pvalue)
        p_upper = float(stats.ttest_1samp(d, margin, alternative="less").pvalue)
    p = max(p_lower, p_upper) if n >= 2 else math.nan
    return {"mean_diff": mean, "ci_low": low, "ci_high": high, "margin": margin,
            "p_lower": p_lower, "p_upper": p_upper, "p": p, "equivalent": bool(p < alpha), "n": n}
