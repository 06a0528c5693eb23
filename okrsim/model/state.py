"""The mutable state of one run, in small named structures.

`Initiatives` is where each idea stands (known, waiting, running, delivered; effort pending
and lost; when it started and was delivered), `PairState` what joint workshops have
discovered, and `OkrCycle` the OKR cycle in force.  Teams live in `okrsim.model.teams`, value
and capacity in `okrsim.model.ledger`.  The engine (`okrsim.model.simulation`) and the
planning rules (`okrsim.model.planning`) change them; `okrsim.model.run` reads them once a
run is over.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

import numpy as np

from okrsim.model.governance import Beliefs
from okrsim.model.ideas import Ideas

__all__ = ["DELIVERED", "IN_PROGRESS", "UNKNOWN", "WAITING", "Initiatives", "OkrCycle", "PairState"]

#: Idea status codes.
UNKNOWN, WAITING, IN_PROGRESS, DELIVERED = -1, 0, 1, 2


class Initiatives:
    """Where every idea of the run stands.

    Status and pending effort are typed arrays: the engine indexes them like lists, and
    planning reads them as numpy arrays without a copy.

    Attributes
    ----------
    status : array of int8
        `UNKNOWN`, `WAITING`, `IN_PROGRESS` or `DELIVERED`.
    n_known : int
        Ideas revealed so far (ideas are ordered by arrival).
    pend : list of dict
        Per idea: team -> effort of its part not yet started (or stopped).
    pending_mask : ndarray of bool, shape (n, n_teams)
        The same as a matrix, for vectorised planning.
    pend_total : array of float
        Per idea: total pending effort.
    parts_left : list of int
        Parts not yet finished.
    lost, n_stops : array
        Effort lost to stops, and the number of stops.
    start, delivery : list of float
        Time of the first start and of delivery (NaN until then).
    eff : list of float
        Value rate at attractiveness 1 once delivered (after staleness and conflict cuts).
    delivered_rate : array of float
        Value rate at delivery.
    rate_changes : list of (idea, time, new rate)
        Later cuts by conflicts.
    selected_logv : array of float
        Log value the plan (or the change board) believed when the idea first started (NaN
        for ad-hoc intake).
    approved : array of int8
        1 for ideas a change board admitted into the plan in force during its cycle.
    mvp_left : list of int
        Parts whose share of the first increment (``portfolio.mvp_effort``) is not yet done;
        the increment is released when none is left.
    mvp_passed : set of (idea, team)
        Parts whose share of the first increment is done (a stop does not undo it).
    mvp_week, mvp_rate : list of float
        When the first increment was released (NaN before) and its value rate at
        attractiveness 1.
    """

    def __init__(self, ideas: Ideas, part_size: list[float], n_parts: list[int], n_initial: int):
        n = ideas.n
        self.status = array("b", [WAITING]) * n_initial + array("b", [UNKNOWN]) * (n - n_initial)
        self.n_known = n_initial
        self.pend: list[dict[int, float]] = list(map(dict.fromkeys, ideas.teams, part_size))
        self.pending_mask = ideas.members.copy()
        self.pend_total = array("d", ideas.effort.tobytes())
        self.parts_left = list(n_parts)
        self.lost = array("d", [0.0]) * n
        self.n_stops = array("q", [0]) * n
        self.start: list[float] = [math.nan] * n
        self.delivery: list[float] = [math.nan] * n
        self.eff = [0.0] * n
        self.delivered_rate = array("d", [math.nan]) * n
        self.rate_changes: list[tuple[int, float, float]] = []
        self.selected_logv = array("d", [math.nan]) * n
        self.approved = array("b", [0]) * n
        self.mvp_left = list(n_parts)
        self.mvp_passed: set[tuple[int, int]] = set()
        self.mvp_week: list[float] = [math.nan] * n
        self.mvp_rate = [0.0] * n


@dataclass
class PairState:
    """What joint workshops have found out about conflicts and synergies.

    Attributes
    ----------
    needed : ndarray
        Workshops each pair must go through before it is discovered.
    seen : ndarray
        Workshops each pair went through so far.
    found : ndarray of bool
        Discovered pairs (early by a workshop, or late when a conflict surfaced).
    caught_early, caught_late : int
        Conflicts discovered by a workshop, and conflicts that surfaced at delivery (a
        duplicate counts as a conflict of severity 1).
    """

    needed: np.ndarray
    seen: np.ndarray
    found: np.ndarray
    caught_early: int = 0
    caught_late: int = 0


@dataclass
class OkrCycle:
    """The OKR cycle in force: what it promised and what happened in it.

    Attributes
    ----------
    index, start : int
        Cycle number and the week it began.
    krs : list of (rank, theme, target value, target count, aspirational)
        Key results per objective (none for an objective without a forecast delivery).
    beliefs : Beliefs
        The planners' beliefs when the cycle began.
    known : int
        Ideas known when the cycle began.
    delivered : list of int
        Initiatives delivered in the cycle.
    started, stopped : int
        Starts and stops in the cycle.
    forecast : int
        Initiatives the plan forecast to deliver in the cycle.
    """

    index: int
    start: int
    krs: list[tuple[int, int, float, float, bool]]
    beliefs: Beliefs
    known: int
    delivered: list[int] = field(default_factory=list)
    started: int = 0
    stopped: int = 0
    forecast: int = 0
