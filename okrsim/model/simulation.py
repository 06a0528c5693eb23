"""One simulation run: the world and the organisation as SimPy processes that wait for what
happens next.

Processes, and the events they wait for:

- the market (`market_process`): the next shift or shock;
- arrivals (`arrival_process`): the next idea;
- planning (`_Engine.planning_process`): the next planning event, every ``cadence_weeks``;
- one process per team (`_Engine.team_process`): the end of what it owes (planning overhead,
  ramp-up) or the completion of its next part, whichever its state says comes first; a plan,
  an arrival or a partner team that changes its work interrupts it.

Nothing ticks weekly.  Value and capacity are rates that change only at events; the ledger
(`okrsim.model.ledger`) records each change and integrates exactly, and the weekly frames are
samples of those integrals.  Planning reads the market and the known ideas from the world by
time, not from the order in which processes act, so events that fall on the same instant
cannot change a plan.  The state lives in small structures: `okrsim.model.state`
(initiatives, discovered pairs, the OKR cycle), `okrsim.model.teams`, `okrsim.model.ledger`,
and the planner's knowledge and decisions (`okrsim.model.planning`).

A run's numbers must not depend on how fast it is computed: the same seed gives bit-identical
results.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Generator

import numpy as np
import simpy

from okrsim.core.errors import ParameterError
from okrsim.core.params import Policy, Scenario
from okrsim.core.streams import SeedLike, as_seed_sequence
from okrsim.model import governance as gov
from okrsim.model.clock import on_grid
from okrsim.model.ideas import arrival_process
from okrsim.model.kpis import budget_allocation
from okrsim.model.ledger import Ledger
from okrsim.model.market import market_process
from okrsim.model.planning import Planner
from okrsim.model.run import Run, RunRecord
from okrsim.model.state import DELIVERED, WAITING, Initiatives, PairState
from okrsim.model.teams import EPS, Team
from okrsim.model.world import draw_world, increment_factor

__all__ = ["check_compatible", "review_calendar", "simulate"]


def check_compatible(scenario: Scenario, policy: Policy) -> None:
    """Refuse combinations of a valid scenario and a valid policy that cannot run together."""
    if not isinstance(scenario, Scenario):
        raise ParameterError(f"scenario must be an okrsim.Scenario; got {type(scenario).__name__}")
    if not isinstance(policy, Policy):
        raise ParameterError(f"policy must be an okrsim.Policy; got {type(policy).__name__}")
    if policy.n_objectives > scenario.market.n_themes:
        raise ParameterError(
            f"policy.n_objectives = {policy.n_objectives} exceeds market.n_themes = "
            f"{scenario.market.n_themes} (policy {policy.name!r}): valid is 1 to {scenario.market.n_themes}"
        )
    if policy.cadence_weeks > scenario.horizon.weeks:
        raise ParameterError(
            f"policy.cadence_weeks = {policy.cadence_weeks} exceeds horizon.weeks = "
            f"{scenario.horizon.weeks} (policy {policy.name!r}): valid is 1 to {scenario.horizon.weeks}"
        )


def simulate(scenario: Scenario, policy: Policy, seed: SeedLike = 0) -> Run:
    """Simulate one replication of `policy` in `scenario`.

    Parameters
    ----------
    scenario : Scenario
        The world.
    policy : Policy
        The levers.
    seed : int or numpy.random.SeedSequence
        Seeds one stream per random source (see `okrsim.core.streams`).  The same seed gives every
        policy the same market, ideas and noise, and gives bit-identical results for the
        same policy.

    Returns
    -------
    Run
        KPIs at once; tidy frames on first access.
    """
    check_compatible(scenario, policy)
    seq = as_seed_sequence(seed)
    engine = _Engine(scenario, policy, seq)
    engine.run()
    return Run(scenario, policy, seq, engine.record())


def review_calendar(policy: Policy, weeks: int) -> list[tuple[float, str]]:
    """Weeks and kinds (``"gate"``, ``"reforecast"``, ``"checkin"``) of the reviews between
    planning events.

    OKR check-ins fall every ``checkin_weeks``, stage gates every ``review_weeks`` from week 0,
    the reforecast (if any) half-way through each planning cycle (rounded down to a whole
    week); a reforecast replaces a gate in the same week and either replaces a check-in (it
    reads the key results too), and none is held in a planning week (the plan decides then,
    and reads the key results first).
    """
    cadence = policy.cadence_weeks
    at: dict[int, str] = {}
    if policy.checkin_weeks > 0:
        for w in range(policy.checkin_weeks, weeks, policy.checkin_weeks):
            at[w] = "checkin"
    if policy.review_weeks > 0:
        for w in range(policy.review_weeks, weeks, policy.review_weeks):
            at[w] = "gate"
    if policy.reforecast and cadence >= 2:
        for w in range(cadence // 2, weeks, cadence):
            at[w] = "reforecast"
    return [(float(w), kind) for w, kind in sorted(at.items()) if w % cadence != 0]


class _Engine:
    """One run: the SimPy environment, its processes and the work mechanics; only `simulate`
    creates it."""

    def __init__(self, scenario: Scenario, policy: Policy, seq: np.random.SeedSequence):
        self.scenario, self.policy = scenario, policy
        self.weeks = scenario.horizon.weeks
        #: parts a team works on at once: the organisation's limit, or the policy's focus rule
        self.wip = gov.wip_in_force(scenario.organisation.wip_limit, policy.focus_wip)
        self.world = world = draw_world(scenario, seq)
        self.half_life = scenario.portfolio.staleness_half_life_weeks
        self.initiatives = Initiatives(world.ideas, world.part_size, world.n_parts, scenario.portfolio.initial_backlog)
        pairs_needed = gov.workshops_needed(world.pairs.visibility, policy.transparency)
        self.pairs = PairState(pairs_needed, np.zeros(world.pairs.n), np.zeros(world.pairs.n, bool))
        #: change capacity of each team, team-weeks per week: run work takes the rest first
        self.speed = speed = 1.0 - scenario.organisation.run_share
        self.teams = [Team(j, speed=speed, multitasking_cost=scenario.organisation.multitasking_cost)
                      for j in range(scenario.organisation.n_teams)]
        self.ledger = ledger = Ledger(scenario.market.n_themes, self.weeks)
        self.overhead_rates = {ledger.overhead_col: speed}
        self.switching_rates = {ledger.switching_col: speed}
        self.idle_rates = {ledger.idle_col: speed}
        if speed < 1.0:
            ledger.change(0.0, ledger.run_col, (1.0 - speed) * len(self.teams))
        self.events: list[tuple[float, str, int, int, float]] = []
        self.counts: Counter[str] = Counter()
        #: the reviews between planning events: gates, reforecasts, check-ins
        self.reviews = review_calendar(policy, self.weeks)
        self.planner = Planner(scenario, policy, world, self.initiatives, self.pairs, self.teams, self.events,
                               checkins=[w for w, kind in self.reviews if kind == "checkin"])
        #: share of delivered value realised with the political weight in force (sponsor commitment)
        self.commitment = gov.commitment(self.planner.political_weight, scenario.organisation.commitment_loss)
        #: the ledger column each idea's work is booked to: its theme's, or mandatory work's
        #: (which no policy chooses by theme, so the alignment KPIs leave it out)
        self.work_cols = np.where(world.mandatory, ledger.mandatory_col, ledger.work_col + world.ideas.theme).tolist()
        self.board_from = 0  # the first idea the change board has not yet decided
        #: dependents whose work is done, by the undelivered prerequisite they wait for, and
        #: how many prerequisites each still waits for
        self.blocked: dict[int, list[int]] = {}
        self.missing: dict[int, int] = {}
        #: weeks each part waits for others once started (None: work never waits)
        self.waits = world.waits
        #: increments (7.8): share of an initiative's value its first increment earns, and
        #: the share of each part's effort still to do when that increment's work is done (the
        #: first increment needs `mvp_effort` of the effort without the increment cost, which
        #: falls on the second release)
        self.mvp_value = scenario.portfolio.mvp_value
        self.mvp_left_share = 1.0 - scenario.portfolio.mvp_effort / increment_factor(scenario.portfolio)
        self.env = simpy.Environment()

    # ------------------------------------------------------------------------- running
    def run(self) -> None:
        """Run to the horizon."""
        env, world = self.env, self.world
        self.planner.plan(0)  # the first plan, before any team starts
        generators = [
            market_process(env, world.path, self.on_market_change),
            arrival_process(env, world.arrival, self.initiatives.n_known, self.on_arrival),
            self.planning_process(),
        ]
        for generator in generators:
            env.process(generator)
        for team in self.teams:
            generator = self.team_process(team)
            team.process = env.process(generator)
            generators.append(generator)
        env.run(until=self.weeks)
        for team in self.teams:
            self.advance(team, float(self.weeks), complete=False)
        # The suspended processes and the events they wait for hold this run in reference
        # cycles; closing them lets reference counting free its state at once instead of
        # leaving it to the cyclic garbage collector (which costs far more).
        for generator in generators:
            generator.close()
        self.counts["end"] += 1

    def on_market_change(self, index: int) -> None:
        kind = self.world.path.kinds[index]
        self.counts[kind] += 1
        self.events.append((self.env.now, kind, -1, -1, math.nan))

    def on_arrival(self, index: int) -> None:
        self.counts["arrival"] += 1
        self.reveal(index + 1)

    def reveal(self, upto: int) -> None:
        """Make ideas known up to (not including) `upto`; their teams may take them ad hoc."""
        st, world, t = self.initiatives, self.world, self.env.now
        key = self.planner.intake_key
        for i in range(st.n_known, upto):
            st.status[i] = WAITING
            for j in world.ideas.teams[i]:
                team = self.teams[j]
                bisect.insort(team.intake, (-key.item(i, j), i))
                team.may_pull = True
                if len(team.active) < self.wip:
                    self.wake(team)
            self.events.append((t, "arrival", i, world.theme[i], world.value[i]))
        st.n_known = max(st.n_known, upto)

    def wake(self, team: Team) -> None:
        """Interrupt a sleeping team so that it looks at its work again."""
        if team.sleeping:
            team.sleeping = False
            team.process.interrupt()

    def planning_process(self) -> Generator[simpy.Event, None, None]:
        """The organisation's calendar: planning events every ``cadence_weeks``, stage-gate
        reviews every ``review_weeks`` and the mid-cycle reforecast (`review_calendar`),
        and change-board meetings (`next_board`), each at the next week it is due.

        One process keeps the order of decisions that fall on the same week fixed: a plan,
        reforecast or gate first, then the change board (which only sees requests the plan
        has not just taken in)."""
        env, planner = self.env, self.planner
        reviews = self.reviews
        r = 0
        while True:
            plan_at = planner.next_plan
            while r < len(reviews) and reviews[r][0] < env.now + 0.5:
                r += 1
            review_at = reviews[r][0] if r < len(reviews) else math.inf
            board_at = self.next_board()
            t = min(plan_at, review_at, board_at)
            if t >= self.weeks:
                return
            yield env.timeout(t - env.now)
            t = round(env.now)  # the organisation decides on whole weeks
            self.reveal(bisect.bisect_right(self.world.arrival, t))
            for team in self.teams:
                self.advance(team, env.now)
            woken = self.teams
            if t == plan_at:
                self.counts["planning"] += 1
                planner.plan(t)
            elif t == review_at and reviews[r][1] == "checkin":
                self.counts["checkin"] += 1
                planner.checkin(t)
                woken = []  # a check-in reads the teams' progress; it does not change their work
            elif t == review_at:
                kind = reviews[r][1]
                self.counts[kind] += 1
                planner.plan(t, kind)
            else:
                woken = []  # a change board alone wakes only the teams of what it approved
            if board_at == t and (requests := self.due_requests(t)):
                self.counts["change_board"] += 1
                approved = planner.change_board(t, requests)
                if approved and not woken:
                    teams = sorted({j for i in approved for j in self.world.ideas.teams[i]})
                    woken = [self.teams[j] for j in teams]
            self.board_from = max(self.board_from, planner.plan_known)
            for team in woken:
                self.wake(team)

    def due_requests(self, t: float) -> list[int]:
        """Change requests the board decides at week `t`: ideas that arrived after the plan in
        force, waited ``change_delay_weeks`` by `t`, and are still waiting.  Each request goes
        to the board once (a rejected idea waits for the next plan)."""
        start = max(self.board_from, self.planner.plan_known)
        end = bisect.bisect_right(self.world.arrival, t - self.policy.change_delay_weeks, lo=start)
        end = min(end, self.initiatives.n_known)
        self.board_from = max(start, end)
        status = self.initiatives.status
        return [i for i in range(start, end) if status[i] == WAITING]

    def next_board(self) -> float:
        """Week of the next change-board meeting with a request due: the first board slot
        (a multiple of ``change_board_weeks``) at or after the oldest undecided request's due
        week (arrival plus ``change_delay_weeks``); infinite without a board or a request."""
        every = self.policy.change_board_weeks
        start = max(self.board_from, self.planner.plan_known)
        if every <= 0 or start >= len(self.world.arrival):
            return math.inf
        due = float(self.world.arrival[start]) + self.policy.change_delay_weeks
        return float(max(math.ceil(due / every - 1e-9) * every, every * math.ceil((self.env.now + 0.5) / every)))

    # ------------------------------------------------------------------------- work
    def team_process(self, team: Team) -> Generator[simpy.Event, None, None]:
        """One team: do what its state says until the next change of mode, then look again.

        This loop runs for about two thirds of a run's events, so it keeps its lookups in
        locals and counts its wake-ups in plain integers (merged into ``counts`` at the end).
        A wake-up from work is counted once the team has advanced: a finished part, else a
        part's first-increment milestone (``milestone``), else a part's wait ended (``wait_over``)."""
        env, wip, timeout = self.env, self.wip, self.env.timeout
        complete, pull, set_rates = self.complete, self.pull, self.set_rates
        debt_paid = part_done = interrupted = milestones = waits_over = 0
        worked = False  # the last wake-up ended a stretch of work
        try:
            while True:
                now = env.now
                waiting = len(team.waiting)
                done = team.advance(now)
                if worked:
                    worked = False
                    if not done and team.reached:
                        milestones += 1
                    elif not done and len(team.waiting) < waiting:
                        waits_over += 1
                    else:
                        part_done += 1
                if team.reached:
                    self.reach(team)
                if done:
                    complete(done)
                if team.overhead > 0.0 or team.switching > 0.0:
                    wait = team.overhead if team.overhead > 0.0 else team.switching
                else:
                    if team.may_pull and len(team.active) < wip:
                        pull(team)
                    wait = team.time_to_next()
                set_rates(team)
                team.sleeping = True
                try:
                    if wait < math.inf:  # wake on the clock's grid (exact: now is on it too)
                        yield timeout(on_grid(now + wait) - now)
                    else:
                        yield env.event()
                    if team.overhead > 0.0 or team.switching > 0.0:
                        debt_paid += 1
                    else:
                        worked = True
                except simpy.Interrupt:
                    interrupted += 1
                team.sleeping = False
        finally:  # the run closes every process at its end
            for kind, n in (("debt_paid", debt_paid), ("part_done", part_done), ("team_interrupted", interrupted),
                            ("milestone", milestones), ("wait_over", waits_over)):
                if n:
                    self.counts[kind] += n

    def advance(self, team: Team, now: float, complete: bool = True) -> None:
        """Advance a team's work to `now`; finished parts complete their initiatives."""
        done = team.advance(now)
        if team.reached:
            self.reach(team)
        if done and complete:
            self.complete(done)

    def complete(self, done: list[int]) -> None:
        """Parts of the ideas in `done` finished; ideas with no part left are delivered."""
        parts_left = self.initiatives.parts_left
        for i in done:
            parts_left[i] -= 1
            if parts_left[i] == 0:
                self.deliver(i)

    def set_rates(self, team: Team) -> None:
        """Tell the ledger what the team spends its capacity on from now on.

        The rates of a team in debt or idle are shared constant dicts (never mutated), so an
        unchanged mode is recognised by identity."""
        if team.overhead > 0.0:
            rates = self.overhead_rates
        elif team.switching > 0.0:
            rates = self.switching_rates
        elif team.waiting or team.multitasking_cost > 0:
            rates = self.focused_rates(team)
        elif team.active:
            rates = {}
            share = self.speed / len(team.active)
            cols = self.work_cols
            for i in team.active:
                c = cols[i]
                rates[c] = rates.get(c, 0.0) + share
        else:
            rates = self.idle_rates
        old = team.rates
        if rates is old or rates == old:
            return
        t, change = self.env.now, self.ledger.change
        for c, r in old.items():
            new = rates.get(c, 0.0)
            if new != r:
                change(t, c, new - r)
        for c, r in rates.items():
            if c not in old:
                change(t, c, r)
        team.rates = rates

    def focused_rates(self, team: Team) -> dict[int, float]:
        """`set_rates` where parts may wait or parallel work costs: the parts worked on share
        what the team keeps of its capacity (`Team.focus`), switching between them takes the
        rest; a team whose active parts all wait idles."""
        waiting = team.waiting
        n = len(team.active) - len(waiting)
        if not n:
            return self.idle_rates
        keep = team.focus(n)
        share, cols, rates = self.speed * keep / n, self.work_cols, {}
        for i in team.active:
            if i not in waiting:
                c = cols[i]
                rates[c] = rates.get(c, 0.0) + share
        if keep < 1.0:
            rates[self.ledger.switching_col] = self.speed * (1.0 - keep)
        return rates

    def pull(self, team: Team) -> None:
        """Start the team's next parts, in its own order, up to the WIP limit.

        Parts that a partner team already started compete with a bonus of
        ``horizontal_alignment * SYNC_BOOST``, so aligned teams work on shared initiatives
        at the same time.  When nothing planned is left, the team takes ideas that arrived
        since the last plan in its own order of local preference and sponsor pull (ad-hoc
        intake): capacity does not idle while there is demand, but unplanned work is not
        prioritised by strategy.
        """
        j, active, queue, sync = team.index, team.active, team.queue, team.sync
        pend, wip = self.initiatives.pend, self.wip
        p, n = team.next, len(queue)
        while len(active) < wip:
            while p < n and j not in pend[queue[p]]:
                p += 1
            team.next = p
            best = queue[p] if p < n else -1
            if sync:
                key, boost = self.planner.team_key.item, self.planner.sync_boost
                best_key = key(best, j) if best >= 0 else -math.inf
                for i in sync:
                    k = key(i, j) + boost
                    if k > best_key and j in pend[i]:
                        best, best_key = i, k
            if best < 0:
                intake = team.intake
                while intake and j not in pend[intake[0][1]]:
                    intake.pop(0)
                if not intake:
                    team.may_pull = False  # nothing left until the next plan, arrival or sync
                    return
                best = intake.pop(0)[1]
            self.start_part(best, team)

    def start_part(self, i: int, team: Team) -> None:
        """`team` starts its part of idea `i`; partner teams with a part still pending sync
        to it if the idea is planned (known at the last plan)."""
        st, planner, j = self.initiatives, self.planner, team.index
        pend = st.pend[i]
        r = pend.pop(j)
        st.pend_total[i] -= r
        st.pending_mask[i, j] = False
        team.active[i] = r
        if self.waits is not None and (wait := self.waits.item(i, j)) > 0:
            team.waiting[i] = on_grid(self.env.now + wait)  # (on the grid: the team wakes exactly then)
        if self.mvp_value > 0 and st.mvp_left[i] > 0 and (i, j) not in st.mvp_passed:
            at = self.mvp_left_share * self.world.part_size[i]  # what the part needs after its increment share
            if r - at > EPS:
                team.milestone[i] = at
            else:  # (a part already within EPS of its milestone: passed now)
                self.pass_part(i, j)
        sync = team.sync
        if sync and i in sync:
            sync.remove(i)
        if st.status[i] == WAITING:
            st.status[i] = 1  # in progress
            t = self.env.now
            if st.start[i] != st.start[i]:  # NaN: first start
                st.start[i] = t
                st.selected_logv[i] = planner.logv_at_start(i)
            cycle = planner.cycle
            assert cycle is not None
            cycle.started += 1
            self.events.append((t, "start", i, self.world.theme[i], self.world.value[i]))
        if pend and planner.is_planned(i):
            wip = self.wip
            for other in pend:
                partner = self.teams[other]
                if i not in partner.sync:
                    partner.sync.append(i)
                    partner.may_pull = True
                    if len(partner.active) < wip and not partner.in_debt:
                        self.wake(partner)

    def reach(self, team: Team) -> None:
        """The parts of `team` listed in ``team.reached`` did their share of their
        initiatives' first increment."""
        for i in team.reached:
            self.pass_part(i, team.index)
        team.reached.clear()

    def pass_part(self, i: int, j: int) -> None:
        """Team `j`'s part of `i` did its share of the first increment; the increment is
        released when every part did (`release_increment`)."""
        st = self.initiatives
        st.mvp_passed.add((i, j))
        st.mvp_left[i] -= 1
        if st.mvp_left[i] == 0 and st.status[i] != DELIVERED:
            self.release_increment(i)

    def release_increment(self, i: int) -> None:
        """Release `i`'s first increment: a share ``mvp_value`` of its value (stale as of now)
        starts earning, and keeps earning whatever becomes of the rest of the initiative.

        The increment is cut to stand alone: it does not wait for the initiative's
        prerequisites, and conflicts and synergies act when the whole initiative is delivered."""
        st, world, t = self.initiatives, self.world, self.env.now
        rate = self.mvp_value * self.stale_value(i, t)
        st.mvp_week[i] = t
        st.mvp_rate[i] = rate
        self.ledger.earn(t, world.theme[i], world.theme2[i], rate)
        self.counts["mvp_released"] += 1
        self.events.append((t, "mvp_released", i, world.theme[i], rate))

    def stale_value(self, i: int, t: float) -> float:
        """The value rate (at attractiveness 1) of `i` delivered at `t`: its true value after
        staleness, times the share its sponsors realise."""
        world = self.world
        eff = world.value[i] * (0.5 ** ((t - world.arrival[i]) / self.half_life) if self.half_life > 0 else 1.0)
        return eff * self.commitment  # exactly eff without a commitment loss

    def deliver(self, i: int) -> None:
        """Book a delivery: value starts now; conflicts and synergies with live initiatives
        take effect now, and an undiscovered conflict surfaces.  An initiative whose
        prerequisites are not all delivered waits for them (`wait_for_prerequisites`)."""
        st, world, t = self.initiatives, self.world, self.env.now
        if i in world.prerequisites and self.wait_for_prerequisites(i, t):
            return
        st.status[i] = DELIVERED
        st.delivery[i] = t
        eff = self.stale_value(i, t)
        if st.mvp_rate[i] > 0:  # the first increment earns already: the rest adds its share
            rest = (1.0 - self.mvp_value) * eff
            self.ledger.earn(t, world.theme[i], world.theme2[i], rest)
            eff = st.mvp_rate[i] + rest
        else:
            self.ledger.earn(t, world.theme[i], world.theme2[i], eff)
        st.eff[i] = eff
        st.delivered_rate[i] = eff
        self.planner.evidence.append(i)
        cycle = self.planner.cycle
        assert cycle is not None
        cycle.delivered.append(i)
        self.events.append((t, "delivery", i, world.theme[i], eff))
        if i in world.partners:
            self.interact(i, t)
        for other in self.blocked.pop(i, ()):  # dependents whose work waited for this one
            if self.missing[other] == 1:
                del self.missing[other]
                self.deliver(other)
            else:
                self.missing[other] -= 1

    def wait_for_prerequisites(self, i: int, t: float) -> bool:
        """Whether `i`, whose work is done, must wait for undelivered prerequisites.

        Its value starts when the last of them is delivered.  A dependency nobody had found
        surfaces now, and its integration costs the teams of `i` rework (``rework_share``)."""
        world, st, ps = self.world, self.initiatives, self.pairs
        missing = 0
        for p in world.prerequisites[i]:
            pre = world.pair_a[p]
            if st.status[pre] == DELIVERED:
                continue
            missing += 1
            self.blocked.setdefault(pre, []).append(i)
            if not ps.found[p]:
                ps.found[p] = True
                self.events.append((t, "dependency_surfaced", pre, i, math.nan))
                rework = self.scenario.portfolio.rework_share
                if rework > 0:
                    self.rework(i, rework * world.ideas.effort.item(i))
        if missing:
            self.missing[i] = missing
            self.events.append((t, "blocked", i, world.theme[i], float(missing)))
        return missing > 0

    def interact(self, i: int, t: float) -> None:
        """Conflicts, duplicates and synergies of the just delivered `i` with delivered partners.

        A conflict cuts the pair's severity (``conflict_severity``; 1 for a duplicate, which
        loses the smaller initiative's whole value) times the smaller value; one nobody had
        found surfaces now (counted in ``caught_late``, a duplicate as a conflict) and costs
        the teams of `i` integration rework (``rework_share``)."""
        pf, world, st, ps = self.scenario.portfolio, self.world, self.initiatives, self.pairs
        for p in world.partners[i]:
            other = world.pair_b[p] if world.pair_a[p] == i else world.pair_a[p]
            if st.status[other] != DELIVERED:
                continue
            small = i if st.eff[i] <= st.eff[other] else other
            if world.pair_conflict[p]:
                loss = world.pair_severity[p] * st.eff[small]
                st.eff[small] -= loss
                st.rate_changes.append((small, t, st.eff[small]))
                self.ledger.earn(t, world.theme[small], world.theme2[small], -loss)
                if not ps.found[p]:
                    ps.found[p] = True
                    ps.caught_late += 1
                    kind = "duplicate_surfaced" if world.pair_duplicate[p] else "conflict_surfaced"
                    self.events.append((t, kind, world.pair_a[p], world.pair_b[p], loss))
                    if pf.rework_share > 0:
                        self.rework(i, pf.rework_share * world.ideas.effort.item(i))
            else:
                bonus = pf.synergy_bonus * st.eff[small]
                self.ledger.earn(t, world.theme[small], world.theme2[small], bonus, synergy=True)
                self.events.append((t, "synergy_harvested", world.pair_a[p], world.pair_b[p], bonus))

    def rework(self, i: int, effort: float) -> None:
        """Integration rework after a late-found conflict, duplicate or dependency: the teams of the just delivered `i`
        share `effort` team-weeks of unplanned work (booked as switching: capacity lost to
        changes of plan) before they continue."""
        t, idea_teams = self.env.now, self.world.ideas.teams[i]
        share = effort / len(idea_teams)
        for j in idea_teams:
            team = self.teams[j]
            self.advance(team, t)  # (a team of `i` may be asleep in other work)
            team.switching += share
            self.wake(team)
        self.counts["rework"] += 1

    # ------------------------------------------------------------------------- results
    def book_penalties(self) -> None:
        """Book the penalty of each mandatory initiative for the time it was past its deadline
        within the horizon (from the deadline to its delivery, or to the end).

        Booked once the run is over, because the penalty depends only on the delivery time,
        which nothing in the run reads: the ledger integrates changes in time order whenever
        they were recorded."""
        pf, world, st = self.scenario.portfolio, self.world, self.initiatives
        if pf.late_penalty <= 0:
            return
        rate, col = pf.late_penalty * pf.value_median, self.ledger.penalty_col
        for i in np.flatnonzero(world.mandatory & (world.deadline < self.weeks)).tolist():
            due, done = world.deadline.item(i), st.delivery[i]
            if st.status[i] != DELIVERED:
                self.ledger.change(due, col, rate)
            elif done > due:
                self.ledger.change(due, col, rate)
                self.ledger.change(done, col, -rate)

    def record(self) -> RunRecord:
        """What the run leaves behind: the ledger integrated, the state as arrays."""
        planner, st, world = self.planner, self.initiatives, self.world
        c = planner.cycle
        if c is not None and c.start + self.policy.cadence_weeks <= self.weeks:
            planner.close_cycle(c.start + self.policy.cadence_weeks)
        self.book_penalties()
        timeline, theme_capacity = self.ledger.weekly(world.path)
        all_ids = np.arange(world.ideas.n)
        return RunRecord(
            weeks=self.weeks,
            n_teams=len(self.teams),
            path=world.path,
            attractiveness=world.attractiveness,
            ideas=world.ideas,
            effort_estimate=world.effort_estimate,
            deadline=world.deadline,
            pairs=world.pairs,
            w1=world.w1,
            w2=world.w2,
            t2=world.t2,
            timeline=timeline,
            theme_capacity=theme_capacity,
            status=np.array(st.status, np.int8),
            n_known=st.n_known,
            start_week=np.asarray(st.start),
            delivery_week=np.asarray(st.delivery),
            mvp_week=np.asarray(st.mvp_week),
            mvp_rate=np.array(st.mvp_rate),
            spent=world.ideas.effort + np.array(st.lost) - planner.remaining(all_ids),
            lost=np.array(st.lost),
            n_stops=np.array(st.n_stops),
            delivered_rate=np.array(st.delivered_rate),
            rate_changes=st.rate_changes,
            selected_logv=np.array(st.selected_logv),
            approved=np.array(st.approved, np.int8),
            # (mandatory changes are not a reallocation: no one chose their theme)
            allocation=budget_allocation(planner.budget_rows,
                                         [a for a in planner.approvals if not world.mandatory[a[1]]],
                                         world.theme, planner.commit, len(self.teams), self.weeks),
            pair_found=self.pairs.found.copy(),
            cycles=planner.cycle_rows,
            scorecards=planner.scorecard_rows,
            events=self.events,
            caught_early=self.pairs.caught_early,
            caught_late=self.pairs.caught_late,
            final_beliefs=planner.beliefs,
            event_counts=dict(self.counts),
            portfolio=self.scenario.portfolio,
            lag=self.scenario.market.detection_lag_weeks,
        )
