"""Validation the model must show (model-spec 'Validation'): statistical, paired, seeded.

These are the kit's honesty checks: if a model change breaks the story in either
direction (quarterly always wins, or never does), they fail.  The rules they follow:

- every statistical claim holds at each of the seeds 1, 2 and 3 (`over_seeds`), with the same
  parameters and replications at each; nothing is tuned per seed;
- a "tie" is an equivalence test (`okrsim.experiments.statistics.equivalence`, two one-sided
  tests) within a stated margin, never a confidence interval that happens to include zero;
- where a claim is about the size of an advantage, the absolute advantage (``mean_diff``)
  is checked beside the relative one (``rel_mean``), or the docstring says why only the
  relative one holds.

A claim the current model does not meet is marked ``xfail(strict=True)`` with its numbers:
it is a model defect, not a claim to weaken, and the marker must go once the model meets it.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from validation_helpers import SEEDS, numbers, over_seeds, tie

import okrsim
from okrsim import Comparison, Policy, Scenario, compare
from okrsim.experiments.statistics import equivalence, mean_ci, paired
from okrsim.model.governance import Beliefs, learn
from okrsim.model.ideas import optimizers_curse

pytestmark = pytest.mark.slow


def _total(c: Comparison, policy: str | None = None) -> dict:
    """The paired total-value row of `policy` (default: the second policy) against the baseline."""
    name = policy or c.policies[1].name
    return c.paired.set_index(["kpi", "policy"]).loc[("total_value", name)].to_dict()


#: Paired replications per scenario and seed of the two advantage-growth claims.
GROWTH_REPLICATIONS = 100


@functools.cache
def _growth(scenario: Scenario, seed: int) -> Comparison:
    """Both baselines and quarterly_okr; cached, so each world is simulated once for every claim."""
    return compare(scenario, ["annual", "annual_gates", "quarterly_okr"], replications=GROWTH_REPLICATIONS, seed=seed)


def _advantage(scenario: Scenario, seed: int) -> dict:
    """quarterly_okr against annual."""
    return _total(_growth(scenario, seed), "quarterly_okr")


def test_quarterly_advantage_grows_with_turbulence():
    """100 paired replications per scenario and seed.

    Relative advantage grows stable < dynamic < turbulent, and stable's and turbulent's
    intervals do not overlap.  In absolute value it grows from stable to dynamic and from
    stable to turbulent (intervals apart too), but dynamic vs turbulent holds only relatively: turbulence destroys value both
    policies would have had (annual's total value is about a fifth lower in turbulent than in
    dynamic), so quarterly's larger share of a smaller total is not a larger absolute gain.
    """
    def claim(seed: int) -> dict:
        adv = {s: _advantage(Scenario.preset(s), seed) for s in ("stable", "dynamic", "turbulent")}
        msg = "; ".join(f"{s}: {numbers(r)}" for s, r in adv.items())
        st, dy, tu = adv["stable"], adv["dynamic"], adv["turbulent"]
        assert st["rel_mean"] < dy["rel_mean"] < tu["rel_mean"], msg
        assert st["rel_ci_high"] < tu["rel_ci_low"], msg  # non-overlapping CIs
        assert st["mean_diff"] < dy["mean_diff"] and st["mean_diff"] < tu["mean_diff"], msg
        assert st["ci_high"] < tu["ci_low"], msg
        return adv

    over_seeds(claim)


SHIFT_RATES = (0.0, 1.5, 6.0)


def test_advantage_grows_with_shift_rate_alone():
    """Everything else fixed: more market shifts, more advantage (Clark 2016); 100 replications.

    The default scenario is the dynamic preset, so its arm (1.5 shifts a year) reuses that
    comparison from the turbulence claim.

    The claim holds only relatively: shifts make the whole portfolio worth less (annual's
    total value falls by about 40% from no shifts to 6 a year), and the absolute advantage
    falls with it, while quarterly's share of it grows.
    """
    def claim(seed: int) -> list[dict]:
        rel = [_advantage(Scenario().replace({"market.shift_rate": rate}), seed) for rate in SHIFT_RATES]
        msg = "; ".join(f"rate {rate}: {numbers(r)}" for rate, r in zip(SHIFT_RATES, rel, strict=True))
        assert rel[0]["rel_mean"] < rel[1]["rel_mean"] < rel[2]["rel_mean"], msg
        assert rel[0]["rel_ci_high"] < rel[2]["rel_ci_low"], msg
        return rel

    over_seeds(claim)


def test_absolute_performance_falls_with_turbulence():
    """Posen & Levinthal (2012): in a market that moves more, every policy earns less (their
    best payoff falls from 281 to 43 as turbulence rises from 0 to 0.16); 100 replications.

    Each policy's mean total value falls from 0 to 1.5 to 6 market shifts a year, everything
    else fixed, and the fall from 0 to 6 is clear: the paired 95% CI lies below zero (the
    worlds of one seed at different shift rates share their random numbers, since the market
    is drawn in standard form and rescaled, `okrsim.model.market.draw_market`).  The single
    steps are not all significant: a shift can also make a theme boom (attractiveness is
    lognormal), and one such replication widens the interval of the first step (annual_gates,
    seed 2: -14,150 on average, CI -29,220 to +926).
    """
    def claim(seed: int) -> dict:
        comps = [_growth(Scenario().replace({"market.shift_rate": rate}), seed) for rate in SHIFT_RATES]
        out = {}
        for policy in ("annual", "annual_gates", "quarterly_okr"):
            value = [c.runs.sort_values("replication").loc[lambda d, p=policy: d.policy == p, "total_value"].to_numpy()
                     for c in comps]
            steps = [paired(value[i + 1], value[i]) for i in range(len(SHIFT_RATES) - 1)]
            whole = paired(value[-1], value[0])
            msg = f"{policy}: " + "; ".join(f"{SHIFT_RATES[i]} -> {SHIFT_RATES[i + 1]}: {numbers(st)}"
                                             for i, st in enumerate(steps)) + f"; whole range: {numbers(whole)}"
            assert all(st["mean_diff"] < 0 for st in steps), msg
            assert whole["ci_high"] < 0, msg
            out[policy] = whole
        return out

    over_seeds(claim)


#: Replications per shift rate and seed of the latency claims, and the shift rates they try.
LATENCY_REPLICATIONS = 100
LATENCY_RATES = (0.0, 1.5, 4.0)


@functools.cache
def _total_values(scenario: Scenario, policy: Policy, seed: int, replications: int = LATENCY_REPLICATIONS) -> np.ndarray:
    """Total value of each replication of `policy` in `scenario` (replication seeds as in `compare`)."""
    return np.array([okrsim.simulate(scenario, policy, okrsim.replication_seed(seed, r)).kpis["total_value"]
                     for r in range(replications)])


def _information_value(rate: float, seed: int) -> dict:
    """Value of perfect, immediate market perception over a 26-week detection lag for
    quarterly_okr, at `rate` market shifts a year (perception noise 0 in both arms)."""
    world = Scenario().replace({"market.shift_rate": rate, "market.perception_noise": 0.0})
    okr = Policy.preset("quarterly_okr")
    now = _total_values(world.replace({"market.detection_lag_weeks": 0}), okr, seed)
    late = _total_values(world.replace({"market.detection_lag_weeks": 26}), okr, seed)
    return paired(now, late)


def test_market_information_is_worthless_when_frozen_and_pays_more_with_turbulence():
    """Clark (2016), detection lag: the value of perfect, immediate market perception over a
    26-week lag is zero in a frozen market (exactly: nothing to perceive late), positive at 1.5
    shifts a year (the default world) and larger at 4; 100 paired replications per rate, for
    quarterly_okr, the policy that uses the market most often.

    Its size is far below Clark's (-92% of the payoff at his highest turbulence; here a few
    per cent, and it stops growing beyond about 8 shifts a year): a delivered initiative earns
    at the market of every later week for the rest of the horizon, so a plan is worth what
    today's market predicts about the next one to two years, which fades as shifts come faster
    (docs/model.md, 1 and 7.1).  The growth from 1.5 to 4 is checked on the means; its paired
    interval is not clear of zero at every seed.
    """
    def claim(seed: int) -> dict:
        info = {rate: _information_value(rate, seed) for rate in LATENCY_RATES}
        msg = "; ".join(f"rate {rate}: {numbers(r)}" for rate, r in info.items())
        assert info[0.0]["mean_diff"] == 0 and info[0.0]["ci_low"] == info[0.0]["ci_high"] == 0, msg
        assert info[1.5]["ci_low"] > 0 and info[4.0]["ci_low"] > 0, msg
        assert info[1.5]["mean_diff"] < info[4.0]["mean_diff"], msg
        assert info[1.5]["rel_mean"] < info[4.0]["rel_mean"], msg
        return info

    over_seeds(claim)


@pytest.mark.xfail(strict=True, reason=(
    "model defect (issue 12, item 3): the cost of cadence latency does not grow with turbulence. In a world "
    "without new ideas, planning every 52 instead of every 13 weeks costs quarterly_okr about the same at every "
    "shift rate (its extra planning overhead: -0.6% to -0.1% at 0 shifts a year, -0.5% to +0.4% at 12, 40 "
    "replications per rate, seeds 1-3, after issue 13's check-ins and interaction stakes); with new ideas the "
    "cadence is worth +17% to +21% at every shift rate (before issue 13), "
    "frozen market included, because what it buys is mostly the speed at which new ideas enter the plan, not "
    "fresher market views"))
def test_cost_of_cadence_latency_grows_with_turbulence():
    """Clark (2016), cadence: deciding every 52 instead of every 13 weeks costs nothing in a
    frozen market and more the more the market shifts.  Measured where the market is the only
    news (no new ideas), so that the cadence can only be worth fresher market views; 40
    paired replications per rate (enough to show the defect)."""
    def claim(seed: int) -> dict:
        world = Scenario().replace({"portfolio.idea_rate": 0.0})
        quarterly = Policy.preset("quarterly_okr")
        yearly = quarterly.replace({"cadence_weeks": 52}, name="okr_yearly")
        cost = {}
        for rate in (0.0, 12.0):
            w = world.replace({"market.shift_rate": rate})
            cost[rate] = paired(_total_values(w, quarterly, seed, 40), _total_values(w, yearly, seed, 40))
        msg = "; ".join(f"rate {rate}: {numbers(r)}" for rate, r in cost.items())
        assert cost[12.0]["ci_low"] > 0 and cost[12.0]["mean_diff"] > cost[0.0]["mean_diff"], msg
        return cost

    over_seeds(claim)


#: The counter-cases: quarterly variants that should lose to, or tie with, annual in a mature market.
_QUARTERLY, _CYCLES = Policy.preset("quarterly_okr"), Policy.preset("only_agility")
COUNTER = (
    _QUARTERLY.replace({"planning_cost": 2.5}, name="quarterly_costly"),
    _QUARTERLY.replace({"planning_cost": 0.6}, name="quarterly_less_costly"),  # (than quarterly_costly)
    _QUARTERLY.replace({}, name="quarterly_preset"),
    _CYCLES.replace({"planning_cost": 2.0}, name="cycles_costly_planning"),
    _CYCLES.replace({"planning_cost": 1.0, "switch_loss": 0.8, "ramp_up_weeks": 4}, name="cycles_costly_switching"),
)


#: Equivalence margin of the "tie" claims: this share of the baseline's mean total value in the
#: same replications (why 2%: see test_counter_case_ties_at_a_lower_planning_cost).
TIE_SHARE = 0.02


@functools.cache
def _mature(seed: int) -> Comparison:
    """All counter-cases against annual in one comparison: 100 paired replications, one annual run each."""
    return compare("mature", [Policy.preset("annual"), *COUNTER], replications=100, seed=seed)


def _loses(policy: str) -> None:
    def claim(seed: int) -> dict:
        row = _total(_mature(seed), policy)
        assert row["ci_high"] < 0, f"{policy}: {numbers(row)}"
        return row

    over_seeds(claim)


def _ties(policy: str) -> None:
    def claim(seed: int) -> dict:
        res = tie(_mature(seed), policy, share=TIE_SHARE)
        assert res["equivalent"], f"{policy} not shown equivalent within ±{TIE_SHARE:.0%}: {numbers(res)}"
        return res

    over_seeds(claim)


def test_counter_case_annual_wins_in_a_mature_market_with_costly_planning():
    """Few shifts, few new ideas, heavy quarterly planning (2.5 team-weeks per team): annual wins."""
    _loses("quarterly_costly")


def test_counter_case_quarterly_okr_is_at_best_level_with_the_typical_annual_process_in_a_mature_market():
    """With its preset costs (0.4 team-weeks per planning event) quarterly_okr is at best level
    with the typical annual process in a mature market (few shifts, few new ideas): it is not
    ahead by more than 2% of annual's mean total value at any seed (the upper end of the 90%
    interval below the margin: a one-sided test at 5%), and its mean is within 2% below (at seeds
    1 and 3 the two are equivalent within ±2%; at seed 2 the interval reaches below -2%).

    The margin is that of the ties (`validation_helpers.tie`).  Why 2%: it is far below
    the gains the kit's story is about (quarterly's advantage over the typical annual process on
    the presets where it is ahead, docs/model.md 7.9), and no larger than the smallest
    difference this file calls a loss (quarterly cycles alone with costly switching: about 2% of
    annual's value).

    Where the tie lies has moved with the model: model 1 tied at 2.0 team-weeks per planning
    event; model 2's change board made the annual process stronger (1.5); alignment with a price
    moved it to the preset's 0.4; interactions with stakes made the joint workshops earn a
    little in the mature market too (0.6, the preset a little ahead); effort overruns,
    mandatory work and the costs of the practice (issue 13 items 4 and 5) bring it back to the
    preset's 0.4 or below, and at 0.6 annual now wins (next test).
    """
    def claim(seed: int) -> dict:
        res = tie(_mature(seed), "quarterly_preset", share=TIE_SHARE)
        assert res["ci_high"] < res["margin"] and res["mean_diff"] > -res["margin"], f"quarterly_preset: {numbers(res)}"
        return res

    over_seeds(claim)


def test_counter_case_annual_wins_in_a_mature_market_at_a_slightly_higher_planning_cost():
    """At 0.6 team-weeks per planning event (half again the preset's cost) quarterly_okr loses
    to the typical annual process in a mature market, CI below zero at every seed: where there
    is little news to react to, a small difference in what planning costs decides."""
    _loses("quarterly_less_costly")


def test_counter_case_quarterly_cycles_alone_with_costly_planning_loses():
    """Only the cadence (agility) switched on, with costly planning (2.0): annual wins."""
    _loses("cycles_costly_planning")


def test_counter_case_quarterly_cycles_alone_with_costly_switching_loses():
    """Only the cadence switched on, cheap planning but costly switching: annual wins.

    Under model 1 this was a tie; the typical annual process of model 2 takes urgent new
    ideas in through its change board, so quarterly cycles alone, which must pay for
    switching, now lose (by about 2% of annual's value at seeds 1-3, CI below zero).
    """
    _loses("cycles_costly_switching")


#: (effect, scenario, kpi, direction): switching on only `effect` moves `kpi` against annual.
ABLATIONS = [
    ("agility", "dynamic", "lead_time_weeks", "down"),
    ("agility", "disruption", "adaptation_lag_weeks", "down"),
    ("agility", "dynamic", "aligned_capacity_share", "up"),
    ("alignment", "dynamic", "lead_time_weeks", "down"),  # horizontal alignment: shared work in step
    ("alignment", "disruption", "aligned_capacity_share", "up"),  # budgets and power stop following legacy
    ("alignment", "disruption", "adaptation_lag_weeks", "down"),
    ("transparency", "dynamic", "conflicts_caught_early", "up"),
    ("transparency", "dynamic", "conflicts_caught_late", "down"),
    ("learning", "dynamic", "estimation_error", "down"),
]

#: Claims the current model fails, with its numbers; strict, so the marker must go once it passes.
MODEL_1_DEFECTS: dict[tuple[str, str, str, str], pytest.MarkDecorator] = {
    # (alignment alone shortening the adaptation lag after the disruption failed at one seed
    # until interactions had stakes, issue 13; it holds at every seed since, at 120 replications)
    #
    # Since effort overruns its estimates (issue 13 item 4) the cadence alone still moves both
    # KPIs the right way at every seed, but not clearly at one.  Overruns are the cause: with
    # exact estimates the lag falls by 8.7-13.1 weeks at seeds 1-3 (80 replications, measured
    # 2026-12-03 by switching each new mechanism off in turn).  Why they weaken it (a guess, not
    # measured: planners see the share done, not the overrun, 7.2, so they stop less old work)
    # is open.
    ("agility", "dynamic", "aligned_capacity_share", "up"): pytest.mark.xfail(strict=True, reason=(
        "seed 2: +0.0077 [-0.0021, +0.0176] at 120 replications (seeds 1, 3 above zero); since effort overruns")),
    ("agility", "disruption", "adaptation_lag_weeks", "down"): pytest.mark.xfail(strict=True, reason=(
        "seed 3: -4.0 weeks [-8.9, +0.8] at 120 replications (seeds 1, 2 below zero); since effort overruns")),
}


@functools.cache
def _ablations(scenario: str, seed: int) -> Comparison:
    """Every single-effect policy a claim needs in `scenario`, against annual: 120 replications
    (alignment's lead-time effect is about a week, -0.7 to -1.5 at seeds 1-3; 40 replications
    left its interval touching zero at seed 1 once knowledge began to age, and 80 left agility's
    effect on the aligned share touching zero at seed 2 once effort overran its estimates)."""
    effects = sorted({effect for effect, s, _, _ in ABLATIONS if s == scenario})
    return compare(scenario, ["annual", *(f"only_{e}" for e in effects)], replications=120, seed=seed)


@pytest.mark.parametrize(("effect", "scenario", "kpi", "direction"),
                         [pytest.param(*a, marks=MODEL_1_DEFECTS.get(a, ())) for a in ABLATIONS])
def test_each_ablation_moves_its_own_kpi(effect, scenario, kpi, direction):
    def claim(seed: int) -> dict:
        row = _ablations(scenario, seed).paired.set_index(["kpi", "policy"]).loc[(kpi, f"only_{effect}")]
        if direction == "up":
            assert row["ci_low"] > 0, numbers(row)
        else:
            assert row["ci_high"] < 0, numbers(row)
        return row

    over_seeds(claim)


def test_each_ablation_pays_its_own_cost():
    """Every effect's benefit comes with planning time: overhead rises, with a CI above zero.

    In the current model the overhead share is the same in every replication and seed, so the
    interval is a point; the claim still runs at every seed so that a model whose overhead
    varies is held to it.
    """
    def claim(seed: int) -> object:
        p = _ablations("dynamic", seed).paired
        overhead = p[p.kpi == "overhead_share"].set_index("policy")
        assert (overhead["ci_low"] > 0).all(), overhead[["mean_diff", "ci_low", "ci_high"]].to_string()
        return overhead

    over_seeds(claim)


def test_optimizers_curse_reproduced_by_the_estimation_model():
    def claim(seed: int) -> float:
        rng = np.random.default_rng(seed)
        sigma = 0.5
        disappointment = optimizers_curse(3, sigma, 200_000, rng)
        assert disappointment == pytest.approx(0.846 * sigma, rel=0.02)  # E[max of 3 N(0,1)] = 0.8463
        assert optimizers_curse(1, sigma, 200_000, rng) == pytest.approx(0.0, abs=0.01)
        return disappointment

    over_seeds(claim)


def test_selected_work_disappoints_and_learning_cures_it():
    """The optimizer's curse emerges in the model: chosen work looked better than it was.

    40 replications per seed; "learning cures it" is a paired claim: the quarterly_okr
    policy, which learns, disappoints less than annual in the same worlds (CI below zero).
    The curse, and its cure, are shown where business cases are the planners' only
    information (`local_knowledge` 0): in the default world sponsors know part of what business
    cases get wrong, and their weight in the ranking corrects part of the curse (annual's
    disappointment is a few hundredths of a log unit), so there learning is only required to
    disappoint less on average (since mandatory work and effort overruns, issue 13 item 4, the
    interval of that small difference touches zero at seed 3).
    """
    def disappointment(scenario: Scenario, policy: str, seed: int) -> np.ndarray:
        return np.array([np.nanmean(okrsim.simulate(scenario, Policy.preset(policy),
                                                    okrsim.replication_seed(seed, r)).cycles["disappointment"])
                         for r in range(40)])

    business_cases_only = Scenario().replace({"organisation.local_knowledge": 0.0})

    def claim(seed: int) -> dict:
        out = {}
        for name, scenario in (("business cases only", business_cases_only), ("default", Scenario())):
            naive, learning = disappointment(scenario, "annual", seed), disappointment(scenario, "quarterly_okr", seed)
            cure = paired(learning, naive, better="lower")
            m, lo, hi, n = mean_ci(naive)
            msg = f"{name}: naive mean={m:.4g} ci=[{lo:.4g}, {hi:.4g}] n={n}; learning - naive: {numbers(cure)}"
            if name == "business cases only":
                assert lo > 0 and cure["ci_high"] < 0, msg
            else:
                assert cure["mean_diff"] < 0, msg
            out[name] = {"naive": (m, lo, hi), "cure": cure}
        return out

    over_seeds(claim)


def test_learning_is_driven_by_evidence_not_by_meetings():
    rng = np.random.default_rng(0)
    errors, themes = rng.normal(0.3, 0.5, 40), rng.integers(0, 6, 40)
    naive = Beliefs.naive(6)
    assert learn(naive, errors[:0], themes[:0], 0.5, 1.0) is naive  # no evidence, nothing learned
    once = learn(naive, errors, themes, 0.5, 1.0)
    twice = learn(learn(naive, errors[:17], themes[:17], 0.5, 1.0), errors[17:], themes[17:], 0.5, 1.0)
    np.testing.assert_allclose(once.bias, twice.bias)  # the same evidence, sooner or in one go
    assert once.shrink == pytest.approx(twice.shrink)


def test_full_learning_rate_trusts_evidence_and_leaves_unseen_themes_alone():
    errors, themes = np.array([0.4, 0.6]), np.array([1, 1])
    b = learn(Beliefs.naive(6), errors, themes, 1.0, 1.0)
    assert b.bias[1] == pytest.approx(0.5) and np.all(b.bias[[0, 2, 3, 4, 5]] == 0)
    run = okrsim.simulate(Scenario(), Policy.preset("quarterly_okr").replace({"learning_rate": 1.0}), 3)
    assert np.isfinite(run.kpis["estimation_error"]) and run.cycles["estimation_error"].notna().all()


def test_budget_inertia_is_a_rate_per_year():
    from okrsim.model.governance import budget_step

    b, target = np.array([0.5, 0.5]), np.array([1.0, 0.0])
    yearly = budget_step(b, target, 0.6, 52)
    quarterly = b
    for _ in range(4):
        quarterly = budget_step(quarterly, target, 0.6, 13)
    np.testing.assert_allclose(yearly, quarterly)


# ----------------------------------------------------------------------------- the baselines
#: Replications per seed of the baseline claims.
BASELINE_REPLICATIONS = 40
#: The band around McKinsey's 8% a year (Atsmon 2016) that the typical annual process's
#: budget reallocation must fall in, at every seed: ±2 percentage points.
REALLOCATION_BAND = (0.06, 0.10)
#: The three policies every baseline claim compares: the two annual baselines and quarterly OKRs.
THREE = ("annual", "annual_gates", "quarterly_okr")


@functools.cache
def _three(scenario: str, seed: int) -> Comparison:
    """annual, annual_gates and quarterly_okr in `scenario`, paired, `BASELINE_REPLICATIONS`."""
    return compare(scenario, list(THREE), replications=BASELINE_REPLICATIONS, seed=seed)


def test_typical_annual_reallocates_about_eight_percent_a_year():
    """The typical annual process moves about 8% of its allocated capacity between themes a
    year (McKinsey: the average firm moves about 8% of its capital between units a year;
    Atsmon 2016), on the default scenario, at every seed: the mean of
    ``budget_reallocation_share`` is inside `REALLOCATION_BAND` and so is its 95% CI.

    The calibrated parameter is the change reserve (0.15 of capacity), the same at every
    seed.  Measured on allocated capacity (budget split and approved changes), as McKinsey
    measure capital allocated, not output: the realised work split
    (``reallocation_share``) moves about twice as much (about 16%) because initiatives are
    lumpy, and does so even with a budget that never moves (``budget_inertia`` 1), so it
    cannot be calibrated to 8% by any lever; docs/model.md 7.9 gives the numbers.
    """
    def claim(seed: int) -> tuple[float, float, float]:
        runs = _three("dynamic", seed).runs
        m, lo, hi, _ = mean_ci(runs.loc[runs.policy == "annual", "budget_reallocation_share"].to_numpy(dtype=float))
        assert REALLOCATION_BAND[0] <= lo and hi <= REALLOCATION_BAND[1], f"mean={m:.4f} ci=[{lo:.4f}, {hi:.4f}]"
        return m, lo, hi

    over_seeds(claim)


def test_typical_annual_takes_in_year_work_through_its_change_board():
    """The typical annual baseline is not a frozen plan: on the default scenario it starts
    ideas during the year (``in_year_starts``, mostly approved changes), and quarterly_okr,
    which plans new ideas in every quarter, needs no change board."""
    def claim(seed: int) -> dict:
        runs = _three("dynamic", seed).runs.groupby("policy")[["in_year_starts", "changes_approved"]].mean()
        assert runs.loc["annual", "in_year_starts"] > 20 and runs.loc["annual", "changes_approved"] > 20, runs
        assert runs.loc["quarterly_okr", "changes_approved"] == 0, runs
        return runs.to_dict()

    over_seeds(claim)


def test_annual_gates_beats_the_typical_annual_process_in_the_default_world():
    """Stage gates, a mid-year reforecast and post-implementation reviews are worth their
    cost in the default world: annual_gates delivers more value than annual (paired 95% CI
    above zero, absolute and relative) at every seed."""
    def claim(seed: int) -> dict:
        row = _three("dynamic", seed).versus("annual_gates", "annual")
        assert row["ci_low"] > 0 and row["rel_ci_low"] > 0, numbers(row)
        return row

    over_seeds(claim)


#: Scenario presets on which quarterly_okr is clearly ahead of both baselines (CI above zero,
#: absolute and relative, at every seed); on `stable` it is not worse and at most a little ahead
#: (test_quarterly_is_not_worse_in_a_calm_market; clearly ahead until effort overruns, mandatory
#: work and the costs of the practice, issue 13), on `mature` it ties the typical annual process
#: (test_counter_case_quarterly_okr_is_at_best_level_with_the_typical_annual_process_in_a_mature_market), on
#: `mature_independent` annual_gates is at least as good (the counter-case).
QUARTERLY_AHEAD = ("dynamic", "turbulent", "disruption")


@pytest.mark.parametrize("scenario", QUARTERLY_AHEAD)
def test_quarterly_advantage_against_both_baselines(scenario):
    """quarterly_okr's advantage in total value over the typical annual process and over the
    annual process with stage gates, absolute and relative, with 95% CIs; docs/model.md 7.9
    lists the numbers.  The advantage over annual_gates is smaller than over annual on the
    scenarios where gates pay (all but the calm ones), so the headline names both."""
    def claim(seed: int) -> dict:
        c = _three(scenario, seed)
        rows = {b: c.versus("quarterly_okr", b) for b in ("annual", "annual_gates")}
        msg = "; ".join(f"vs {b}: {numbers(r)}" for b, r in rows.items())
        for r in rows.values():
            assert r["ci_low"] > 0 and r["rel_ci_low"] > 0, msg
        return rows

    over_seeds(claim)


def test_quarterly_is_not_worse_in_a_calm_market():
    """In `stable` (few shifts, a slow flow of new ideas) quarterly_okr is not worse than the
    typical annual process by more than 2% of its value (the lower end of the relative CI above
    -2%) and at most a little ahead (mean below 3%) at every seed: little news to react to, while
    the quarterly practice's costs remain."""
    def claim(seed: int) -> dict:
        row = _three("stable", seed).versus("quarterly_okr", "annual")
        assert row["rel_ci_low"] > -TIE_SHARE and row["rel_mean"] < 0.03, numbers(row)
        return row

    over_seeds(claim)


#: Replications per seed of the counter-case.
COUNTER_REPLICATIONS = 60


@functools.cache
def _counter(seed: int) -> Comparison:
    """The counter-case comparison: annual_gates and quarterly_okr in `mature_independent`."""
    return compare("mature_independent", ["annual_gates", "quarterly_okr"], replications=COUNTER_REPLICATIONS,
                   seed=seed)


def test_counter_case_annual_gates_ties_or_beats_quarterly_okr_in_a_mature_market_of_independent_teams():
    """A credible counter-case with realistic costs: in a mature market (few shifts, few new
    ideas) whose initiatives each need one team, whose teams share the global priorities and
    whose sponsors do not differ in power (`mature_independent`), annual_gates is at least as
    good as quarterly_okr: quarterly_okr is not better by more than ±2% of annual_gates' mean
    value (one-sided test at 5%, the upper end of the 90% interval below the margin of
    `TIE_SHARE`), at every seed.  Planning overhead stays within the 10% of capacity a
    practitioner would accept for both.

    Why it is credible: quarterly cycles pay by reacting to news (few here) and by alignment
    (nothing to align here), while their costs remain.  Under model 2 part 1 the two were
    equivalent; since weakening sponsors costs commitment (`commitment_loss`, issue 13)
    annual_gates is ahead by about 2% (docs/model.md 7.9 has the measured figures).
    """
    def claim(seed: int) -> dict:
        c = _counter(seed)
        res = tie(c, "quarterly_okr", share=TIE_SHARE)
        overhead = c.runs.groupby("policy")["overhead_share"].mean()
        assert (overhead <= 0.10).all(), overhead.to_dict()
        assert res["ci_high"] < res["margin"], f"quarterly_okr may be better by more than ±{TIE_SHARE:.0%}: {numbers(res)}"
        return res

    over_seeds(claim)


@functools.cache
def _tables():
    """scripts/model_tables.py as a module: the documentation's generator, whose worlds the
    alignment claim shares (one definition, so the documented table and the claim agree)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "model_tables.py"
    spec = importlib.util.spec_from_file_location("model_tables", path)
    assert spec is not None and spec.loader is not None
    tables = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tables)
    return tables


@functools.cache
def _alignment(regime: str, seed: int) -> Comparison:
    return _tables().alignment(regime, seed)


def test_alignment_pays_where_politics_is_noise_and_costs_where_locals_know():
    """Alignment has a price (model 2, issue 13): alone (`only_alignment` against `annual`) it
    pays materially, more than 3% of value with a CI above zero, where sponsor power and teams'
    own priorities are noise and OKRs really cut politics to their aim; it loses, with a CI
    below zero, where sponsors and teams know what business cases get wrong
    (`local_knowledge` 0.75) and sponsors who lose their say commit less (`commitment_loss`
    0.3).  In the default world it still pays, less than before it had a price."""
    def claim(seed: int) -> tuple[dict, dict, dict]:
        pays = _alignment("politics is noise", seed).versus("only_alignment", "annual")
        costs = _alignment("local knowledge and committed sponsors", seed).versus("only_alignment", "annual")
        default = _alignment("default (`dynamic`)", seed).versus("only_alignment", "annual")
        assert pays["ci_low"] > 0 and pays["rel_mean"] > 0.03, f"pays: {numbers(pays)}"
        assert costs["ci_high"] < 0, f"costs: {numbers(costs)}"
        assert pays["mean_diff"] > default["mean_diff"] > costs["mean_diff"], (numbers(pays), numbers(default))
        return pays, default, costs

    over_seeds(claim)


def test_local_knowledge_makes_sponsors_and_teams_informative():
    """With `local_knowledge` k, sponsors' log power and teams' local preferences correlate with
    what the business case gets wrong (minus its noise draw) by about sqrt(k), and the spread
    of local preferences stays one: the knowledge is real information, not extra noise."""
    from okrsim.core.streams import as_seed_sequence
    from okrsim.model.world import draw_world

    for k in (0.0, 0.25, 0.75):
        scenario = Scenario().replace({"organisation.local_knowledge": k, "portfolio.idea_rate": 5.0,
                                       "portfolio.assumption_bias": 0.0, "organisation.sponsor_legacy": 0.0})
        ideas = draw_world(scenario, as_seed_sequence(3)).ideas
        # without theme bias, est_error = noise * z exactly; what planners lack is -z
        z = ideas.est_error / scenario.portfolio.estimation_noise
        r_team = np.corrcoef(ideas.local[:, 0], -z)[0, 1]
        r_sponsor = np.corrcoef(ideas.log_sponsor, -z)[0, 1]
        assert abs(r_team - k ** 0.5) < 0.08, (k, r_team)
        assert abs(r_sponsor - k ** 0.5) < 0.08, (k, r_sponsor)
        assert abs(ideas.local.std() - 1.0) < 0.05, (k, ideas.local.std())


@functools.cache
def _decay(drift: float, seed: int) -> Comparison:
    return _tables().decay(drift, seed)


def test_knowledge_decays_when_the_market_moves_and_learning_pays_less():
    """Posen & Levinthal (2012): what planners learn about a theme's bias ages when the market
    moves the theme (`bias_drift`).  At 4 shifts a year (40 paired replications at each seed),
    retrospectives cut quarterly_okr's estimation error by less when the bias drifts fully
    than when it never drifts (paired across the two worlds, CI below zero), and the cut shrinks
    step by step with the drift.  In a frozen market drift changes nothing at all (tested in
    test_model).  The value of retrospectives is reported in docs/model.md 7.3; it falls less
    than the error cut, because most of what learning buys is the shrinkage of noisy business
    cases, which does not age."""
    def cut(drift: float, seed: int) -> np.ndarray:
        wide = _decay(drift, seed).runs.pivot(index="replication", columns="policy", values="estimation_error")
        return (wide["okr_without_retros"] - wide["quarterly_okr"]).to_numpy()

    def claim(seed: int) -> dict:
        cuts = {d: cut(d, seed) for d in _tables().DECAY_DRIFTS}
        lower = paired(cuts[1.0], cuts[0.0], better="lower")
        means = [float(c.mean()) for c in cuts.values()]
        msg = f"cut by drift {dict(zip(cuts, [round(m, 4) for m in means], strict=True))}; full - none: {numbers(lower)}"
        assert all(c.mean() > 0 for c in cuts.values()), msg  # learning still helps
        assert lower["ci_high"] < 0, msg
        assert means == sorted(means, reverse=True), msg
        return lower

    over_seeds(claim)


@functools.cache
def _scores(seed: int) -> Comparison:
    return _tables().scores(seed)


def test_okr_scores_are_comparable_across_cadences():
    """Key results are set at what the plan forecasts to deliver in the cycle (docs/model.md
    7.5-7.6), so the same policy scores alike at 13 and at 52 weeks in a frozen world: the
    90% CI of the paired difference lies inside ±0.05 score points at each seed (a TOST tie).
    Model 1's targets (everything inside the capacity line) gave 0.47 against 0.76 there."""
    tables = _tables()
    a, b = (f"okr_{w}" for w in tables.SCORE_CADENCES)

    def claim(seed: int) -> dict:
        runs = _scores(seed).runs.sort_values("replication")
        x, y = (runs.loc[runs.policy == p, "okr_score_mean"].to_numpy(dtype=float) for p in (a, b))
        res = equivalence(x, y, margin=tables.SCORE_MARGIN)
        assert np.isfinite(x).all() and np.isfinite(y).all()
        assert res["p"] < 0.05, f"no tie within ±{tables.SCORE_MARGIN}: {numbers(res)}"
        assert 0.7 < x.mean() <= 1.0 and 0.7 < y.mean() <= 1.0, (x.mean(), y.mean())
        return res

    over_seeds(claim)


def test_okr_forecast_is_right_when_nothing_surprises_the_plan():
    """In a frozen world the forecast the key results are set at is close to what the cycle
    delivers (it does not know partners' syncing, so it is not exact): over all cycles of
    20 runs, delivered / forecast is within 0.85-1.15 at each seed."""
    def claim(seed: int) -> float:
        runs = [okrsim.simulate(Scenario().replace(_tables().SCORE_FROZEN), Policy.preset("quarterly_okr"),
                                okrsim.replication_seed(seed, r)).cycles for r in range(20)]
        cycles = pd.concat(runs)
        ratio = cycles["delivered"].sum() / cycles["forecast"].sum()
        assert 0.85 < ratio < 1.15, ratio
        return float(ratio)

    over_seeds(claim)


@functools.cache
def _programmes(seed: int) -> Comparison:
    return _tables().programmes(seed)


def test_long_programmes_are_not_stopped_for_being_long():
    """Nine-month, three-team programmes (docs/model.md 7.5): quarterly_okr stops at most a
    quarter more programmes than it delivers at each seed (model 1: 12.4 stops for 9.9
    deliveries; judged against a quarter's capacity line: 14.5-16.1 for 5.4-5.8), and those
    stops cost no more than 6% of value against the same policy never stopping (TOST); the
    remaining stops and why they do not pay are documented."""
    def claim(seed: int) -> dict:
        c = _programmes(seed)
        m = c.runs.groupby("policy")[["initiatives_stopped", "initiatives_delivered"]].mean()
        stops, delivered = m.loc["quarterly_okr"]
        assert stops <= 1.25 * delivered, m.to_dict()
        runs = c.runs.sort_values("replication")
        okr, never = (runs.loc[runs.policy == p, "total_value"].to_numpy(dtype=float)
                      for p in ("quarterly_okr", "okr_never_stops"))
        res = equivalence(okr, never, margin=0.06 * never.mean())
        assert res["ci_low"] > -res["margin"], f"stopping costs more than 6%: {numbers(res)}"
        return res

    over_seeds(claim)


@functools.cache
def _checkins(regime: str, seed: int) -> Comparison:
    return _tables().checkins(regime, seed)


def test_checkins_pay_where_business_cases_are_poor_and_measures_tell():
    """OKR check-ins (model 2, issue 13 item 1) read key results' leading measures of work in
    progress, which the next plan weighs against the business case (docs/model.md 7.6).  They
    pay materially, more than 3% with a CI above zero at each seed, where business cases are
    poor (`estimation_noise` 2), values spread widely, work is mid-sized and the measures tell
    (`leading_noise` 0.2); in the default world, where most work is small and early readings
    say little, their value ties within ±2% (TOST) with their cost; and gamed measures
    (`goal_displacement` 1) make them pay less than honest ones."""
    def claim(seed: int) -> tuple[dict, dict]:
        pays = _checkins("poor business cases, telling measures", seed).versus("quarterly_okr", "okr_without_checkins")
        gamed = _checkins("the same, gamed measures", seed).versus("quarterly_okr", "okr_without_checkins")
        default = tie(_checkins("default (`dynamic`)", seed), "quarterly_okr", share=TIE_SHARE)
        assert pays["ci_low"] > 0 and pays["rel_mean"] > 0.03, f"pays: {numbers(pays)}"
        assert default["p"] < 0.05, f"default: no tie within ±{TIE_SHARE:.0%}: {numbers(default)}"
        assert gamed["mean_diff"] < pays["mean_diff"], (numbers(gamed), numbers(pays))
        return pays, default

    over_seeds(claim)


@functools.cache
def _transparency(regime: str, seed: int) -> Comparison:
    return _tables().transparency(regime, seed)


def test_transparency_pays_where_interactions_have_stakes():
    """Transparency has stakes (model 2, issue 13 item 3): quarterly_okr's joint workshops
    (transparency 0.6 against the typical annual process's 0.1) pay materially, more than 3%
    with a CI above zero at each seed, where dependencies and conflicts are many and
    concentrated within themes and a late find costs integration rework; where interactions
    only cannibalise (no dependencies, no rework, partners at random) they do not pay: the
    workshops' time is worth no more than 2% of value (the CI's upper end below the TOST
    margin), and the default world lies between.  With duplicate work (half of the
    non-thematic interactions through shared teams) they pay more than in the default world,
    with a CI above zero, and less than in the dense one."""
    def claim(seed: int) -> tuple[dict, dict]:
        dense = _transparency("dense interactions", seed).versus("quarterly_okr", "okr_low_transparency")
        none = tie(_transparency("no stakes", seed), "quarterly_okr", share=TIE_SHARE)
        default = _transparency("default (`dynamic`)", seed).versus("quarterly_okr", "okr_low_transparency")
        duplicates = _transparency("many duplicates", seed).versus("quarterly_okr", "okr_low_transparency")
        assert dense["ci_low"] > 0 and dense["rel_mean"] > 0.03, f"dense: {numbers(dense)}"
        assert none["ci_high"] < none["margin"], f"no stakes: {numbers(none)}"
        assert dense["mean_diff"] > default["mean_diff"] > none["mean_diff"], (numbers(default), numbers(none))
        assert duplicates["ci_low"] > 0, f"many duplicates: {numbers(duplicates)}"
        assert dense["mean_diff"] > duplicates["mean_diff"] > default["mean_diff"], \
            (numbers(duplicates), numbers(default))
        return dense, none

    over_seeds(claim)


@functools.cache
def _it(regime: str, seed: int) -> Comparison:
    return _tables().it_realities(regime, seed)


def test_it_realities_shrink_the_quarterly_advantage_without_reversing_it():
    """IT-portfolio realities (issue 13 item 4; docs/model.md 11): against annual_gates, the
    quarterly advantage is larger without effort overruns and mandatory work than with the
    defaults, and smaller again with poor effort estimates, heavy regulation or teams that spend
    half their time on run work, at every seed; its mean stays above zero in each."""
    def claim(seed: int) -> dict:
        rows = {r: _it(r, seed).versus("quarterly_okr", "annual_gates") for r in _tables().IT_REGIMES}
        msg = "; ".join(f"{r}: {numbers(v)}" for r, v in rows.items())
        default = rows["default (`dynamic`)"]["mean_diff"]
        assert rows["without them"]["mean_diff"] > default, msg
        for regime in ("poor effort estimates", "heavy regulation", "teams that also run"):
            assert 0 < rows[regime]["mean_diff"] < default, msg
        return rows

    over_seeds(claim)


@functools.cache
def _practice(regime: str, seed: int) -> Comparison:
    return _tables().practice_costs(regime, seed)


def test_renegotiation_weighs_on_the_quarterly_practice():
    """Costs of the practice (issue 13 item 5; docs/model.md 7.10): renegotiating work in flight
    at every re-plan (0.2 team-weeks per team and initiative) cuts quarterly_okr's advantage over
    annual_gates by more than a third at every seed, because the quarterly practice re-plans
    twice as often; leaders' attention, which annual_gates pays as often, moves it far less."""
    def claim(seed: int) -> dict:
        rows = {r: _practice(r, seed).versus("quarterly_okr", "annual_gates") for r in _tables().PRACTICE_REGIMES}
        msg = "; ".join(f"{r}: {numbers(v)}" for r, v in rows.items())
        default = rows["default (`dynamic`)"]["mean_diff"]
        assert rows["costly renegotiation"]["mean_diff"] < 2 / 3 * default, msg
        assert abs(rows["costly attention"]["mean_diff"] - default) < default - rows["costly renegotiation"]["mean_diff"], msg
        return rows

    over_seeds(claim)


@functools.cache
def _increments(regime: str, seed: int) -> Comparison:
    return _tables().increments(regime, seed)


def test_increments_bring_value_forward_for_every_policy_at_a_price():
    """Increments (issue 13 item 1; docs/model.md 7.8): a first increment earning half the
    value at 30% of the effort raises both annual_gates' and quarterly_okr's mean total value
    at every seed, and costly increments (half the effort again) lower both below indivisible
    work; the quarterly advantage over annual_gates stays positive (CI above zero) with cheap
    and costly increments; and in the programme world, where a stop after the first increment
    keeps its value, stopping is worth more (mean difference to the same policy never
    stopping) than with indivisible programmes."""
    def claim(seed: int) -> dict:
        mean = {r: _increments(r, seed).runs.groupby("policy")["total_value"].mean()
                for r in ("indivisible (default)", "in increments", "in costly increments")}
        for policy in ("annual_gates", "quarterly_okr"):
            plain = mean["indivisible (default)"][policy]
            assert mean["in costly increments"][policy] < plain < mean["in increments"][policy], (policy, mean)
        ahead = {r: _increments(r, seed).versus("quarterly_okr", "annual_gates") for r in mean}
        assert all(v["ci_low"] > 0 for v in ahead.values()), {r: numbers(v) for r, v in ahead.items()}
        stopping = {r: _increments(r, seed).versus("quarterly_okr", "okr_never_stops")["mean_diff"]
                    for r in ("programmes, indivisible", "programmes in increments")}
        assert stopping["programmes in increments"] > stopping["programmes, indivisible"], stopping
        return {"means": mean, "stopping": stopping}

    over_seeds(claim)


@functools.cache
def _focus(regime: str, seed: int) -> Comparison:
    return _tables().focus_rule(regime, seed)


def test_the_focus_rule_pays_where_parallel_work_costs_and_costs_where_work_waits():
    """The OKR focus rule (issue 13 item 1; docs/model.md 7.7), one initiative per team, against
    quarterly_okr without it: it pays materially (more than 10%, CI above zero) where parallel
    work is costly (`multitasking_cost` 0.25) and work does not wait; it costs materially
    (more than 5%, CI below zero) where work waits for others (`wait_weeks` 2), with or without
    costly multitasking, because a team with one part idles through its waits; and in the
    default world, with neither, it pays less than with costly multitasking (earlier
    deliveries only)."""
    def claim(seed: int) -> dict:
        rows = {r: _focus(r, seed).versus("okr_focus_rule", "quarterly_okr") for r in _tables().FOCUS_REGIMES}
        msg = "; ".join(f"{r}: {numbers(v)}" for r, v in rows.items())
        pays = rows["costly multitasking"]
        assert pays["ci_low"] > 0 and pays["rel_mean"] > 0.10, msg
        for regime in ("work that waits", "both"):
            assert rows[regime]["ci_high"] < 0 and rows[regime]["rel_mean"] < -0.05, msg
        assert rows["default (`dynamic`)"]["mean_diff"] < pays["mean_diff"], msg
        return rows

    over_seeds(claim)


@functools.cache
def _decomposition(scenario: str):
    return _tables().decomposition(scenario)


def test_decomposition_is_reported_for_every_preset_and_adds_up():
    """The effect decomposition of docs/model.md section 11 covers every scenario preset, and
    on each the four Shapley contributions add up to the total advantage (checked replication
    by replication inside `decompose`, here on the means)."""
    for scenario in okrsim.SCENARIO_PRESETS:
        frame = _decomposition(scenario).frame.set_index("effect")
        parts = frame.loc[list(okrsim.EFFECTS), "contribution"].sum()
        assert parts == pytest.approx(frame.loc["total", "contribution"], rel=1e-9, abs=1e-6), scenario


def test_docs_model_numbers_are_what_the_model_gives():
    """The baseline table and the reallocation calibration of docs/model.md 7.9, and the
    shift-rate figures of its pattern 2 and the counter-case figures, are what
    ``scripts/model_tables.py`` computes now, from the comparisons the claims above ran: a
    model change that moves them fails here until the documentation is regenerated."""
    tables = _tables()
    assert (tables.THREE, tables.REPLICATIONS, tables.SEEDS) == (THREE, BASELINE_REPLICATIONS, SEEDS)
    assert (tables.GROWTH_REPLICATIONS, tables.SHIFT_RATES) == (GROWTH_REPLICATIONS, SHIFT_RATES)
    assert (tables.COUNTER_REPLICATIONS, tables.TIE_SHARE) == (COUNTER_REPLICATIONS, TIE_SHARE)
    text = tables.DOC.read_text()
    new = tables.render(text, _three, lambda rate, seed: _growth(Scenario().replace({"market.shift_rate": rate}), seed),
                        _counter, _alignment, _decay, get_scores=_scores, get_programmes=_programmes,
                        get_checkins=_checkins, get_transparency=_transparency,
                        get_decomposition=_decomposition, get_it=_it, get_practice=_practice,
                        get_increments=_increments, get_focus=_focus)
    assert new == text, "docs/model.md is stale: run python scripts/model_tables.py"
