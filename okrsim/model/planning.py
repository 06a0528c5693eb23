"""A planning event, step by step: close the OKR cycle, learn, discover, rank, re-budget,
stop, set new OKRs and hand each team its order of work.

`Planner` holds what the organisation knows and has decided (its beliefs about its
estimates, the budget split, the OKR cycle in force, each team's planned priorities); the
rules themselves are the pure functions of `okrsim.model.governance`.  The engine
(`okrsim.model.simulation`) calls `Planner.plan` at every planning event, after advancing
every team to that moment, and wakes the teams afterwards.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np

from okrsim.core.params import Policy, Scenario
from okrsim.model import governance as gov
from okrsim.model.forecast import forecast_parts
from okrsim.model.state import DELIVERED, IN_PROGRESS, WAITING, Initiatives, OkrCycle, PairState
from okrsim.model.teams import Team
from okrsim.model.world import World

__all__ = ["Planner"]

#: Lowest and highest pace (team-weeks of work per week) the delivery forecast may learn.
PACE_BOUNDS = (0.25, 2.0)

#: The score OKR practice expects of aspirational key results (Doerr 2018: 0.6-0.7), which
#: retrospectives steer the next cycle's ambition towards, and the bounds of that ambition.
ASPIRATIONAL_AIM = 0.7
AMBITION_BOUNDS = (1.0, 3.0)

#: Event log rows: (time, kind, idea or pair side a, theme or pair side b, amount).
EventRow = tuple[float, str, int, int, float]


class Planner:
    """The organisation's planning: knowledge, budget, OKR cycles and team priorities.

    Parameters
    ----------
    scenario, policy : Scenario, Policy
    world : World
        The replication's ideas, market and interactions (shared by every policy).
    initiatives : Initiatives
    pairs : PairState
    teams : list of Team
    events : list
        The run's event log (appended to).
    checkins : sequence of float
        Weeks of the OKR check-ins in the calendar (their time is booked with each plan).
    """

    def __init__(self, scenario: Scenario, policy: Policy, world: World, initiatives: Initiatives,
                 pairs: PairState, teams: list[Team], events: list[EventRow], checkins: Sequence[float] = ()):
        self.scenario, self.policy, self.world = scenario, policy, world
        self.initiatives, self.pairs, self.teams, self.events = initiatives, pairs, teams, events
        ideas, org = world.ideas, scenario.organisation
        self.k = scenario.market.n_themes
        self.log_median = math.log(scenario.portfolio.value_median)
        half_life = scenario.portfolio.staleness_half_life_weeks
        # (a half-life below a thousandth of a week is instant staleness; the floor keeps it finite)
        self.stale_slope = math.log(2.0) / max(half_life, 1e-3) if half_life > 0 else 0.0
        # Priority is (1 - w) * log(value per effort) + w * log(sponsor power) (see
        # governance.priority); the terms that never change during a run are added up once.
        # Staleness enters as slope * arrival: the common -slope * t shifts every idea alike.
        #: the weight sponsor power really has (the policy's aim, at least the organisation's floor)
        self.political_weight = w = gov.effective_political_weight(policy.political_weight, org.politics_floor)
        # planners rank by the effort they estimate; mandatory work comes first, earliest
        # deadline first (`governance.mandatory_key`: 0.0 for the rest)
        mandatory = gov.mandatory_key(world.mandatory, world.deadline)
        self.static_priority = ((1.0 - w) * (self.stale_slope * ideas.arrival - np.log(world.effort_estimate))
                                + w * ideas.log_sponsor + mandatory)
        self.local_key = (1.0 - policy.horizontal_alignment) * org.local_priority_spread * ideas.local
        # the team's own pull for ad-hoc intake: local preference and sponsor power, no
        # strategy; teams know their regulatory deadlines too
        self.intake_key = (w * ideas.log_sponsor + mandatory)[:, None] + self.local_key
        self.sync_boost = policy.horizontal_alignment * gov.SYNC_BOOST
        self.team_key = np.full((ideas.n, org.n_teams), -np.inf)  # each team's planned priority of each idea
        # ideas known at the last plan are the planned ones, with the log value the plan believed
        self.plan_known = 0
        self.plan_logv = np.zeros(0)
        self.beliefs = gov.Beliefs.naive(self.k)
        self.evidence: list[int] = []  # delivered since the last retrospective
        self.budget = np.full(self.k, 1.0 / self.k)
        self.budget_time = 0.0  # when the budget split was last set
        #: (time, budget split) at every re-budgeting, for the budget reallocation KPI
        self.budget_rows: list[tuple[float, np.ndarray]] = []
        #: share of a cycle's capacity the plan commits; the rest is the change board's reserve
        self.commit = 1.0 - policy.change_reserve if policy.change_board_weeks > 0 else 1.0
        self.marginal = -math.inf  # base priority of the plan's lowest-ranked item inside its capacity line
        self.reserve_left = 0.0  # team-weeks the change board may still approve this cycle
        self.next_plan = float(policy.cadence_weeks)  # when the plan in force ends
        self.goals = np.zeros(0, dtype=int)  # the OKR objectives in force
        #: (time, idea, effort) of each change the board approved
        self.approvals: list[tuple[float, int, float]] = []
        self.board_logv: dict[int, float] = {}  # log value the board believed of each approved idea
        #: weeks of the check-ins in the organisation's calendar (`simulation.review_calendar`)
        self.checkin_at = sorted(checkins)
        self.cycle: OkrCycle | None = None
        #: each team's change capacity (team-weeks per week; run work takes the rest) and
        #: the organisation's, which plans and budgets divide
        self.speed = 1.0 - org.run_share
        #: parts a team works on at once (`governance.wip_in_force`)
        self.wip = gov.wip_in_force(org.wip_limit, policy.focus_wip)
        self.capacity = len(teams) * self.speed
        #: estimated / actual effort of each idea, as a list (the forecast indexes single ideas)
        self.effort_ratio = world.effort_ratio.tolist()
        #: team-weeks of work per week the delivery forecast assumes; retrospectives learn it
        self.pace = 1.0
        #: how far aspirational key results stretch beyond the forecast; retrospectives move it
        self.ambition = policy.ambition
        self.cycle_rows: list[tuple] = []
        self.scorecard_rows: list[tuple] = []
        # The market's segments as lists: planning looks up single times, for which `bisect`
        # is several times faster than `numpy.searchsorted` (same segment, same numbers).
        self.market_times = world.path.times.tolist()
        self.market_levels = world.path.levels.tolist()
        # What planners believe of every idea depends on the beliefs and the objectives, not
        # on the week: both are computed for every idea when they change, and each event
        # takes the known ideas' share (the same numbers, element by element).
        self.logv_all = world.log_estimate
        self.focus_goals: np.ndarray | None = None
        self.focus_maturity = 1.0  # the maturity `focus_all` was computed with
        self.focus_all = np.zeros(ideas.n)
        self.weight_all = np.zeros(ideas.n)
        # Key results' leading measures read at check-ins: the last reading of each idea read
        # so far and its noise; planners weigh them against the business case.
        pf = scenario.portfolio
        self.case_sd = math.hypot(pf.estimation_noise, pf.assumption_bias)
        self.reading = np.zeros(ideas.n)
        self.reading_sd = np.zeros(ideas.n)
        self.was_read = np.zeros(ideas.n, dtype=bool)
        # Costs of the practice (docs/model.md 7.10).  The OKR adoption curve: how well the
        # cycle in force is practised (`governance.okr_maturity`, set when a plan opens a
        # cycle).  It is the cost of *introducing* OKRs, so it applies to a policy that
        # practises them (the one with check-ins on its key results); the annual processes
        # plan with strategic themes as they always have, and are practised from the start.
        self.adoption = org.okr_adoption_cycles if policy.checkin_weeks > 0 else 0.0
        self.maturity = 1.0
        #: share of an initiative's value still to gain once its first increment earns (7.8)
        self.mvp_rest = 1.0 - pf.mvp_value

    # ------------------------------------------------------------------------- the event
    def plan(self, t: int, kind: str = "plan") -> None:
        """One planning event at week `t` (every team's state advanced to `t`).

        `kind` is ``"plan"`` (the cycle's planning event: OKRs, workshop, budget, every known
        idea), ``"reforecast"`` (mid-cycle: every known idea re-ranked and the budget moved on,
        within the cycle in force) or ``"gate"`` (a stage-gate review: the plan's own work, and
        what the change board admitted, re-ranked on current information; no new ideas, no
        re-budgeting).  A stage gate or reforecast with retrospectives on is also a
        post-implementation review that learns from the work delivered since the last one.
        """
        pol, st = self.policy, self.initiatives
        full = kind == "plan"
        # a re-plan reopens the commitments of work in flight (`renegotiate`): every planning
        # event but the first (nothing is in flight yet) and every reforecast, not a stage gate
        replan = kind == "reforecast" or (full and self.cycle is not None)
        if self.cycle is not None and (pol.checkin_weeks > 0 or kind == "gate"):
            # a planning event with check-ins reads the key results as a check-in does, and a
            # stage gate reviews the same evidence of value for the work it judges
            self.read_key_results()
        retro = pol.retrospectives and (self.cycle is not None or not full)
        if full and self.cycle is not None:
            self.close_cycle(t)
        if retro:
            self.retrospective(t, "retrospective" if full else "post_implementation_review")
        self.charge(retro, kind, t)
        known = st.n_known
        if kind != "gate":
            self.plan_known = known
        # a view, not a copy: `stop` writes to it only after the last read
        status = np.frombuffer(st.status, np.int8, known)
        perceived = self.perceived(t)
        if full:
            self.workshop(t, known, status)
            self.goals = gov.objectives(perceived, pol.n_objectives)
            self.next_plan = float(t + pol.cadence_weeks)
            # the cycle this plan opens (`open_cycle`, below) is practised at its maturity
            self.maturity = gov.okr_maturity(0 if self.cycle is None else self.cycle.index + 1, self.adoption)
        goals = self.goals
        self.events.append((t, "planning" if full else kind, -1, -1, float(pol.n_objectives)))

        cand = (status.view(np.uint8) <= IN_PROGRESS).nonzero()[0]  # waiting or in progress (unknown wraps to 255)
        if kind == "gate":  # the plan's own work and the approved changes only
            cand = cand[(cand < self.plan_known) | (np.frombuffer(st.approved, np.int8, known)[cand] > 0)]
        age = self.stale_slope * (t - self.world.ideas.arrival[:known])  # planners expect staleness
        logv, attract, log_value = self.believed_value(known, perceived, goals)
        if self.mvp_rest < 1.0:
            log_value = self.less_released(log_value, known)
        found = self.pairs.found.nonzero()[0]  # both ideas of a found pair are known
        if len(found):
            log_value = self.adjust_for_interactions(log_value, status, found, age)
        self.plan_logv = logv
        remaining = self.believed_remaining(cand)
        weeks = self.next_plan - t
        pri, base, order, inside = self.rank(cand, log_value, remaining, weeks, rebudget=kind != "gate", t=t)
        planned = cand[order[inside]]
        if full:
            self.open_cycle(t)
        self.marginal = self.marginal_priority(cand, base, order[inside])
        if pol.can_stop_running_work:
            self.stop_lost_work(t, cand, base, remaining, status, planned, order, weeks)
        if replan and self.scenario.organisation.renegotiation_cost > 0:
            self.renegotiate()  # after the stops: a stopped initiative paid its ramp-up instead
        self.build_queues(cand, pri)
        if full:
            self.set_key_results(t, goals, np.exp(logv - age) * attract)
        if kind != "gate":
            self.reserve_left = pol.change_reserve * self.capacity * weeks if pol.change_board_weeks > 0 else 0.0
            for team in self.teams:
                team.intake.clear()

    def checkins_in_cycle(self, t: int) -> int:
        """Check-ins held after week `t` until the next planning event: the calendar's
        check-in weeks (a stage gate or reforecast in the same week reads the key results in
        its own meeting and takes the check-in's place)."""
        at = self.checkin_at
        return bisect_right(at, t + self.policy.cadence_weeks - 0.5) - bisect_right(at, t)

    def checkin(self, t: int) -> None:
        """An OKR check-in at week `t`: the key results' leading measures are read
        (`read_key_results`); the next plan or gate decides on them.  Its time was booked with
        the planning event (`charge`)."""
        self.read_key_results()
        self.events.append((t, "checkin", -1, -1, float(np.count_nonzero(self.was_read))))

    def read_key_results(self) -> None:
        """A check-in: read the key results' leading measure of every initiative in progress.

        The measure is the initiative's true log value off by `governance.leading_sd` of its
        progress (one standard-normal draw per idea, so readings converge as the work
        proceeds), and overstated by ``goal_displacement`` times its weight on the cycle's
        objectives: teams move the key-result metric more than the value it stands for.  With
        check-ins, an organisation still learning OKRs (`governance.okr_maturity` below 1)
        reads with the noise and the displacement divided by its maturity: its key results
        measure activity more than value, and planners who weigh the readings by precision
        count them for less."""
        st, world = self.initiatives, self.world
        running = (np.frombuffer(st.status, np.int8, st.n_known) == IN_PROGRESS).nonzero()[0]
        if not len(running):
            return
        progress = 1.0 - self.remaining(running) / world.ideas.effort[running]
        pf = self.scenario.portfolio
        sd = gov.leading_sd(progress, pf.leading_noise, pf.observation_noise)
        maturity = self.maturity
        if maturity < 1.0:
            sd = sd / maturity  # an inexperienced organisation's key results measure worse (and it knows)
        measure = world.log_value[running] + sd * world.leading_z[running]
        displacement = self.scenario.organisation.goal_displacement
        if displacement > 0 and len(self.goals):
            if maturity < 1.0:
                displacement = displacement / maturity  # and it steers the metric more
            measure = measure + displacement * self.objective_weight(self.goals)[running]
        self.reading[running] = measure
        self.reading_sd[running] = sd
        self.was_read[running] = True

    def perceived(self, t: int) -> np.ndarray:
        """The market as planners see it at week `t`: lagged, with that week's noise."""
        path = self.world.path
        segment = bisect_right(self.market_times, max(0, t - self.scenario.market.detection_lag_weeks)) - 1
        return path.levels[segment] * path.perception[t]

    # ------------------------------------------------------------------------- change board
    def change_board(self, t: int, requests: list[int]) -> list[int]:
        """A change-board meeting at week `t` decides the change requests `requests` (new
        ideas that arrived after the plan in force and have waited ``change_delay_weeks``).

        A request is approved, in order of believed priority, when that priority beats the
        plan's marginal item (the lowest-ranked item inside its capacity line) and the
        cycle's change reserve still covers its effort.  Approved ideas enter the teams'
        queues at their priority, as funded work; the rest wait for the next plan (or a
        team's ad-hoc intake).  Each team of an approved change pays ``change_cost`` for the
        impact analysis and for re-planning its work.  Returns the approved ideas.
        """
        pol, st, ideas = self.policy, self.initiatives, self.world.ideas
        known = st.n_known
        logv, _, log_value = self.believed_value(known, self.perceived(t), self.goals)
        found = self.pairs.found.nonzero()[0]
        if len(found):
            status = np.frombuffer(st.status, np.int8, known)
            age = self.stale_slope * (t - ideas.arrival[:known])
            log_value = self.adjust_for_interactions(log_value, status, found, age)
        ids = np.array(requests, dtype=int)
        base = (1.0 - self.political_weight) * log_value[ids] + self.static_priority[ids]
        self.events.append((t, "change_board", -1, -1, float(len(ids))))
        approved = []
        priorities, effort_of, mandatory = base.tolist(), self.world.effort_estimate.item, self.world.mandatory
        for n in (-base).argsort(kind="stable").tolist():
            i, b = requests[n], priorities[n]
            effort = effort_of(i)
            if st.status[i] != WAITING:
                continue
            if not mandatory[i]:
                if b <= self.marginal or effort > self.reserve_left:
                    continue
                self.reserve_left -= effort
            # (mandatory work is approved whatever the reserve holds, and funded from a budget
            # line of its own: regulation is not a change the reserve was kept for)
            st.approved[i] = 1
            self.board_logv[i] = float(logv[i])
            self.approvals.append((float(t), i, effort))
            self.insert(i, b + (gov.FUNDED_FIRST if pol.budget_inertia > 0 else 0.0))
            if pol.change_cost > 0:
                for j in ideas.teams[i]:
                    self.teams[j].overhead += pol.change_cost
            approved.append(i)
            self.events.append((t, "change_approved", i, int(ideas.theme[i]), effort))
        return approved

    def insert(self, i: int, priority: float) -> None:
        """Put idea `i` into the queue of each of its teams at `priority` (plus the team's
        own preference), after the work already ranked above it."""
        for j in self.world.ideas.teams[i]:
            team = self.teams[j]
            key = priority + self.local_key.item(i, j)
            self.team_key[i, j] = key
            queue, team_key = team.queue, self.team_key
            p = team.next
            while p < len(queue) and team_key.item(queue[p], j) >= key:
                p += 1
            queue.insert(p, i)
            team.may_pull = True

    def is_planned(self, i: int) -> bool:
        """Whether idea `i` is in the plan in force: known at the last plan, or approved."""
        return i < self.plan_known or self.initiatives.approved[i] > 0

    def logv_at_start(self, i: int) -> float:
        """The log value the organisation believed when it chose `i` (NaN if it did not)."""
        if i < self.plan_known:
            return self.plan_logv.item(i)
        return self.board_logv.get(i, math.nan)

    def charge(self, retro: bool, kind: str, t: int) -> None:
        """Every team owes the event's overhead before it works again: a planning event
        costs planning, alignment and workshop time and the time of the cycle's check-ins
        (``checkin_cost`` each), a reforecast ``reforecast_cost``, a stage gate
        ``review_cost``; a retrospective or post-implementation review adds ``retro_cost``.
        Each of the three also takes the leaders' and architects' time,
        ``organisation.attention_cost`` for the whole organisation, from the teams' capacity in
        equal shares: it does not grow with the number of teams, so a small organisation pays
        more of it per team.  Check-ins and change boards take no such attention (a check-in
        is the teams' own half hour, a change board's cost is its changes' ``change_cost``).

        Check-in time is booked with the planning event for the cycle ahead: owed as a debt
        at each check-in, it would wake every team for a few hours' work every time, which
        costs more events than the rest of the run, for the same total capacity."""
        pol = self.policy
        if kind == "plan":
            cost = pol.planning_cost + pol.alignment_cost * pol.horizontal_alignment + pol.workshop_cost * pol.transparency
            cost += pol.checkin_cost * self.checkins_in_cycle(t)
        else:
            cost = pol.reforecast_cost if kind == "reforecast" else pol.review_cost
        cost += pol.retro_cost if retro else 0.0
        attention = self.scenario.organisation.attention_cost
        if attention > 0:
            cost += attention / len(self.teams)
        if cost > 0:
            for team in self.teams:
                team.overhead += cost

    def renegotiate(self) -> None:
        """A re-plan reopens what was promised for the work in flight: each team of every
        initiative still in progress once the re-plan has stopped what it stops spends
        ``organisation.renegotiation_cost`` re-confirming its scope, dates and people with the
        sponsor.

        The plan decides whether to stop running work, so the renegotiation follows that
        decision: a stopped initiative is not renegotiated (its teams pay a ramp-up instead).
        Every team of the initiative pays, whether its part is done, running or still to
        start, because each holds a commitment to it.  `plan` calls this at re-plans only (a
        planning event after the first, a reforecast): a stage gate reviews the plan's own
        work against the commitments in force and reopens none, and at the first plan nothing
        is in flight."""
        cost, st, teams = self.scenario.organisation.renegotiation_cost, self.initiatives, self.teams
        idea_teams = self.world.ideas.teams
        for i in (np.frombuffer(st.status, np.int8, st.n_known) == IN_PROGRESS).nonzero()[0].tolist():
            for j in idea_teams[i]:
                teams[j].overhead += cost

    # ------------------------------------------------------------------------- beliefs
    def believed_value(self, known: int, perceived: np.ndarray, goals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What planners believe about the known ideas: log value rate (bias-corrected
        estimate), perceived attractiveness of their themes, and log value before staleness
        and interactions (attractiveness and the OKR focus on the objectives included)."""
        world = self.world
        logv = self.logv_all[:known]
        ids = self.was_read[:known].nonzero()[0]  # key-result evidence from check-ins
        if len(ids):
            logv = logv.copy()
            logv[ids] = gov.weigh_evidence(logv[ids], self.reading[ids], self.reading_sd[ids], self.case_sd)
        # each idea weighs its primary and secondary theme
        primary, secondary = perceived.take(world.ideas.theme[:known]), perceived.take(world.t2[:known])
        attract = world.w1[:known] * primary + world.w2[:known] * secondary
        return logv, attract, logv + np.log(attract) + self.okr_focus(goals)[:known]

    def okr_focus(self, goals: np.ndarray) -> np.ndarray:
        """The log value boost of every idea from the OKR focus on the objectives `goals`.

        The objectives change once a cycle, the known ideas at every event: the boost is
        computed for every idea once per set of objectives."""
        self.objective_weight(goals)
        return self.focus_all

    def objective_weight(self, goals: np.ndarray) -> np.ndarray:
        """Every idea's weight on the objectives `goals` (its primary and secondary theme's
        shares of its value), and with it the OKR focus boost, computed once per set of
        objectives and maturity.

        An organisation still learning OKRs focuses less: the boost is
        ``log1p(okr_focus * maturity * weight)`` (`governance.okr_maturity`)."""
        if goals is not self.focus_goals or self.maturity != self.focus_maturity:
            world = self.world
            is_goal = np.zeros(self.k)
            is_goal[goals] = 1.0
            self.weight_all = world.w1 * is_goal.take(world.ideas.theme) + world.w2 * is_goal.take(world.t2)
            focus = self.policy.okr_focus
            if self.maturity < 1.0:
                focus = focus * self.maturity
            self.focus_all = np.log1p(focus * self.weight_all)
            self.focus_goals, self.focus_maturity = goals, self.maturity
        return self.weight_all

    def less_released(self, log_value: np.ndarray, known: int) -> np.ndarray:
        """Planners decide on what finishing an initiative still adds: once its first
        increment earns, that is the rest of its value (``1 - mvp_value``), so work whose
        first increment took most of the value ranks lower and may be stopped (7.5, 7.8)."""
        released = ~np.isnan(np.asarray(self.initiatives.mvp_week[:known]))
        if not released.any():
            return log_value
        return log_value + np.where(released, math.log(self.mvp_rest), 0.0)

    def believed_remaining(self, ids: np.ndarray) -> np.ndarray:
        """The effort planners believe is left on each of `ids`: they see what share of the
        work is done, but not that the estimate was wrong, so they scale the estimate by it
        (`World.effort_ratio`)."""
        return self.remaining(ids) * self.world.effort_ratio[ids]

    def remaining(self, ids: np.ndarray) -> np.ndarray:
        """Effort still to do on each of `ids`: pending parts plus what active parts lack."""
        total = self.initiatives.pend_total[:]  # (adding to a typed array is faster than to numpy's)
        for team in self.teams:
            for i, r in team.active.items():
                total[i] += r
        return np.frombuffer(total).take(ids)

    def adjust_for_interactions(self, log_value: np.ndarray, status: np.ndarray, found: np.ndarray,
                                age: np.ndarray) -> np.ndarray:
        """Discovered conflicts and synergies change what ideas are worth to the planners, and
        a discovered dependency makes the prerequisite worth its open dependent's value too
        (the dependent cannot pay before it)."""
        pairs, pf = self.world.pairs, self.scenario.portfolio
        value = np.exp(log_value - age)
        dep = pairs.dependency[found]
        if dep.any():
            pre, post = pairs.a[found[dep]], pairs.b[found[dep]]
            open_pair = (status[pre] <= IN_PROGRESS) & (status[post] <= IN_PROGRESS) & (status[pre] >= WAITING)
            unlock = np.bincount(pre[open_pair], weights=value[post[open_pair]], minlength=len(value))[:len(value)]
            found = found[~dep]
        else:
            unlock = 0.0
        adj = gov.interaction_adjustment(value, status, pairs.a[found], pairs.b[found], pairs.conflict[found],
                                         pairs.severity[found], pf.synergy_bonus)
        return np.log(np.maximum(value + adj + unlock, 1e-12)) + age

    # ------------------------------------------------------------------------- deciding
    def rank(self, cand: np.ndarray, log_value: np.ndarray, remaining: np.ndarray, weeks: float | None = None,
             rebudget: bool = True, t: float = 0.0) -> tuple[np.ndarray, ...]:
        """Rank the candidates and (if `rebudget`) move the budget: return their priority,
        their priority before budgets, their order and the mask (in that order) of those
        inside the capacity line.

        The capacity line is the committed share of the capacity of the `weeks` (default: a
        cycle) until the next plan; budgets move at `budget_inertia` per year for the time
        since they last moved."""
        pol = self.policy
        weeks = float(pol.cadence_weeks) if weeks is None else weeks
        capacity = self.capacity * weeks * self.commit
        # Rank by value per total effort (WSJF): replanning with unchanged information must
        # not reorder work, so sunk effort only enters the decision to stop running work.
        pri = base = (1.0 - self.political_weight) * log_value[cand] + self.static_priority[cand]
        order = (-pri).argsort(kind="stable")
        ordered_remaining, ordered_theme = remaining[order], self.world.ideas.theme[cand[order]]
        inside = gov.within_capacity(ordered_remaining, capacity)
        # the organisation starts with a budget split that matches its first view of the market
        if rebudget:
            target = gov.theme_shares(ordered_theme[inside], ordered_remaining[inside], self.k)
            if self.cycle is None:
                self.budget = target
            else:
                self.budget = gov.budget_step(self.budget, target, pol.budget_inertia, t - self.budget_time)
            self.budget_time = t
            self.budget_rows.append((float(t), self.budget))
        if pol.budget_inertia > 0:
            # last year's split still decides what gets funded first
            funded = gov.funded(ordered_theme, ordered_remaining, self.budget, capacity)
            pri = pri.copy()
            pri[order] += gov.FUNDED_FIRST * funded
            order = (-pri).argsort(kind="stable")
            inside = gov.within_capacity(remaining[order], capacity)
        return pri, base, order, inside

    def marginal_priority(self, cand: np.ndarray, base: np.ndarray, inside: np.ndarray) -> float:
        """Base priority of the lowest-ranked *discretionary* item among `inside` (positions
        in `cand`, in priority order): what new or running work must beat.

        Mandatory work inside the line is skipped: it is there for its deadline, not for what
        it is worth, so it says nothing about the value a stop or a change would give up
        (-inf when the line holds nothing else: then no work is stopped for its sake, and it
        waits for a free place in the teams' queues)."""
        mandatory = self.world.mandatory
        for p in inside[::-1].tolist():
            if not mandatory[cand.item(p)]:
                return base.item(p)
        return -math.inf

    def workshop(self, t: int, known: int, status: np.ndarray) -> None:
        """Joint OKR/portfolio workshop: each open pair of known ideas may be discovered."""
        pairs, ps = self.world.pairs, self.pairs
        if pairs.n == 0 or self.policy.transparency <= 0:
            return
        a, b = pairs.a, pairs.b
        idx = (~ps.found & (b < known)).nonzero()[0]
        idx = idx[status[a[idx]] + status[b[idx]] < 2 * DELIVERED]  # not both delivered
        seen = ps.seen[idx] + 1
        ps.seen[idx] = seen
        new = idx[seen >= ps.needed[idx]]
        if len(new):
            ps.found[new] = True
            conflict, dependency, duplicate = self.world.pair_conflict, self.world.pairs.dependency, self.world.pair_duplicate
            for p in new.tolist():
                ps.caught_early += conflict[p]  # (a duplicate counts as a conflict)
                kind = ("duplicate_discovered" if duplicate[p] else "conflict_discovered" if conflict[p] else
                        "dependency_discovered" if dependency[p] else "synergy_discovered")
                self.events.append((t, kind, self.world.pair_a[p], self.world.pair_b[p], math.nan))

    def stop_lost_work(self, t: int, cand: np.ndarray, base: np.ndarray, remaining: np.ndarray, status: np.ndarray,
                       planned: np.ndarray, order: np.ndarray, weeks: float) -> None:
        """Stop running work that lost its value against the plan's marginal item (see
        `governance.should_stop`).

        Work that needs longer than the plan's `weeks` to finish is weighed against a capacity
        line as long as its own remaining time (`governance.finish_weeks`): a quarter's line
        holds one or two nine-month programmes, and judging the others against it would stop
        long work for being long, not for having lost its value."""
        # (a stage gate ranks only the plan's work: ad-hoc intake running outside it is left alone)
        active = sorted({i for team in self.teams for i in team.active})
        n = len(cand)
        located = zip(active, cand.searchsorted(active).tolist(), strict=True)  # (`cand` is sorted)
        running = [(i, p) for i, p in located if p < n and cand.item(p) == i]  # with their positions in `cand`
        if not running or len(planned) == 0 or len(planned) == n:
            return
        if not (status[planned] == WAITING).any():
            return  # nothing better is waiting for the capacity
        in_plan = set(planned.tolist())
        w, effort, idea_teams = self.political_weight, self.world.effort_estimate, self.world.ideas.teams
        wip, capacity = self.wip, self.capacity * self.commit
        position = np.empty(n, dtype=int)
        position[order] = np.arange(n)
        ordered_remaining = remaining[order]
        ids = []
        for i, p in running:
            if i in in_plan:
                continue
            marginal = self.marginal
            finish = gov.finish_weeks(remaining.item(p), len(idea_teams[i]), wip, self.speed)
            if finish > weeks:  # its own capacity line
                inside = gov.within_capacity(ordered_remaining, capacity * finish)
                if inside[position[p]]:
                    continue
                marginal = self.marginal_priority(cand, base, order[inside])
            if gov.should_stop(base.item(p), effort.item(i), remaining.item(p), marginal, w):
                ids.append(i)
        if ids:
            self.stop(t, ids)

    def stop(self, t: int, ids: list[int]) -> None:
        """Stop running initiatives: active parts lose ``switch_loss`` of their done effort
        and go back to pending; each team that was on them pays a ramp-up."""
        st, teams, pol = self.initiatives, self.teams, self.policy
        part_size, idea_teams = self.world.part_size, self.world.ideas.teams
        for i in ids:
            loss = 0.0
            for j in idea_teams[i]:
                team = teams[j]
                rem = team.active.pop(i, None)
                if rem is None:
                    continue
                team.milestone.pop(i, None)  # (set again when the part restarts, if not yet passed)
                team.waiting.pop(i, None)
                lost = pol.switch_loss * (part_size[i] - rem)
                loss += lost
                st.pend[i][j] = rem + lost
                st.pend_total[i] += rem + lost
                st.pending_mask[i, j] = True
                team.switching += pol.ramp_up_weeks
                team.may_pull = True
            for j in idea_teams[i]:
                if i in teams[j].sync:
                    teams[j].sync.remove(i)
            st.lost[i] += loss
            st.status[i] = WAITING
            st.n_stops[i] += 1
            assert self.cycle is not None
            self.cycle.stopped += 1
            self.events.append((t, "stop", i, self.world.theme[i], loss))

    def build_queues(self, cand: np.ndarray, pri: np.ndarray) -> None:
        """Each team's order of its pending parts: the global priority plus, unless teams
        are horizontally aligned, their own local preferences."""
        rows, cols = self.initiatives.pending_mask.take(cand, axis=0).nonzero()
        ids = cand[rows]
        keys = pri[rows] + self.local_key[ids, cols]
        self.team_key[ids, cols] = keys
        order = np.lexsort((-keys, cols.astype(np.uint16)))  # by team, then by key (stable)
        ordered = ids[order].tolist()
        end = 0
        for team, count in zip(self.teams, np.bincount(cols, minlength=len(self.teams)).tolist(), strict=True):
            start, end = end, end + count
            team.queue = ordered[start:end]
            team.next = 0
            team.may_pull = True

    # ------------------------------------------------------------------------- OKR cycles
    def open_cycle(self, t: int) -> None:
        """Start an OKR cycle (its key results follow once the teams' queues are set)."""
        index = 0 if self.cycle is None else self.cycle.index + 1
        self.cycle = OkrCycle(index, t, [], self.beliefs, self.initiatives.n_known)

    def forecast(self, weeks: float) -> np.ndarray:
        """The initiatives the teams are forecast to deliver in the next `weeks` (see
        `okrsim.model.forecast`), at the pace the organisation has learned."""
        pend, wip = self.initiatives.pend, self.wip
        ratio = self.effort_ratio
        finished = [forecast_parts(team.active, team.queue, pend, team.index, team.overhead + team.switching, wip,
                                   weeks, self.pace * self.speed, ratio) for team in self.teams]
        # an initiative is done when every team with a part still to do finishes it in time
        teams, touched = self.world.ideas.teams, set()
        for part in finished:
            touched.update(part)
        done = [i for i in sorted(touched) if all(i in finished[j] or (i not in self.teams[j].active and j not in pend[i])
                                               for j in teams[i])]
        return np.array(done, dtype=int)

    def set_key_results(self, t: int, goals: np.ndarray, plain_value: np.ndarray) -> None:
        """Key results for each objective: the value per week and the number of initiatives in
        the objective's theme the plan forecasts to deliver in the cycle (`forecast`), so that
        a score measures the cycle's work against what was achievable, whatever the cycle's
        length.  An objective with no delivery forecast in its theme gets no key result.

        `plain_value` is every known idea's believed value per week (staleness included,
        interactions and OKR focus not)."""
        c = self.cycle
        assert c is not None
        expected = self.forecast(self.next_plan - t)
        c.forecast = len(expected)
        themes = self.world.ideas.theme[expected]
        # the most attractive objectives carry the cycle's aspirational key results
        n_aspirational = round(self.policy.aspirational_share * len(goals))
        for rank, k in enumerate(goals.tolist()):
            mine = plain_value[expected[themes == k]]
            stretch = self.ambition if rank < n_aspirational else 1.0
            target_value = float(mine.sum()) * stretch if stretch != 1.0 else float(mine.sum())
            if len(mine):
                c.krs.append((rank, k, target_value, len(mine) * stretch, rank < n_aspirational))
            self.events.append((t, "objective", -1, k, target_value))

    def close_cycle(self, t: int) -> None:
        """Score the cycle's key results against what was actually delivered."""
        c = self.cycle
        assert c is not None
        st, theme, times, levels = self.initiatives, self.world.theme, self.market_times, self.market_levels
        achieved_value = [0.0] * self.k
        achieved_count = [0] * self.k
        for i in c.delivered:
            k = theme[i]
            achieved_value[k] += st.eff[i] * levels[bisect_right(times, st.delivery[i]) - 1][k]
            achieved_count[k] += 1
        scores = []
        if self.policy.retrospectives and c.forecast:
            # the retrospective reads the cycle's delivery against its forecast: the next
            # cycle's key results are set at the pace the teams really had
            ratio = len(c.delivered) / c.forecast
            self.pace = min(PACE_BOUNDS[1], max(PACE_BOUNDS[0], self.pace * ratio ** self.policy.learning_rate))
        aspirational = []
        for rank, k, target_value, target_count, is_aspirational in c.krs:
            kind = "aspirational" if is_aspirational else "committed"
            for kr, target, achieved in (("value", target_value, achieved_value[k]), ("count", target_count, achieved_count[k])):
                score = min(1.0, achieved / target) if target > 0 else 1.0
                scores.append(score)
                if is_aspirational:
                    aspirational.append(score)
                self.scorecard_rows.append((c.index, c.start, t, rank, k, kr, kind, float(target), float(achieved), score))
        if self.policy.retrospectives and aspirational:
            # the retrospective sets the next cycle's ambition so that its aspirational key
            # results aim at what OKR practice expects of them
            ratio = (sum(aspirational) / len(aspirational)) / ASPIRATIONAL_AIM
            lo, hi = AMBITION_BOUNDS
            self.ambition = min(hi, max(lo, self.ambition * ratio ** self.policy.learning_rate))
        self.cycle_rows.append((c.index, c.start, t, c.started, c.stopped, len(c.delivered), c.forecast,
                                sum(scores) / len(scores) if scores else math.nan, c.beliefs, c.known, c.delivered))

    def retrospective(self, t: int, kind: str = "retrospective") -> None:
        """Learn from the initiatives delivered since the last retrospective (or
        post-implementation review)."""
        ids = np.array(self.evidence, dtype=int)
        self.evidence = []
        ideas = self.world.ideas
        self.beliefs = gov.learn(
            self.beliefs, self.world.observed_error[ids], ideas.theme[ids], self.policy.learning_rate,
            self.scenario.portfolio.value_sigma,
        )
        if len(ids):  # new evidence: new beliefs about every idea
            self.logv_all = gov.believed_log_value(self.world.log_estimate, ideas.theme, self.beliefs, self.log_median)
        self.events.append((t, kind, -1, -1, float(len(ids))))
