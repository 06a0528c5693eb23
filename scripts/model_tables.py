"""Write (or check) the measured numbers of docs/model.md: the baseline table, the
reallocation calibration, the shift-rate and counter-case figures, the price of alignment, knowledge
decay, OKR scores across cadences, the long-programme stops, the value of OKR check-ins and of transparency,
the IT-portfolio realities and the costs of the practice.

Every number in those blocks is computed here from the model, never typed: the block between
``<!-- begin generated: NAME -->`` and ``<!-- end generated: NAME -->`` is replaced by what
this script computes.  ``tests/test_validation.py`` computes the same blocks from the
comparisons its claims already ran and fails when docs/model.md differs, so a model change
cannot leave the documentation stale:

    python scripts/model_tables.py            # rewrite the blocks in docs/model.md
    python scripts/model_tables.py --check    # exit 1 if a block differs, write nothing

The comparisons are those of the validation suite: annual, annual_gates and quarterly_okr,
paired, 40 replications at each of the seeds 1, 2, 3, on every scenario preset.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

import okrsim
from okrsim import Comparison, Policy, compare
from okrsim.experiments.statistics import equivalence

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "model.md"
THREE: tuple[str, ...] = ("annual", "annual_gates", "quarterly_okr")
SEEDS: tuple[int, ...] = (1, 2, 3)
REPLICATIONS = 40
#: Runs per seed of the reserve and no-board variants of the calibration paragraph.
VARIANT_REPLICATIONS = 20
#: The change reserves the calibration paragraph compares with the default.
RESERVES: tuple[float, ...] = (0.05, 0.15)

#: Replications per seed of the shift-rate comparisons (those of the turbulence claims).
GROWTH_REPLICATIONS = 100
#: The shift rates of the turbulence claims.
SHIFT_RATES: tuple[float, ...] = (0.0, 1.5, 6.0)

#: Replications per seed of the counter-case, and its equivalence margin (share of
#: annual_gates' mean value), as in the counter-case claim.
COUNTER_REPLICATIONS = 60
TIE_SHARE = 0.02

#: The worlds of the alignment claim (docs/model.md 11): the default, one where sponsor power
#: and teams' own priorities are noise and OKRs really cut politics, one where they carry
#: what planners lack and sponsors' commitment matters.  `only_alignment` against `annual`,
#: ALIGNMENT_REPLICATIONS paired replications at each seed.
ALIGNMENT_REGIMES: dict[str, dict[str, float]] = {
    "default (`dynamic`)": {},
    "politics is noise": {"organisation.local_knowledge": 0.0, "organisation.politics_floor": 0.1,
                          "organisation.sponsor_spread": 1.0},
    "local knowledge and committed sponsors": {"organisation.local_knowledge": 0.75,
                                               "organisation.commitment_loss": 0.3},
}
ALIGNMENT_REPLICATIONS = 40

#: The knowledge-decay claim (docs/model.md 7.3): quarterly_okr with and without retrospectives
#: at DECAY_SHIFT_RATE shifts a year, for each bias drift, DECAY_REPLICATIONS paired runs a seed.
DECAY_DRIFTS: tuple[float, ...] = (0.0, 0.5, 1.0)
DECAY_SHIFT_RATE = 4.0
DECAY_REPLICATIONS = 40

#: OKR scores across cadences (docs/model.md 7.6): quarterly_okr at cadence 13 and at 52 in a
#: frozen world (no shifts, no arrivals, no perception or observation noise, no staleness, no
#: interactions),
#: SCORE_REPLICATIONS paired runs a seed; a tie within SCORE_MARGIN (score points).
SCORE_FROZEN: dict[str, float] = {"market.shift_rate": 0.0, "market.perception_noise": 0.0,
                                  "portfolio.idea_rate": 0.0, "portfolio.staleness_half_life_weeks": 0.0,
                                  "portfolio.observation_noise": 0.0,
                                  # no interactions: an undiscovered dependency blocks a quarter's
                                  # delivery but rarely a year's, a surprise the forecast cannot know
                                  "portfolio.conflict_rate": 0.0, "portfolio.synergy_rate": 0.0,
                                  "portfolio.dependency_rate": 0.0,
                                  # effort estimates exact: an overrun is a surprise the forecast
                                  # learns only through its pace, cycle by cycle (7.6)
                                  "portfolio.effort_noise": 0.0, "portfolio.effort_bias": 0.0}
SCORE_CADENCES: tuple[int, ...] = (13, 52)
SCORE_REPLICATIONS = 40
SCORE_MARGIN = 0.05

#: Long programmes (docs/model.md 7.5): nine months of three teams each (effort ~100
#: team-weeks), few of them; the three policies and quarterly_okr without stopping,
#: PROGRAMME_REPLICATIONS paired runs a seed.
PROGRAMMES: dict[str, float] = {"portfolio.effort_median": 100.0, "portfolio.effort_sigma": 0.3,
                                "portfolio.multi_team_share": 1.0, "portfolio.initial_backlog": 40,
                                "portfolio.idea_rate": 0.2}
PROGRAMME_REPLICATIONS = 30

#: Increments (docs/model.md 7.8): quarterly_okr against annual_gates and against itself never
#: stopping, INCREMENT_REPLICATIONS paired runs a seed, with indivisible initiatives (the
#: default) and with a first increment (MVP) that earns half the value at 30% of the effort,
#: cheap and costly, in the default world and in the programme world.
_MVP = {"portfolio.mvp_value": 0.5}
INCREMENT_REGIMES: dict[str, dict[str, float]] = {
    "indivisible (default)": {},
    "in increments": _MVP,
    "in costly increments": {**_MVP, "portfolio.increment_cost": 0.5},
    "programmes, indivisible": PROGRAMMES,
    "programmes in increments": {**PROGRAMMES, **_MVP},
}
INCREMENT_REPLICATIONS = 30

#: The focus rule (docs/model.md 7.7): quarterly_okr with a focus rule of one initiative per
#: team against the same policy without it, FOCUS_REPLICATIONS paired runs a seed, in the
#: default world (work never waits, parallel work costs nothing), with costly multitasking,
#: with work that waits for others, and with both.
FOCUS_REGIMES: dict[str, dict[str, float]] = {
    "default (`dynamic`)": {},
    "costly multitasking": {"organisation.multitasking_cost": 0.25},
    "work that waits": {"organisation.wait_weeks": 2.0},
    "both": {"organisation.wait_weeks": 2.0, "organisation.multitasking_cost": 0.25},
}
FOCUS_REPLICATIONS = 30

#: The check-in claim (docs/model.md 11): quarterly_okr with its check-ins against the same
#: policy without them, CHECKIN_REPLICATIONS paired runs a seed, in the default world, in one
#: with poor business cases and telling leading measures, and in that one with gamed measures.
_POOR_CASES: dict[str, float] = {"portfolio.estimation_noise": 2.0, "portfolio.value_sigma": 1.5,
                                 "portfolio.effort_median": 20.0, "portfolio.leading_noise": 0.2}
CHECKIN_REGIMES: dict[str, dict[str, float]] = {
    "default (`dynamic`)": {},
    "poor business cases, telling measures": _POOR_CASES,
    "the same, gamed measures": {**_POOR_CASES, "organisation.goal_displacement": 1.0},
}
CHECKIN_REPLICATIONS = 80

#: IT-portfolio realities (docs/model.md 11): quarterly_okr against annual_gates, the fair
#: baseline, IT_REPLICATIONS paired runs a seed, in worlds without the realities of issue 13
#: item 4, with the defaults, and with each of them strong.
IT_REGIMES: dict[str, dict[str, float]] = {
    "without them": {"portfolio.effort_noise": 0.0, "portfolio.effort_bias": 0.0, "portfolio.mandatory_share": 0.0},
    "default (`dynamic`)": {},
    "poor effort estimates": {"portfolio.effort_noise": 1.0, "portfolio.effort_bias": 0.5},
    "heavy regulation": {"portfolio.mandatory_share": 0.3, "portfolio.deadline_weeks": 13.0},
    "teams that also run": {"organisation.run_share": 0.5},
}
IT_REPLICATIONS = 40

#: Costs of the practice (docs/model.md 7.10): quarterly_okr against annual_gates,
#: PRACTICE_REPLICATIONS paired runs a seed, without the three costs, with the defaults, and
#: with each of them high.
PRACTICE_REGIMES: dict[str, dict[str, float]] = {
    "without them": {"organisation.okr_adoption_cycles": 0.0, "organisation.attention_cost": 0.0,
                     "organisation.renegotiation_cost": 0.0},
    "default (`dynamic`)": {},
    "slow adoption": {"organisation.okr_adoption_cycles": 4.0},
    "costly attention": {"organisation.attention_cost": 2.0},
    "costly renegotiation": {"organisation.renegotiation_cost": 0.2},
}
PRACTICE_REPLICATIONS = 40

#: The transparency claim (docs/model.md 11): quarterly_okr against the same policy with the
#: typical annual process's transparency (0.1), TRANSPARENCY_REPLICATIONS paired runs a seed,
#: in a world where interactions carry no stakes beyond cannibalisation, in the default world,
#: in a dense one (many dependencies and conflicts, concentrated within themes), and in one
#: with duplicate work, half of whose non-thematic interactions run through shared teams.
TRANSPARENCY_REGIMES: dict[str, dict[str, float]] = {
    "no stakes": {"portfolio.dependency_rate": 0.0, "portfolio.rework_share": 0.0,
                  "portfolio.interaction_locality": 0.0},
    "default (`dynamic`)": {},
    "dense interactions": {"portfolio.dependency_rate": 1.0, "portfolio.conflict_rate": 1.0,
                           "portfolio.rework_share": 0.3, "portfolio.interaction_locality": 0.7},
    "many duplicates": {"portfolio.duplicate_rate": 0.5, "portfolio.team_locality": 0.5},
}
TRANSPARENCY_REPLICATIONS = 40

#: The effect decomposition of quarterly_okr against annual on every scenario preset (section
#: 11): Shapley values over the 16 on/off combinations of the four effects,
#: DECOMPOSITION_REPLICATIONS paired replications at DECOMPOSITION_SEED.
DECOMPOSITION_REPLICATIONS = 40
DECOMPOSITION_SEED = 1

Three = Callable[[str, int], Comparison]
Growth = Callable[[float, int], Comparison]
Counter = Callable[[int], Comparison]
Regime = Callable[[str, int], Comparison]
Decay = Callable[[float, int], Comparison]
Seeded = Callable[[int], Comparison]


def three(scenario: str, seed: int) -> Comparison:
    """The validation suite's comparison of the three policies in `scenario` at `seed`."""
    return compare(scenario, list(THREE), replications=REPLICATIONS, seed=seed)


def growth(shift_rate: float, seed: int) -> Comparison:
    """The validation suite's comparison at `shift_rate` shifts a year, all else default."""
    scenario = okrsim.Scenario().replace({"market.shift_rate": shift_rate})
    return compare(scenario, list(THREE), replications=GROWTH_REPLICATIONS, seed=seed)


def counter(seed: int) -> Comparison:
    """The validation suite's counter-case: annual_gates and quarterly_okr in
    `mature_independent`."""
    return compare("mature_independent", ["annual_gates", "quarterly_okr"], replications=COUNTER_REPLICATIONS,
                   seed=seed)


def alignment(regime: str, seed: int) -> Comparison:
    """The alignment claim's comparison: `only_alignment` against `annual` in `regime`."""
    scenario = okrsim.Scenario().replace(ALIGNMENT_REGIMES[regime])
    return compare(scenario, ["annual", "only_alignment"], replications=ALIGNMENT_REPLICATIONS, seed=seed)


def decay(drift: float, seed: int) -> Comparison:
    """The knowledge-decay claim's comparison: quarterly_okr without retrospectives (baseline)
    and with them, at `drift`, in the default world at DECAY_SHIFT_RATE shifts a year."""
    okr = Policy.preset("quarterly_okr")
    scenario = okrsim.Scenario().replace({"market.shift_rate": DECAY_SHIFT_RATE, "portfolio.bias_drift": drift})
    return compare(scenario, [okr.replace({"retrospectives": False}, name="okr_without_retros"), okr],
                   replications=DECAY_REPLICATIONS, seed=seed)


def checkins(regime: str, seed: int) -> Comparison:
    """The check-in claim's comparison: quarterly_okr without check-ins (baseline) and with them."""
    okr = Policy.preset("quarterly_okr")
    scenario = okrsim.Scenario().replace(CHECKIN_REGIMES[regime])
    return compare(scenario, [okr.replace({"checkin_weeks": 0}, name="okr_without_checkins"), okr],
                   replications=CHECKIN_REPLICATIONS, seed=seed)


def _against_gates(over: dict[str, float], replications: int, seed: int) -> Comparison:
    """annual_gates (baseline) and quarterly_okr in the default world changed by `over`."""
    return compare(okrsim.Scenario().replace(over), ["annual_gates", "quarterly_okr"], replications=replications,
                   seed=seed)


def it_realities(regime: str, seed: int) -> Comparison:
    """The IT-realities comparison: annual_gates (baseline) and quarterly_okr in `regime`."""
    return _against_gates(IT_REGIMES[regime], IT_REPLICATIONS, seed)


def practice_costs(regime: str, seed: int) -> Comparison:
    """The practice-costs comparison: annual_gates (baseline) and quarterly_okr in `regime`."""
    return _against_gates(PRACTICE_REGIMES[regime], PRACTICE_REPLICATIONS, seed)


def transparency(regime: str, seed: int) -> Comparison:
    """The transparency claim's comparison: quarterly_okr at annual's transparency (baseline)
    and at its own."""
    okr = Policy.preset("quarterly_okr")
    low = okr.replace({"transparency": Policy.preset("annual").transparency}, name="okr_low_transparency")
    scenario = okrsim.Scenario().replace(TRANSPARENCY_REGIMES[regime])
    return compare(scenario, [low, okr], replications=TRANSPARENCY_REPLICATIONS, seed=seed)


def decomposition(scenario: str) -> object:
    """The decomposition of quarterly_okr's advantage over annual in `scenario` (serial: the
    tables must not depend on the machine's cores)."""
    from okrsim.experiments.decomposition import decompose

    return decompose(scenario, "annual", "quarterly_okr", replications=DECOMPOSITION_REPLICATIONS,
                     seed=DECOMPOSITION_SEED, executor="serial", progress=False)


def scores(seed: int) -> Comparison:
    """The score claim's comparison: quarterly_okr at each of SCORE_CADENCES in the frozen world."""
    okr = Policy.preset("quarterly_okr")
    policies = [okr.replace({"cadence_weeks": w}, name=f"okr_{w}") for w in SCORE_CADENCES]
    return compare(okrsim.Scenario().replace(SCORE_FROZEN), policies, replications=SCORE_REPLICATIONS, seed=seed)


def programmes(seed: int) -> Comparison:
    """The programme world's comparison: the three policies, and quarterly_okr that never stops."""
    okr = Policy.preset("quarterly_okr")
    policies = [*THREE, okr.replace({"can_stop_running_work": False}, name="okr_never_stops")]
    return compare(okrsim.Scenario().replace(PROGRAMMES), policies, replications=PROGRAMME_REPLICATIONS, seed=seed)


def increments(regime: str, seed: int) -> Comparison:
    """The increments comparison: annual_gates, quarterly_okr and quarterly_okr never stopping
    in `regime`."""
    okr = Policy.preset("quarterly_okr")
    policies = ["annual_gates", okr, okr.replace({"can_stop_running_work": False}, name="okr_never_stops")]
    return compare(okrsim.Scenario().replace(INCREMENT_REGIMES[regime]), policies,
                   replications=INCREMENT_REPLICATIONS, seed=seed)


def focus_rule(regime: str, seed: int) -> Comparison:
    """The focus-rule comparison: quarterly_okr (baseline) and the same policy with a focus rule
    of one initiative per team, in `regime`."""
    okr = Policy.preset("quarterly_okr")
    return compare(okrsim.Scenario().replace(FOCUS_REGIMES[regime]),
                   [okr, okr.replace({"focus_wip": 1}, name="okr_focus_rule")],
                   replications=FOCUS_REPLICATIONS, seed=seed)


def _diff(row, ci: bool = True) -> str:
    """``+10,839 [+8,609, +13,068] / +18.2% [+16.2%, +20.2%]`` (absolute / relative)."""
    if not ci:
        return f"{row['mean_diff']:+,.0f} / {100 * row['rel_mean']:+.1f}%"
    return (f"{row['mean_diff']:+,.0f} [{row['ci_low']:+,.0f}, {row['ci_high']:+,.0f}] / "
            f"{100 * row['rel_mean']:+.1f}% [{100 * row['rel_ci_low']:+.1f}%, {100 * row['rel_ci_high']:+.1f}%]")


def _abs(row) -> str:
    """``+113 [-126, +352]`` (absolute only)."""
    return f"{row['mean_diff']:+,.0f} [{row['ci_low']:+,.0f}, {row['ci_high']:+,.0f}]"


def baseline_table(get: Three = three) -> str:
    """The table of 7.9: quarterly_okr against both baselines on every scenario preset."""
    lines = [
        "| scenario | seed | vs `annual` | vs `annual_gates` | gates - annual | realloc. (alloc.) "
        "| realloc. (realised) | in-year starts annual | in-year starts gates | overhead |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for scenario in okrsim.SCENARIO_PRESETS:
        for seed in SEEDS:
            c = get(scenario, seed)
            m = c.runs.groupby("policy")[["budget_reallocation_share", "reallocation_share", "in_year_starts",
                                          "changes_approved", "overhead_share"]].mean()
            a, g = m.loc["annual"], m.loc["annual_gates"]
            overhead = " / ".join(f"{100 * m.loc[p, 'overhead_share']:.1f}%" for p in THREE)
            lines.append(
                f"| `{scenario}` | {seed} | {_diff(c.versus('quarterly_okr', 'annual'))} "
                f"| {_diff(c.versus('quarterly_okr', 'annual_gates'))} "
                f"| {_diff(c.versus('annual_gates', 'annual'), ci=False)} "
                f"| {100 * a['budget_reallocation_share']:.1f}% | {100 * a['reallocation_share']:.1f}% "
                f"| {a['in_year_starts']:.1f} ({a['changes_approved']:.1f} approved) | {g['in_year_starts']:.1f} "
                f"| {overhead} |")
    return "\n".join(lines)


def _budget_moved(policy: Policy, seed: int) -> float:
    runs = compare("dynamic", [policy], replications=VARIANT_REPLICATIONS, seed=seed).runs
    return float(runs["budget_reallocation_share"].mean())


def reallocation(get: Three = three) -> str:
    """The calibration sentence of 7.9: what the typical annual process moves a year on the
    default scenario, without a change board, and with other reserves."""
    annual = Policy.preset("annual")
    moved = [float(get("dynamic", s).runs.query("policy == 'annual'")["budget_reallocation_share"].mean())
             for s in SEEDS]
    realised = [float(get("dynamic", s).runs.query("policy == 'annual'")["reallocation_share"].mean())
                for s in SEEDS]
    no_board = np.mean([_budget_moved(annual.replace({"change_board_weeks": 0}), s) for s in SEEDS])
    reserves = ", ".join(
        f"{r:.2f}: {100 * np.mean([_budget_moved(annual.replace({'change_reserve': r}), s) for s in SEEDS]):.1f}%"
        for r in RESERVES)
    pct = ", ".join(f"{100 * x:.1f}%" for x in moved[:-1]) + f" and {100 * moved[-1]:.1f}%"
    pct_realised = ", ".join(f"{100 * x:.1f}%" for x in realised[:-1]) + f" and {100 * realised[-1]:.1f}%"
    return (
        f"On the default scenario ({REPLICATIONS} replications each at seeds 1, 2, 3, the same `change_reserve` "
        f"{annual.change_reserve:.2f} at every seed) the typical annual process moves {pct} of its allocated "
        f"capacity a year (seeds 1, 2, 3; mean {100 * np.mean(moved):.1f}%). Without a change board its budget "
        f"moves {100 * no_board:.1f}% a year; the reserve sets how much the board can move ({reserves}; "
        f"{VARIANT_REPLICATIONS} replications at each seed). The *realised* work split (`reallocation_share`) "
        f"moves {pct_realised} at the same seeds.")


def shift_rates(get: Growth = growth) -> str:
    """Pattern 2 of section 1: the absolute advantage at each shift rate, and the relative one
    in a frozen market, as the range over the seeds."""
    def span(values: list[float], pct: bool = False) -> str:
        lo, hi = min(values), max(values)
        return f"{100 * lo:+.1f}% to {100 * hi:+.1f}%" if pct else f"{lo:+,.0f} to {hi:+,.0f}"

    rows = {b: [[get(rate, seed).versus("quarterly_okr", b) for seed in SEEDS] for rate in SHIFT_RATES]
            for b in ("annual", "annual_gates")}
    rates = " / ".join(f"{r:g}" for r in SHIFT_RATES)
    absolute = {b: " / ".join(span([r["mean_diff"] for r in at]) for at in rows[b]) for b in rows}
    frozen = {b: span([r["rel_mean"] for r in rows[b][0]], pct=True) for b in rows}
    return (f"The advantage of quarterly_okr over annual at {rates} shifts a year ({GROWTH_REPLICATIONS} paired "
            f"replications, range over seeds 1-3): {absolute['annual']}; against annual_gates: "
            f"{absolute['annual_gates']}. In a frozen market quarterly_okr gains {frozen['annual']} over annual "
            f"and {frozen['annual_gates']} over annual_gates.")


def counter_case(get: Counter = counter) -> str:
    """The counter-case paragraph of 7.9: the equivalence test at each seed."""
    tests, overhead = [], []
    for seed in SEEDS:
        runs = get(seed).runs.sort_values("replication")
        base = runs.loc[runs.policy == "annual_gates", "total_value"].to_numpy(dtype=float)
        values = runs.loc[runs.policy == "quarterly_okr", "total_value"].to_numpy(dtype=float)
        tests.append((equivalence(values, base, margin=TIE_SHARE * abs(float(np.nanmean(base)))), float(base.mean())))
        overhead.append(runs.groupby("policy")["overhead_share"].mean())
    diffs = ", ".join(f"{t['mean_diff']:+,.0f} [{t['ci_low']:+,.0f}, {t['ci_high']:+,.0f}]" for t, _ in tests)
    rel = ", ".join(f"{100 * t['mean_diff'] / base:+.1f}%" for t, base in tests)
    margins = ", ".join(f"{t['margin']:,.0f}" for t, _ in tests)
    over = {p: f"{100 * np.mean([o[p] for o in overhead]):.1f}%" for p in ("quarterly_okr", "annual_gates")}
    return (f"The differences measured, quarterly_okr minus annual_gates with 90% CIs ({COUNTER_REPLICATIONS} "
            f"paired replications at each of seeds 1, 2, 3): {diffs} ({rel}; margins {margins}). Planning "
            f"overhead takes {over['quarterly_okr']} (quarterly_okr) and {over['annual_gates']} (annual_gates) "
            f"of capacity (mean over the seeds).")


def _regime_table(regimes: dict[str, dict[str, float]], get: Regime, policy: str, baseline: str) -> str:
    """A table of `policy` against `baseline` in each regime (a row, with its changes to
    `dynamic`) at each seed (a column), absolute / relative with 95% CIs."""
    lines = ["| world | differs from `dynamic` by | seed 1 | seed 2 | seed 3 |", "| --- | --- | --- | --- | --- |"]
    for regime, over in regimes.items():
        changes = ", ".join(f"`{k.split('.')[1]}` {v:g}" for k, v in over.items()) or "nothing"
        cells = " | ".join(_diff(get(regime, seed).versus(policy, baseline)) for seed in SEEDS)
        lines.append(f"| {regime} | {changes} | {cells} |")
    return "\n".join(lines)


def alignment_price(get: Regime = alignment) -> str:
    """The table of section 11: what alignment alone is worth in each regime, at each seed."""
    return _regime_table(ALIGNMENT_REGIMES, get, "only_alignment", "annual")


def checkin_value(get: Regime = checkins) -> str:
    """The table of section 11: what OKR check-ins are worth in each regime, at each seed."""
    return _regime_table(CHECKIN_REGIMES, get, "quarterly_okr", "okr_without_checkins")


def transparency_value(get: Regime = transparency) -> str:
    """The table of section 11: what joint workshops are worth in each regime, at each seed."""
    return _regime_table(TRANSPARENCY_REGIMES, get, "quarterly_okr", "okr_low_transparency")


def it_table(get: Regime = it_realities) -> str:
    """The table of section 11: quarterly_okr against annual_gates with and without the IT
    realities, at each seed."""
    return _regime_table(IT_REGIMES, get, "quarterly_okr", "annual_gates")


def practice_table(get: Regime = practice_costs) -> str:
    """The table of 7.10: quarterly_okr against annual_gates with and without the costs of
    the practice, at each seed."""
    return _regime_table(PRACTICE_REGIMES, get, "quarterly_okr", "annual_gates")


def focus_table(get: Regime = focus_rule) -> str:
    """The table of 7.7: what a focus rule of one initiative per team does to quarterly_okr in
    each regime, at each seed."""
    return _regime_table(FOCUS_REGIMES, get, "okr_focus_rule", "quarterly_okr")


def decomposition_table(get: Callable[[str], object] = decomposition) -> str:
    """The table of section 11: each effect's Shapley contribution on every scenario preset."""
    effects = okrsim.EFFECTS
    lines = ["| scenario | " + " | ".join(effects) + " | total |", "| --- |" + " --- |" * (len(effects) + 1)]
    for scenario in okrsim.SCENARIO_PRESETS:
        frame = get(scenario).frame.set_index("effect")
        cells = [f"{frame.loc[e, 'contribution']:+,.0f} [{frame.loc[e, 'ci_low']:+,.0f}, {frame.loc[e, 'ci_high']:+,.0f}]"
                 for e in (*effects, "total")]
        lines.append(f"| `{scenario}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def knowledge_decay(get: Decay = decay) -> str:
    """The table of 7.3: what retrospectives buy at each bias drift, at each seed."""
    lines = ["| `bias_drift` | seed | estimation error cut by retrospectives | value of retrospectives |",
             "| --- | --- | --- | --- |"]
    for drift in DECAY_DRIFTS:
        for seed in SEEDS:
            c = get(drift, seed)
            err = c.versus("quarterly_okr", "okr_without_retros", "estimation_error")
            lines.append(f"| {drift:g} | {seed} | {-err['mean_diff']:.3f} [{-err['ci_high']:.3f}, {-err['ci_low']:.3f}] "
                         f"| {_diff(c.versus('quarterly_okr', 'okr_without_retros'))} |")
    return "\n".join(lines)


def score_table(get: Seeded = scores, get_three: Three = three) -> str:
    """The table of 7.6: the same policy's OKR score at two cadences in a frozen world, and how
    the score relates to realised value across the default world's replications."""
    a, b = (f"okr_{w}" for w in SCORE_CADENCES)
    lines = [f"| seed | score at {SCORE_CADENCES[0]} weeks | score at {SCORE_CADENCES[1]} weeks "
             f"| difference, 90% CI (tie within ±{SCORE_MARGIN:g}) | correlation of score and total value "
             "across replications in `dynamic`: " + ", ".join(f"`{p}`" for p in THREE) + " |",
             "| --- | --- | --- | --- | --- |"]
    for seed in SEEDS:
        runs = get(seed).runs.sort_values("replication")
        x, y = (runs.loc[runs.policy == p, "okr_score_mean"].to_numpy(dtype=float) for p in (a, b))
        eq = equivalence(x, y, margin=SCORE_MARGIN)
        verdict = "tie" if eq["p"] < 0.05 else "no tie shown"
        d = get_three("dynamic", seed).runs
        corr = ", ".join(f"{np.corrcoef(d.loc[d.policy == p, 'okr_score_mean'], d.loc[d.policy == p, 'total_value'])[0, 1]:+.2f}"
                         for p in THREE)
        lines.append(f"| {seed} | {x.mean():.3f} | {y.mean():.3f} | {eq['mean_diff']:+.3f} [{eq['ci_low']:+.3f}, "
                     f"{eq['ci_high']:+.3f}]: {verdict} | {corr} |")
    return "\n".join(lines)


def programme_table(get: Seeded = programmes) -> str:
    """The table of 7.5: how often long programmes are stopped and delivered, and what stopping
    them is worth."""
    lines = ["| seed | stopped / delivered: `annual` | `annual_gates` | `quarterly_okr` "
             "| `quarterly_okr` minus the same policy never stopping |", "| --- | --- | --- | --- | --- |"]
    for seed in SEEDS:
        c = get(seed)
        m = c.runs.groupby("policy")[["initiatives_stopped", "initiatives_delivered"]].mean()
        cells = " | ".join(f"{m.loc[p, 'initiatives_stopped']:.1f} / {m.loc[p, 'initiatives_delivered']:.1f}"
                           for p in THREE)
        lines.append(f"| {seed} | {cells} | {_diff(c.versus('quarterly_okr', 'okr_never_stops'))} |")
    return "\n".join(lines)


def increment_table(get: Regime = increments) -> str:
    """The table of 7.8: what a first increment does to each policy's value, to the quarterly
    advantage and to what stopping work is worth."""
    lines = ["| world | differs from `dynamic` by | seed | total value: `annual_gates` / `quarterly_okr` "
             "| `quarterly_okr` minus `annual_gates` | `quarterly_okr` minus the same policy never stopping "
             "| `quarterly_okr` stopped / delivered |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for regime, over in INCREMENT_REGIMES.items():
        changes = [f"`{k.split('.')[1]}` {v:g}" for k, v in over.items() if k not in PROGRAMMES]
        if over.keys() & PROGRAMMES.keys():
            changes.insert(0, "the programme world (7.5)")
        changes = ", ".join(changes) or "nothing"
        # (in the programme world few programmes finish within the horizon and some
        # replications earn almost nothing: a mean of paired ratios says nothing there)
        diff = _abs if over.keys() & PROGRAMMES.keys() else _diff
        for seed in SEEDS:
            c = get(regime, seed)
            m = c.runs.groupby("policy")[["total_value", "initiatives_stopped", "initiatives_delivered"]].mean()
            okr = m.loc["quarterly_okr"]
            lines.append(f"| {regime} | {changes} | {seed} | {m.loc['annual_gates', 'total_value']:,.0f} / "
                         f"{okr['total_value']:,.0f} | {diff(c.versus('quarterly_okr', 'annual_gates'))} | "
                         f"{diff(c.versus('quarterly_okr', 'okr_never_stops'))} | "
                         f"{okr['initiatives_stopped']:.1f} / {okr['initiatives_delivered']:.1f} |")
    return "\n".join(lines)


BLOCKS: dict[str, tuple[str, Callable[..., str]]] = {
    "baseline-table": ("three", baseline_table),
    "reallocation": ("three", reallocation),
    "shift-rates": ("growth", shift_rates),
    "counter-case": ("counter", counter_case),
    "alignment-price": ("alignment", alignment_price),
    "knowledge-decay": ("decay", knowledge_decay),
    "okr-scores": ("scores", score_table),
    "checkins": ("checkins", checkin_value),
    "transparency-stakes": ("transparency", transparency_value),
    "it-realities": ("it", it_table),
    "practice-costs": ("practice", practice_table),
    "decomposition": ("decomposition", decomposition_table),
    "programmes": ("programmes", programme_table),
    "increments": ("increments", increment_table),
    "focus-rule": ("focus", focus_table),
}


def render(text: str, get: Three = three, get_growth: Growth = growth, get_counter: Counter = counter,
           get_alignment: Regime = alignment, get_decay: Decay = decay, only: tuple[str, ...] = (),
           get_scores: Seeded = scores, get_programmes: Seeded = programmes, get_checkins: Regime = checkins,
           get_transparency: Regime = transparency, get_decomposition: Callable[[str], object] = decomposition,
           get_it: Regime = it_realities, get_practice: Regime = practice_costs,
           get_increments: Regime = increments, get_focus: Regime = focus_rule) -> str:
    """`text` with every generated block (or those named in `only`) replaced by what the model
    gives now."""
    for name, (source, build) in BLOCKS.items():
        if only and name not in only:
            continue
        pattern = re.compile(rf"^([ ]*)(<!-- begin generated: {name} -->\n)(?:.*?\n)?([ ]*<!-- end generated: {name} -->)",
                             re.S | re.M)
        if not pattern.search(text):
            raise SystemExit(f"{DOC}: no block named {name!r}")
        getter = {"three": get, "growth": get_growth, "counter": get_counter, "alignment": get_alignment,
                  "decay": get_decay, "scores": get_scores, "programmes": get_programmes,
                  "checkins": get_checkins, "transparency": get_transparency,
                  "decomposition": get_decomposition, "it": get_it, "practice": get_practice,
                  "increments": get_increments, "focus": get_focus}[source]
        body = build(getter, get) if source == "scores" else build(getter)
        # the block keeps the indentation of its markers (inside a list item, say)
        text = pattern.sub(lambda m, body=body: m.group(1) + m.group(2) + "".join(
            m.group(1) + line + "\n" for line in body.splitlines()) + m.group(3), text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/model.md differs; write nothing")
    parser.add_argument("--only", nargs="+", choices=sorted(BLOCKS), default=(), help="only these blocks")
    args = parser.parse_args()
    old = DOC.read_text()
    new = render(old, only=tuple(args.only))
    if args.check:
        if new != old:
            print(f"{DOC}: generated blocks differ from the model; run python scripts/model_tables.py")
            return 1
        print(f"{DOC}: generated blocks match the model")
        return 0
    tmp = DOC.with_suffix(".md.tmp")
    tmp.write_text(new)
    tmp.replace(DOC)
    print(f"wrote {DOC}" if new != old else f"{DOC} unchanged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
