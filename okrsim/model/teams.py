"""Delivery teams: what each team is doing, and how its work advances between events.

A team spends its change capacity (one team-week per week, less the share ``run_share`` that
run work takes first) on what it owes (planning overhead, then the ramp-up after stopped
work), then shares it equally over its active parts (processor sharing, up to the WIP limit),
else idles.  Between two events that mode is
constant, so a team's state advances in closed form and its next event is known exactly: the
end of its debt, or the completion of its smallest part.  The SimPy process of a team
(`okrsim.model.simulation`) sleeps until then, unless a plan, an arrival or a partner team
changes its work first and interrupts it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EPS", "Team"]

#: Effort (team-weeks) below which a part counts as done: absorbs rounding in the shares.
EPS = 1e-9


@dataclass(eq=False)
class Team:
    """Mutable state of one team.

    Attributes
    ----------
    index : int
    active : dict
        Idea -> effort its part still needs, as of `last`, in the order the parts started.
    queue : list of int
        The team's order of pending parts from the last plan; `next` is the first not yet
        looked at.
    sync : list of int
        Planned initiatives a partner team already started (pulled with a bonus).
    intake : list of (key, idea)
        Ideas that arrived since the last plan, in the team's own order (ad-hoc intake).
    may_pull : bool
        Whether pulling could find work (False until a plan, arrival or sync says otherwise).
    overhead, switching : float
        Team-weeks owed to planning events and to ramp-ups after stops.
    speed : float
        Change capacity, team-weeks per week (``1 - run_share``): what the team owes and
        its parts advance at this rate.
    last : float
        Time the state was last advanced to.
    rates : dict
        Ledger column -> rate this team currently contributes.
    process : simpy.Process or None
    sleeping : bool
        Whether the process waits (and may be interrupted).
    milestone : dict
        Idea -> effort its active part will still need when its share of the initiative's
        first increment is done (only parts whose share is not yet done; empty without
        increments).
    reached : list of int
        Ideas whose part reached its milestone in the last `advance` (the engine reads and
        clears it).
    waiting : dict
        Idea -> week until which its active part waits for others (it holds its place in
        the work in progress but gets no capacity); empty when work never waits.
    multitasking_cost : float
        With n parts worked on at once, the team works at ``1 / (1 + multitasking_cost *
        (n - 1))`` of its change capacity (`focus`); the rest is lost to switching.
    """

    index: int
    active: dict[int, float] = field(default_factory=dict)
    queue: list[int] = field(default_factory=list)
    next: int = 0
    sync: list[int] = field(default_factory=list)
    intake: list[tuple[float, int]] = field(default_factory=list)
    may_pull: bool = False
    overhead: float = 0.0
    switching: float = 0.0
    last: float = 0.0
    rates: dict[int, float] = field(default_factory=dict)
    process: Any = None
    sleeping: bool = False
    speed: float = 1.0
    milestone: dict[int, float] = field(default_factory=dict)
    reached: list[int] = field(default_factory=list)
    waiting: dict[int, float] = field(default_factory=dict)
    multitasking_cost: float = 0.0

    def focus(self, n: int) -> float:
        """Share of its capacity a team keeps for work when it works on `n` parts at once."""
        return 1.0 / (1.0 + self.multitasking_cost * (n - 1)) if n > 1 and self.multitasking_cost > 0 else 1.0

    @property
    def in_debt(self) -> bool:
        """Whether the team still owes overhead or switching time (and does no work)."""
        return self.overhead > 0.0 or self.switching > 0.0

    def advance(self, now: float) -> list[int]:
        """Advance the state to `now`; return the ideas whose part of this team finished.

        Valid only while the mode (debt, work or idle) is constant over ``[last, now]``: the
        team's process wakes at every change of mode, and every other caller advances it
        within a sleep.
        """
        dt = (now - self.last) * self.speed if now > self.last else 0.0
        self.last = now
        # (with dt = 0 this still clears a debt or a part within EPS of done: a wait shorter
        # than the clock's resolution would otherwise never pass)
        if self.overhead > 0.0:
            self.overhead = self.overhead - dt if self.overhead - dt > EPS else 0.0
            if self.waiting:
                self.end_waits(now)  # (others' part of the wait goes on while the team is busy)
            return []
        if self.switching > 0.0:
            self.switching = self.switching - dt if self.switching - dt > EPS else 0.0
            if self.waiting:
                self.end_waits(now)
            return []
        active = self.active
        if not active:
            return []
        done = []
        waiting = self.waiting
        if waiting or self.multitasking_cost > 0:
            n = len(active) - len(waiting)
            share = dt * self.focus(n) / n if n else 0.0
            for i, rem in active.items():
                if i in waiting:
                    continue
                left = active[i] = rem - share
                if left <= EPS:
                    done.append(i)
            if waiting:
                self.end_waits(now)
        else:
            share = dt / len(active)
            for i, rem in active.items():
                left = active[i] = rem - share
                if left <= EPS:
                    done.append(i)
        for i in done:
            del active[i]
        if self.milestone:
            self.pass_milestones()
        return done

    def end_waits(self, now: float) -> None:
        """Parts whose wait is over by `now` become workable (wait ends fall on the clock's
        grid, and the team's process wakes at each, so none ends inside a stretch of work)."""
        waiting = self.waiting
        for i in [i for i, until in waiting.items() if until <= now]:
            del waiting[i]

    def pass_milestones(self) -> None:
        """Move the parts whose first-increment share is done (within `EPS`) from
        `milestone` to `reached` (a finished part has passed its milestone too)."""
        milestone, active = self.milestone, self.active
        for i in [i for i, at in milestone.items() if i not in active or active[i] - at <= EPS]:
            del milestone[i]
            self.reached.append(i)

    def time_to_next(self) -> float:
        """Weeks until the team's mode changes by itself: its debt is paid or a part finishes
        (infinite when it idles)."""
        if self.overhead > 0.0:
            return self.overhead / self.speed
        if self.switching > 0.0:
            return self.switching / self.speed
        if self.active:
            if self.waiting or self.multitasking_cost > 0:
                return self._time_to_next_focus()
            if self.milestone:  # the next part to finish, or to reach its milestone
                milestone = self.milestone
                return min(r - milestone.get(i, 0.0) for i, r in self.active.items()) * len(self.active) / self.speed
            return min(self.active.values()) * len(self.active) / self.speed
        return math.inf

    def _time_to_next_focus(self) -> float:
        """`time_to_next` when parts may wait or parallel work costs: the nearest of a
        worked part's end or milestone (at the rate the parts worked on at once leave) and a
        wait's end."""
        waiting, milestone = self.waiting, self.milestone
        n = len(self.active) - len(waiting)
        wait = min(waiting.values()) - self.last if waiting else math.inf
        if not n:
            return wait
        work = min(r - milestone.get(i, 0.0) for i, r in self.active.items() if i not in waiting)
        return min(wait, work * n / (self.speed * self.focus(n)))
