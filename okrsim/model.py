"""One simulation run: the world and the organisation as SimPy processes.

Processes, in the order they act when they fall on the same time:

1. the world (`market_process`, `arrival_process`): market shifts, shocks, new ideas;
2. planning (`_Simulation.planning_process`): every ``cadence_weeks`` weeks;
3. work (`_Simulation.team_process`, one per team): one team-week of capacity per week;
4. the ledger (`_Simulation.ledger_process`): books the week's value and capacity.

The order is fixed by event priorities, not by the order in which processes happen to be
created, so a change elsewhere cannot silently reorder a week.  Scalar state that the weekly
loops touch lives in Python lists (much faster than numpy scalars); planning, which looks at
every idea at once, works on numpy arrays.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Generator
from operator import mul
from typing import Any

import numpy as np
import simpy

from okrsim import governance as gov
from okrsim.errors import ParameterError
from okrsim.market import market_process
from okrsim.params import Policy, Scenario
from okrsim.portfolio import SECONDARY_WEIGHT, arrival_process
from okrsim.recorder import Run, RunRecord
from okrsim.streams import SeedLike, as_seed_sequence
from okrsim.world import draw_world

__all__ = ["check_compatible", "simulate"]

#: Event priorities within one point in time (lower acts first).
WORLD, PLANNING, WORK, LEDGER = 0, 1, 2, 3
#: Idea status codes.
UNKNOWN, WAITING, IN_PROGRESS, DELIVERED = -1, 0, 1, 2
_EPS = 1e-9


class _Tick(simpy.Timeout):
    """A timeout with an explicit priority among events at the same time."""

    def __init__(self, env: simpy.Environment, delay: float, priority: int):
        # Inlined like simpy.Timeout.__init__, for speed.
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
        Seeds one stream per random source (see `okrsim.streams`).  The same seed gives every
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
        self.attractiveness, self.weights = world.attractiveness, world.weights
        self.theme, self.theme2, self.teams = world.theme, world.theme2, ideas.teams
        self.value, self.arrival, self.part_size = world.value, world.arrival, world.part_size
        self.log_value, self.log_estimate, self.log_value_list = world.log_value, world.log_estimate, world.log_value_list
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
        self.status = [WAITING] * self.n_initial + [UNKNOWN] * (n - self.n_initial)
        self.n_known = self.n_initial
        # parts neither active nor done: remaining effort by team, per idea; the mask and the
        # per-idea total mirror them for vectorised planning
        self.pend: list[dict[int, float]] = [dict.fromkeys(t, s) for t, s in zip(ideas.teams, self.part_size, strict=True)]
        self.pending_mask = ideas.members.copy()
        self.pend_total = ideas.effort.tolist()
        self.parts_left = list(world.n_parts)
        self.active_parts = [0] * n
        self.lost = [0.0] * n
        self.start_week = [math.nan] * n
        self.delivery_week = [math.nan] * n
        self.n_stops = [0] * n
        self.eff = [0.0] * n
        self.eff_history: dict[int, list[tuple[int, float]]] = {}
        self.planned_logv = np.full(n, np.nan)
        self.selected_logv = [math.nan] * n
        self.evidence: list[int] = []
        # ideas that arrived since the last plan, per team, ordered by the team's own pull
        # (local preference and sponsor power, but no strategy): ad-hoc intake
        self.intake: list[list[tuple[float, int]]] = [[] for _ in range(self.n_teams)]
        self.intake_key = policy.political_weight * np.log(ideas.sponsor)[:, None] + self.local_key

        # teams
        t = range(self.n_teams)
        self.active: list[list[int]] = [[] for _ in t]
        self.active_rem: list[dict[int, float]] = [{} for _ in t]
        self.queue: list[list[int]] = [[] for _ in t]
        self.qptr = [0 for _ in t]
        self.team_key = np.full((n, self.n_teams), -np.inf)  # each team's planned priority of each idea
        self.sync: list[list[int]] = [[] for _ in t]
        self.may_pull = [False for _ in t]
        self.overhead_debt = [0.0 for _ in t]
        self.switch_debt = [0.0 for _ in t]
        self.sync_boost = policy.horizontal_alignment * gov.SYNC_BOOST

        # governance
        self.beliefs = gov.Beliefs.naive(self.k)
        self.budget = np.full(self.k, 1.0 / self.k)
        self.cycle: dict[str, Any] | None = None
        self.cycle_rows: list[tuple] = []
        self.scorecard_rows: list[tuple] = []
        self.caught_early = self.caught_late = 0

        # the ledger
        self.a = self.path.levels[0].tolist()
        self.rate = [0.0] * self.k
        self.syn_rate = [0.0] * self.k
        self.to_book: list[tuple[int, float]] = []
        self.syn_to_book: list[tuple[int, float]] = []
        self.wk_overhead = self.wk_switching = self.wk_idle = 0.0
        self.wk_theme = [0.0] * self.k
        self.tl: dict[str, list[float]] = {c: [] for c in ("value", "synergy", "overhead", "switching", "idle")}
        self.theme_rows: list[list[float]] = []
        self.events: list[tuple[float, str, int, int, float]] = []
        self.starts: list[tuple[float, int]] = []

    # ---------------------------------------------------------------------------- running
    def run(self) -> int:
        """Run to the horizon; return the number of SimPy events processed."""
        env = self.env = simpy.Environment()
        env.process(market_process(env, self.path, self.on_market_change, self.world_timeout))
        env.process(arrival_process(env, self.ideas.arrival, self.n_initial, self.on_arrival, self.world_timeout))
        env.process(self.planning_process())
        for j in range(self.n_teams):
            env.process(self.team_process(j))
        env.process(self.ledger_process())
        step, peek, horizon = env.step, env.peek, self.weeks
        n = 0
        while peek() < horizon:
            step()
            n += 1
        self.finish()
        return n

    def world_timeout(self, delay: float) -> simpy.Event:
        return _Tick(self.env, delay, WORLD)

    def on_market_change(self, index: int) -> None:
        self.a = self.path.levels[index].tolist()
        self.events.append((self.env.now, self.path.kinds[index], -1, -1, math.nan))

    def on_arrival(self, index: int) -> None:
        self.status[index] = WAITING
        self.n_known = index + 1
        for j in self.teams[index]:
            bisect.insort(self.intake[j], (-float(self.intake_key[index, j]), index))
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
        pol, ideas = self.policy, self.ideas
        retro = self.cycle is not None and pol.retrospectives
        if self.cycle is not None:
            self.close_cycle(t)
        if retro:
            self.retrospective(t)
        cost = pol.planning_cost + pol.alignment_cost * pol.horizontal_alignment + pol.workshop_cost * pol.transparency
        cost += pol.retro_cost if retro else 0.0
        if cost > 0:
            debt = self.overhead_debt  # mutated in place: the team processes hold this list
            for j in range(self.n_teams):
                debt[j] += cost
        known = self.n_known
        status = np.array(self.status[:known])
        perceived = self.attractiveness[max(0, t - self.lag)] * self.path.perception[t]
        self.workshop(t, known, status)
        goals = gov.objectives(perceived, pol.n_objectives)
        self.events.append((t, "planning", -1, -1, float(pol.n_objectives)))

        cand = np.flatnonzero((status == WAITING) | (status == IN_PROGRESS))
        if self.beliefs.count.any():
            logv = gov.believed_log_value(self.log_estimate[:known], ideas.theme[:known], self.beliefs, self.log_median)
        else:
            logv = self.log_estimate[:known]
        # each idea's perceived attractiveness and its weight on the objectives
        on_goals = np.zeros(self.k)
        on_goals[goals] = 1.0
        w1, t1, w2, t2 = self.world.w1[:known], ideas.theme[:known], self.world.w2[:known], self.world.t2[:known]
        attract = w1 * perceived[t1] + w2 * perceived[t2]
        focus = w1 * on_goals[t1] + w2 * on_goals[t2]
        log_value = logv + np.log(attract) + np.log1p(pol.okr_focus * focus)  # before staleness
        found = np.flatnonzero(self.pair_found & (self.pairs.b < known))
        if len(found):
            log_value = self.adjust_for_interactions(log_value, status, found, t)
        self.planned_logv[cand] = logv[cand]
        remaining = self.remaining(cand)
        capacity = float(self.n_teams * pol.cadence_weeks)
        cand_theme = ideas.theme[cand]
        # Rank by value per total effort (WSJF): replanning with unchanged information must
        # not reorder work, so sunk effort only enters the decision to stop running work.
        pri = base = (1.0 - pol.political_weight) * log_value[cand] + self.static_priority[cand]
        order = np.argsort(-pri, kind="stable")
        inside = gov.within_capacity(order, remaining, capacity)
        target = gov.theme_shares(cand_theme[order[inside]], remaining[order[inside]], self.k)
        # the organisation starts with a budget split that matches its first view of the market
        if self.cycle is None:
            self.budget = target
        else:
            self.budget = gov.budget_step(self.budget, target, pol.budget_inertia, pol.cadence_weeks)
        if pol.budget_inertia > 0:
            # last year's split still decides what gets funded first
            pri = pri + gov.FUNDED_FIRST * gov.funded(order, cand_theme, remaining, self.budget, capacity)
            order = np.argsort(-pri, kind="stable")
            inside = gov.within_capacity(order, remaining, capacity)
        ranked = cand[order]
        plain = np.exp(logv - self.stale_slope * (t - ideas.arrival[:known])) * attract
        self.open_cycle(t, goals, perceived, ranked[inside], plain)
        if pol.can_stop_running_work:
            self.stop_lost_work(t, cand, base, order, inside, remaining, status)
        self.build_queues(cand, pri)
        for intake in self.intake:
            intake.clear()

    def remaining(self, ids: np.ndarray) -> np.ndarray:
        """Effort still to do on each of `ids`: pending parts plus what active parts lack."""
        total = np.array(self.pend_total)
        for rem in self.active_rem:
            for i, r in rem.items():
                total[i] += r
        return total[ids]

    def adjust_for_interactions(self, log_value: np.ndarray, status: np.ndarray, found: np.ndarray, t: int) -> np.ndarray:
        """Discovered conflicts and synergies change what ideas are worth to the planners."""
        pairs, pf = self.pairs, self.scenario.portfolio
        age = self.stale_slope * (t - self.ideas.arrival[: len(log_value)])  # planners expect staleness
        value = np.exp(log_value - age)
        adj = gov.interaction_adjustment(value, status, pairs.a[found], pairs.b[found], pairs.conflict[found],
                                         pf.conflict_severity, pf.synergy_bonus)
        return np.log(np.maximum(value + adj, 1e-12)) + age

    def workshop(self, t: int, known: int, status: np.ndarray) -> None:
        """Joint OKR/portfolio workshop: each open pair of known ideas may be discovered."""
        if self.pairs.n == 0 or self.policy.transparency <= 0:
            return
        a, b = self.pairs.a, self.pairs.b
        eligible = ~self.pair_found & (b < known)
        idx = np.flatnonzero(eligible)
        idx = idx[(status[a[idx]] != DELIVERED) | (status[b[idx]] != DELIVERED)]
        self.pair_seen[idx] += 1
        new = idx[self.pair_seen[idx] >= self.pair_needed[idx]]
        if len(new):
            self.pair_found[new] = True
            for p in new.tolist():
                conflict = self.pair_conflict[p]
                self.caught_early += conflict
                kind = "conflict_discovered" if conflict else "synergy_discovered"
                self.events.append((t, kind, self.pair_a[p], self.pair_b[p], math.nan))

    def stop_lost_work(self, t: int, cand: np.ndarray, base: np.ndarray, order: np.ndarray, inside: np.ndarray,
                       remaining: np.ndarray, status: np.ndarray) -> None:
        """Stop running work that lost its value (see `governance.should_stop`)."""
        running = sorted({i for active in self.active for i in active})
        if not running or not inside.any() or inside.all():
            return
        planned = cand[order[inside]]
        if not np.any(status[planned] == WAITING):
            return  # nothing better is waiting for the capacity
        position = np.searchsorted(cand, running)
        in_plan = np.zeros(len(cand), bool)
        in_plan[order[inside]] = True
        w = self.policy.political_weight
        marginal = base[order[inside][-1]]
        effort = self.ideas.effort
        ids = [i for i, p in zip(running, position.tolist(), strict=True)
               if not in_plan[p] and gov.should_stop(base[p], effort[i], remaining[p], marginal, w)]
        if ids:
            self.stop(t, ids)

    def stop(self, t: int, ids: list[int]) -> None:
        """Stop running initiatives: active parts lose ``switch_loss`` of their done effort
        and go back to pending; each team that was on them pays a ramp-up."""
        for i in ids:
            loss = 0.0
            for j in self.teams[i]:
                rem = self.active_rem[j].pop(i, None)
                if rem is None:
                    continue
                self.active[j].remove(i)
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
            self.active_parts[i] = 0
            self.lost[i] += loss
            self.status[i] = WAITING
            self.n_stops[i] += 1
            self.cycle["stopped"] += 1  # type: ignore[index]
            self.events.append((t, "stop", i, self.theme[i], loss))

    def build_queues(self, cand: np.ndarray, pri: np.ndarray) -> None:
        """Each team's order of its pending parts: the global priority plus, unless teams
        are horizontally aligned, their own local preferences."""
        rows, cols = np.nonzero(self.pending_mask[cand])
        ids = cand[rows]
        keys = pri[rows] + self.local_key[ids, cols]
        self.team_key[ids, cols] = keys
        order = np.lexsort((-keys, cols))
        ordered = ids[order].tolist()
        bounds = np.concatenate(([0], np.cumsum(np.bincount(cols, minlength=self.n_teams)))).tolist()
        for j in range(self.n_teams):
            self.queue[j] = ordered[bounds[j]:bounds[j + 1]]
            self.qptr[j] = 0
            self.may_pull[j] = True

    def open_cycle(self, t: int, goals: np.ndarray, perceived: np.ndarray, expected: np.ndarray,
                   plain_value: np.ndarray) -> None:
        """Start an OKR cycle: objectives, and key results that promise what the plan expects
        to deliver in each objective's theme (value per week and number of initiatives)."""
        index = 0 if self.cycle is None else self.cycle["index"] + 1
        themes = self.ideas.theme[expected]
        krs = []
        for rank, k in enumerate(goals.tolist()):
            mine = themes == k
            count = int(mine.sum())
            if count:
                target_value = float(plain_value[expected[mine]].sum())
            else:
                target_value, count = float(self.scenario.portfolio.value_median * perceived[k]), 1
            krs.append((rank, k, target_value, count))
            self.events.append((t, "objective", -1, k, target_value))
        self.cycle = {"index": index, "start": t, "krs": krs, "delivered": [], "started": 0, "stopped": 0,
                      "beliefs": self.beliefs, "known": self.n_known}

    def close_cycle(self, t: int) -> None:
        """Score the cycle's key results against what was actually delivered."""
        c = self.cycle
        assert c is not None
        achieved_value = [0.0] * self.k
        achieved_count = [0] * self.k
        a = self.attractiveness
        for i, week in c["delivered"]:
            k = self.theme[i]
            achieved_value[k] += self.eff[i] * a[week, k]
            achieved_count[k] += 1
        scores = []
        for rank, k, target_value, target_count in c["krs"]:
            for kr, target, achieved in (("value", target_value, achieved_value[k]), ("count", target_count, achieved_count[k])):
                score = min(1.0, achieved / target) if target > 0 else 1.0
                scores.append(score)
                self.scorecard_rows.append((c["index"], c["start"], t, rank, k, kr, float(target), float(achieved), score))
        self.cycle_rows.append((c["index"], c["start"], t, c["started"], c["stopped"], len(c["delivered"]),
                                sum(scores) / len(scores), c["beliefs"], c["known"], [i for i, _ in c["delivered"]]))

    def retrospective(self, t: int) -> None:
        """Learn from the initiatives delivered since the last retrospective."""
        ids = np.array(self.evidence, dtype=int)
        self.evidence = []
        self.beliefs = gov.learn(
            self.beliefs, self.ideas.est_error[ids], self.ideas.theme[ids],
            self.policy.learning_rate, self.scenario.portfolio.value_sigma,
        )
        self.events.append((t, "retrospective", -1, -1, float(len(ids))))

    # ---------------------------------------------------------------------------- work
    def team_process(self, j: int) -> Generator[simpy.Event, None, None]:
        """One team's weeks: pay overhead and switching debts, then share the rest of its
        capacity equally over its active parts (processor sharing up to the WIP limit)."""
        env, active, rem, theme, tc = self.env, self.active[j], self.active_rem[j], self.theme, self.wk_theme
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
                    if min(rem.values()) > share:  # the usual week: nothing finishes
                        for i in active:
                            rem[i] -= share
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
        active, rem, theme, tc = self.active[j], self.active_rem[j], self.theme, self.wk_theme
        while True:
            if len(active) < self.wip and self.may_pull[j]:
                self.pull(j)
            n = len(active)
            if n == 0:
                return cap
            share = cap / n
            m = min(rem.values())
            step = m if m < share else share
            for i in active:
                rem[i] -= step
                tc[theme[i]] += step
            cap -= step * n
            for i in [i for i in active if rem[i] <= _EPS]:
                self.finish_part(i, j)
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
        active, queue, pend, sync = self.active[j], self.queue[j], self.pend, self.sync[j]
        while len(active) < self.wip:
            p = self.qptr[j]
            n = len(queue)
            while p < n and j not in pend[queue[p]]:
                p += 1
            self.qptr[j] = p
            best = queue[p] if p < n else -1
            if sync:
                best_key = self.team_key[best, j] if best >= 0 else -math.inf
                for i in sync:
                    k = self.team_key[i, j] + self.sync_boost
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
        r = self.pend[i].pop(j)
        self.pend_total[i] -= r
        self.pending_mask[i, j] = False
        self.active_rem[j][i] = r
        self.active[j].append(i)
        self.active_parts[i] += 1
        sync = self.sync[j]
        if i in sync:
            sync.remove(i)
        if self.status[i] == WAITING:
            self.status[i] = IN_PROGRESS
            t = self.env.now
            if self.start_week[i] != self.start_week[i]:  # NaN: first start
                self.start_week[i] = t
                self.selected_logv[i] = float(self.planned_logv[i])
            self.cycle["started"] += 1  # type: ignore[index]
            self.starts.append((t, self.theme[i]))
            self.events.append((t, "start", i, self.theme[i], self.value[i]))
        for other in self.pend[i]:
            if i not in self.sync[other] and self.team_key[i, other] > -math.inf:
                self.sync[other].append(i)
                self.may_pull[other] = True

    def finish_part(self, i: int, j: int) -> None:
        del self.active_rem[j][i]
        self.active[j].remove(i)
        self.active_parts[i] -= 1
        self.parts_left[i] -= 1
        if self.parts_left[i] == 0:
            self.deliver(i)

    def deliver(self, i: int) -> None:
        """Book a delivery: value starts next week; conflicts and synergies with live
        initiatives take effect now, and an undiscovered conflict surfaces."""
        t = int(self.env.now)
        self.status[i] = DELIVERED
        self.delivery_week[i] = t
        eff = self.value[i] * (0.5 ** ((t - self.arrival[i]) / self.half_life) if self.half_life > 0 else 1.0)
        self.eff[i] = eff
        self.eff_history[i] = [(t + 1, eff)]
        self.to_book.append((i, eff))
        self.evidence.append(i)
        self.cycle["delivered"].append((i, t))  # type: ignore[index]
        self.events.append((t, "delivery", i, self.theme[i], eff))
        pf = self.scenario.portfolio
        for p in self.partners.get(i, ()):
            other = self.pair_b[p] if self.pair_a[p] == i else self.pair_a[p]
            if self.status[other] != DELIVERED:
                continue
            small = i if self.eff[i] <= self.eff[other] else other
            if self.pair_conflict[p]:
                loss = pf.conflict_severity * self.eff[small]
                self.eff[small] -= loss
                self.eff_history[small].append((t + 1, self.eff[small]))
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
        """Book the week: value of live initiatives at this week's attractiveness, capacity
        use; then make this week's deliveries live from next week on."""
        env, tl, rate, syn_rate = self.env, self.tl, self.rate, self.syn_rate
        value, synergy, overhead, switching, idle = (tl[c] for c in ("value", "synergy", "overhead", "switching", "idle"))
        zeros = [0.0] * self.k
        while True:
            value.append(sum(map(mul, rate, self.a)))
            synergy.append(sum(map(mul, syn_rate, self.a)))
            overhead.append(self.wk_overhead)
            switching.append(self.wk_switching)
            idle.append(self.wk_idle)
            self.theme_rows.append(self.wk_theme.copy())
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
        c = self.cycle
        if c is not None and c["start"] + self.policy.cadence_weeks <= self.weeks:
            self.close_cycle(c["start"] + self.policy.cadence_weeks)
        self.final_beliefs = self.beliefs

    def record(self, n_events: int) -> RunRecord:
        return RunRecord(
            weeks=self.weeks,
            n_teams=self.n_teams,
            path=self.path,
            attractiveness=self.attractiveness,
            ideas=self.ideas,
            pairs=self.pairs,
            weights=self.weights,
            timeline={c: np.asarray(v) for c, v in self.tl.items()},
            theme_capacity=np.asarray(self.theme_rows).reshape(-1, self.k),
            status=np.asarray(self.status, np.int8),
            n_known=self.n_known,
            start_week=np.asarray(self.start_week),
            delivery_week=np.asarray(self.delivery_week),
            spent=self.ideas.effort + np.asarray(self.lost) - self.remaining(np.arange(self.ideas.n)),
            lost=np.asarray(self.lost),
            n_stops=np.asarray(self.n_stops),
            eff_history=self.eff_history,
            selected_logv=np.asarray(self.selected_logv),
            pair_found=self.pair_found.copy(),
            cycles=self.cycle_rows,
            scorecards=self.scorecard_rows,
            events=self.events,
            starts=self.starts,
            caught_early=self.caught_early,
            caught_late=self.caught_late,
            final_beliefs=self.final_beliefs,
            n_events=n_events,
            portfolio=self.scenario.portfolio,
            lag=self.scenario.market.detection_lag_weeks,
        )
