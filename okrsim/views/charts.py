"""Charts: pure functions from result frames to altair charts, in one house style.

Every function takes tidy frames (from `okrsim.views.panels`, `okrsim.compare` or the experiments
layer), aggregates them first so that no chart embeds more than `okrsim.views.style.MAX_ROWS`
rows, and returns a chart whose title states the finding computed from the data it plots,
whose axes carry units, and whose colours follow the fixed policy mapping of
`okrsim.views.style`.  Nothing here runs a simulation or touches widgets, so each chart can be
tested through ``chart.to_dict()`` and saved offline with vl-convert.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import altair as alt
import numpy as np
import pandas as pd

from okrsim.core.errors import ParameterError
from okrsim.core.registry import EFFECTS, lookup
from okrsim.experiments.headline import Headline
from okrsim.experiments.statistics import paired
from okrsim.model.kpis import KPIS
from okrsim.views.panels import Panel, band, event_aligned, paired_differences, theme_shares
from okrsim.views.style import MAX_ROWS, THEME_SCHEME, axis_title, color_name, effect_color, policy_colors, policy_scale

__all__ = [
    "CHARTS",
    "advantage",
    "breakeven_curve",
    "breakeven_map",
    "capacity_by_theme",
    "decomposition_waterfall",
    "kpi_comparison",
    "learning_curve",
    "okr_scorecards",
    "panel_charts",
    "sensitivity_indices",
    "shock_response",
    "value_over_time",
]

WIDTH, HEIGHT = 560, 280
_KPI = {k.name: k for k in KPIS}


# ------------------------------------------------------------------------------- helpers
def _num(x: float, unit: str = "") -> str:
    """A number as people write it in a title: 12,345 / 123.4 / 1.23."""
    if x is None or not np.isfinite(x):
        return "n/a"
    ax = abs(x)
    text = f"{x:,.0f}" if ax >= 1000 else f"{x:.1f}" if ax >= 10 else f"{x:.2f}"
    return f"{text} {unit}".rstrip()


def _pct(x: float, sign: bool = True) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:+.0%}" if sign else f"{x:.0%}"


def _title(text: str, subtitle: str | Sequence[str] | None = None) -> alt.Title:
    return alt.Title(text, subtitle=subtitle or alt.Undefined, anchor="start")


def _order(values: pd.Series) -> list[str]:
    """Policy order: categorical order if given, else order of first appearance."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.astype(str))
        return [str(c) for c in values.cat.categories if str(c) in present]
    return list(dict.fromkeys(values.astype(str)))


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ParameterError(f"{what} needs columns {missing}; got {list(frame.columns)}")


def _data(frame: pd.DataFrame) -> pd.DataFrame:
    """Plain columns (categoricals as text) and a hard row limit: aggregate first, always."""
    if len(frame) > MAX_ROWS:
        raise ValueError(f"chart data has {len(frame)} rows, more than {MAX_ROWS}: aggregate before charting")
    out = frame.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype(str)
    return out.reset_index(drop=True)


def _color(order: Sequence[str], field: str = "policy", title: str | None = "Policy", legend: bool = True) -> alt.Color:
    return alt.Color(f"{field}:N", scale=policy_scale(order), sort=list(order), title=title,
                     legend=alt.Legend(orient="top") if legend else None)


def _kpi_unit(kpi: str) -> str:
    """Unit of a KPI or of a sensitivity output (``advantage``, ``advantage:KPI``, ``POLICY:KPI``)."""
    if kpi == "advantage":
        return _KPI["total_value"].unit
    name = kpi.rsplit(":", 1)[-1]
    return _KPI[name].unit if name in _KPI else ""


def _kpi_label(kpi: str) -> str:
    """``total_value`` -> ``total value``; sensitivity outputs ``advantage[:KPI]`` name the KPI."""
    if kpi == "advantage":
        return "the advantage in total value"
    if kpi.startswith("advantage:"):
        return "the advantage in " + kpi.split(":", 1)[1].replace("_", " ")
    return kpi.rsplit(":", 1)[-1].replace("_", " ")


def _param_unit(name: str) -> str:
    """Unit of a parameter key, including one-policy lever keys such as ``quarterly_okr.planning_cost``."""
    for key in (name, "policy." + name.rsplit(".", 1)[-1]):
        try:
            return lookup(key).unit
        except ParameterError:
            continue
    return ""


# ------------------------------------------------------------------- value over time
def value_over_time(timeline: pd.DataFrame, market: pd.DataFrame | None = None,
                    quantiles: tuple[float, float] = (0.1, 0.9)) -> alt.LayerChart:
    """Cumulative value of each policy over time: median and a band across replications.

    Parameters
    ----------
    timeline : DataFrame
        ``policy``, ``replication``, ``week``, ``cumulative_value`` (e.g. `Panel.timeline`).
    market : DataFrame, optional
        ``replication``, ``time``, ``kind``: market shifts are drawn as grey rules whose
        opacity is the share of replications with a shift in that week; scheduled shocks
        (the same week in every replication) as dashed rules.
    quantiles : (float, float)
        The band; the default 10-90% shows the range a single organisation should expect.
    """
    _require(timeline, ["policy", "replication", "week", "cumulative_value"], "value_over_time")
    order = _order(timeline["policy"])
    n_rep = int(timeline["replication"].nunique())
    b = band(timeline, ["policy", "week"], "cumulative_value", quantiles)
    base = order[0]
    lo, hi = (round(q * 100) for q in quantiles)
    if len(order) == 1:
        end = b[b["week"] == b["week"].max()].set_index("policy")["median"].astype(float)
        text = f"{base} accumulates {_num(end[base])} value units (median) over {int(b['week'].max()) + 1} weeks"
        sub = []
    else:
        # the title states the kit's headline figure (the last policy against the first), the
        # lines and band are labelled as the medians and percentiles they are
        last = timeline[timeline["week"] == timeline["week"].max()]
        final = last.pivot(index="replication", columns="policy", values="cumulative_value")
        h = Headline.from_values(final[order[-1]].to_numpy(), final[base].to_numpy(), order[-1], base)
        text = f"{order[-1]} against {base}: {h.figure} total value"
        sub = [f"Mean paired relative advantage, {h.wins}"]
    sub.append(f"Lines: median cumulative value; bands: {lo}-{hi}% of {n_rep} paired replications "
               "(same markets and ideas for every policy)")
    data = _data(b)
    enc_x = alt.X("week:Q", title=axis_title("Time", "weeks"))
    area = alt.Chart(data).mark_area(opacity=0.2).encode(
        x=enc_x, y=alt.Y("low:Q", title=axis_title("Cumulative value", "value units")), y2="high:Q",
        color=_color(order))  # the same encoding as the line, so the two legends merge into one
    line = alt.Chart(data).mark_line(strokeWidth=2.5).encode(
        x=enc_x, y="median:Q", color=_color(order),
        tooltip=[alt.Tooltip("policy:N"), alt.Tooltip("week:Q"), alt.Tooltip("median:Q", format=",.0f", title="median"),
                 alt.Tooltip("low:Q", format=",.0f"), alt.Tooltip("high:Q", format=",.0f")])
    layers: list[alt.Chart] = [area, line]
    if market is not None and len(market):
        _require(market, ["replication", "time", "kind"], "value_over_time market")
        shifts = market[market["kind"] == "shift"]
        if len(shifts):
            s = (shifts.assign(week=np.floor(shifts["time"]).astype(int))
                 .groupby("week")["replication"].nunique().rename("share").reset_index())
            s["share"] = s["share"] / max(n_rep, 1)
            layers.insert(0, alt.Chart(_data(s)).mark_rule(color="#777777").encode(
                x="week:Q", opacity=alt.Opacity("share:Q", scale=alt.Scale(domain=[0, 1], range=[0.05, 0.6]),
                                                 legend=None),
                tooltip=[alt.Tooltip("week:Q"), alt.Tooltip("share:Q", format=".0%", title="replications with a shift")]))
            sub.append("Grey rules: market shifts (darker = more replications shifted that week)")
        shocks = market[market["kind"] == "shock"]
        if len(shocks):
            k = shocks.groupby("time")["replication"].nunique().rename("n").reset_index()
            k = k[k["n"] >= max(1, n_rep // 2)].rename(columns={"time": "week"})
            if len(k):
                k["label"] = "shock"
                rule = alt.Chart(_data(k)).mark_rule(color="black", strokeDash=[6, 4], strokeWidth=1.5).encode(x="week:Q")
                label = alt.Chart(_data(k)).mark_text(align="left", dx=4, dy=-4, baseline="top", fontWeight="bold").encode(
                    x="week:Q", y=alt.value(0), text="label:N")
                layers += [rule, label]
                sub.append("Dashed: scheduled market shocks")
    return alt.layer(*layers).properties(width=WIDTH, height=HEIGHT, title=_title(text, sub))


# ---------------------------------------------------------------------- capacity by theme
def capacity_by_theme(themes: pd.DataFrame, bin_weeks: int = 4) -> alt.FacetChart:
    """Where capacity goes: each policy's share of work per theme over time.

    Parameters
    ----------
    themes : DataFrame
        ``policy``, ``week``, ``theme``, ``work``, ``top`` of one replication per policy
        (e.g. `Panel.themes`, the example replication).  Cells outlined in vermillion mark
        the themes that were truly among the most attractive at the time, so a viewer sees
        at once whether the work follows the market.
    bin_weeks : int
        Weeks per column; 4 keeps a three-year horizon at 39 columns.
    """
    _require(themes, ["policy", "week", "theme", "work", "top"], "capacity_by_theme")
    order = _order(themes["policy"])
    aligned = {}
    for p, g in themes.groupby("policy", observed=True):
        total = g["work"].sum()
        aligned[str(p)] = g.loc[g["top"].astype(bool), "work"].sum() / total if total > 0 else math.nan
    ranked = sorted(order, key=lambda p: -aligned.get(p, -1) if np.isfinite(aligned.get(p, math.nan)) else math.inf)
    text = f"{ranked[0]} puts {_pct(aligned[ranked[0]], False)} of its work on the truly most attractive themes"
    if len(ranked) > 1:
        text += ", " + ", ".join(f"{p} {_pct(aligned[p], False)}" for p in ranked[1:])
    s = theme_shares(themes, bin_weeks)
    s["week_end"] = s["week"] + bin_weeks
    s["is_top"] = s["top"] >= 0.5
    data = _data(s)
    base = alt.Chart().encode(
        x=alt.X("week:Q", title=axis_title("Time", "weeks")), x2="week_end:Q",
        y=alt.Y("theme:O", title=axis_title("Theme", "0 = most attractive at start")))
    heat = base.mark_rect().encode(
        color=alt.Color("share:Q", title="Share of work", scale=alt.Scale(scheme=THEME_SCHEME, domain=[0, 1]),
                        legend=alt.Legend(format=".0%", orient="right")),
        tooltip=[alt.Tooltip("policy:N"), alt.Tooltip("week:Q", title="from week"), alt.Tooltip("theme:O"),
                 alt.Tooltip("share:Q", format=".0%", title="share of work"),
                 alt.Tooltip("top:Q", format=".0%", title="weeks among top themes")])
    outline = base.mark_rect(fillOpacity=0, stroke="#D55E00", strokeWidth=1.5).transform_filter("datum.is_top")
    return alt.layer(heat, outline, data=data).properties(width=WIDTH, height=120).facet(
        row=alt.Row("policy:N", sort=order, title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
    ).properties(title=_title(text, [f"Example replication; {bin_weeks}-week columns; colour: share of the policy's work "
                                     "on each theme", "Outlined: themes truly among the most attractive at the time"]))


# -------------------------------------------------------------------------- advantage
def advantage(runs: pd.DataFrame, kpi: str = "total_value", baseline: str | None = None) -> alt.LayerChart:
    """The paired advantage over the baseline: every replication's difference, mean and 95% CI.

    Parameters
    ----------
    runs : DataFrame
        ``replication``, ``policy`` and the KPI column (e.g. `Comparison.runs`).
    kpi : str
        A KPI name (see `okrsim.KPIS`).
    baseline : str, optional
        Policy to compare against; default the first in `runs`.
    """
    _require(runs, ["replication", "policy", kpi], "advantage")
    order = _order(runs["policy"])
    baseline = baseline or order[0]
    diffs = paired_differences(runs, kpi, baseline)
    if diffs.empty:
        raise ParameterError("advantage needs at least two policies")
    better = _KPI[kpi].better if kpi in _KPI else "higher"
    unit = _kpi_unit(kpi)
    stats = []
    wide = runs.pivot_table(index="replication", columns="policy", values=kpi, observed=True)
    for p in order:
        if p == baseline:
            continue
        stats.append({"policy": p, **paired(wide[p].to_numpy(), wide[baseline].to_numpy(), better)})
    st = pd.DataFrame(stats)
    sign = 1 if better == "higher" else -1
    best = st.loc[(sign * st["mean_diff"]).idxmax()]
    rel_ok = np.isfinite(best["rel_mean"])
    size = (f"{_pct(best['rel_mean'])} (95% CI {_pct(best['rel_ci_low'])} to {_pct(best['rel_ci_high'])})" if rel_ok
            else f"{_num(best['mean_diff'], unit)} (95% CI {_num(best['ci_low'])} to {_num(best['ci_high'])})")
    clear = best["ci_low"] > 0 or best["ci_high"] < 0
    good = sign * best["mean_diff"] > 0
    verdict = ("better than" if good else "worse than") if clear else "not clearly different from"
    text = f"{best['policy']} is {verdict} {baseline} on {_kpi_label(kpi)}: {size}"
    sub = [f"Better in {_pct(best['win_rate'], False)} of {int(best['n'])} paired replications; "
           f"ticks: one replication each (same market and ideas for both policies); bar: mean and 95% CI",
           f"{'Higher' if better == 'higher' else 'Lower'} {_kpi_label(kpi)} is better"]
    x_title = axis_title(f"Difference in {_kpi_label(kpi)} vs {baseline}", unit)
    challengers = [p for p in order if p != baseline]
    y = alt.Y("policy:N", sort=challengers, title=None)
    ticks = alt.Chart(_data(diffs)).mark_tick(thickness=2, size=22, opacity=0.55).encode(
        x=alt.X("difference:Q", title=x_title), y=y, color=_color(order, legend=False),
        tooltip=[alt.Tooltip("replication:Q"), alt.Tooltip("difference:Q", format=",.2f"),
                 alt.Tooltip("relative:Q", format="+.1%")])
    st_data = _data(st[["policy", "mean_diff", "ci_low", "ci_high", "win_rate", "n"]])
    ci = alt.Chart(st_data).mark_rule(strokeWidth=4, color="black").encode(x="ci_low:Q", x2="ci_high:Q", y=y)
    mean = alt.Chart(st_data).mark_point(filled=True, size=120, color="black", shape="diamond").encode(
        x="mean_diff:Q", y=y, tooltip=[alt.Tooltip("policy:N"), alt.Tooltip("mean_diff:Q", format=",.2f", title="mean"),
                                       alt.Tooltip("ci_low:Q", format=",.2f"), alt.Tooltip("ci_high:Q", format=",.2f"),
                                       alt.Tooltip("win_rate:Q", format=".0%")])
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(strokeDash=[4, 4], color="#555555").encode(x="zero:Q")
    return alt.layer(zero, ticks, ci, mean).properties(width=WIDTH, height=max(80, 60 * len(challengers)),
                                                       title=_title(text, sub))


# --------------------------------------------------------------------- KPI comparison
def kpi_comparison(paired_frame: pd.DataFrame, baseline: str = "the baseline",
                   kpis: Sequence[str] | None = None) -> alt.LayerChart:
    """Every KPI at once: relative difference against the baseline, oriented so right is better.

    Parameters
    ----------
    paired_frame : DataFrame
        `Comparison.paired`: ``kpi``, ``policy``, ``rel_mean``, ``rel_ci_low``, ``rel_ci_high``,
        ``win_rate``.
    baseline : str
        Name of the baseline policy, for the title and axis.
    kpis : sequence of str, optional
        KPIs to show (default: all in `okrsim.KPIS` order).  KPIs whose relative difference
        is undefined (baseline zero in every replication) are listed in the subtitle.
    """
    _require(paired_frame, ["kpi", "policy", "rel_mean", "rel_ci_low", "rel_ci_high", "win_rate"], "kpi_comparison")
    names = list(kpis) if kpis is not None else [k.name for k in KPIS if k.name in set(paired_frame["kpi"])]
    df = paired_frame[paired_frame["kpi"].isin(names)].copy()
    sign = df["kpi"].map(lambda k: -1.0 if k in _KPI and _KPI[k].better == "lower" else 1.0)
    df["improvement"] = sign * df["rel_mean"]
    lo, hi = sign * df["rel_ci_low"], sign * df["rel_ci_high"]
    df["ci_low"], df["ci_high"] = np.minimum(lo, hi), np.maximum(lo, hi)
    missing = sorted(set(df.loc[~np.isfinite(df["improvement"]), "kpi"]))
    df = df[np.isfinite(df["improvement"])]
    df["label"] = df["kpi"].map(lambda k: axis_title(_kpi_label(k), _kpi_unit(k)))
    order = _order(df["policy"]) if len(df) else []
    labels = [axis_title(_kpi_label(k), _kpi_unit(k)) for k in names if k not in missing]
    parts = []
    for p in order:
        g = df[df["policy"] == p]
        wins = int(((g["ci_low"] > 0)).sum())
        losses = int(((g["ci_high"] < 0)).sum())
        parts.append(f"{p} beats {baseline} on {wins} of {len(g)} KPIs and trails on {losses}")
    text = "; ".join(parts) if parts else "No KPI with a defined relative difference"
    sub = [f"Relative difference of the mean against {baseline}, oriented so that right is better; "
           "bars: 95% CI of paired replications; counted when the CI is clear of zero"]
    if missing:
        sub.append(f"Not shown (baseline is zero): {', '.join(missing)}")
    data = _data(df[["kpi", "label", "policy", "improvement", "ci_low", "ci_high", "win_rate"]])
    y = alt.Y("label:N", sort=labels, title=None)
    yoff = alt.YOffset("policy:N", sort=order)
    x_title = axis_title(f"Improvement over {baseline}", "% of baseline")
    ci = alt.Chart(data).mark_rule(strokeWidth=3).encode(
        x=alt.X("ci_low:Q", title=x_title, axis=alt.Axis(format="+.0%")), x2="ci_high:Q", y=y, yOffset=yoff,
        color=_color(order))
    point = alt.Chart(data).mark_point(filled=True, size=70).encode(
        x="improvement:Q", y=y, yOffset=yoff, color=_color(order),
        tooltip=[alt.Tooltip("kpi:N"), alt.Tooltip("policy:N"), alt.Tooltip("improvement:Q", format="+.1%"),
                 alt.Tooltip("ci_low:Q", format="+.1%"), alt.Tooltip("ci_high:Q", format="+.1%"),
                 alt.Tooltip("win_rate:Q", format=".0%")])
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(strokeDash=[4, 4], color="#555555").encode(x="zero:Q")
    return alt.layer(zero, ci, point).properties(width=WIDTH, height=alt.Step(14 * max(1, len(order)) + 6),
                                                 title=_title(text, sub))


# ---------------------------------------------------------------------- shock response
def _half_recovery(g: pd.DataFrame, tolerance: float) -> float:
    """Weeks after the change until half of the lost alignment is regained.

    Uses a centred 3-week mean, so that one noisy week does not count as recovery.  NaN when
    the change costs less than `tolerance` (nothing to regain), inf when half is not
    regained within the window.
    """
    g = g.sort_values("offset")
    pre = g.loc[g["offset"] < 0, "mean"].mean()
    post = g[g["offset"] >= 0]
    if post.empty or not np.isfinite(pre):
        return math.nan
    smooth = post["mean"].rolling(3, center=True, min_periods=1).mean().to_numpy()
    i = int(np.nanargmin(smooth))
    drop = pre - smooth[i]
    if not drop > tolerance:
        return math.nan
    back = np.nonzero(smooth[i:] >= smooth[i] + drop / 2)[0]
    return float(post["offset"].iloc[i + back[0]]) if len(back) else math.inf


def shock_response(timeline: pd.DataFrame, market: pd.DataFrame, window: tuple[int, int] = (-8, 39),
                   kinds: Sequence[str] = ("shift", "shock"), tolerance: float = 0.02) -> alt.LayerChart:
    """Adaptation after a market change: share of work on the truly top themes around it.

    Parameters
    ----------
    timeline : DataFrame
        ``policy``, ``replication``, ``week``, ``aligned_share``.
    market : DataFrame
        ``replication``, ``time``, ``kind``.
    window : (int, int)
        Weeks before and after each change.
    kinds : sequence of str
        Which changes to align on (``shift``, ``shock``).
    tolerance : float
        Drops smaller than this share (2 percentage points) count as no loss of alignment.
    """
    _require(timeline, ["policy", "replication", "week", "aligned_share"], "shock_response")
    _require(market, ["replication", "time", "kind"], "shock_response")
    order = _order(timeline["policy"])
    ev = event_aligned(timeline, market, "aligned_share", window, kinds)
    n_events = int(market["kind"].isin(kinds).sum())
    if ev.empty:
        text = "No market changes in these replications: nothing to adapt to"
        ev = pd.DataFrame({"policy": order, "offset": 0, "mean": np.nan, "low": np.nan, "high": np.nan, "n": 0})
    else:
        rec = {p: _half_recovery(ev[ev["policy"] == p], tolerance) for p in order}
        ranked = sorted(order, key=lambda p: (math.isnan(rec[p]), rec[p]))

        def say(p: str) -> str:
            r = rec[p]
            if math.isnan(r):
                return f"{p} barely loses alignment"
            if math.isinf(r):
                return f"{p} does not within {window[1]} weeks"
            return f"{p} in {int(r)} weeks"

        first = ranked[0]
        if math.isfinite(rec[first]):
            text = f"After a market change {first} regains half its lost alignment in {int(rec[first])} weeks"
        else:
            text = "After a market change " + say(first).replace(" does not within", " does not regain half its lost "
                                                                 "alignment within")
        if len(ranked) > 1:
            text += "; " + ", ".join(say(p) for p in ranked[1:])
    sub = [f"Mean over {n_events} market changes ({', '.join(kinds)}) in all replications, with 95% CI; "
           f"half regained = back halfway from the lowest point (3-week mean) to the level before"]
    data = _data(ev)
    x = alt.X("offset:Q", title=axis_title("Time since the market change", "weeks"))
    area = alt.Chart(data).mark_area(opacity=0.2).encode(
        x=x, y=alt.Y("low:Q", title=axis_title("Work on the truly top themes", "% of work"),
                     axis=alt.Axis(format=".0%")), y2="high:Q", color=_color(order))
    line = alt.Chart(data).mark_line(strokeWidth=2.5).encode(
        x=x, y="mean:Q", color=_color(order),
        tooltip=[alt.Tooltip("policy:N"), alt.Tooltip("offset:Q", title="weeks since change"),
                 alt.Tooltip("mean:Q", format=".1%"), alt.Tooltip("n:Q", title="changes")])
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(strokeDash=[6, 4], color="black").encode(x="zero:Q")
    return alt.layer(area, line, zero).properties(width=WIDTH, height=HEIGHT, title=_title(text, sub))


# ---------------------------------------------------------------------- OKR scorecards
def okr_scorecards(scorecards: pd.DataFrame) -> alt.FacetChart:
    """The key-result scores of every OKR cycle of one replication, per policy.

    Parameters
    ----------
    scorecards : DataFrame
        ``policy``, ``cycle``, ``end_week``, ``objective``, ``theme``, ``key_result``,
        ``score`` (e.g. `Panel.scorecards`).  Scores run 0-1; 0.6-0.7 is the range OKR
        practice calls healthy (ambitious but reachable).
    """
    _require(scorecards, ["policy", "cycle", "end_week", "objective", "theme", "key_result", "score"], "okr_scorecards")
    order = _order(scorecards["policy"])
    df = scorecards.copy()
    df["row"] = "O" + (df["objective"].astype(int) + 1).astype(str) + " " + df["key_result"].astype(str)
    means = df.groupby("policy", observed=True)["score"].mean()
    parts = [f"{p} {means[p]:.2f}" for p in order if p in means]

    def healthy(p: str) -> bool:
        return 0.6 <= round(float(means[p]), 2) <= 0.7  # judged on the value the title shows

    text = "Mean key-result score: " + ", ".join(parts)
    ok = [p for p in order if p in means and healthy(p)]
    text += f" ({', '.join(ok)} in the healthy 0.6-0.7 range)" if ok else " (none in the healthy 0.6-0.7 range)"
    rows = sorted(df["row"].unique())
    data = _data(df[["policy", "cycle", "end_week", "objective", "theme", "key_result", "score", "row"]])
    base = alt.Chart().encode(
        x=alt.X("end_week:O", title=axis_title("End of OKR cycle", "week"), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("row:N", sort=rows, title=None))
    rect = base.mark_rect().encode(
        color=alt.Color("score:Q", title="Score (0-1)", scale=alt.Scale(scheme=THEME_SCHEME, domain=[0, 1])),
        tooltip=[alt.Tooltip("policy:N"), alt.Tooltip("cycle:Q"), alt.Tooltip("theme:Q"), alt.Tooltip("key_result:N"),
                 alt.Tooltip("score:Q", format=".2f")])
    label = base.mark_text(fontSize=10).encode(
        text=alt.Text("score:Q", format=".1f"),
        color=alt.condition("datum.score > 0.55", alt.value("black"), alt.value("white")))
    return alt.layer(rect, label, data=data).properties(width=alt.Step(34)).facet(
        row=alt.Row("policy:N", sort=order, title=None, header=alt.Header(labelAngle=0, labelAlign="left")),
    ).resolve_scale(x="independent").properties(
        title=_title(text, ["Example replication; each column is one OKR cycle, each row one key result: "
                            "O1 value = value target of the first objective, O1 count = its delivery count target"]))


# ---------------------------------------------------------------------- learning curve
def learning_curve(cycles: pd.DataFrame, quantiles: tuple[float, float] = (0.1, 0.9)) -> alt.LayerChart:
    """Estimation error of the planners' value beliefs at the end of each planning cycle.

    Parameters
    ----------
    cycles : DataFrame
        ``policy``, ``replication``, ``end_week``, ``estimation_error`` (e.g. `Panel.cycles`).
        Policies with retrospectives correct their bias from the evidence of delivered work;
        shorter cycles use that evidence sooner.
    """
    _require(cycles, ["policy", "replication", "end_week", "estimation_error"], "learning_curve")
    order = _order(cycles["policy"])
    b = band(cycles.dropna(subset=["estimation_error"]), ["policy", "end_week"], "estimation_error", quantiles)
    cuts = {}
    for p in order:
        g = b[b["policy"] == p].sort_values("end_week")
        cuts[p] = (g["median"].iloc[0], g["median"].iloc[-1], int(g["end_week"].iloc[-1])) if len(g) else None
    ranked = sorted([p for p in order if cuts[p]], key=lambda p: cuts[p][1] / cuts[p][0] if cuts[p][0] else math.inf)

    def say(p: str, first: bool) -> str:
        a, z, _ = cuts[p]
        change = (z - a) / a if a else math.nan
        verb = "cuts" if change < 0 else "raises"
        if first:
            return f"{p} {verb} its estimation error by {_pct(abs(change), False)} ({a:.2f} to {z:.2f})"
        return f"{p} by {_pct(abs(change), False)}" if change <= 0 else f"{p} raises it by {_pct(change, False)}"

    if ranked:
        weeks = cuts[ranked[0]][2]
        text = say(ranked[0], True) + f" by week {weeks}"
        if len(ranked) > 1:
            text += "; " + ", ".join(say(p, False) for p in ranked[1:])
    else:
        text = "No completed planning cycles"
    lo, hi = (round(q * 100) for q in quantiles)
    sub = [f"Median and {lo}-{hi}% band across replications, at the end of each planning cycle; "
           "error = mean |log(believed / true value)| over known ideas"]
    data = _data(b)
    x = alt.X("end_week:Q", title=axis_title("End of planning cycle", "week"))
    area = alt.Chart(data).mark_area(opacity=0.2).encode(
        x=x, y=alt.Y("low:Q", title=axis_title("Estimation error", "mean |log ratio|")), y2="high:Q",
        color=_color(order))
    line = alt.Chart(data).mark_line(strokeWidth=2.5, point=True).encode(
        x=x, y="median:Q", color=_color(order),
        tooltip=[alt.Tooltip("policy:N"), alt.Tooltip("end_week:Q"), alt.Tooltip("median:Q", format=".3f")])
    return alt.layer(area, line).properties(width=WIDTH, height=HEIGHT, title=_title(text, sub))


# ---------------------------------------------------------------- effect decomposition
def decomposition_waterfall(decomposition: pd.DataFrame, kpi: str = "total_value", policy: str = "quarterly_okr",
                            baseline: str = "annual") -> alt.LayerChart:
    """The advantage split into the four effects (Shapley values) as a waterfall.

    Parameters
    ----------
    decomposition : DataFrame
        ``effect``, ``contribution``, ``ci_low``, ``ci_high``, ``share``: the contributions
        add up to the total advantage of `policy` over `baseline` in `kpi`.  An optional row
        with ``effect == "total"`` (as `okrsim.decompose` returns) gives the total bar its CI
        and must equal the sum.
    """
    _require(decomposition, ["effect", "contribution", "ci_low", "ci_high", "share"], "decomposition_waterfall")
    df = decomposition.copy()
    df["effect"] = df["effect"].astype(str)
    given_total = df[df["effect"] == "total"]
    df = df[df["effect"] != "total"]
    rank = {e: i for i, e in enumerate(EFFECTS)}
    df = df.sort_values("effect", key=lambda s: s.map(lambda e: rank.get(e, len(rank)))).reset_index(drop=True)
    df["end"] = df["contribution"].cumsum()
    df["start"] = df["end"] - df["contribution"]
    df["err_low"] = df["start"] + df["ci_low"]
    df["err_high"] = df["start"] + df["ci_high"]
    total = float(df["contribution"].sum())
    if len(given_total) and not np.isclose(float(given_total["contribution"].iloc[0]), total, rtol=1e-6, atol=1e-9):
        raise ParameterError(f"the effects add up to {total:g} but the frame's total row says "
                             f"{float(given_total['contribution'].iloc[0]):g}: a decomposition must be exact")
    t_lo = float(given_total["ci_low"].iloc[0]) if len(given_total) else np.nan
    t_hi = float(given_total["ci_high"].iloc[0]) if len(given_total) else np.nan
    unit = _kpi_unit(kpi) or "units"
    df["label"] = df["contribution"].map(lambda v: f"{v:+,.0f}" if abs(v) >= 100 else f"{v:+.2f}")
    df["label"] = df["label"] + df["share"].map(lambda s: f" ({s:.0%})" if np.isfinite(s) else "")
    total_row = pd.DataFrame({"effect": ["total"], "contribution": [total], "start": [0.0], "end": [total],
                              "ci_low": [t_lo], "ci_high": [t_hi], "share": [1.0], "err_low": [t_lo], "err_high": [t_hi],
                              "label": [f"{total:+,.0f}" if abs(total) >= 100 else f"{total:+.2f}"]})
    full = pd.concat([df, total_row], ignore_index=True)
    colors = {e: effect_color(e) for e in df["effect"]}
    colors["total"] = policy_colors([policy, baseline])[policy]
    top = df.loc[df["contribution"].abs().idxmax()] if len(df) else None
    if top is None:
        text = "No effects to decompose"
    else:
        share = top["contribution"] / total if total else math.nan
        text = (f"{top['effect']} contributes most to the {_num(total, unit)} advantage of {policy} over {baseline}: "
                f"{_pct(share, False)}")
    order = [*df["effect"], "total"]
    data = _data(full[["effect", "contribution", "start", "end", "ci_low", "ci_high", "share", "err_low", "err_high",
                       "label"]])
    x = alt.X("effect:N", sort=order, title=axis_title("Effect", "Shapley value over 16 lever combinations"),
              axis=alt.Axis(labelAngle=0))
    bars = alt.Chart(data).mark_bar(size=48).encode(
        x=x, y=alt.Y("start:Q", title=axis_title(f"Contribution to the advantage in {_kpi_label(kpi)}", unit)),
        y2="end:Q", color=alt.Color("effect:N", scale=alt.Scale(domain=list(colors), range=list(colors.values())),
                                    legend=None),
        tooltip=[alt.Tooltip("effect:N"), alt.Tooltip("contribution:Q", format=",.2f"),
                 alt.Tooltip("ci_low:Q", format=",.2f"), alt.Tooltip("ci_high:Q", format=",.2f"),
                 alt.Tooltip("share:Q", format=".0%")])
    err = alt.Chart(data).mark_rule(strokeWidth=1.5, color="black").encode(x=x, y="err_low:Q", y2="err_high:Q")
    labels = alt.Chart(data).mark_text(dy=-8, fontSize=11).encode(
        x=x, y=alt.Y("max_end:Q"), text="label:N").transform_calculate(max_end="max(datum.start, datum.end)")
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(color="#555555").encode(y="zero:Q")
    return alt.layer(zero, bars, err, labels).properties(
        width=WIDTH, height=HEIGHT,
        title=_title(text, ["Each bar starts where the previous effect ended; whiskers: 95% CI of each contribution; "
                            "labels: contribution (share of the total)"]))


# ------------------------------------------------------------------------- break-even
def _crossings(x: np.ndarray, y: np.ndarray) -> list[float]:
    out = []
    for i in range(len(x) - 1):
        a, b = y[i], y[i + 1]
        if a == 0:
            out.append(float(x[i]))
        elif a * b < 0:
            out.append(float(x[i] + (x[i + 1] - x[i]) * a / (a - b)))
    if len(y) and y[-1] == 0:
        out.append(float(x[-1]))
    return sorted(set(out))


def breakeven_curve(frame: pd.DataFrame, parameter: str | None = None, kpi: str = "total_value",
                    policy: str = "quarterly_okr", baseline: str = "annual") -> alt.LayerChart:
    """The paired advantage along one parameter, with its 95% CI and the break-even point.

    Parameters
    ----------
    frame : DataFrame
        ``parameter``, ``value``, ``advantage``, ``ci_low``, ``ci_high`` (1-D break-even sweep).
    parameter : str, optional
        Which parameter to draw if the frame holds several (default: the first).
    """
    _require(frame, ["parameter", "value", "advantage", "ci_low", "ci_high"], "breakeven_curve")
    params = list(dict.fromkeys(frame["parameter"].astype(str)))
    parameter = parameter or params[0]
    if parameter not in params:
        raise ParameterError(f"parameter {parameter!r} is not in the frame; it has {params}")
    df = frame[frame["parameter"].astype(str) == parameter].sort_values("value")
    x, y = df["value"].to_numpy(float), df["advantage"].to_numpy(float)
    cross = _crossings(x, y)
    punit, unit = _param_unit(parameter), _kpi_unit(kpi)
    if cross:
        where = " and ".join(f"{c:.3g}" for c in cross)
        text = f"The advantage of {policy} over {baseline} crosses zero at {parameter} = {where} {punit}".rstrip()
        pts = pd.DataFrame({"value": cross, "advantage": 0.0, "label": [f"break-even {c:.3g}" for c in cross]})
    else:
        side = policy if np.nanmean(y) > 0 else baseline
        text = (f"No break-even for {parameter} in [{x.min():.3g}, {x.max():.3g}] {punit}: "
                f"{side} stays ahead throughout").replace("  ", " ")
        pts = pd.DataFrame({"value": [], "advantage": [], "label": []})
    data = _data(df[["parameter", "value", "advantage", "ci_low", "ci_high"]])
    xe = alt.X("value:Q", title=axis_title(parameter, punit))
    area = alt.Chart(data).mark_area(opacity=0.2, color=policy_colors([policy])[policy]).encode(
        x=xe, y=alt.Y("ci_low:Q", title=axis_title(f"Advantage of {policy} in {_kpi_label(kpi)}", unit)), y2="ci_high:Q")
    line = alt.Chart(data).mark_line(point=True, strokeWidth=2.5, color=policy_colors([policy])[policy]).encode(
        x=xe, y="advantage:Q", tooltip=[alt.Tooltip("value:Q"), alt.Tooltip("advantage:Q", format=",.2f"),
                                        alt.Tooltip("ci_low:Q", format=",.2f"), alt.Tooltip("ci_high:Q", format=",.2f")])
    zero = alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(strokeDash=[4, 4], color="#555555").encode(y="zero:Q")
    layers = [zero, area, line]
    if len(pts):
        pdata = _data(pts)
        layers.append(alt.Chart(pdata).mark_point(size=140, shape="diamond", filled=True, color="black").encode(
            x="value:Q", y="advantage:Q"))
        layers.append(alt.Chart(pdata).mark_text(dy=-14, fontWeight="bold").encode(x="value:Q", y="advantage:Q", text="label:N"))
    return alt.layer(*layers).properties(width=WIDTH, height=HEIGHT, title=_title(
        text, ["Mean paired advantage with 95% CI; above zero the first policy wins, below it the baseline"]))


def breakeven_map(frame: pd.DataFrame, kpi: str = "total_value", policy: str = "quarterly_okr",
                  baseline: str = "annual") -> alt.LayerChart:
    """Where each policy wins over two parameters: the paired advantage on a grid.

    Parameters
    ----------
    frame : DataFrame
        ``x_parameter``, ``x``, ``y_parameter``, ``y``, ``advantage``, ``ci_low``, ``ci_high``,
        ``win_rate``.  Colour runs from the baseline's colour (it wins) through white to the
        policy's colour; a dot marks cells where the CI includes zero (too close to call).
    """
    _require(frame, ["x_parameter", "x", "y_parameter", "y", "advantage", "ci_low", "ci_high", "win_rate"], "breakeven_map")
    xp, yp = str(frame["x_parameter"].iloc[0]), str(frame["y_parameter"].iloc[0])
    df = frame.copy()
    df["verdict"] = np.where(df["ci_low"] > 0, policy, np.where(df["ci_high"] < 0, baseline, "too close to call"))
    n = len(df)
    wins, losses = int((df["verdict"] == policy).sum()), int((df["verdict"] == baseline).sum())
    text = f"{policy} wins in {wins} of {n} settings, {baseline} in {losses}; {n - wins - losses} too close to call"
    colors = policy_colors([policy, baseline])
    lim = float(np.nanmax(np.abs(df["advantage"]))) or 1.0
    unit = _kpi_unit(kpi)
    data = _data(df[["x_parameter", "x", "y_parameter", "y", "advantage", "ci_low", "ci_high", "win_rate", "verdict"]])
    xe = alt.X("x:O", title=axis_title(xp, _param_unit(xp)), sort="ascending", axis=alt.Axis(format=".3~g", labelAngle=0))
    ye = alt.Y("y:O", title=axis_title(yp, _param_unit(yp)), sort="descending", axis=alt.Axis(format=".3~g"))
    rect = alt.Chart(data).mark_rect().encode(
        x=xe, y=ye,
        color=alt.Color("advantage:Q", title=axis_title("Advantage", unit), legend=alt.Legend(titleLimit=200),
                        scale=alt.Scale(domain=[-lim, 0, lim], range=[colors[baseline], "#ffffff", colors[policy]],
                                        interpolate="rgb")),
        tooltip=[alt.Tooltip("x:Q", title=xp), alt.Tooltip("y:Q", title=yp), alt.Tooltip("advantage:Q", format=",.2f"),
                 alt.Tooltip("ci_low:Q", format=",.2f"), alt.Tooltip("ci_high:Q", format=",.2f"),
                 alt.Tooltip("win_rate:Q", format=".0%"), alt.Tooltip("verdict:N")])
    dots = alt.Chart(data).mark_point(shape="circle", size=30, filled=True, color="#333333").encode(
        x=xe, y=ye).transform_filter(alt.datum.verdict == "too close to call")
    step = 56 if df["x"].nunique() <= 8 else 30
    return alt.layer(rect, dots).properties(width=alt.Step(step), height=alt.Step(int(step * 0.7)), title=_title(
        text, [f"Mean paired advantage of {policy} in {_kpi_label(kpi)}; {color_name(colors[policy])}: {policy} ahead, "
               f"{color_name(colors[baseline])}: {baseline} ahead; dots: 95% CI includes zero (too close to call)"]))


# ------------------------------------------------------------------------- sensitivity
def sensitivity_indices(frame: pd.DataFrame, output: str | None = None, top: int = 20) -> alt.LayerChart:
    """Which parameters drive an output: Sobol indices (bars) or Morris screening (scatter).

    Parameters
    ----------
    frame : DataFrame
        Sobol: ``output``, ``parameter``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.
        Morris: ``output``, ``parameter``, ``mu_star``, ``mu_star_conf``, ``sigma``.
    output : str, optional
        Which output (KPI or advantage) to draw; default the first in the frame.
    top : int
        Show at most this many parameters, the most influential first.
    """
    _require(frame, ["output", "parameter"], "sensitivity_indices")
    outputs = list(dict.fromkeys(frame["output"].astype(str)))
    output = output or outputs[0]
    if output not in outputs:
        raise ParameterError(f"output {output!r} is not in the frame; it has {outputs}")
    df = frame[frame["output"].astype(str) == output].copy()
    if {"S1", "ST"} <= set(df.columns):
        return _sobol(df, output, top)
    if {"mu_star", "sigma"} <= set(df.columns):
        return _morris(df, output, top)
    raise ParameterError("sensitivity_indices needs Sobol columns (S1, S1_conf, ST, ST_conf) or Morris columns "
                         f"(mu_star, mu_star_conf, sigma); got {list(frame.columns)}")


def _sobol(df: pd.DataFrame, output: str, top: int) -> alt.LayerChart:
    _require(df, ["S1", "S1_conf", "ST", "ST_conf"], "sensitivity_indices (Sobol)")
    df = df.sort_values("ST", ascending=False).head(top)
    order = list(df["parameter"].astype(str))
    long = pd.concat([
        pd.DataFrame({"parameter": df["parameter"].astype(str), "index": "total-order (ST)", "value": df["ST"],
                      "conf": df["ST_conf"]}),
        pd.DataFrame({"parameter": df["parameter"].astype(str), "index": "first-order (S1)", "value": df["S1"],
                      "conf": df["S1_conf"]}),
    ], ignore_index=True)
    long["low"] = (long["value"] - long["conf"]).clip(lower=0)
    long["high"] = long["value"] + long["conf"]
    lead = df.iloc[0]
    s1 = float(df["S1"].clip(lower=0).sum())
    text = f"{lead['parameter']} drives most of the variance in {_kpi_label(output)}: total-order index {lead['ST']:.2f}"
    sub = [f"Sobol indices with 95% confidence; first-order indices sum to {s1:.2f} "
           f"({'little' if s1 > 0.8 else 'much'} interaction between parameters)"]
    data = _data(long)
    y = alt.Y("parameter:N", sort=order, title=None)
    yoff = alt.YOffset("index:N", sort=["total-order (ST)", "first-order (S1)"])
    scale = alt.Scale(domain=["total-order (ST)", "first-order (S1)"], range=["#0072B2", "#56B4E9"])
    bars = alt.Chart(data).mark_bar().encode(
        x=alt.X("value:Q", title=axis_title("Sobol index", "share of output variance")), y=y, yOffset=yoff,
        color=alt.Color("index:N", scale=scale, title="Index", legend=alt.Legend(orient="top")),
        tooltip=[alt.Tooltip("parameter:N"), alt.Tooltip("index:N"), alt.Tooltip("value:Q", format=".3f"),
                 alt.Tooltip("conf:Q", format=".3f", title="± 95%")])
    err = alt.Chart(data).mark_rule(color="black").encode(x="low:Q", x2="high:Q", y=y, yOffset=yoff)
    return alt.layer(bars, err).properties(width=WIDTH, height=alt.Step(10), title=_title(text, sub))


def _morris(df: pd.DataFrame, output: str, top: int) -> alt.LayerChart:
    df = df.sort_values("mu_star", ascending=False).head(top).copy()
    if "mu_star_conf" not in df.columns:
        df["mu_star_conf"] = np.nan
    df["low"] = (df["mu_star"] - df["mu_star_conf"]).clip(lower=0)
    df["high"] = df["mu_star"] + df["mu_star_conf"]
    unit = _kpi_unit(output)
    lead = df.iloc[0]
    text = f"{lead['parameter']} has the largest effect on {_kpi_label(output)}: μ* = {_num(lead['mu_star'], unit)}"
    sub = ["Morris screening: μ* = mean absolute elementary effect (importance), σ = their spread "
           "(non-linearity or interaction); whiskers: 95% confidence of μ*"]
    data = _data(df[["parameter", "mu_star", "mu_star_conf", "sigma", "low", "high"]])
    x = alt.X("mu_star:Q", title=axis_title("μ*, mean absolute elementary effect", unit or "output units"))
    y = alt.Y("sigma:Q", title=axis_title("σ, spread of elementary effects", unit or "output units"))
    pts = alt.Chart(data).mark_point(filled=True, size=70, color="#0072B2").encode(
        x=x, y=y, tooltip=[alt.Tooltip("parameter:N"), alt.Tooltip("mu_star:Q", format=",.3g"),
                           alt.Tooltip("mu_star_conf:Q", format=",.3g"), alt.Tooltip("sigma:Q", format=",.3g")])
    err = alt.Chart(data).mark_rule(color="#0072B2").encode(x="low:Q", x2="high:Q", y="sigma:Q")
    text_marks = alt.Chart(data).mark_text(align="left", dx=6, fontSize=10).encode(x="mu_star:Q", y="sigma:Q",
                                                                                   text="parameter:N")
    return alt.layer(err, pts, text_marks).properties(width=WIDTH, height=HEIGHT, title=_title(text, sub))


# -------------------------------------------------------------------------- the panel
def _panel_value(p: Panel) -> alt.TopLevelMixin:
    return value_over_time(p.timeline, p.market)


#: The charts of a `Panel`, in the order the explorer and reports show them.
CHARTS: dict[str, tuple[str, Callable[[Panel], Any]]] = {
    "value": ("Value over time", _panel_value),
    "advantage": ("Paired advantage", lambda p: advantage(p.runs, "total_value", p.policy_names[0])),
    "kpis": ("All KPIs", lambda p: kpi_comparison(p.paired, p.policy_names[0])),
    "capacity": ("Where capacity goes", lambda p: capacity_by_theme(p.themes)),
    "adaptation": ("Adaptation after a market change", lambda p: shock_response(p.timeline, p.market)),
    "learning": ("Learning curve", lambda p: learning_curve(p.cycles)),
    "scorecards": ("OKR scorecards", lambda p: okr_scorecards(p.scorecards)),
}


def panel_charts(panel: Panel, which: Iterable[str] | None = None) -> dict[str, alt.TopLevelMixin]:
    """The standard charts of a comparison panel, by name (see `CHARTS`).

    Charts that need two policies (advantage, KPI comparison) are left out when the panel
    has only one.
    """
    names = list(which) if which is not None else list(CHARTS)
    unknown = [n for n in names if n not in CHARTS]
    if unknown:
        raise ParameterError(f"unknown charts {unknown}; valid charts are {', '.join(CHARTS)}")
    single = len(panel.policy_names) < 2
    return {n: CHARTS[n][1](panel) for n in names if not (single and n in ("advantage", "kpis"))}
