"""Exercises 05 to 07: pulling levers.  Fix a political portfolio, cure the optimizer's curse,
design and defend a policy for a client.

Answers are lever changes (a dict applied to the task's starting policy, or a whole `Policy`).
The checks run the participant's policy against the task's baseline and reference policies on
common random numbers, so a verdict compares like with like; cost parameters are fixed by the
task, because a lever is only worth what it earns after its price.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np

from okrsim.core.params import Policy, Scenario, mix_effects
from okrsim.experiments.statistics import mean_ci, paired
from okrsim.model.ideas import optimizers_curse

from .answers import levers, mapping, number, text
from .feedback import Task, Verdict
from .reference import kpi_runs, learning_runs, paired_kpi

__all__ = ["TASKS", "curse_reference"]

ANNUAL = Policy.preset("annual")
_OTHER_EFFECT = "This task is about {effect}; {lever} belongs to another effect of the OKR practice."

# ----------------------------------------------------------------------------- 05: alignment
DISRUPTION = Scenario.preset("disruption")
POLITICAL = ANNUAL.replace({"political_weight": 0.9, "budget_inertia": 0.95}, name="political")
#: The political portfolio with the alignment levers of the quarterly OKR preset (strategy over power).
ALIGNED = mix_effects(["alignment"], base=POLITICAL, name="aligned")
FOCUSED = POLITICAL.replace({"n_objectives": 1, "okr_focus": 3.0}, name="focused")
ALIGNMENT_LEVERS = ("political_weight", "budget_inertia", "horizontal_alignment", "n_objectives", "okr_focus")
REFUSE_05 = {
    "agility": "Cadence and stopping work are agility: the client keeps its annual budget cycle in this task.",
    "transparency": _OTHER_EFFECT.format(effect="alignment", lever="transparency"),
    "learning": _OTHER_EFFECT.format(effect="alignment", lever="the learning loop"),
}
REPS_05, SEED_05 = 40, 505
RECOVER_05 = 0.8  # share of the value the fully aligned reference recovers
TOL_05 = 3.0  # percentage points around the CI (05-focus)


def grade_alignment(answer: Any) -> Verdict:
    """Alignment lever changes that recover most of the value a political portfolio loses."""
    pol = levers(answer, "ALIGNMENT_LEVERS", POLITICAL, allowed=ALIGNMENT_LEVERS, refuse=REFUSE_05)
    changed = {k for k in ALIGNMENT_LEVERS if getattr(pol, k) != getattr(POLITICAL, k)}
    if not changed:
        return Verdict(False, "unchanged", (
            "Your levers leave the political portfolio as it is (political_weight 0.9, budget_inertia 0.95, "
            "horizontal_alignment 0.4): nothing to recover from."),
            ("Change at least one alignment lever.",))
    row = paired_kpi(DISRUPTION, POLITICAL, pol, "total_value", REPS_05, SEED_05)
    best = paired_kpi(DISRUPTION, POLITICAL, ALIGNED, "total_value", REPS_05, SEED_05)
    lag = paired_kpi(DISRUPTION, POLITICAL, pol, "adaptation_lag_weeks", REPS_05, SEED_05)
    overhead = float(np.mean(kpi_runs(DISRUPTION, pol, REPS_05, SEED_05)["overhead_share"]))
    recovered = row["mean_diff"] / best["mean_diff"]
    ref = {"recovered": recovered, "gain_percent": 100 * row["rel_mean"], "reference_gain_percent": 100 * best["rel_mean"],
           "lag_change_weeks": lag["mean_diff"], "overhead_share": overhead}
    if recovered >= RECOVER_05 and row["ci_low"] > 0:
        note = ""
        if pol.budget_inertia > 0.6:
            note = (f" Note: you kept budget_inertia at {pol.budget_inertia:g}, so budgets still follow last year's "
                    f"split; after the shock your adaptation lag changes by only {lag['mean_diff']:+.1f} weeks. Which "
                    "lever would let money follow the market, and what would it cost politically?")
        return Verdict(True, "correct", (
            f"Your levers recover {100 * recovered:.0f}% of the value that full alignment recovers: "
            f"+{100 * row['rel_mean']:.0f}% total value over the political portfolio (95% CI {100 * row['rel_ci_low']:.0f}% to "
            f"{100 * row['rel_ci_high']:.0f}%, {REPS_05} paired replications of 'disruption'), at an overhead of "
            f"{100 * overhead:.1f}% of capacity. Sponsor power ranks mostly by who pushes, not by value; lowering it is "
            f"the biggest single lever, even though sponsors know some things the business cases miss and commit "
            f"less to what they did not choose (organisation.local_knowledge, commitment_loss).{note}"), reference=ref)
    if changed <= {"n_objectives", "okr_focus"}:
        effect = (f"recovers only {100 * recovered:.0f}%" if recovered > 0.005
                  else f"changes value by {100 * row['rel_mean']:+.1f}%")
        return Verdict(False, "focus_only", (
            f"Focusing the OKRs (n_objectives {pol.n_objectives}, okr_focus {pol.okr_focus:g}) {effect}, against the "
            f"{100 * best['rel_mean']:+.0f}% that alignment can recover. Alignment is not 'focus on the top themes "
            "only': as long as sponsor power (0.9) decides the ranking and 95% of last year's budget split is kept, an OKR boost "
            "barely moves capacity."),
            ("What decides the ranking in this portfolio, and what decides the budget per theme?",), ref)
    if changed == {"horizontal_alignment"}:
        return Verdict(False, "horizontal_only", (
            f"Raising horizontal alignment to {pol.horizontal_alignment:g} recovers only {100 * recovered:.0f}%: teams "
            "now start shared work together (shorter lead times), but they still row towards the sponsors' "
            "favourites. Vertical alignment (what gets ranked first and funded) is the bigger loss here."),
            ("Look at the two levers that make capacity follow strategy rather than power and history.",), ref)
    if recovered < 0 and row["ci_high"] < 0:  # clearly worse, not a change too small to tell
        return Verdict(False, "worse", (
            f"Your levers make the portfolio worse ({100 * row['rel_mean']:+.1f}% total value). Check the direction of "
            "each lever: which values mean 'strategy decides' rather than 'power and history decide'?"),
            ("political_weight 0 means the process gives sponsor power no part (the organisation's politics_floor, "
             "0.2 here, is as low as it really gets); budget_inertia 0 means budgets follow the current strategy "
             "fully.",), ref)
    if pol.political_weight >= 0.5:
        return Verdict(False, "politics_remain", (
            f"You recover only {100 * recovered:.0f}%: with political_weight {pol.political_weight:g} the sponsors' "
            "favourites still win the ranking, whatever the budgets and the teams do. In this portfolio, "
            "sponsor power is the biggest loss."),
            ("Which lever blends sponsor power into the ranking?",), ref)
    return Verdict(False, "partial", (
        f"A step in the right direction: you recover {100 * recovered:.0f}% of what full alignment recovers; the task "
        f"asks for at least {100 * RECOVER_05:.0f}%."),
        ("Go further on the lever that matters most, and check the others.",), ref)


def grade_focus(answer: Any) -> Verdict:
    """Relative value change when the political portfolio focuses its OKRs on the top theme."""
    x = number(answer, "FOCUS_EFFECT_PERCENT", -100, 1000, "percent")
    row = paired_kpi(DISRUPTION, POLITICAL, FOCUSED, "total_value", REPS_05, SEED_05)
    best = paired_kpi(DISRUPTION, POLITICAL, ALIGNED, "total_value", REPS_05, SEED_05)
    m, lo, hi = 100 * row["rel_mean"], 100 * row["rel_ci_low"], 100 * row["rel_ci_high"]
    ref = {"rel_mean_percent": m, "rel_ci_low_percent": lo, "rel_ci_high_percent": hi,
           "aligned_percent": 100 * best["rel_mean"]}
    if lo - TOL_05 <= x <= hi + TOL_05:
        return Verdict(True, "correct", (
            f"Focusing the OKRs on the single most attractive theme changes total value by {m:+.1f}% (95% CI "
            f"{lo:+.1f}% to {hi:+.1f}%): next to nothing, while real alignment recovers {100 * best['rel_mean']:+.0f}%. "
            "A boost in the ranking cannot beat sponsor power and budgets that keep last year's split: "
            "'alignment = focus on the top themes' is a misconception."), reference=ref)
    if abs(x - 100 * best["rel_mean"]) <= 15:
        return Verdict(False, "full_alignment", (
            f"{x:g}% is about what *full* alignment (politics and inertia down, teams in step) recovers. The task asks "
            "about the focus alone: one objective with a strong boost, everything else political as before."),
            ("Compare the political policy with the same policy plus n_objectives=1, okr_focus=3.",), ref)
    if x > hi:
        return Verdict(False, "too_high", (
            f"{x:g}% is far more than focusing achieves. The boost only reorders ideas within a ranking that sponsor "
            "power (weight 0.9) dominates, and budgets keep 95% of last year's split, so capacity barely moves. "
            "Did you run it, or predict it?"),
            ("Run the comparison; the 'focused' policy is given in the notebook.",), ref)
    return Verdict(False, "too_low", (
        f"{x:g}% is a much bigger loss than the model shows: focusing barely changes anything in this portfolio, "
        "neither for better nor for worse."), ("Read rel_mean of total_value in Comparison.paired, times 100.",), ref)


# ----------------------------------------------------------------------------- 06: learning loops
SIGMA_06 = 0.5
TRIALS_06 = 200_000
TOL_06 = 0.04  # log units; the Monte Carlo error of the reference is about 0.001
DYNAMIC = Scenario.preset("dynamic")
LEARNING = Policy.preset("only_learning")
REPS_06, SEED_06 = 40, 616
CURE_SHARE_06 = 2 / 3  # of the estimation-error reduction the default learning loop achieves


@lru_cache(maxsize=8)
def curse_reference(n_options: int, sigma: float = SIGMA_06) -> float:
    """Mean log disappointment of picking the best-looking of `n_options` equal ideas (fixed seed)."""
    return optimizers_curse(n_options, sigma, TRIALS_06, np.random.default_rng(600 + n_options))


def _grade_curse_part(part: str, n: int, x: float, ref: float) -> tuple[str, str] | None:
    if abs(x - ref) <= TOL_06:
        return None
    if x == 0:
        return (f"{part}:unbiased", (
            f"'{part}': 0 would mean no disappointment. Each business case is unbiased on its own, but the one you "
            "pick is not: you pick the option whose noise happened to be highest, so on average it disappoints."))
    if x < 0:
        return (f"{part}:negative", (
            f"'{part}': a negative value means the chosen idea turns out *better* than it looked. Selecting the "
            "best-looking option does the opposite."))
    if x > 3:
        return (f"{part}:percent", (
            f"'{part}': {x:g} looks like a percentage; the answer is in log units (0.1 log units is about 10%)."))
    if n == 3 and abs(x - SIGMA_06) <= 0.02:
        return (f"{part}:sigma", (
            f"'{part}': {x:g} is the noise of one estimate (sigma). The disappointment is the noise of the *chosen* "
            "estimate: the largest of three draws, which on average is less than one sigma for three options."))
    return (f"{part}:{'too_high' if x > ref else 'too_low'}", (
        f"'{part}': {x:g} is too {'high' if x > ref else 'low'} (more than {TOL_06:g} log units off)."))


def grade_curse(answer: Any) -> Verdict:
    """Disappointment (log units) of picking the best-looking of 3 and of 10 equally good ideas, sigma 0.5."""
    parts = mapping(answer, "CURSE", ["best_of_3", "best_of_10"])
    xs = {p: number(parts[p], f"CURSE['{p}']", -10, 1000, "log units") for p in parts}
    refs = {"best_of_3": curse_reference(3), "best_of_10": curse_reference(10)}
    problems = [found for p, n in (("best_of_3", 3), ("best_of_10", 10))
                if (found := _grade_curse_part(p, n, xs[p], refs[p]))]
    if not problems and xs["best_of_10"] > xs["best_of_3"]:
        return Verdict(True, "correct", (
            f"Picking the best-looking of 3 equally good ideas disappoints by {refs['best_of_3']:.3f} log units "
            f"(about {100 * (math.exp(refs['best_of_3']) - 1):.0f}%), the best of 10 by {refs['best_of_10']:.3f} "
            f"(sigma = {SIGMA_06:g}, {TRIALS_06:,} trials). More choice, bigger curse: the winner is the one whose "
            "noise was most flattering."), reference=refs)
    if xs["best_of_10"] <= xs["best_of_3"]:
        problems.append(("more_choice", (
            "Also: more options make the curse *bigger*, not smaller. The more ideas compete, the more flattering "
            "the noise of the one that wins.")))
    right = [p for p in ("best_of_3", "best_of_10") if not any(c.startswith(p) for c, _ in problems)]
    tail = f" Right: '{right[0]}'." if len(right) == 1 else ""
    return Verdict(False, "+".join(c for c, _ in problems), " ".join(m for _, m in problems) + tail,
                   ("Simulate it: okrsim.model.ideas.optimizers_curse(n_options, sigma, trials, rng).",), refs)


def _learning_numbers(policy: Policy) -> dict[str, float]:
    base_err, base_late = learning_runs(DYNAMIC, ANNUAL, REPS_06, SEED_06)
    err, late = learning_runs(DYNAMIC, policy, REPS_06, SEED_06)
    rel = paired(err, base_err, "lower")["rel_mean"]
    m, lo, hi, _ = mean_ci(late)
    overhead = float(np.mean(kpi_runs(DYNAMIC, policy, REPS_06, SEED_06)["overhead_share"]))
    return {"error": float(np.nanmean(err)), "error_change": rel, "disappointment": m, "disappointment_low": lo,
            "disappointment_high": hi, "annual_error": float(np.nanmean(base_err)),
            "annual_disappointment": mean_ci(base_late)[0], "overhead_share": overhead}


def grade_cure(answer: Any) -> Verdict:
    """Lever changes to the annual policy that cut estimation error and remove the optimizer's curse."""
    pol = levers(answer, "LEARNING_LEVERS", ANNUAL)
    if pol.to_dict() | {"name": "annual"} == ANNUAL.to_dict():
        return Verdict(False, "unchanged", "Your levers leave the annual policy as it is: nothing learns.",
                       ("Which lever makes the organisation look back at delivered work?",))
    got = _learning_numbers(pol)
    best = _learning_numbers(LEARNING)
    need = CURE_SHARE_06 * best["error_change"]
    ref = {**got, "reference_error_change": best["error_change"], "required_error_change": need}
    curse_gone = not got["disappointment_low"] > 0
    numbers = (f"estimation error {got['error']:.2f} ({100 * got['error_change']:+.0f}% against annual's "
               f"{got['annual_error']:.2f}); disappointment of planned work after the first year "
               f"{got['disappointment']:+.3f} log units (annual {got['annual_disappointment']:+.3f})")
    if got["error_change"] <= need and curse_gone:
        return Verdict(True, "correct", (
            f"Learning works: {numbers}, at {100 * got['overhead_share']:.1f}% overhead. Retrospectives compare "
            "delivered value with the business cases, correct each theme's bias and shrink noisy estimates towards "
            "the typical value: the textbook cure of the optimizer's curse."), reference=ref)
    if not pol.retrospectives:
        if pol.cadence_weeks < ANNUAL.cadence_weeks:
            return Verdict(False, "more_meetings", (
                f"You plan every {pol.cadence_weeks} weeks, but nothing learns: {numbers}. More meetings are not more "
                "learning: without retrospectives nobody compares delivered value with the business cases, and "
                f"the extra planning costs {100 * got['overhead_share']:.1f}% of capacity."),
                ("Learning needs evidence and a moment to digest it. Which lever is that?",), ref)
        if pol.learning_rate != ANNUAL.learning_rate:
            return Verdict(False, "rate_without_retro", (
                f"learning_rate {pol.learning_rate:g} sets how fast retrospectives learn, but retrospectives are off, "
                f"so there is nothing to learn from: {numbers}."), ("Switch the learning loop itself on.",), ref)
        return Verdict(False, "no_retro", (
            f"None of your levers changes what planners believe about their business cases: {numbers}."),
            ("Which lever makes the organisation look back at delivered work?",), ref)
    if got["error_change"] > need:
        return Verdict(False, "timid", (
            f"Retrospectives are on, but learning is too timid: {numbers}. With learning_rate {pol.learning_rate:g} "
            f"the planners' prior of 'no bias' weighs as much as {4 * (1 - pol.learning_rate) / pol.learning_rate:.0f} "
            f"delivered initiatives of evidence. The task asks for at least {100 * abs(need):.0f}% less error."),
            ("Let evidence count for more.",), ref)
    return Verdict(False, "still_cursed", (
        f"The estimates improve, but chosen work still disappoints significantly: {numbers}."),
        ("Shrinkage of noisy estimates grows with evidence; what gives the retrospectives more evidence?",), ref)


# ----------------------------------------------------------------------------- 07: client policy
#: A fictional client: ten teams, a moving market, very noisy business cases, strong sponsors, and
#: its own prices for planning, switching, workshops, retrospectives and alignment.
CLIENT = DYNAMIC.replace({"organisation.n_teams": 10, "market.shift_rate": 2.0, "portfolio.idea_rate": 1.2,
                          "portfolio.estimation_noise": 0.8, "organisation.sponsor_spread": 1.0}, name="client")
CLIENT_COSTS = {"planning_cost": 1.0, "switch_loss": 0.5, "ramp_up_weeks": 1.0, "workshop_cost": 0.5,
                "retro_cost": 0.1, "alignment_cost": 0.2}
CURRENT = ANNUAL.replace(CLIENT_COSTS, name="current")
TEXTBOOK = Policy.preset("quarterly_okr").replace(CLIENT_COSTS, name="textbook_okr")
OVERHEAD_CAP_07 = 0.08
TEXTBOOK_MARGIN_07 = 0.05  # your design may trail the textbook OKR policy by at most 5% of value
CLAIM_TOL_07 = {"advantage_percent": 4.0, "overhead_percent": 1.0}  # percentage points
MIN_WORDS_07 = 8
REPS_07, SEED_07 = 40, 707
PARTS_07 = ("levers", "advantage_percent", "overhead_percent", "assumption_that_would_flip_it", "main_risk")


def grade_client(answer: Any) -> Verdict:
    """A policy for the client that meets the brief, defended with numbers the model confirms."""
    parts = mapping(answer, "PROPOSAL", PARTS_07)
    pol = levers(parts["levers"], "PROPOSAL['levers']", CURRENT)
    adv_claim = number(parts["advantage_percent"], "PROPOSAL['advantage_percent']", -100, 1000, "percent")
    ovh_claim = number(parts["overhead_percent"], "PROPOSAL['overhead_percent']", 0, 100, "percent of capacity")
    texts = {k: text(parts[k], f"PROPOSAL['{k}']") for k in PARTS_07[3:]}
    vs_current = paired_kpi(CLIENT, CURRENT, pol, "total_value", REPS_07, SEED_07)
    vs_textbook = paired_kpi(CLIENT, TEXTBOOK, pol, "total_value", REPS_07, SEED_07)
    overhead = float(np.mean(kpi_runs(CLIENT, pol, REPS_07, SEED_07)["overhead_share"]))
    adv = 100 * vs_current["rel_mean"]
    ref = {"advantage_percent": adv, "advantage_ci": (100 * vs_current["rel_ci_low"], 100 * vs_current["rel_ci_high"]),
           "overhead_percent": 100 * overhead, "vs_textbook_percent": 100 * vs_textbook["rel_mean"]}
    problems: list[tuple[str, str]] = []
    if all(getattr(pol, k) == getattr(CURRENT, k) for k in pol.to_dict() if k != "name"):
        problems.append(("unchanged", (
            "Your levers leave the client's current annual process as it is: there is nothing to defend yet.")))
    elif overhead > OVERHEAD_CAP_07:
        problems.append(("over_budget", (
            f"Your policy spends {100 * overhead:.1f}% of capacity on planning, alignment, workshops and "
            f"retrospectives; the client's limit is {100 * OVERHEAD_CAP_07:.0f}%. Each planning event costs the "
            "client 1 team-week per team, plus workshops and alignment in proportion to how much you use them.")))
    if problems and problems[0][0] == "unchanged":
        pass
    elif not vs_current["ci_low"] > 0:
        problems.append(("no_gain", (
            f"Your policy does not beat the client's current annual process with confidence ({adv:+.1f}% total value, "
            f"95% CI {ref['advantage_ci'][0]:+.1f}% to {ref['advantage_ci'][1]:+.1f}%).")))
    elif vs_textbook["rel_mean"] < -TEXTBOOK_MARGIN_07:
        problems.append(("below_textbook", (
            f"Your policy delivers {100 * vs_textbook['rel_mean']:+.1f}% total value against the textbook quarterly OKR "
            f"policy at the client's prices; the brief allows at most {100 * TEXTBOOK_MARGIN_07:.0f}% less. Which of "
            "its levers earn more than they cost here?")))
    claim = adv_claim / 100 if abs(adv_claim) < 1.5 and abs(adv) > 3 else None
    if abs(adv_claim - adv) > CLAIM_TOL_07["advantage_percent"]:
        looks_like_share = claim is not None and abs(100 * adv_claim - adv) <= CLAIM_TOL_07["advantage_percent"]
        share = " It looks like a share: the claim is in percent." if looks_like_share else ""
        problems.append(("claim_advantage", (
            f"Your claimed advantage ({adv_claim:g}%) does not match what the model shows for your policy (more than "
            f"{CLAIM_TOL_07['advantage_percent']:g} percentage points off).{share} Defend a policy with numbers you "
            "measured, over paired replications in the client's world.")))
    if abs(ovh_claim - 100 * overhead) > CLAIM_TOL_07["overhead_percent"]:
        problems.append(("claim_overhead", (
            f"Your claimed overhead ({ovh_claim:g}% of capacity) does not match the model (more than "
            f"{CLAIM_TOL_07['overhead_percent']:g} point off). Read overhead_share of your policy, times 100.")))
    short = [k for k, v in texts.items() if len(v.split()) < MIN_WORDS_07]
    if short:
        problems.append(("defence_missing", (
            f"Write at least {MIN_WORDS_07} words for {', '.join(repr(k) for k in short)}: a client will ask what would "
            "make your recommendation wrong and what could go wrong when they adopt it.")))
    if not problems:
        return Verdict(True, "correct", (
            f"Your policy meets the brief: {adv:+.1f}% total value over the current process (95% CI "
            f"{ref['advantage_ci'][0]:+.1f}% to {ref['advantage_ci'][1]:+.1f}%, {REPS_07} paired replications), "
            f"{100 * vs_textbook['rel_mean']:+.1f}% against the textbook OKR policy, {100 * overhead:.1f}% overhead "
            f"(limit {100 * OVERHEAD_CAP_07:.0f}%), and your numbers match the model. Not graded, for the discussion: "
            "does your 'assumption that would flip it' name a parameter you could test (run it!), and does your "
            "risk name who loses power or budget?"), reference=ref)
    return Verdict(False, "+".join(c for c, _ in problems), " ".join(m for _, m in problems), reference=ref)


TASKS: tuple[Task, ...] = (
    Task("05-alignment", "Fix a political portfolio with alignment levers", "exercises/05_political_portfolio.ipynb",
         "ALIGNMENT_LEVERS", "a dict of alignment lever changes",
         f"recover at least {100 * RECOVER_05:.0f}% of the value full alignment recovers, with a paired 95% CI above "
         f"zero ({REPS_05} replications)", grade_alignment,
         ("Which forces decide what gets built in this portfolio, apart from value?",
          "political_weight blends sponsor power into the ranking; budget_inertia keeps last year's split per theme; "
          "horizontal_alignment lines teams up on shared work.",
          "docs/model.md 7.5-7.6 and section 11 (alignment), and notebooks/02_alignment.ipynb.")),
    Task("05-focus", "Is alignment the same as focusing on the top theme?", "exercises/05_political_portfolio.ipynb",
         "FOCUS_EFFECT_PERCENT", "a number: relative change in total value, percent",
         f"the model's 95% CI ± {TOL_05:g} percentage points ({REPS_05} paired replications)", grade_focus,
         ("Run the political policy against the 'focused' one.",
          "Read rel_mean of total_value, times 100.",
          "docs/model.md 7.5 (how OKR focus enters the ranking) and notebooks/02_alignment.ipynb.")),
    Task("06-curse", "The optimizer's curse: how much does the best-looking idea disappoint?",
         "exercises/06_optimizers_curse.ipynb", "CURSE", "a dict: disappointment in log units for best of 3 and 10",
         f"± {TOL_06:g} log units of a {TRIALS_06:,}-trial simulation", grade_curse,
         ("Imagine three ideas of exactly equal true value, each with a noisy business case. Which one do you pick?",
          "The chosen idea's estimate is the largest of n noisy draws; its expected excess over the truth is the "
          "disappointment.",
          "Smith and Winkler (2006); docs/model.md section 1 (pattern 5) and 7.3; notebooks/04_learning_loops.ipynb.")),
    Task("06-cure", "Cure the curse with learning loops", "exercises/06_optimizers_curse.ipynb", "LEARNING_LEVERS",
         "a dict of lever changes to the annual policy",
         f"estimation error down by at least {CURE_SHARE_06:.0%} of what the default learning loop achieves, and "
         f"no significant disappointment after the first year ({REPS_06} paired replications)", grade_cure,
         ("What would an organisation have to do to find out that its business cases were too rosy?",
          "Look at the learning levers in `okrsim params` (effect 'learning').",
          "docs/model.md 7.3 (estimation and learning) and notebooks/04_learning_loops.ipynb.")),
    Task("07-client", "Design and defend a portfolio policy for a client", "exercises/07_client_policy.ipynb",
         "PROPOSAL", "a dict: levers, two measured numbers and two short texts",
         f"overhead ≤ {100 * OVERHEAD_CAP_07:.0f}%, paired CI above zero against the current process, at most "
         f"{100 * TEXTBOOK_MARGIN_07:.0f}% below the textbook OKR policy in value; your advantage within ± "
         f"{CLAIM_TOL_07['advantage_percent']:g} and your overhead within ± {CLAIM_TOL_07['overhead_percent']:g} "
         f"percentage points of the model's ({REPS_07} paired replications)",
         grade_client,
         ("Start from what the client pays for each lever, then ask which levers earn more than they cost here.",
          "Compare the current process, the textbook OKR policy and your candidates in one okrsim.compare call.",
          "docs/model.md sections 10-11 and notebooks/05_steering_system.ipynb (decomposition, break-even map).")),
)
