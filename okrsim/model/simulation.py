"""One simulation run: the world and the organisation as SimPy processes.

Processes, in the order they act when they fall on the same time:

1. the world (`market_process`, `arrival_process`): market shifts, shocks, new ideas;
2. planning (`_Simulation.planning_process`): every ``cadence_weeks`` weeks;
3. work (`_Simulation.team_process`, one per team): one team-week of capacity per week;
4. the ledger (`_Simulation.ledger_process`): books the week's value and capacity.

The order is fixed by event priorities, not by the order in which processes happen to be
created, so a change elsewhere cannot silently reorder a week.  Scalar state that the weekly
loops touch lives in Python lists and typed arrays (much faster than numpy scalars); planning,
which looks at every idea at once, works on numpy arrays (views of the typed arrays).

A run's numbers must not depend on how fast it is computed: the vectorised steps add, multiply
and take logarithms in exactly the order and with exactly the functions of the scalar rules
they implement, so every result is reproducible bit for bit.
"""

from __future__ import annotations

import bisect
import math
from array import array
from collections.abc import Generator
from functools import partial
from typing import Any

import numpy as np
import simpy
from simpy.core import StopSimulation

from okrsim.core.errors import ParameterError
from okrsim.core.params import Policy, Scenario
from okrsim.core.streams import SeedLike, as_seed_sequence
from okrsim.model import governance as gov
from okrsim.model.ideas import SECONDARY_WEIGHT, arrival_process
from okrsim.model.market import market_process
from okrsim.model.run import Run, RunRecord
from okrsim.model.world import draw_world

__all__ = ["check_compatible", "simulate"]

#: Event priorities within one point in time (lower acts first).
WORLD, PLANNING, WORK, LEDGER = 0, 1, 2, 3
#: Priority of the end of the run: before anything else at the horizon.
END = -1
#: Idea status codes.
UNKNOWN, WAITING, IN_PROGRESS, DELIVERED = -1, 0, 1, 2
_EPS = 1e-9


class _Tick(simpy.Timeout):
    """A timeout with an explicit priority among events at the same time."""

    def __init__(self, env: simpy.Environment, delay: float, priority: int):
        # Inlined like simpy.Timeout.__init__; scheduled through the public API only, so a
        # SimPy upgrade cannot silently break the ordering of events.
        self.env = env
        self.callbacks: list[Any] = []
        self._value = None
        self._delay = delay
        self._ok = True
        env.schedule(self, priority, delay)


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
    sim = _Simulation(scenario, policy, seq)
    n_events = sim.run()
    return Run(scenario, policy, seq, sim.record(n_events))


class _Simulation:
    """Mutable state of one run; only `simulate` creates it."""

    def __init__(self, scenario: Scenario, policy: Policy, seq: np.random.SeedSequence):
        self.scenario, self.policy = scenario, policy
        m, pf, org = scenario.market, scenario.portfolio, scenario.organisation
        self.weeks, self.k, self.n_teams, self.wip = scenario.horizon.weeks, m.n_themes, org.n_teams, org.wip_limit
        self.world = world = draw_world(scenario, seq)
        self.path, self.ideas, self.pairs = world.path, world.ideas, world.pairs
        ideas = world.ideas
        n = ideas.n
        self.n_initial = pf.initial_backlog
        self.attractiveness = world.attractiveness
        self.theme, self.theme2, self.teams = world.theme, world.theme2, ideas.teams
        self.value, self.arrival, self.part_size = world.value, world.arrival, world.part_size
        self.log_value, self.log_estimate = world.log_value, world.log_estimate
        self.pair_a, self.pair_b, self.pair_conflict = world.pair_a, world.pair_b, world.pair_conflict
        self.partners = world.partners
        self.log_median = math.log(pf.value_median)
        self.half_life = pf.staleness_half_life_weeks
        self.lag = m.detection_lag_weeks
        self.local_key = (1.0 - policy.horizontal_alignment) * org.local_priority_spread * ideas.local
        # Priority is (1 - w) * log(value per effort) + w * log(sponsor power) (see
        # governance.priority); the terms that never change during a run are added up once.
        # Staleness enters as slope * arrival: the common -slope * t shifts every idea alike.
        w = policy.political_weight
        # (a half-life below a thousandth of a week is instant staleness; the floor keeps it finite)
        self.stale_slope = math.log(2.0) / max(self.half_life, 1e-3) if self.half_life > 0 else 0.0
        self.static_priority = (1.0 - w) * (self.stale_slope * ideas.arrival - np.log(ideas.effort)) + w * np.log(ideas.sponsor)

        # interactions
        self.pair_needed = gov.workshops_needed(self.pairs.visibility, policy.transparency)
        self.pair_seen = np.zeros(self.pairs.n)
        self.pair_found = np.zeros(self.pairs.n, bool)

        # dynamic per-idea state
        # status and pending effort are typed arrays: the weekly loops index them like lists,
        # and planning reads them as numpy arrays without a copy
        self.status = array("b", [WAITING]) * self.n_initial + array("b", [UNKNOWN]) * (n - self.n_initial)
        self.n_known = self.n_initial
        # parts neither active nor done: remaining effort by team, per idea; the mask and the
        # per-idea total mirror them for vectorised planning
        self.pend: list[dict[int, float]] = list(map(dict.fromkeys, ideas.teams, self.part_size))
        self.pending_mask = ideas.members.copy()
        self.pend_total = array("d", ideas.effort.tobytes())
        self.parts_left = list(world.n_parts)
        self.lost = array("d", [0.0]) * n
        self.start_week: list[float] = [math.nan] * n  # whole weeks (ints) once set
        self.delivery_week: list[float] = [math.nan] * n
        self.n_stops = array("q", [0]) * n
        self.eff = [0.0] * n
        self.delivered_rate = array("d", [math.nan]) * n  # value rate at delivery
        self.rate_changes: list[tuple[int, int, float]] = []  # (idea, from week, new rate) after conflicts
        self.selected_logv = array("d", [math.nan]) * n
        self.evidence: list[int] = []
        # ideas that arrived since the last plan, per team, ordered by the team's own pull
        # (local preference and sponsor power, but no strategy): ad-hoc intake
        self.intake: list[list[tuple[float, int]]] = [[] for _ in range(self.n_teams)]
        self.intake_key = policy.political_weight * np.log(ideas.sponsor)[:, None] + self.local_key

        # teams
        t = range(self.n_teams)
        # each team's active parts in the order it started them: idea -> effort still to do
        self.active: list[dict[int, float]] = [{} for _ in t]
        self.queue: list[list[int]] = [[] for _ in t]
        self.qptr = [0 for _ in t]
        self.team_key = np.full((n, self.n_teams), -np.inf)  # each team's planned priority of each idea
        # ideas known at the last plan are the planned ones (every known idea that is not
        # delivered is a candidate), with the log value the plan believed
        self.plan_known = 0
        self.plan_logv = np.zeros(0)
        self.sync: list[list[int]] = [[] for _ in t]
        self.may_pull = [False for _ in t]
        self.overhead_debt = [0.0 for _ in t]
        self.switch_debt = [0.0 for _ in t]
        self.sync_boost = policy.horizontal_alignment * gov.SYNC_BOOST

        # governance
        self.beliefs = gov.Beliefs.naive(self.k)
        self.learned = False  # whether the beliefs hold any evidence
        self.budget = np.full(self.k, 1.0 / self.k)
        self.cycle: dict[str, Any] | None = None
        self.cycle_delivered: list[int] = []  # initiatives delivered in the cycle
        self.cycle_started = self.cycle_stopped = 0
        self.cycle_rows: list[tuple] = []
        self.scorecard_rows: list[tuple] = []
        self.caught_early = self.caught_late = 0

        # the ledger
        self.rate = [0.0] * self.k
        self.syn_rate = [0.0] * self.k
        self.to_book: list[tuple[int, float]] = []
        self.syn_to_book: list[tuple[int, float]] = []
        self.wk_overhead = self.wk_switching = self.wk_idle = 0.0
        self.wk_theme = [0.0] * self.k
        self.tl: dict[str, Any] = {c: [] for c in ("overhead", "switching", "idle")}
        # the value rate per theme in force in each week (week by week, theme by theme);
        # `finish` values them at the week's attractiveness all at once
        self.rate_rows: list[float] = []
        self.syn_rate_rows: list[float] = []
        self.theme_rows: list[float] = []  # week by week, theme by theme
        self.events: list[tuple[float, str, int, int, float]] = []

    # ---------------------------------------------------------------------------- running
    def run(self) -> int:
        """Run to the horizon; return the number of SimPy events processed."""
        env = self.env = simpy.Environment()
        # Stop at the horizon the way `simpy.Environment.run` does, with an event that acts
        # before anything else at that time, so that only events before the horizon count.
        end = _Tick(env, self.weeks, END)
        end.callbacks.append(StopSimulation.callback)
        world_timeout = partial(_Tick, env, priority=WORLD)  # the world acts first at any time
        processes = [
            market_process(env, self.path, self.on_market_change, world_timeout),
            arrival_process(env, self.arrival, self.n_initial, self.on_arrival, world_timeout),
            self.planning_process(),
            *(self.team_process(j) for j in range(self.n_teams)),
            self.ledger_process(),
        ]
        for process in processes:
            env.process(process)
        step, n = env.step, 0
        try:
            while True:
                step()
                n += 1
        except StopSimulation:
            pass
        # The suspended processes and the events they wait for hold this run in reference
        # cycles; closing them lets reference counting free the run's state at once instead
        # of leaving it to the cyclic garbage collector (which costs far more).
        for process in processes:
            process.close()
        self.finish()
        return n

    def on_market_change(self, index: int) -> None:
        self.events.append((self.env.now, self.path.kinds[index], -1, -1, math.nan))

    def on_arrival(self, index: int) -> None:
        self.status[index] = WAITING
        self.n_known = index + 1
        for j in self.teams[index]:
            bisect.insort(self.intake[j], (-self.intake_key.item(index, j), index))
            self.may_pull[j] = True
        self.events.append((self.env.now, "arrival", index, self.theme[index], self.value[index]))

    # ---------------------------------------------------------------------------- planning
    def planning_process(self) -> Generator[simpy.Event, None, None]:
        cadence = self.policy.cadence_weeks
        while True:
            self.plan(int(self.env.now))
            yield _Tick(self.env, cadence, PLANNING)

    def plan(self, t: int) -> None:
        """A planning event: close the cycle, learn, discover, rank, re-budget, stop, set
        OKRs and hand each team its order of work."""
        pol = self.policy
        retro = self.cycle is not None and pol.retrospectives
        if self.cycle is not None:
            self.close_cycle(t)
        if retro:
            self.retrospective(t)
        self.charge_planning(retro)
        known = self.plan_known = self.n_known
        # a view, not a copy: nothing else runs during a plan, and `stop` writes to it only
        # after the last read
        status = np.frombuffer(self.status, np.int8, known)
        perceived = self.attractiveness[max(0, t - self.lag)] * self.path.perception[t]
        self.workshop(t, known, status)
        goals = gov.objectives(perceived, pol.n_objectives)
        self.events.append((t, "planning", -1, -1, float(pol.n_objectives)))

        cand = (status.view(np.uint8) <= IN_PROGRESS).nonzero()[0]  # waiting or in progress (unknown wraps to 255)
        age = self.stale_slope * (t - self.ideas.arrival[:known])  # planners expect staleness
        logv, attract, log_value = self.believed_value(known, perceived, goals)
        found = self.pair_found.nonzero()[0]  # both ideas of a found pair are known
        if len(found):
            log_value = self.adjust_for_interactions(log_value, status, found, age)
        self.plan_logv = logv
        remaining = self.remaining(cand)
        pri, base, order, inside = self.rank(cand, log_value, remaining)
        planned = cand[order[inside]]
        plain = np.exp(logv[planned] - age[planned]) * attract[planned]
        self.open_cycle(t, goals, perceived, planned, plain)
        if pol.can_stop_running_work:
            self.stop_lost_work(t, cand, base, order, inside, remaining, status, planned)
        self.build_queues(cand, pri)
        for intake in self.intake:
            intake.clear()

    def charge_planning(self, retro: bool) -> None:
        """Every team owes the event's overhead, paid from the following weeks."""
        pol = self.policy
        cost = pol.planning_cost + pol.alignment_cost * pol.horizontal_alignment + pol.workshop_cost * pol.transparency
        cost += pol.retro_cost if retro else 0.0
        if cost > 0:
            debt = self.overhead_debt  # mutated in place: the team processes hold this list
            for j in range(self.n_teams):
                debt[j] += cost

    def believed_value(self, known: int, perceived: np.ndarray, goals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What planners believe about the known ideas: log value rate (bias-corrected
        estimate), perceived attractiveness of their themes, and log value before staleness
        and interactions (attractiveness and the OKR focus on the objectives included)."""
        theme = self.ideas.theme[:known]
        if self.learned:
            logv = gov.believed_log_value(self.log_estimate[:known], theme, self.beliefs, self.log_median)
        else:
            logv = self.log_estimate[:known]
        # per theme: perceived attractiveness (row 0) and whether it is an objective (row 1);
        # each idea weighs its primary and secondary theme
        by_theme = np.zeros((2, self.k))
        by_theme[0] = perceived
        by_theme[1, goals] = 1.0
        w1, w2 = self.world.w1[:known], self.world.w2[:known]
        attract, focus = w1 * by_theme.take(theme, axis=1) + w2 * by_theme.take(self.world.t2[:known], axis=1)
        return logv, attract, logv + np.log(attract) + np.log1p(self.policy.okr_focus * focus)

    def remaining(self, ids: np.ndarray) -> np.ndarray:
        """Effort still to do on each of `ids`: pending parts plus what active parts lack."""
        total = np.array(self.pend_total)
        for active in self.active:
            for i, r in active.items():
                total[i] += r
        return total[ids]

    def adjust_for_interactions(self, log_value: np.ndarray, status: np.ndarray, found: np.ndarray,
                                age: np.ndarray) -> np.ndarray:
        """Discovered conflicts and synergies change what ideas are worth to the planners."""
        pairs, pf = self.pairs, self.scenario.portfolio
        value = np.exp(log_value - age)
        adj = gov.interaction_adjustment(value, status, pairs.a[found], pairs.b[found], pairs.conflict[found],
                                         pf.conflict_severity, pf.synergy_bonus)
        return np.log(np.maximum(value + adj, 1e-12)) + age

    def rank(self, cand: np.ndarray, log_value: np.ndarray, remaining: np.ndarray) -> tuple[np.ndarray, ...]:
        """Rank the candidates and re-budget: return their priority, their priority before
        budgets, their order and the mask (in that order) of those inside the capacity line."""
        pol = self.policy
        capacity = float(self.n_teams * pol.cadence_weeks)
        # Rank by value per total effort (WSJF): replanning with unchanged information must
        # not reorder work, so sunk effort only enters the decision to stop running work.
        pri = base = (1.0 - pol.political_weight) * log_value[cand] + self.static_priority[cand]
        order = (-pri).argsort(kind="stable")
        ordered_remaining, ordered_theme = remaining[order], self.ideas.theme[cand[order]]
        inside = gov.within_capacity(ordered_remaining, capacity)
        target = gov.theme_shares(ordered_theme[inside], ordered_remaining[inside], self.k)
        # the organisation starts with a budget split that matches its first view of the market
        if self.cycle is None:
            self.budget = target
        else:
            self.budget = gov.budget_step(self.budget, target, pol.budget_inertia, pol.cadence_weeks)
        if pol.budget_inertia > 0:
            # last year's split still decides what gets funded first
            funded = gov.funded(ordered_theme, ordered_remaining, self.budget, capacity)
            pri = pri.copy()
            pri[order] += gov.FUNDED_FIRST * funded
            order = (-pri).argsort(kind="stable")
            inside = gov.within_capacity(remaining[order], capacity)
        return pri, base, order, inside

    def workshop(self, t: int, known: int, status: np.ndarray) -> None:
        """Joint OKR/portfolio workshop: each open pair of known ideas may be discovered."""
        if self.pairs.n == 0 or self.policy.transparency <= 0:
            return
        a, b = self.pairs.a, self.pairs.b
        idx = (~self.pair_found & (b < known)).nonzero()[0]
        idx = idx[status[a[idx]] + status[b[idx]] < 2 * DELIVERED]  # not both delivered
        seen = self.pair_seen[idx] + 1
        self.pair_seen[idx] = seen
        new = idx[seen >= self.pair_needed[idx]]
        if len(new):
            self.pair_found[new] = True
            for p in new.tolist():
                conflict = self.pair_conflict[p]
                self.caught_early += conflict
                kind = "conflict_discovered" if conflict else "synergy_discovered"
                self.events.append((t, kind, self.pair_a[p], self.pair_b[p], math.nan))

    def stop_lost_work(self, t: int, cand: np.ndarray, base: np.ndarray, order: np.ndarray, inside: np.ndarray,
                       remaining: np.ndarray, status: np.ndarray, planned: np.ndarray) -> None:
        """Stop running work that lost its value (see `governance.should_stop`)."""
        running = sorted({i for active in self.active for i in active})
        if not running or len(planned) == 0 or len(planned) == len(cand):
            return
        if not (status[planned] == WAITING).any():
            return  # nothing better is waiting for the capacity
        position = cand.searchsorted(running).tolist()
        in_plan = set(planned.tolist())
        w = self.policy.political_weight
        marginal = base.item(order[inside][-1])
        effort = self.ideas.effort
        ids = [i for i, p in zip(running, position, strict=True)
               if i not in in_plan and gov.should_stop(base.item(p), effort.item(i), remaining.item(p), marginal, w)]
        if ids:
            self.stop(t, ids)

    def stop(self, t: int, ids: list[int]) -> None:
        """Stop running initiatives: active parts lose ``switch_loss`` of their done effort
        and go back to pending; each team that was on them pays a ramp-up."""
        for i in ids:
            loss = 0.0
            for j in self.teams[i]:
                rem = self.active[j].pop(i, None)
                if rem is None:
                    continue
                lost = self.policy.switch_loss * (self.part_size[i] - rem)
                loss += lost
                self.pend[i][j] = rem + lost
                self.pend_total[i] += rem + lost
                self.pending_mask[i, j] = True
                self.switch_debt[j] += self.policy.ramp_up_weeks
                self.may_pull[j] = True
            for j in self.teams[i]:
                if i in self.sync[j]:
                    self.sync[j].remove(i)
            self.lost[i] += loss
            self.status[i] = WAITING
            self.n_stops[i] += 1
            self.cycle_stopped += 1
            self.events.append((t, "stop", i, self.theme[i], loss))

    def build_queues(self, cand: np.ndarray, pri: np.ndarray) -> None:
        """Each team's order of its pending parts: the global priority plus, unless teams
        are horizontally aligned, their own local preferences."""
        rows, cols = self.pending_mask.take(cand, axis=0).nonzero()
        ids = cand[rows]
        keys = pri[rows] + self.local_key[ids, cols]
        self.team_key[ids, cols] = keys
        order = (-keys).argsort(kind="stable")
        order = order[cols[order].astype(np.uint16).argsort(kind="stable")]  # by team, then by key
        ordered = ids[order].tolist()
        end = 0
        for j, count in enumerate(np.bincount(cols, minlength=self.n_teams).tolist()):
            start, end = end, end + count
            self.queue[j] = ordered[start:end]
            self.qptr[j] = 0
            self.may_pull[j] = True

    def open_cycle(self, t: int, goals: np.ndarray, perceived: np.ndarray, expected: np.ndarray,
                   plain_value: np.ndarray) -> None:
        """Start an OKR cycle: objectives, and key results that promise what the plan expects
        to deliver in each objective's theme (value per week and number of initiatives).

        `expected` are the ideas inside the capacity line, `plain_value` their believed value
        per week (staleness included, interactions and OKR focus not)."""
        index = 0 if self.cycle is None else self.cycle["index"] + 1
        themes = self.ideas.theme[expected]
        krs = []
        for rank, k in enumerate(goals.tolist()):
            mine = plain_value[themes == k]
            count = len(mine)
            if count:
                target_value = float(mine.sum())
            else:
                target_value, count = float(self.scenario.portfolio.value_median * perceived[k]), 1
            krs.append((rank, k, target_value, count))
            self.events.append((t, "objective", -1, k, target_value))
        self.cycle = {"index": index, "start": t, "krs": krs, "beliefs": self.beliefs, "known": self.n_known}
        self.cycle_delivered = []
        self.cycle_started = self.cycle_stopped = 0

    def close_cycle(self, t: int) -> None:
        """Score the cycle's key results against what was actually delivered."""
        c = self.cycle
        assert c is not None
        achieved_value = [0.0] * self.k
        achieved_count = [0] * self.k
        a = self.attractiveness
        for i in self.cycle_delivered:
            k = self.theme[i]
            achieved_value[k] += self.eff[i] * a.item(self.delivery_week[i], k)
            achieved_count[k] += 1
        scores = []
        for rank, k, target_value, target_count in c["krs"]:
            for kr, target, achieved in (("value", target_value, achieved_value[k]), ("count", target_count, achieved_count[k])):
                score = min(1.0, achieved / target) if target > 0 else 1.0
                scores.append(score)
                self.scorecard_rows.append((c["index"], c["start"], t, rank, k, kr, float(target), float(achieved), score))
        self.cycle_rows.append((c["index"], c["start"], t, self.cycle_started, self.cycle_stopped, len(self.cycle_delivered),
                                sum(scores) / len(scores), c["beliefs"], c["known"], self.cycle_delivered))

    def retrospective(self, t: int) -> None:
        """Learn from the initiatives delivered since the last retrospective."""
        ids = np.array(self.evidence, dtype=int)
        self.evidence = []
        self.learned = self.learned or len(ids) > 0
        self.beliefs = gov.learn(
            self.beliefs, self.ideas.est_error[ids], self.ideas.theme[ids],
            self.policy.learning_rate, self.scenario.portfolio.value_sigma,
        )
        self.events.append((t, "retrospective", -1, -1, float(len(ids))))

    # ---------------------------------------------------------------------------- work
    def team_process(self, j: int) -> Generator[simpy.Event, None, None]:
        """One team's weeks: pay overhead and switching debts, then share the rest of its
        capacity equally over its active parts (processor sharing up to the WIP limit)."""
        env, active, theme, tc = self.env, self.active[j], self.theme, self.wk_theme
        overhead_debt, switch_debt, may_pull, wip = self.overhead_debt, self.switch_debt, self.may_pull, self.wip
        while True:
            cap = 1.0
            if overhead_debt[j] > 0.0 or switch_debt[j] > 0.0:
                cap = self.pay_debts(j)
            if cap > 0.0:
                if may_pull[j] and len(active) < wip:
                    self.pull(j)
                if active:
                    share = cap / len(active)
                    if min(active.values()) > share:  # the usual week: nothing finishes
                        for i, rem in active.items():
                            active[i] = rem - share
                            tc[theme[i]] += share
                        cap = 0.0
                    else:
                        cap = self.work_until_done(j, cap)
                if cap > 0.0:
                    self.wk_idle += cap
            yield _Tick(env, 1, WORK)

    def pay_debts(self, j: int) -> float:
        """Take this week's overhead, then switching cost, from team `j`; return what is left."""
        cap = 1.0
        debt = self.overhead_debt[j]
        if debt > 0:
            o = debt if debt < cap else cap
            self.overhead_debt[j] = debt - o
            self.wk_overhead += o
            cap -= o
        debt = self.switch_debt[j]
        if debt > 0 and cap > 0:
            s = debt if debt < cap else cap
            self.switch_debt[j] = debt - s
            self.wk_switching += s
            cap -= s
        return cap

    def work_until_done(self, j: int, cap: float) -> float:
        """A week in which parts finish: work in steps up to each completion, pulling new
        parts into the freed slots; return capacity that found no work."""
        active, theme, tc = self.active[j], self.theme, self.wk_theme
        may_pull, wip, parts_left = self.may_pull, self.wip, self.parts_left
        while True:
            if len(active) < wip and may_pull[j]:
                self.pull(j)
            n = len(active)
            if n == 0:
                return cap
            share = cap / n
            m = min(active.values())
            step = m if m < share else share
            done = []
            for i, rem in active.items():
                left = active[i] = rem - step
                tc[theme[i]] += step
                if left <= _EPS:
                    done.append(i)
            cap -= step * n
            for i in done:  # the part is finished
                del active[i]
                parts_left[i] -= 1
                if parts_left[i] == 0:
                    self.deliver(i)
            if cap <= _EPS:
                return 0.0

    def pull(self, j: int) -> None:
        """Start the team's next parts, in its own order, up to the WIP limit.

        Parts that a partner team already started compete with a bonus of
        ``horizontal_alignment * SYNC_BOOST``, so aligned teams work on shared initiatives
        at the same time.  When nothing planned is left, the team takes ideas that arrived
        since the last plan in its own order of local preference and sponsor pull (ad-hoc
        intake): capacity does not idle while there is demand, but unplanned work is not
        prioritised by strategy.
        """
        active, queue, pend, sync, wip = self.active[j], self.queue[j], self.pend, self.sync[j], self.wip
        p, n = self.qptr[j], len(queue)
        while len(active) < wip:
            while p < n and j not in pend[queue[p]]:
                p += 1
            self.qptr[j] = p
            best = queue[p] if p < n else -1
            if sync:
                key, boost = self.team_key.item, self.sync_boost
                best_key = key(best, j) if best >= 0 else -math.inf
                for i in sync:
                    k = key(i, j) + boost
                    if k > best_key and j in pend[i]:
                        best, best_key = i, k
            if best < 0:
                intake = self.intake[j]
                while intake and j not in pend[intake[0][1]]:
                    intake.pop(0)
                if not intake:
                    self.may_pull[j] = False  # nothing left until the next plan, arrival or sync
                    return
                best = intake.pop(0)[1]
            self.start_part(best, j)

    def start_part(self, i: int, j: int) -> None:
        """Team `j` starts its part of idea `i`; partner teams with a part still pending
        sync to it if the idea is planned (known at the last plan)."""
        pend = self.pend[i]
        r = pend.pop(j)
        self.pend_total[i] -= r
        self.pending_mask[i, j] = False
        self.active[j][i] = r
        sync = self.sync[j]
        if i in sync:
            sync.remove(i)
        if self.status[i] == WAITING:
            self.status[i] = IN_PROGRESS
            t = self.env.now
            if self.start_week[i] != self.start_week[i]:  # NaN: first start
                self.start_week[i] = t
                self.selected_logv[i] = self.plan_logv.item(i) if i < self.plan_known else math.nan
            self.cycle_started += 1
            self.events.append((t, "start", i, self.theme[i], self.value[i]))
        if pend and i < self.plan_known:
            for other in pend:
                sync = self.sync[other]
                if i not in sync:
                    sync.append(i)
                    self.may_pull[other] = True

    def deliver(self, i: int) -> None:
        """Book a delivery: value starts next week; conflicts and synergies with live
        initiatives take effect now, and an undiscovered conflict surfaces."""
        t = int(self.env.now)
        self.status[i] = DELIVERED
        self.delivery_week[i] = t
        eff = self.value[i] * (0.5 ** ((t - self.arrival[i]) / self.half_life) if self.half_life > 0 else 1.0)
        self.eff[i] = eff
        self.delivered_rate[i] = eff
        self.to_book.append((i, eff))
        self.evidence.append(i)
        self.cycle_delivered.append(i)
        self.events.append((t, "delivery", i, self.theme[i], eff))
        if i in self.partners:
            self.interact(i, t)

    def interact(self, i: int, t: int) -> None:
        """Conflicts and synergies of the just delivered `i` with delivered partners."""
        pf = self.scenario.portfolio
        for p in self.partners[i]:
            other = self.pair_b[p] if self.pair_a[p] == i else self.pair_a[p]
            if self.status[other] != DELIVERED:
                continue
            small = i if self.eff[i] <= self.eff[other] else other
            if self.pair_conflict[p]:
                loss = pf.conflict_severity * self.eff[small]
                self.eff[small] -= loss
                self.rate_changes.append((small, t + 1, self.eff[small]))
                self.to_book.append((small, -loss))
                if not self.pair_found[p]:
                    self.pair_found[p] = True
                    self.caught_late += 1
                    self.events.append((t, "conflict_surfaced", self.pair_a[p], self.pair_b[p], loss))
            else:
                bonus = pf.synergy_bonus * self.eff[small]
                self.syn_to_book.append((small, bonus))
                self.events.append((t, "synergy_harvested", self.pair_a[p], self.pair_b[p], bonus))

    # ---------------------------------------------------------------------------- ledger
    def ledger_process(self) -> Generator[simpy.Event, None, None]:
        """Book the week: the value rates of live initiatives (valued at this week's
        attractiveness by `finish`, all weeks at once), capacity use; then make this week's
        deliveries live from next week on."""
        env, tl, rate, syn_rate = self.env, self.tl, self.rate, self.syn_rate
        overhead, switching, idle = tl["overhead"], tl["switching"], tl["idle"]
        rate_rows, syn_rate_rows = self.rate_rows, self.syn_rate_rows
        zeros = [0.0] * self.k
        while True:
            rate_rows += rate
            syn_rate_rows += syn_rate
            overhead.append(self.wk_overhead)
            switching.append(self.wk_switching)
            idle.append(self.wk_idle)
            self.theme_rows += self.wk_theme
            self.wk_theme[:] = zeros
            self.wk_overhead = self.wk_switching = self.wk_idle = 0.0
            if self.to_book:
                self.book(self.to_book, rate)
                self.to_book = []
            if self.syn_to_book:
                self.book(self.syn_to_book, syn_rate)
                self.syn_to_book = []
            yield _Tick(env, 1, LEDGER)

    def book(self, changes: list[tuple[int, float]], rates: list[float]) -> None:
        """Add value-rate changes of initiatives to the per-theme rates they earn in."""
        theme, theme2 = self.theme, self.theme2
        for i, delta in changes:
            t2 = theme2[i]
            if t2 < 0:
                rates[theme[i]] += delta
            else:
                rates[theme[i]] += delta * (1.0 - SECONDARY_WEIGHT)
                rates[t2] += delta * SECONDARY_WEIGHT

    # ---------------------------------------------------------------------------- results
    def finish(self) -> None:
        """Value the weeks' rates at their attractiveness and close the last complete cycle."""
        self.tl["value"] = self.booked_value(self.rate_rows)
        self.tl["synergy"] = self.booked_value(self.syn_rate_rows)
        c = self.cycle
        if c is not None and c["start"] + self.policy.cadence_weeks <= self.weeks:
            self.close_cycle(c["start"] + self.policy.cadence_weeks)
        self.final_beliefs = self.beliefs

    def booked_value(self, rate_rows: list[float]) -> np.ndarray:
        """Value booked in each week: the sum over themes, in theme order, of rate times the
        week's attractiveness (a cumulative sum adds up in exactly that order)."""
        rates = np.fromiter(rate_rows, float, len(rate_rows)).reshape(-1, self.k)
        return (rates * self.attractiveness[:len(rates)]).cumsum(axis=1)[:, -1]

    def record(self, n_events: int) -> RunRecord:
        return RunRecord(
            weeks=self.weeks,
            n_teams=self.n_teams,
            path=self.path,
            attractiveness=self.attractiveness,
            ideas=self.ideas,
            pairs=self.pairs,
            w1=self.world.w1,
            w2=self.world.w2,
            t2=self.world.t2,
            timeline={c: np.asarray(self.tl[c]) for c in ("value", "synergy", "overhead", "switching", "idle")},
            theme_capacity=np.fromiter(self.theme_rows, float, len(self.theme_rows)).reshape(-1, self.k),
            status=np.array(self.status, np.int8),
            n_known=self.n_known,
            start_week=np.asarray(self.start_week),
            delivery_week=np.asarray(self.delivery_week),
            spent=self.ideas.effort + np.array(self.lost) - self.remaining(np.arange(self.ideas.n)),
            lost=np.array(self.lost),
            n_stops=np.array(self.n_stops),
            delivered_rate=np.array(self.delivered_rate),
            rate_changes=self.rate_changes,
            selected_logv=np.array(self.selected_logv),
            pair_found=self.pair_found.copy(),
            cycles=self.cycle_rows,
            scorecards=self.scorecard_rows,
            events=self.events,
            caught_early=self.caught_early,
            caught_late=self.caught_late,
            final_beliefs=self.final_beliefs,
            n_events=n_events,
            portfolio=self.scenario.portfolio,
            lag=self.scenario.market.detection_lag_weeks,
        )
