"""Break-even: where does the advantage of quarterly OKR cycles turn into a disadvantage?

`breakeven` sweeps one parameter over a grid, computes the paired advantage of the target
policy over the base at each value (with a confidence interval from the replications), and
finds where the mean advantage crosses zero by linear interpolation between grid values.

The interval around the crossing is the set of parameter values at which the confidence
interval of the advantage contains zero, i.e. values at which the data cannot tell the two
policies apart (the usual inverse-regression reading of a confidence band); it is pointwise,
not simultaneous, and is computed exactly on the piecewise-linear band.  When it reaches
the end of the swept range the bound is that end and the message says to widen the range.

`advantage_map` does the same on a two-parameter grid (turbulence x planning cost, say)
and returns the frame a heat map is drawn from.
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
from okrsim.experiments.designs import Design, factor, full_grid
from okrsim.experiments.outcomes import DEFAULT_KPI, paired_by_point
from okrsim.experiments.sweeps import SweepResult, sweep

__all__ = ["BreakEven", "advantage_curve", "advantage_map", "breakeven", "find_crossing", "map_from_sweep"]

CURVE_COLUMNS = ("parameter", "value", "advantage", "ci_low", "ci_high", "win_rate", "n")
MAP_COLUMNS = ("x_parameter", "x", "y_parameter", "y", "advantage", "ci_low", "ci_high", "win_rate", "n")


@dataclass(frozen=True, eq=False)
class BreakEven:
    """Result of `breakeven`.

    Attributes
    ----------
    parameter : str
    frame : DataFrame
        ``parameter``, ``value``, ``advantage``, ``ci_low``, ``ci_high``, ``win_rate``, ``n``:
        the paired advantage of target over base at each swept value.
    crossing : float
        Where the mean advantage crosses zero (first crossing if several); NaN if none.
    crossing_low, crossing_high : float
        Values around the crossing where the advantage's CI contains zero; NaN if no crossing.
    crossings : tuple of float
        Every crossing in the range.
    message : str
        One sentence saying what was found, for people and for ``--json``.
    kpi, base, target : str
    sweep : SweepResult or None
    """

    parameter: str
    frame: pd.DataFrame
    crossing: float
    crossing_low: float
    crossing_high: float
    crossings: tuple[float, ...]
    message: str
    kpi: str
    base: str
    target: str
    sweep: SweepResult | None = None

    def __repr__(self) -> str:
        return f"BreakEven({self.parameter}: {self.message})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN becomes None)."""
        def clean(x: Any) -> Any:
            return None if isinstance(x, float) and math.isnan(x) else x

        return {
            "parameter": self.parameter, "kpi": self.kpi, "base": self.base, "target": self.target,
            "crossing": clean(self.crossing), "crossing_low": clean(self.crossing_low),
            "crossing_high": clean(self.crossing_high), "crossings": list(self.crossings), "message": self.message,
            "curve": [{k: clean(v) for k, v in row.items()} for row in self.frame.to_dict(orient="records")],
        }


# ------------------------------------------------------------------------------ pure parts
def _segment_interval(f0: float, f1: float) -> tuple[float, float] | None:
    """Sub-interval of [0, 1] where the linear function from f0 to f1 is <= 0 (None if empty)."""
    if f0 <= 0 and f1 <= 0:
        return 0.0, 1.0
    if f0 > 0 and f1 > 0:
        return None
    t = f0 / (f0 - f1)
    return (0.0, t) if f0 <= 0 else (t, 1.0)


def _band_interval(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, seg: int, t: float) -> tuple[float, float, bool, bool]:
    """Connected set around position (seg, t) where lo <= 0 <= hi, by piecewise-linear interpolation.

    Returns (low, high, open_low, open_high); the flags say the set reaches the range's end.
    """
    def allowed(s: int) -> tuple[float, float] | None:
        a = _segment_interval(lo[s], lo[s + 1])
        b = _segment_interval(-hi[s], -hi[s + 1])
        if a is None or b is None:
            return None
        left, right = max(a[0], b[0]), min(a[1], b[1])
        return (left, right) if left <= right else None

    def at(s: int, u: float) -> float:
        return float(x[s] + u * (x[s + 1] - x[s]))

    here = allowed(seg)
    if here is None:  # pragma: no cover - the CI always contains the mean, which is 0 here
        return at(seg, t), at(seg, t), False, False
    low_s, low_u = seg, here[0]
    while low_u == 0.0 and low_s > 0:
        prev = allowed(low_s - 1)
        if prev is None or prev[1] < 1.0:
            break
        low_s, low_u = low_s - 1, prev[0]
    high_s, high_u = seg, here[1]
    while high_u == 1.0 and high_s < len(x) - 2:
        nxt = allowed(high_s + 1)
        if nxt is None or nxt[0] > 0.0:
            break
        high_s, high_u = high_s + 1, nxt[1]
    return at(low_s, low_u), at(high_s, high_u), low_s == 0 and low_u == 0.0, high_s == len(x) - 2 and high_u == 1.0


def find_crossing(curve: pd.DataFrame) -> tuple[float, float, float, tuple[float, ...], str]:
    """Zero crossings of a curve frame (``value``, ``advantage``, ``ci_low``, ``ci_high``).

    Returns
    -------
    crossing, crossing_low, crossing_high : float
        First crossing and the interval around it (see the module docstring); NaN if none.
    crossings : tuple of float
        All crossings, in increasing order.
    message : str
    """
    c = curve.sort_values("value")
    x = c["value"].to_numpy(dtype=float)
    m = c["advantage"].to_numpy(dtype=float)
    lo = c["ci_low"].to_numpy(dtype=float)
    hi = c["ci_high"].to_numpy(dtype=float)
    if len(x) < 2:
        raise ParameterError("a break-even needs the advantage at two or more parameter values")
    if not np.isfinite(m).all():
        return math.nan, math.nan, math.nan, (), "the advantage is undefined at some values; no break-even computed"
    found: list[tuple[int, float]] = []
    for s in range(len(x) - 1):
        if m[s] == 0:
            found.append((s, 0.0))
        elif m[s] * m[s + 1] < 0:
            found.append((s, m[s] / (m[s] - m[s + 1])))
    if m[-1] == 0:
        found.append((len(x) - 2, 1.0))
    crossings = tuple(float(x[s] + u * (x[s + 1] - x[s])) for s, u in found)
    lo_x, hi_x = x[0], x[-1]
    if not found:
        sign = "positive" if m[0] > 0 else "negative"
        return (math.nan, math.nan, math.nan, (),
                f"no break-even in [{lo_x:g}, {hi_x:g}]: the advantage stays {sign} "
                f"(from {m[0]:.4g} to {m[-1]:.4g}); widen the range to find one")
    seg, u = found[0]
    crossing = crossings[0]
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        return crossing, math.nan, math.nan, crossings, (
            f"the advantage crosses zero at {crossing:.4g}; no interval (needs at least 2 replications)")
    low, high, open_low, open_high = _band_interval(x, lo, hi, seg, u)
    direction = "falls below" if m[seg] > 0 or (m[seg] == 0 and m[-1] < 0) else "rises above"
    msg = f"the advantage {direction} zero at {crossing:.4g} (95% CI {low:.4g} to {high:.4g})"
    if open_low or open_high:
        msg += "; the interval reaches the end of the swept range, so widen it for a closed interval"
    if len(crossings) > 1:
        msg += f"; it crosses zero {len(crossings)} times, at {', '.join(f'{v:.4g}' for v in crossings)}"
    return crossing, low, high, crossings, msg


def advantage_curve(result: SweepResult, parameter: str, kpi_name: str = DEFAULT_KPI) -> pd.DataFrame:
    """Paired advantage of the sweep's last policy over its first at each value of `parameter`."""
    if parameter not in result.design.keys or len(result.design.keys) != 1:
        raise ParameterError(f"advantage_curve needs a sweep over {parameter!r} alone; it swept {list(result.design.keys)}")
    base, target = result.policies[0], result.policies[-1]
    frame = result.frame(columns=["point", "policy", "replication", kpi_name])
    adv = paired_by_point(frame, base, target, kpi_name)
    adv.insert(0, "value", result.design.columns[parameter][adv["point"].to_numpy()])
    adv.insert(0, "parameter", parameter)
    return adv.drop(columns="point")[list(CURVE_COLUMNS)].sort_values("value").reset_index(drop=True)


def map_from_sweep(result: SweepResult, x: str, y: str, kpi_name: str = DEFAULT_KPI) -> pd.DataFrame:
    """The two-parameter advantage map of a finished grid sweep over `x` and `y`."""
    if set(result.design.keys) != {x, y}:
        raise ParameterError(f"map_from_sweep needs a sweep over {x!r} and {y!r}; it swept {list(result.design.keys)}")
    base, target = result.policies[0], result.policies[-1]
    frame = result.frame(columns=["point", "policy", "replication", kpi_name])
    adv = paired_by_point(frame, base, target, kpi_name)
    pts = adv["point"].to_numpy()
    adv.insert(0, "y", result.design.columns[y][pts])
    adv.insert(0, "y_parameter", y)
    adv.insert(0, "x", result.design.columns[x][pts])
    adv.insert(0, "x_parameter", x)
    return adv.drop(columns="point")[list(MAP_COLUMNS)].sort_values(["x", "y"]).reset_index(drop=True)


# ------------------------------------------------------------------------------ runners
def _axis(parameter: str, values: Sequence[Any] | None, bounds: Any, points: int) -> dict[str, Any]:
    if values is not None and bounds is not None:
        raise ParameterError(f"{parameter}: give values or bounds, not both")
    if values is not None:
        return {parameter: {"values": list(values)}}
    if isinstance(points, bool) or not isinstance(points, int) or points < 2:
        raise ParameterError(f"points = {points!r} must be a whole number of at least 2")
    return {parameter: bounds}


def _two_policies(policies: Sequence[Policy | str]) -> list[Policy]:
    pols = Policy.coerce_many(policies)
    if len(pols) != 2:
        raise ParameterError(f"policies = {[p.name for p in pols]} must be two policies: the base, then the target")
    return list(pols)


def breakeven(
    parameter: str,
    values: Sequence[Any] | None = None,
    *,
    bounds: Any = None,
    points: int = 11,
    scenario: Scenario | str = "dynamic",
    policies: Sequence[Policy | str] = ("annual", "quarterly_okr"),
    kpi_name: str = DEFAULT_KPI,
    replications: int = 20,
    seed: int = 0,
    **sweep_options: Any,
) -> BreakEven:
    """The value of `parameter` at which the paired advantage of target over base crosses zero.

    Parameters
    ----------
    parameter : str
        A world parameter (``market.shift_rate``), a lever for both policies
        (``policy.planning_cost``) or for one (``quarterly_okr.planning_cost``).
    values : sequence, optional
        Values to run; otherwise `points` evenly spaced values over `bounds`.
    bounds : (low, high), optional
        Range; the registry's valid range by default.
    policies : (base, target)
    kpi_name : str
        KPI whose advantage is tracked (default total_value).
    replications, seed, **sweep_options
        As for `okrsim.experiments.sweeps.sweep` (``out``, ``executor``, ``workers``, ``progress`` ...).
    """
    pols = _two_policies(policies)
    factors = _axis(parameter, values, bounds, points)
    design = full_grid(factors, levels=points)
    key = design.keys[0]
    res = sweep(design, scenario, pols, replications, seed, **sweep_options)
    curve = advantage_curve(res, key, kpi_name)
    crossing, low, high, crossings, msg = find_crossing(curve)
    return BreakEven(key, curve, crossing, low, high, crossings, msg, kpi_name, res.policies[0], res.policies[-1], res)


def advantage_map(
    x: str,
    y: str,
    *,
    x_values: Sequence[Any] | None = None,
    y_values: Sequence[Any] | None = None,
    x_bounds: Any = None,
    y_bounds: Any = None,
    points: int | tuple[int, int] = 7,
    scenario: Scenario | str = "dynamic",
    policies: Sequence[Policy | str] = ("annual", "quarterly_okr"),
    kpi_name: str = DEFAULT_KPI,
    replications: int = 10,
    seed: int = 0,
    **sweep_options: Any,
) -> pd.DataFrame:
    """Paired advantage of target over base on a grid of two parameters.

    Returns
    -------
    DataFrame
        ``x_parameter``, ``x``, ``y_parameter``, ``y``, ``advantage``, ``ci_low``, ``ci_high``,
        ``win_rate``, ``n``; one row per grid cell.  Pass ``out=`` to keep the runs, or run
        `okrsim.experiments.sweeps.sweep` over a `full_grid` yourself and call `map_from_sweep`.
    """
    pols = _two_policies(policies)
    nx, ny = (points, points) if isinstance(points, int) else points
    fx = _axis(x, x_values, x_bounds, nx)
    fy = _axis(y, y_values, y_bounds, ny)
    kx, ky = factor(x).key, factor(y).key
    design: Design = full_grid({**fx, **fy}, levels={kx: nx, ky: ny})
    res = sweep(design, scenario, pols, replications, seed, **sweep_options)
    return map_from_sweep(res, kx, ky, kpi_name)
