"""Exercises 01 and 02: a first paired comparison, and predict-then-run on a market shock.

01 teaches reading a comparison (a relative advantage with its CI, and the price paid for it).
02 asks for a prediction before running anything, then a measurement: the gap between the two
is where people learn that an annual plan sees a shock only at its next planning event.
"""

from __future__ import annotations

from typing import Any

from okrsim.core.params import Policy, Scenario
from okrsim.model.kpis import KPIS

from .answers import mapping, name, number
from .feedback import Task, Verdict
from .reference import paired_kpi, worse_better_tied

__all__ = ["TASKS"]

#: 01: the headline comparison; 40 paired replications give a CI of about +-2 percentage points.
DYNAMIC = Scenario.preset("dynamic")
ANNUAL = Policy.preset("annual")
QUARTERLY = Policy.preset("quarterly_okr")
REPS_01, SEED_01 = 40, 101
TOL_01 = 5.0  # percentage points around the CI: covers other seeds and replication counts

#: 02: the week-52 disruption; 60 replications because adaptation lags are noisy.
DISRUPTION = Scenario.preset("disruption")
REPS_02, SEED_02 = 60, 202
FACTOR_02 = 1.5  # a prediction within a factor 1.5 of the model's mean is a good prediction
TOL_02 = 5.0  # weeks around the CI of the measured reduction


# ----------------------------------------------------------------------------- 01-advantage
def grade_advantage(answer: Any) -> Verdict:
    """Relative total-value advantage of quarterly_okr over annual in `dynamic`, in percent."""
    x = number(answer, "ADVANTAGE_PERCENT", -100, 1e9, "percent")
    row = paired_kpi(DYNAMIC, ANNUAL, QUARTERLY, "total_value", REPS_01, SEED_01)
    ref, lo, hi = 100 * row["rel_mean"], 100 * row["rel_ci_low"], 100 * row["rel_ci_high"]
    ref_numbers = {"rel_mean_percent": ref, "rel_ci_low_percent": lo, "rel_ci_high_percent": hi,
                   "mean_diff": row["mean_diff"], "annual_mean": row["base_mean"], "quarterly_mean": row["target_mean"]}

    def near(v: float) -> bool:
        return lo - TOL_01 <= v <= hi + TOL_01

    if near(x):
        return Verdict(True, "correct", (
            f"In 'dynamic', quarterly_okr delivers {ref:.1f}% more total value than annual (95% CI {lo:.1f}% to "
            f"{hi:.1f}%, {REPS_01} paired replications, seed {SEED_01}); your {x:g}% is within the tolerance "
            f"(that CI ± {TOL_01:g} percentage points, which covers other seeds and replication counts). Both policies "
            "faced the same markets and ideas in each replication, so the difference measures the policy, not luck."),
            reference=ref_numbers)
    if abs(x) <= 2 and near(100 * x):
        return Verdict(False, "fraction", (
            f"Your {x:g} looks like a share, not a percentage: the check asks for percent, so a share of "
            f"{x:g} is {100 * x:g}%. Multiply rel_mean by 100."),
            ("rel_mean in Comparison.paired is a share (0.1 = 10%).",), ref_numbers)
    if near(-x):
        return Verdict(False, "sign", (
            f"Right size, wrong sign: {x:g}% says quarterly_okr delivers less than annual. You probably computed "
            "annual relative to quarterly_okr. In Comparison.paired every row is 'policy minus baseline', and the "
            "baseline is the first policy you passed to compare()."),
            ("Put 'annual' first in the list of policies, then read the quarterly_okr row.",), ref_numbers)
    if near(x - 100):
        return Verdict(False, "ratio", (
            f"Your {x:g}% is quarterly's value as a percentage of annual's (a ratio). The advantage is how much "
            "*more* quarterly delivers: the ratio minus 100%."),
            ("Subtract 100, or read rel_mean from Comparison.paired directly.",), ref_numbers)
    if row["mean_diff"] > 0 and abs(x - row["mean_diff"]) <= 0.3 * row["mean_diff"]:
        return Verdict(False, "absolute", (
            f"{x:g} is the difference in value units (mean_diff), not a percentage. The task asks how much more "
            "value quarterly_okr delivers *relative* to annual."),
            ("Use rel_mean (a share) instead of mean_diff, and multiply by 100.",), ref_numbers)
    for label, total in (("annual", row["base_mean"]), ("quarterly_okr", row["target_mean"])):
        if abs(x - total) <= 0.1 * total:
            return Verdict(False, "total", (
                f"{x:g} is close to {label}'s own total value, not an advantage: the task asks for the difference "
                "between the two policies, relative to annual, in percent."),
                ("Look at Comparison.paired, not Comparison.summary.",), ref_numbers)
    if x <= 0:
        return Verdict(False, "not_positive", (
            f"Your {x:g}% says quarterly_okr does not deliver more value in 'dynamic'. It does, by a clear margin: "
            "in a world with frequent new ideas and market shifts, re-deciding every quarter gets new, better ideas "
            "into the plan sooner."), ("Read the quarterly_okr row of Comparison.paired, KPI total_value.",), ref_numbers)
    factor = ref / x
    size = f"about {factor:.0f}x" if factor >= 2 else "somewhat"
    if x < lo - TOL_01:
        return Verdict(False, "too_low", (
            f"Right direction, but {x:g}% is too low: the model's advantage is {size} larger. Did you read a "
            "different KPI, scenario or policy row?"),
            ("The answer is the total_value row of the quarterly_okr policy in Comparison.paired.",), ref_numbers)
    size = f"about {1 / factor:.0f}x" if factor <= 0.5 else "somewhat"
    return Verdict(False, "too_high", (
        f"Right direction, but {x:g}% is too high: that is {size} more than the model shows. Did you read a "
        "different KPI (some, like initiatives_stopped, change far more in relative terms) or scenario?"),
        ("The answer is the total_value row of the quarterly_okr policy in Comparison.paired.",), ref_numbers)


_WHY_WORSE = {
    "overhead_share": ("Planning four times a year costs capacity: quarterly_okr spends {target:.1%} of all team-weeks "
                       "on planning, alignment, workshops and retrospectives, against {base:.1%} for annual."),
    "okr_score_mean": ("Quarterly key results score lower ({target:.2f} against {base:.2f}): a score compares what a "
                       "cycle delivered with what its plan forecast, and here more surprises hit the quarterly plans. "
                       "A lower OKR score is not lower value: it says whether a cycle did what it planned, not "
                       "whether the plan was worth doing."),
    "initiatives_stopped": ("Quarterly OKR stops running work on purpose ({target:.0f} stops per run on average, "
                            "annual none); every stop loses part of the done effort and costs a ramp-up."),
}
_WHY_BETTER = {
    "total_value": "total_value is the benefit, not the price: quarterly_okr delivers more value.",
    "waste_share": ("Quarterly OKR wastes *less* ({target:.1%} against {base:.1%}): stopping costs switching, but "
                    "far less capacity goes into work that delivers below the hurdle."),
    "lead_time_weeks": "Lead times get *shorter* ({target:.0f} against {base:.0f} weeks): new ideas enter the plan sooner.",
    "estimation_error": "Estimates get *better* ({target:.2f} against {base:.2f}): retrospectives learn from delivered work.",
    "okr_score_mean": ("Key results score *higher* ({target:.2f} against {base:.2f}), but a score is no measure of "
                       "value either way: it says whether a cycle delivered what its plan forecast, not whether the "
                       "plan was worth doing."),
}


# ----------------------------------------------------------------------------- 01-price
def grade_price(answer: Any) -> Verdict:
    """A KPI in which quarterly_okr is significantly worse than annual in `dynamic`."""
    k = name(answer, "PRICE_KPI", [s.name for s in KPIS])
    table = worse_better_tied(DYNAMIC, ANNUAL, QUARTERLY, REPS_01, SEED_01)
    worse = sorted(n for n, r in table.items() if r["label"] == "worse")
    row = table[k]
    numbers = {"base": row["base_mean"], "target": row["target_mean"]}
    ref = {"worse": worse, "label": row["label"], **numbers}
    if row["label"] == "worse":
        why = _WHY_WORSE.get(k, "The 95% CI of the paired difference lies on the bad side of zero.").format(**numbers)
        others = [w for w in worse if w != k]
        return Verdict(True, "correct", f"{k} is a price quarterly_okr pays. {why}"
                       + (f" Other KPIs it is worse in: {', '.join(others)}." if others else ""), reference=ref)
    if row["label"] == "better":
        why = _WHY_BETTER.get(k, f"quarterly_okr is significantly *better* in {k} (its direction: "
                              f"{next(s.better for s in KPIS if s.name == k)} is better).").format(**numbers)
        return Verdict(False, "better" if k != "total_value" else "benefit", f"Not a price: {why}",
                       ("A price is a KPI that gets worse. Each KPI's direction ('higher' or 'lower' is better) is in "
                        "okrsim.KPIS.",), ref)
    return Verdict(False, "tied", (
        f"In {k} the 95% CI of the paired difference contains zero ({row['ci_low']:.3g} to {row['ci_high']:.3g}): "
        "the replications cannot tell the two policies apart, so it is no clear price."),
        ("Look for a KPI whose paired CI lies entirely on its bad side.",), ref)


# ----------------------------------------------------------------------------- 02-predict
def _lag_reference() -> dict[str, float]:
    row = paired_kpi(DISRUPTION, ANNUAL, QUARTERLY, "adaptation_lag_weeks", REPS_02, SEED_02)
    return {"annual": row["base_mean"], "quarterly_okr": row["target_mean"], "reduction": -row["mean_diff"],
            "reduction_low": -row["ci_high"], "reduction_high": -row["ci_low"]}


def grade_prediction(answer: Any) -> Verdict:
    """Which policy follows the disruption faster, and each one's adaptation lag in weeks."""
    parts = mapping(answer, "PREDICTION", ["faster", "annual_lag_weeks", "quarterly_lag_weeks"])
    faster = name(parts["faster"], "PREDICTION['faster']", ["annual", "quarterly_okr"],
                  aliases={"quarterly": "quarterly_okr", "okr": "quarterly_okr"})
    a = number(parts["annual_lag_weeks"], "PREDICTION['annual_lag_weeks']", 0, 156, "weeks")
    q = number(parts["quarterly_lag_weeks"], "PREDICTION['quarterly_lag_weeks']", 0, 156, "weeks")
    ref = _lag_reference()
    ra, rq = ref["annual"], ref["quarterly_okr"]
    problems: list[tuple[str, str]] = []
    if faster != "quarterly_okr":
        problems.append(("direction", (
            "'faster': the annual plan cannot follow faster. It moves capacity only at planning events; the shock "
            "hits in week 52, the same week as an annual planning event, but planners see it only after the "
            "4-week detection lag, so the next chance is week 104. Quarterly OKR re-decides every 13 weeks and "
            "may stop running work.")))
    elif q >= a:
        problems.append(("inconsistent", (
            f"Your parts contradict each other: you say quarterly_okr is faster, but predict a longer lag for it "
            f"({q:g} weeks) than for annual ({a:g}).")))
    if a > FACTOR_02 * ra:
        tail = (" That is longer than the rest of the horizon after the shock: the annual plan does react, at its "
                "next planning event." if a >= 104 else "")
        problems.append(("annual_too_long", (
            f"'annual_lag_weeks': {a:g} weeks is about {a / ra:.1f}x too long. The annual plan sees the shock at its "
            f"next yearly planning event and then moves capacity within weeks; it is not blind for ever.{tail}")))
    elif a < ra / FACTOR_02:
        problems.append(("annual_too_short", (
            f"'annual_lag_weeks': {a:g} weeks is about {ra / max(a, 1e-9):.1f}x too short. An annual plan cannot move "
            "capacity before its next planning event, up to a year away; in between only the ad-hoc intake of new "
            "ideas (when a team's plan runs out) follows the market.") if a > 0 else (
            "'annual_lag_weeks': 0 weeks would mean the annual plan follows the shock at once. It cannot: it moves "
            "capacity only at its next planning event.")))
    if q < rq / FACTOR_02:
        problems.append(("quarterly_too_short", (
            f"'quarterly_lag_weeks': {q:g} weeks is too short. Even quarterly planners see the shock only after the "
            "4-week detection lag, wait for the next quarterly planning event, and then running work must finish or "
            "be stopped before half of the capacity has moved.")))
    elif q > FACTOR_02 * rq:
        problems.append(("quarterly_too_long", (
            f"'quarterly_lag_weeks': {q:g} weeks is about {q / rq:.1f}x too long. A quarterly cycle re-decides within "
            "13 weeks of seeing the shock and may stop running work, so capacity moves within about a quarter or "
            "two.")))
    if not problems:
        return Verdict(True, "correct", (
            f"Good prediction. The model (means over {REPS_02} replications of 'disruption', seed {SEED_02}): annual "
            f"needs {ra:.0f} weeks until half of the work follows the new leading themes, quarterly_okr {rq:.0f}. "
            f"Yours: {a:g} and {q:g} (accepted within a factor {FACTOR_02:g}: a prediction is about the mechanism, "
            "not the decimals)."), reference=ref)
    ok = [p for p in ("faster", "annual_lag_weeks", "quarterly_lag_weeks")
          if not any(code.startswith({"faster": "direction", "annual_lag_weeks": "annual",
                                      "quarterly_lag_weeks": "quarterly"}[p]) for code, _ in problems)]
    right = f" Right: {', '.join(repr(p) for p in ok)}." if ok and problems[0][0] != "inconsistent" else ""
    return Verdict(False, "+".join(code for code, _ in problems), " ".join(m for _, m in problems) + right,
                   reference=ref)


# ----------------------------------------------------------------------------- 02-measure
def grade_measure(answer: Any) -> Verdict:
    """How many weeks sooner quarterly_okr follows the disruption (paired mean of annual minus quarterly lag)."""
    x = number(answer, "LAG_REDUCTION_WEEKS", -1e9, 1e9, "weeks")
    ref = _lag_reference()
    r, lo, hi = ref["reduction"], ref["reduction_low"], ref["reduction_high"]

    def near(v: float) -> bool:
        return lo - TOL_02 <= v <= hi + TOL_02

    if near(x):
        return Verdict(True, "correct", (
            f"quarterly_okr gets half of its work onto the new leading themes {r:.1f} weeks sooner than annual "
            f"(95% CI {lo:.1f} to {hi:.1f} weeks, {REPS_02} paired replications, seed {SEED_02}); your {x:g} is within "
            f"the tolerance (the CI ± {TOL_02:g} weeks). Compare with your prediction: where were you off, and why?"),
            reference=ref)
    if near(-x):
        return Verdict(False, "sign", (
            f"Right size, wrong sign: {x:g} weeks says quarterly_okr follows *later*. The paired mean_diff is "
            "quarterly minus annual (negative: a shorter lag); the task asks for annual minus quarterly."),
            ("Flip the sign of mean_diff.",), ref)
    if 0 < x <= 10 and abs(x - ref["annual"] / ref["quarterly_okr"]) <= 0.5:
        return Verdict(False, "ratio", (
            f"{x:g} is the ratio of the two lags (annual needs about {x:.1f} times as long). The task asks for the "
            "difference in weeks."), ("Subtract, do not divide.",), ref)
    for label in ("annual", "quarterly_okr"):
        if abs(x - ref[label]) <= 2:
            return Verdict(False, f"{label}_lag", (
                f"{x:g} weeks is {label}'s own adaptation lag, not the difference between the two policies."),
                ("Read the paired difference (Comparison.paired) rather than one policy's mean.",), ref)
    if abs(x) > 80:
        return Verdict(False, "not_weeks", (
            f"{x:g} cannot be a difference in weeks between two lags that each last less than the horizon after the "
            "shock; did you read another KPI (total_value?) instead of adaptation_lag_weeks?"),
            ("The KPI is adaptation_lag_weeks.",), ref)
    return Verdict(False, "too_low" if x < lo else "too_high", (
        f"{x:g} weeks is too {'small' if x < lo else 'large'} for the difference between the two adaptation lags in "
        "'disruption'. Check that you used the disruption scenario and the adaptation_lag_weeks row."),
        ("Run okrsim.compare('disruption', ['annual', 'quarterly_okr'], ...) and read adaptation_lag_weeks in .paired.",),
        ref)


TASKS: tuple[Task, ...] = (
    Task("01-advantage", "How much more value does quarterly OKR deliver?", "exercises/01_first_comparison.ipynb",
         "ADVANTAGE_PERCENT", "a number: the relative advantage in percent",
         f"the model's 95% CI ± {TOL_01:g} percentage points ({REPS_01} paired replications)", grade_advantage,
         ("Run okrsim.compare('dynamic', ['annual', 'quarterly_okr']) and look at the total_value row of .paired.",
          "rel_mean is (quarterly - annual) / annual, replication by replication, as a share; the task wants percent.",
          "The mechanism: docs/model.md section 11 (agility, alignment, learning) and "
          "notebooks/00_start_here.ipynb ('A first live comparison').")),
    Task("01-price", "What does quarterly OKR pay for it?", "exercises/01_first_comparison.ipynb",
         "PRICE_KPI", "a KPI name in quotes", "any KPI whose paired 95% CI lies entirely on its bad side", grade_price,
         ("Every benefit in the model has a cost. Which KPI gets worse?",
          "Use the same comparison; for each KPI, okrsim.KPIS says whether higher or lower is better.",
          "Costs of each lever: docs/model.md section 10 (planning_cost, switch_loss, workshop_cost, retro_cost).")),
    Task("02-predict", "Predict: who follows a market shock faster, and how fast?", "exercises/02_market_shock.ipynb",
         "PREDICTION", "a dict: faster policy, and each policy's adaptation lag in weeks",
         f"each lag within a factor {FACTOR_02:g} of the model's mean over {REPS_02} replications", grade_prediction,
         ("Think about *when* each policy can move capacity at all.",
          "The shock hits at week 52; annual planning events are at weeks 0, 52 and 104, quarterly ones every 13 "
          "weeks; planners see changes 4 weeks late.",
          "docs/model.md section 3 (event order: the world changes before planning in the same week) and the KPI "
          "adaptation_lag_weeks in section 9.")),
    Task("02-measure", "Measure: how much sooner does quarterly OKR follow?", "exercises/02_market_shock.ipynb",
         "LAG_REDUCTION_WEEKS", "a number of weeks", f"the model's 95% CI ± {TOL_02:g} weeks ({REPS_02} paired "
         "replications)", grade_measure,
         ("Run a paired comparison in 'disruption' and find adaptation_lag_weeks.",
          "The paired mean_diff is quarterly minus annual; the task asks for annual minus quarterly.",
          "adaptation_lag_weeks is defined in docs/model.md section 9; the shock-response chart in "
          "notebooks/01_agility.ipynb ('Adaptation after a shock') shows it week by week.")),
)

