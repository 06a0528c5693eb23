"""Chart functions: encodings, the data actually plotted, titles computed from the data.

Frames are built by hand with known answers, so each test can fail for a real reason
(a wrong aggregation, a flipped sign, a colour that moved).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from okrsim import charts
from okrsim.core.errors import ParameterError
from okrsim.views.style import MAX_ROWS, POLICY_COLORS


# ------------------------------------------------------------------------------ helpers
def spec(chart):
    return chart.to_dict()


def layers(d):
    """Flatten layers (and a facet's inner spec) into a list of unit specs."""
    if "spec" in d:
        d = d["spec"]
    return d.get("layer", [d])


def data_of(d, layer):
    """Records plotted by `layer` (inline datasets, falling back to the top-level data)."""
    name = layer.get("data", d.get("data", {})).get("name")
    return pd.DataFrame(d["datasets"][name])


def color_scale(layer):
    return layer["encoding"]["color"]["scale"]


def titles(d):
    t = d["title"]
    return t["text"], t.get("subtitle", [])


def two_policy_timeline(weeks=10, reps=3, ratio=1.2):
    rows = []
    for r in range(reps):
        for w in range(weeks):
            base = (w + 1) * 10.0 * (1 + r)
            rows.append(("annual", r, w, base, 0.5))
            rows.append(("quarterly_okr", r, w, base * ratio, 0.7))
    return pd.DataFrame(rows, columns=["policy", "replication", "week", "cumulative_value", "aligned_share"])


# ------------------------------------------------------------------- value over time
def test_value_over_time_plots_median_band_and_states_the_lead():
    tl = two_policy_timeline(ratio=1.2)
    market = pd.DataFrame({"replication": [0, 1, 2, 0], "time": [4.0, 4.0, 4.0, 2.5], "kind": ["shock"] * 3 + ["shift"]})
    d = spec(charts.value_over_time(tl, market))
    text, sub = titles(d)
    # the title is the kit's headline figure; the lines and bands are labelled as medians and percentiles
    assert text == "quarterly_okr against annual: +20.0% (95% CI +20.0% to +20.0%) total value"
    assert sub[0] == "Mean paired relative advantage, better in 100% of 3 paired replications"
    assert sub[1].startswith("Lines: median cumulative value; bands: 10-90% of 3 paired replications")
    ls = layers(d)
    line = next(la for la in ls if la["mark"]["type"] == "line")
    plotted = data_of(d, line)
    last = plotted[plotted["week"] == 9].set_index("policy")
    # medians across replications 0..2 of (10*10*(1+r)) = 200 and 240
    assert last.loc["annual", "median"] == pytest.approx(200.0)
    assert last.loc["quarterly_okr", "median"] == pytest.approx(240.0)
    assert last.loc["annual", "low"] < 200 < last.loc["annual", "high"]
    assert line["encoding"]["y"]["field"] == "median"
    area = next(la for la in ls if la["mark"]["type"] == "area")
    assert area["encoding"]["y"]["title"] == "Cumulative value (value units)"
    assert area["encoding"]["x"]["title"] == "Time (weeks)"
    scale = color_scale(line)
    assert dict(zip(scale["domain"], scale["range"], strict=True)) == {
        "annual": POLICY_COLORS["annual"], "quarterly_okr": POLICY_COLORS["quarterly_okr"]}
    rules = [la for la in ls if la["mark"]["type"] == "rule"]
    shock = next(r for r in rules if r["mark"].get("strokeDash"))
    assert data_of(d, shock)["week"].tolist() == [4.0]
    shift = next(r for r in rules if not r["mark"].get("strokeDash"))
    assert data_of(d, shift).to_dict("records") == [{"week": 2, "share": pytest.approx(1 / 3)}]


def test_value_over_time_says_behind_and_aggregates_many_replications():
    tl = two_policy_timeline(weeks=156, reps=40, ratio=0.9)
    assert len(tl) > MAX_ROWS
    d = spec(charts.value_over_time(tl))
    assert titles(d)[0] == "quarterly_okr against annual: -10.0% (95% CI -10.0% to -10.0%) total value"
    assert titles(d)[1][0] == "Mean paired relative advantage, better in 0% of 40 paired replications"
    for la in layers(d):
        assert len(data_of(d, la)) <= MAX_ROWS


def test_colours_do_not_depend_on_order():
    tl = two_policy_timeline()
    flipped = tl.assign(policy=pd.Categorical(tl["policy"], categories=["quarterly_okr", "annual"]))
    s1 = color_scale(layers(spec(charts.value_over_time(tl)))[1])
    s2 = color_scale(layers(spec(charts.value_over_time(flipped)))[1])
    assert dict(zip(s1["domain"], s1["range"], strict=True)) == dict(zip(s2["domain"], s2["range"], strict=True))
    # with quarterly first it becomes the baseline of the title
    assert titles(spec(charts.value_over_time(flipped)))[0].startswith("annual against quarterly_okr: -16.7%")


# ------------------------------------------------------------------ capacity by theme
def test_capacity_by_theme_shares_and_top_outline():
    rows = []
    for w in range(8):
        for theme in range(3):
            top = theme == 0
            rows.append(("annual", w, theme, 1.0 if theme == 1 else 0.0, top))
            rows.append(("quarterly_okr", w, theme, 3.0 if theme == 0 else 1.0 if theme == 2 else 0.0, top))
    themes = pd.DataFrame(rows, columns=["policy", "week", "theme", "work", "top"])
    d = spec(charts.capacity_by_theme(themes, bin_weeks=4))
    text, _ = titles(d)
    assert text == "quarterly_okr puts 75% of its work on the truly most attractive themes, annual 0%"
    plotted = pd.DataFrame(d["datasets"][d["data"]["name"]])
    q = plotted[(plotted["policy"] == "quarterly_okr") & (plotted["week"] == 4)].set_index("theme")
    assert q.loc[0, "share"] == pytest.approx(0.75) and q.loc[2, "share"] == pytest.approx(0.25)
    assert set(plotted["week"]) == {0, 4} and (plotted["week_end"] - plotted["week"] == 4).all()
    inner = layers(d)
    assert inner[0]["encoding"]["color"]["field"] == "share"
    assert inner[1]["transform"][0]["filter"] == "datum.is_top"
    assert d["facet"]["row"]["field"] == "policy"
    assert inner[0]["encoding"]["x"]["title"] == "Time (weeks)"


# -------------------------------------------------------------------------- advantage
def runs_frame(diffs, base=100.0, kpi="total_value"):
    rows = []
    for r, dlt in enumerate(diffs):
        rows.append({"replication": r, "policy": "annual", kpi: base})
        rows.append({"replication": r, "policy": "quarterly_okr", kpi: base + dlt})
    return pd.DataFrame(rows)


def test_advantage_plots_every_replication_and_the_paired_ci():
    diffs = [8.0, 10.0, 12.0, 9.0, 11.0, -1.0]
    d = spec(charts.advantage(runs_frame(diffs)))
    text, sub = titles(d)
    assert text.startswith("quarterly_okr is better than annual on total value: +8% (95% CI")
    assert "Better in 83% of 6 paired replications" in sub[0]
    ticks = next(la for la in layers(d) if la["mark"]["type"] == "tick")
    assert sorted(data_of(d, ticks)["difference"]) == sorted(diffs)
    ci = next(la for la in layers(d) if la["mark"]["type"] == "rule" and la["encoding"].get("x2"))
    row = data_of(d, ci).iloc[0]
    m = np.mean(diffs)
    half = 2.5706 * np.std(diffs, ddof=1) / np.sqrt(len(diffs))
    assert row["mean_diff"] == pytest.approx(m)
    assert row["ci_low"] == pytest.approx(m - half, rel=1e-3) and row["ci_high"] == pytest.approx(m + half, rel=1e-3)
    assert ticks["encoding"]["x"]["title"] == "Difference in total value vs annual (value)"


def test_advantage_respects_lower_is_better():
    d = spec(charts.advantage(runs_frame([-5.0, -6.0, -4.0, -5.5], base=50.0, kpi="lead_time_weeks"), "lead_time_weeks"))
    assert titles(d)[0].startswith("quarterly_okr is better than annual on lead time weeks: -10% (95% CI")
    d = spec(charts.advantage(runs_frame([5.0, -6.0, 4.0, -3.0], kpi="lead_time_weeks"), "lead_time_weeks"))
    assert "not clearly different from annual" in titles(d)[0]


def test_advantage_refuses_unknown_kpi_and_single_policy():
    with pytest.raises(ParameterError, match="advantage needs columns"):
        charts.advantage(runs_frame([1.0, 2.0]), "no_such_kpi")
    single = runs_frame([1.0, 2.0])
    with pytest.raises(ParameterError, match="two policies"):
        charts.advantage(single[single["policy"] == "annual"])


# --------------------------------------------------------------------- KPI comparison
def test_kpi_comparison_orients_lower_is_better_kpis():
    paired = pd.DataFrame([
        {"kpi": "total_value", "policy": "quarterly_okr", "rel_mean": 0.10, "rel_ci_low": 0.05, "rel_ci_high": 0.15,
         "win_rate": 0.9},
        {"kpi": "lead_time_weeks", "policy": "quarterly_okr", "rel_mean": -0.20, "rel_ci_low": -0.30, "rel_ci_high": -0.10,
         "win_rate": 0.8},
        {"kpi": "overhead_share", "policy": "quarterly_okr", "rel_mean": 0.50, "rel_ci_low": 0.40, "rel_ci_high": 0.60,
         "win_rate": 0.0},
        {"kpi": "synergy_value", "policy": "quarterly_okr", "rel_mean": 0.02, "rel_ci_low": -0.05, "rel_ci_high": 0.09,
         "win_rate": 0.5},
        {"kpi": "conflicts_caught_early", "policy": "quarterly_okr", "rel_mean": np.nan, "rel_ci_low": np.nan,
         "rel_ci_high": np.nan, "win_rate": 1.0},
    ])
    d = spec(charts.kpi_comparison(paired, "annual"))
    text, sub = titles(d)
    assert text == "quarterly_okr beats annual on 2 of 4 KPIs and trails on 1"
    assert "conflicts_caught_early" in sub[-1]
    point = next(la for la in layers(d) if la["mark"]["type"] == "point")
    plotted = data_of(d, point).set_index("kpi")
    assert plotted.loc["lead_time_weeks", "improvement"] == pytest.approx(0.20)
    assert plotted.loc["lead_time_weeks", "ci_low"] == pytest.approx(0.10)
    assert plotted.loc["overhead_share", "improvement"] == pytest.approx(-0.50)
    assert "lead time weeks (weeks)" in set(plotted["label"])
    ci = next(la for la in layers(d) if la["mark"]["type"] == "rule" and la["encoding"].get("x2"))
    assert ci["encoding"]["x"]["title"] == "Improvement over annual (% of baseline)"


# --------------------------------------------------------------------- shock response
def test_shock_response_measures_half_recovery():
    rows = []
    for r in range(4):
        for w in range(80):
            after = w - 20
            fast = 0.8 if after < 0 else min(0.8, 0.3 + 0.1 * after)
            slow = 0.6 if after < 0 else 0.2
            rows.append(("annual", r, w, slow))
            rows.append(("quarterly_okr", r, w, fast))
    tl = pd.DataFrame(rows, columns=["policy", "replication", "week", "aligned_share"])
    market = pd.DataFrame({"replication": range(4), "time": [20.0] * 4, "kind": ["shock"] * 4})
    d = spec(charts.shock_response(tl, market))
    text, sub = titles(d)
    # 3-week centred mean crosses 0.55 (half of 0.3 -> 0.8) at offset 3
    assert text == ("After a market change quarterly_okr regains half its lost alignment in 3 weeks; "
                    "annual does not within 39 weeks")
    assert "Mean over 4 market changes" in sub[0]
    line = next(la for la in layers(d) if la["mark"]["type"] == "line")
    plotted = data_of(d, line)
    q = plotted[plotted["policy"] == "quarterly_okr"].set_index("offset")
    assert q.loc[-1, "mean"] == pytest.approx(0.8) and q.loc[0, "mean"] == pytest.approx(0.3)
    assert q.loc[0, "n"] == 4
    assert line["encoding"]["x"]["field"] == "offset"


def test_shock_response_without_changes_says_so():
    tl = two_policy_timeline()
    d = spec(charts.shock_response(tl, pd.DataFrame({"replication": [], "time": [], "kind": []})))
    assert titles(d)[0].startswith("No market changes")


# ---------------------------------------------------------------------- OKR scorecards
def test_okr_scorecards_heatmap_and_mean_scores():
    rows = []
    for cycle, end in enumerate([13, 26]):
        for obj in range(2):
            for kr, score in (("value", 0.6), ("count", 0.7)):
                rows.append(("quarterly_okr", cycle, end - 13, end, obj, obj, kr, 1.0, score, score))
    rows.append(("annual", 0, 0, 52, 0, 0, "value", 1.0, 0.2, 0.2))
    sc = pd.DataFrame(rows, columns=["policy", "cycle", "start_week", "end_week", "objective", "theme", "key_result",
                                     "target", "achieved", "score"])
    d = spec(charts.okr_scorecards(sc))
    assert titles(d)[0] == ("Mean key-result score: quarterly_okr 0.65, annual 0.20 "
                            "(quarterly_okr in the healthy 0.6-0.7 range)")
    plotted = pd.DataFrame(d["datasets"][d["data"]["name"]])
    assert set(plotted["row"]) == {"O1 value", "O1 count", "O2 value", "O2 count"}
    rect = layers(d)[0]
    assert rect["encoding"]["color"]["scale"]["domain"] == [0, 1]
    assert d["resolve"]["scale"]["x"] == "independent"


# ---------------------------------------------------------------------- learning curve
def test_learning_curve_reports_the_cut_in_estimation_error():
    rows = []
    for r in range(3):
        for c, end in enumerate([13, 26, 39, 52]):
            rows.append(("quarterly_okr", r, c, end, 0.5 - 0.0625 * c * 2 + 0.0 * r))
        rows.append(("annual", r, 0, 52, 0.5))
    cy = pd.DataFrame(rows, columns=["policy", "replication", "cycle", "end_week", "estimation_error"])
    cy.loc[cy["policy"] == "annual", "end_week"] = 52
    extra = pd.DataFrame([("annual", r, 1, 104, 0.45) for r in range(3)], columns=cy.columns)
    d = spec(charts.learning_curve(pd.concat([cy, extra])))
    text, _ = titles(d)
    assert text == "quarterly_okr cuts its estimation error by 75% (0.50 to 0.12) by week 52; annual by 10%"
    line = next(la for la in layers(d) if la["mark"]["type"] == "line")
    plotted = data_of(d, line)
    assert plotted[plotted["policy"] == "quarterly_okr"]["median"].round(4).tolist() == [0.5, 0.375, 0.25, 0.125]
    assert line["encoding"]["x"]["title"] == "End of planning cycle (week)"


# --------------------------------------------------------------------- decomposition
def test_decomposition_waterfall_stacks_contributions():
    dec = pd.DataFrame({"effect": ["learning", "agility", "alignment", "transparency"],
                        "contribution": [100.0, 300.0, 500.0, 100.0], "ci_low": [50.0, 200.0, 400.0, -20.0],
                        "ci_high": [150.0, 400.0, 600.0, 220.0], "share": [0.1, 0.3, 0.5, 0.1]})
    d = spec(charts.decomposition_waterfall(dec))
    assert titles(d)[0] == "alignment contributes most to the 1,000 value advantage of quarterly_okr over annual: 50%"
    bars = next(la for la in layers(d) if la["mark"]["type"] == "bar")
    plotted = data_of(d, bars).set_index("effect")
    assert list(plotted.index) == ["agility", "alignment", "transparency", "learning", "total"]
    assert plotted.loc["alignment", "start"] == 300 and plotted.loc["alignment", "end"] == 800
    assert plotted.loc["total", "start"] == 0 and plotted.loc["total", "end"] == 1000
    assert plotted.loc["transparency", "err_low"] == 780 and plotted.loc["transparency", "err_high"] == 1020
    scale = bars["encoding"]["color"]["scale"]
    colors = dict(zip(scale["domain"], scale["range"], strict=True))
    assert colors["alignment"] == POLICY_COLORS["only_alignment"]
    assert colors["total"] == POLICY_COLORS["quarterly_okr"]
    assert bars["encoding"]["y"]["title"] == "Contribution to the advantage in total value (value)"


def test_decomposition_uses_a_given_total_row_and_checks_it():
    dec = pd.DataFrame({"effect": ["agility", "alignment", "transparency", "learning", "total"],
                        "contribution": [1.0, 2.0, -0.5, 0.5, 3.0], "ci_low": [0.5, 1.0, -1.0, 0.0, 2.0],
                        "ci_high": [1.5, 3.0, 0.0, 1.0, 4.0], "share": [1 / 3, 2 / 3, -1 / 6, 1 / 6, 1.0]})
    d = spec(charts.decomposition_waterfall(dec))
    bars = next(la for la in layers(d) if la["mark"]["type"] == "bar")
    plotted = data_of(d, bars).set_index("effect")
    assert list(plotted.index).count("total") == 1
    assert plotted.loc["total", "end"] == 3.0 and plotted.loc["total", "err_low"] == 2.0
    assert titles(d)[0].startswith("alignment contributes most to the 3.00 value advantage")
    with pytest.raises(ParameterError, match="must be exact"):
        charts.decomposition_waterfall(dec.assign(contribution=[1.0, 2.0, -0.5, 0.5, 9.0]))


# ------------------------------------------------------------------------- break-even
def test_breakeven_curve_finds_the_crossing():
    frame = pd.DataFrame({"parameter": "market.shift_rate", "value": [0.0, 1.0, 2.0, 3.0],
                          "advantage": [-200.0, 50.0, 300.0, 550.0]})
    frame["ci_low"], frame["ci_high"] = frame["advantage"] - 100, frame["advantage"] + 100
    d = spec(charts.breakeven_curve(frame))
    assert titles(d)[0] == "The advantage of quarterly_okr over annual crosses zero at market.shift_rate = 0.8 per year"
    point = next(la for la in layers(d) if la["mark"]["type"] == "point")
    assert data_of(d, point)["value"].tolist() == [pytest.approx(0.8)]
    line = next(la for la in layers(d) if la["mark"]["type"] == "line")
    assert line["encoding"]["x"]["title"] == "market.shift_rate (per year)"
    assert len(data_of(d, line)) == 4


def test_breakeven_curve_without_crossing():
    frame = pd.DataFrame({"parameter": "policy.planning_cost", "value": [0.0, 1.0], "advantage": [10.0, 5.0],
                          "ci_low": [5.0, 1.0], "ci_high": [15.0, 9.0]})
    text = titles(spec(charts.breakeven_curve(frame)))[0]
    assert text == "No break-even for policy.planning_cost in [0, 1] team-weeks: quarterly_okr stays ahead throughout"


def test_breakeven_map_counts_verdicts_and_uses_policy_colours():
    xs, ys = [0.5, 1.0, 2.0], [0.1, 0.5]
    rows = []
    for x in xs:
        for y in ys:
            adv = (x - 1.0) * 100
            rows.append({"x_parameter": "market.shift_rate", "x": x, "y_parameter": "policy.planning_cost", "y": y,
                         "advantage": adv, "ci_low": adv - 20, "ci_high": adv + 20, "win_rate": 0.5 + adv / 200})
    d = spec(charts.breakeven_map(pd.DataFrame(rows)))
    assert titles(d)[0] == "quarterly_okr wins in 2 of 6 settings, annual in 2; 2 too close to call"
    rect = layers(d)[0]
    assert rect["encoding"]["color"]["scale"]["range"] == [POLICY_COLORS["annual"], "#ffffff", POLICY_COLORS["quarterly_okr"]]
    assert rect["encoding"]["x"]["title"] == "market.shift_rate (per year)"
    assert rect["encoding"]["y"]["title"] == "policy.planning_cost (team-weeks)"
    dots = layers(d)[1]
    assert dots["transform"][0]["filter"] == {"field": "verdict", "equal": "too close to call"} or \
        "too close to call" in str(dots["transform"][0]["filter"])


# ------------------------------------------------------------------------ sensitivity
def test_sobol_bars_sorted_by_total_order():
    sob = pd.DataFrame({"output": "total_value", "parameter": ["a", "b", "c"], "S1": [0.1, 0.5, 0.05],
                        "S1_conf": [0.02] * 3, "ST": [0.2, 0.7, 0.1], "ST_conf": [0.03] * 3})
    d = spec(charts.sensitivity_indices(sob))
    text, sub = titles(d)
    assert text == "b drives most of the variance in total value: total-order index 0.70"
    assert "sum to 0.65" in sub[0]
    bars = layers(d)[0]
    assert bars["encoding"]["y"]["sort"] == ["b", "a", "c"]
    plotted = data_of(d, bars)
    assert len(plotted) == 6 and plotted["low"].min() >= 0
    assert bars["encoding"]["x"]["title"] == "Sobol index (share of output variance)"


def test_morris_scatter_and_output_choice():
    mor = pd.DataFrame({"output": ["total_value"] * 2 + ["waste_share"] * 2, "parameter": ["a", "b", "a", "b"],
                        "mu_star": [10.0, 2000.0, 0.2, 0.1], "mu_star_conf": [1.0, 100.0, 0.01, 0.01],
                        "sigma": [5.0, 900.0, 0.1, 0.05]})
    d = spec(charts.sensitivity_indices(mor))
    assert titles(d)[0] == "b has the largest effect on total value: μ* = 2,000 value"
    d = spec(charts.sensitivity_indices(mor, output="waste_share"))
    assert titles(d)[0] == "a has the largest effect on waste share: μ* = 0.20 share"
    with pytest.raises(ParameterError, match="output 'nope'"):
        charts.sensitivity_indices(mor, output="nope")
    with pytest.raises(ParameterError, match="Sobol columns"):
        charts.sensitivity_indices(mor.drop(columns=["sigma"]))


# ---------------------------------------------------------------------- row limit
def test_row_limit_is_enforced():
    too_many = pd.DataFrame({"x": np.arange(MAX_ROWS + 1)})
    with pytest.raises(ValueError, match="aggregate before charting"):
        charts._data(too_many)


def test_every_panel_chart_renders_with_a_title(small_panel):
    made = charts.panel_charts(small_panel)
    assert list(made) == list(charts.CHARTS)
    for name, chart in made.items():
        d = chart.to_dict()
        assert d["title"]["text"], name
        for key, rows in d["datasets"].items():
            assert len(rows) <= MAX_ROWS, (name, key)


@pytest.fixture(scope="module")
def small_panel():
    from okrsim.views.panels import STORIES, build_panel

    return build_panel(STORIES["disruption"].settings(replications=3))
