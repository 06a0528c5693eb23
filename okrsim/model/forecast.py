"""The delivery forecast behind key results: which initiatives the teams can finish in a cycle.

A key result scored against a target the teams could never reach says more about the length
of the cycle than about the cycle's work: with a 13-week cycle most of the plan is still in
flight at its end, with a 52-week cycle most of it is done.  So the plan sets its key results
at what it *forecasts* to deliver, the way teams plan a committed goal from their own pace
("yesterday's weather"): each team works its planned order with its WIP limit and shares its
capacity equally over its parts (the same rule as `okrsim.model.teams.Team`), after paying what
it owes; an initiative is forecast done when its last team's part is.  The forecast knows what
the planners know (effort and the plan), not what will happen (arrivals taken ad hoc, stops,
partners' syncing, market shifts, how far the effort estimates are off), and it runs at
the team's learned pace, which absorbs the estimates' systematic overrun.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

__all__ = ["forecast_parts"]

#: Effort below which a forecast part counts as done (as `okrsim.model.teams.EPS`).
_EPS = 1e-9


def forecast_parts(active: Mapping[int, float], queue: Iterable[int], pending: Mapping[int, Mapping[int, float]],
                   team: int, debt: float, wip: int, weeks: float, pace: float = 1.0,
                   ratio: Sequence[float] | None = None) -> dict[int, float]:
    """When one team is forecast to finish each of its parts within `weeks`.

    Parameters
    ----------
    active : mapping
        Idea -> effort its part in progress still needs.
    queue : iterable of int
        The team's planned order of pending parts (ideas with no part pending for the team
        are skipped).
    pending : mapping
        Idea -> (team -> pending effort), as `okrsim.model.state.Initiatives.pend`.
    team : int
    debt : float
        Team-weeks the team owes before it works (planning overhead, ramp-up).
    wip : int
        Parts the team works on at once.
    weeks : float
        Forecast horizon (the cycle).
    pace : float
        Team-weeks of work per week the forecast assumes (1 = the nominal capacity).
    ratio : sequence of float, optional
        Estimated / actual effort of each idea: the forecast works with the effort planners
        believe (default: the actual effort).

    Returns
    -------
    dict
        Idea -> forecast week (from now) at which the team's part finishes, for parts that
        finish within `weeks`.
    """
    if pace <= 0:
        return {}
    t = debt / pace
    work = dict(active) if ratio is None else {i: r * ratio[i] for i, r in active.items()}
    order = iter(queue)
    done: dict[int, float] = {}
    while True:
        while len(work) < wip:
            i = next(order, None)
            if i is None:
                break
            part = pending[i].get(team)
            if part is not None and i not in work:
                work[i] = part if ratio is None else part * ratio[i]
        if not work:
            return done
        smallest = min(work.values())
        dt = smallest * len(work) / pace
        if t + dt > weeks:
            return done
        t += dt
        for i in list(work):
            left = work[i] - smallest
            if left <= _EPS:
                del work[i]
                done[i] = t
            else:
                work[i] = left
