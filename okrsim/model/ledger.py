"""The ledger: value and capacity as piecewise-constant rates, integrated in closed form.

Between two events nothing changes: each delivered initiative earns its value rate times the
attractiveness of its themes, and each team spends its capacity on overhead, switching, its
active parts or nothing.  So the model records only *changes* of rates, at the time they
happen, and integrates them exactly once at the end of a run.  Weekly frames are samples of
those integrals at whole weeks, not the product of weekly ticks: an initiative delivered at
week 3.4 earns from week 3.4 on.
"""

from __future__ import annotations

import numpy as np

from okrsim.model.ideas import SECONDARY_WEIGHT
from okrsim.model.market import MarketPath

__all__ = ["Ledger"]


class Ledger:
    """Rate changes of one run, by column, and their exact integrals.

    Columns, for ``K`` themes: value rate per theme (``0 .. K-1``, value at attractiveness 1),
    synergy rate per theme (``K .. 2K-1``), work per theme (``2K .. 3K-1``, team-weeks per
    week), then overhead, switching and idle capacity (team-weeks per week), then the penalty
    rate of mandatory work past its deadline (value per week, whatever the market does), then
    run work and mandatory work (team-weeks per week; mandatory work is not in the work per
    theme, which is the work the organisation chose).

    Parameters
    ----------
    n_themes : int
    weeks : int
        The horizon: integrals stop there.
    """

    def __init__(self, n_themes: int, weeks: int):
        self.k, self.weeks = n_themes, weeks
        self.value_col, self.synergy_col, self.work_col = 0, n_themes, 2 * n_themes
        self.overhead_col, self.switching_col, self.idle_col = 3 * n_themes, 3 * n_themes + 1, 3 * n_themes + 2
        self.penalty_col, self.run_col, self.mandatory_col = 3 * n_themes + 3, 3 * n_themes + 4, 3 * n_themes + 5
        self.width = 3 * n_themes + 6
        self.times: list[float] = []
        self.cols: list[int] = []
        self.deltas: list[float] = []

    def change(self, t: float, col: int, delta: float) -> None:
        """Add `delta` to the rate of column `col` from time `t` on."""
        self.times.append(t)
        self.cols.append(col)
        self.deltas.append(delta)

    def earn(self, t: float, theme: int, theme2: int, delta: float, synergy: bool = False) -> None:
        """Change an initiative's value rate by `delta` from `t` on, split over its themes."""
        base = self.synergy_col if synergy else self.value_col
        if theme2 < 0:
            self.change(t, base + theme, delta)
        else:
            self.change(t, base + theme, delta * (1.0 - SECONDARY_WEIGHT))
            self.change(t, base + theme2, delta * SECONDARY_WEIGHT)

    def weekly(self, path: MarketPath) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Integrals over each whole week: the timeline columns and the work per theme.

        Returns
        -------
        timeline : dict
            ``value``, ``synergy`` (value earned in each week, at the attractiveness in force
            at each instant), ``overhead``, ``switching``, ``idle`` (team-weeks in each week),
            ``penalty`` (value lost in each week to mandatory work past its deadline), ``run``
            and ``mandatory`` (team-weeks of run work and of mandatory work in each week).
        theme_capacity : ndarray, shape (weeks, K)
            Team-weeks spent on each theme's discretionary initiatives in each week (mandatory
            work is in the timeline's ``mandatory``).
        """
        weeks, k = self.weeks, self.k
        t = np.fromiter(self.times, float, len(self.times))
        whole = np.arange(weeks + 1, dtype=float)
        # every instant at which some rate or the attractiveness changes, and every whole week
        grid = _instants(np.concatenate((t, path.times, whole)), weeks)
        # a change at or after the horizon earns nothing within it: it lands in the last row,
        # which is never in force
        at = np.minimum(grid.searchsorted(t), len(grid) - 1)
        cols = np.fromiter(self.cols, np.int64, len(self.cols))
        deltas = np.fromiter(self.deltas, float, len(self.deltas))
        flat = np.bincount(at * self.width + cols, weights=deltas, minlength=len(grid) * self.width)
        rates = flat.reshape(len(grid), self.width).cumsum(axis=0)[:-1]  # in force on [grid[s], grid[s + 1])
        np.maximum(rates, 0.0, out=rates)  # no rate is negative; this drops rounding residue
        seg = rates * (grid[1:] - grid[:-1])[:, None]
        attract = path.levels[path.times.searchsorted(grid[:-1], side="right") - 1]
        seg[:, :k] *= attract
        seg[:, k:2 * k] *= attract
        cum = np.zeros((len(grid), self.width))
        seg.cumsum(axis=0, out=cum[1:])
        at_weeks = cum[grid.searchsorted(whole)]
        per_week = at_weeks[1:] - at_weeks[:-1]
        timeline = {
            "value": per_week[:, :k].sum(axis=1),
            "synergy": per_week[:, k:2 * k].sum(axis=1),
            "overhead": per_week[:, self.overhead_col],
            "switching": per_week[:, self.switching_col],
            "idle": per_week[:, self.idle_col],
            "penalty": per_week[:, self.penalty_col],
            "run": per_week[:, self.run_col],
            "mandatory": per_week[:, self.mandatory_col],
        }
        return timeline, per_week[:, 2 * k:3 * k]


def _instants(times: np.ndarray, weeks: int) -> np.ndarray:
    """The distinct values of `times` up to `weeks`, sorted.

    The same as ``np.unique`` followed by a cut at `weeks`, without its wrapper's overhead,
    which matters for the few thousand times of one run.
    """
    times.sort()
    times = times[:times.searchsorted(weeks, side="right")]
    distinct = np.empty(len(times), bool)
    distinct[:1] = True
    np.not_equal(times[1:], times[:-1], out=distinct[1:])
    return times[distinct]
