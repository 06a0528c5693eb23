"""The simulation clock's grid: every event falls on a multiple of `TICK` weeks.

Why: the model must give the same results on every machine, and it nearly did not.  numpy
computes ``exp``, ``log`` and ``log1p`` with different vector code on different CPUs (AVX2,
AVX-512), which can move a result by one unit in the last place.  Times that are equal in
exact arithmetic (every team ending a planning event's overhead at the same moment, say)
then come out as 1.1149999999999998 on one machine and 1.115 on the other, SimPy handles
the events in a different order, and teams pull different work: one replication in forty
of a notebook's comparison changed on a different CPU.  Rounding every event time to a grid
of 2**-32 weeks (about 0.14 ms) makes such times equal again; because the grid step is a
power of two, differences and sums of grid times are exact in binary floating point (for
horizons up to 2**20 weeks), so ``now + (t - now) == t`` and no rounding error creeps back.
Two times that should coincide can still straddle a grid point: the chance is about one
unit in the last place of the time over the tick, about 1e-4 per such pair late in a
three-year run (ulp(156) = 2.8e-14 weeks against a tick of 2.3e-10).

Work left when a team wakes on the grid instead of at the exact moment is at most half a
tick times its rate, far below the teams' tolerance (`okrsim.model.teams.EPS`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["TICK", "on_grid", "on_grid_array"]

#: The grid step in weeks (a power of two, so grid arithmetic is exact).
TICK = 2.0**-32
_PER_WEEK = 2.0**32


def on_grid(t: float) -> float:
    """`t` (weeks) rounded to the nearest grid time."""
    return round(t * _PER_WEEK) / _PER_WEEK


def on_grid_array(t: np.ndarray) -> np.ndarray:
    """Every time in `t` (weeks) rounded to the nearest grid time."""
    return np.round(t * _PER_WEEK) / _PER_WEEK
