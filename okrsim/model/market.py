"""The market: strategic themes whose attractiveness shifts over time.

The path of the market is drawn up front from its own stream (so that it is identical for
every policy in a replication) and then replayed by a SimPy process, which is what the
organisation reacts to.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Generator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import simpy

from okrsim.core.params import Market
from okrsim.model.clock import on_grid

__all__ = ["MarketPath", "draw_market", "market_process", "n_top_themes"]


def n_top_themes(n_themes: int) -> int:
    """How many themes count as "the most attractive" for alignment KPIs: the top third."""
    return max(1, round(n_themes / 3))


@dataclass(frozen=True)
class MarketPath:
    """Piecewise-constant attractiveness of each theme, plus planners' perception noise.

    Attributes
    ----------
    times : ndarray, shape (n,)
        Week at which each segment starts; ``times[0] == 0``.
    levels : ndarray, shape (n, K)
        Attractiveness of each theme from ``times[i]`` on (strictly positive).
    kinds : tuple of str
        ``"initial"``, ``"shift"`` or ``"shock"`` for each segment start.
    perception : ndarray, shape (weeks, K)
        Multiplicative error of the planners' view in each week (lognormal, median 1).
    """

    times: np.ndarray
    levels: np.ndarray
    kinds: tuple[str, ...]
    perception: np.ndarray

    def index_at(self, t: float) -> int:
        """Segment in force at time `t`."""
        return bisect.bisect_right(self._starts, t) - 1

    def at(self, t: float) -> np.ndarray:
        """True attractiveness of every theme at time `t`."""
        return self.levels[self.index_at(t)]

    def integral(self, t: np.ndarray) -> np.ndarray:
        """Attractiveness of every theme integrated from 0 to each of the times `t`
        (shape ``(len(t), K)``): exact, since it is constant between changes."""
        t = np.asarray(t, dtype=float)
        seg = self.times.searchsorted(t, side="right") - 1
        return self._integral_at_starts[seg] + self.levels[seg] * (t - self.times[seg])[:, None]

    # The cached properties below are derived once per path, which every policy of a
    # replication shares, instead of once per run (the frozen dataclass allows them because
    # `cached_property` writes to the instance dictionary directly).

    @cached_property
    def _starts(self) -> list[float]:
        """`times` as a list: `bisect` finds a time's segment far faster than `np.searchsorted`."""
        return self.times.tolist()

    @cached_property
    def _integral_at_starts(self) -> np.ndarray:
        """Attractiveness integrated from 0 to the start of each segment, for `integral`."""
        before = np.zeros_like(self.levels)
        np.cumsum(self.levels[:-1] * np.diff(self.times)[:, None], axis=0, out=before[1:])
        return before

    @cached_property
    def week_segment(self) -> np.ndarray:
        """Segment in force when each week of the horizon (``len(perception)`` weeks) is booked.

        World events act before the ledger at equal times, so week t sees every shift and
        shock up to and including time t.
        """
        return self.times.searchsorted(np.arange(len(self.perception)), side="right") - 1

    @cached_property
    def leaders(self) -> np.ndarray:
        """The most attractive themes (the top third, best first) in each segment."""
        return (-self.levels).argsort(axis=1, kind="stable")[:, :n_top_themes(self.levels.shape[1])]

    @cached_property
    def leader_changes(self) -> list[int]:
        """Segments whose leading themes include one that did not lead in the segment before."""
        top = self.leaders.tolist()
        return [s for s in range(1, len(top)) if set(top[s]) - set(top[s - 1])]

    def perceived(self, week: int, lag: int) -> np.ndarray:
        """What planners believe at `week`: the market as it was `lag` weeks ago, with noise."""
        return self.at(max(0, week - lag)) * self.perception[min(week, len(self.perception) - 1)]


def draw_market(market: Market, weeks: int, rng: np.random.Generator, rng_perception: np.random.Generator) -> MarketPath:
    """Draw a market path for `weeks` weeks.

    Draws are made in standard form (unit exponentials, standard normals, uniforms) and
    scaled by the parameters afterwards, so that two scenarios differing only in, say,
    ``shift_rate`` share their random numbers: the shifts come at rescaled times and redraw
    the same themes to the same quantiles.  Themes are numbered by initial attractiveness
    (theme 0 leads), which lets scheduled shocks name "the leader" or "the weakest theme".
    """
    k = market.n_themes
    initial = np.sort(np.exp(market.spread * rng.standard_normal(k)))[::-1]
    times = [0.0]
    levels = [initial]
    kinds = ["initial"]
    shifts: list[tuple[float, np.ndarray, np.ndarray]] = []
    rate = market.shift_rate / 52.0
    t = 0.0
    while rate > 0:
        t += rng.standard_exponential() / rate
        redraw_u = rng.random(k)
        new_z = rng.standard_normal(k)
        if t >= weeks:
            break
        shifts.append((on_grid(t), redraw_u, new_z))  # event times fall on the clock's grid
    shocks_by_week: dict[int, list[tuple[int, float]]] = {}
    for week, theme, factor in market.shocks:
        shocks_by_week.setdefault(week, []).append((theme, factor))
    events: list[tuple[float, int, object]] = [(s[0], 1, s) for s in shifts]
    events += [(float(w), 0, items) for w, items in shocks_by_week.items()]
    current = initial
    rho = market.shift_persistence
    innovation = market.spread * np.sqrt(1.0 - rho**2)
    for time, order, payload in sorted(events, key=lambda e: (e[0], e[1])):
        if order == 1:
            _, redraw_u, new_z = payload  # type: ignore[misc]
            # (computed for every theme, kept for the redrawn ones: the same numbers as
            # computing only those)
            current = np.where(redraw_u < market.shift_share, np.exp(rho * np.log(current) + innovation * new_z), current)
            kind = "shift"
        else:
            current = current.copy()
            for theme, factor in payload:  # type: ignore[union-attr]
                current[theme] *= factor
            kind = "shock"
        if time == times[-1]:
            levels[-1] = current
            kinds[-1] = kind if kinds[-1] != "initial" else "initial"
        else:
            times.append(time)
            levels.append(current)
            kinds.append(kind)
    perception = np.exp(market.perception_noise * rng_perception.standard_normal((weeks, k)))
    return MarketPath(np.array(times), np.array(levels), tuple(kinds), perception)


def market_process(
    env: simpy.Environment, path: MarketPath, on_change: Callable[[int], None],
) -> Generator[simpy.Event, None, None]:
    """Replay the market path: wait for each shift or shock and report it."""
    for index in range(1, len(path.times)):
        yield env.timeout(float(path.times[index]) - env.now)
        on_change(index)
