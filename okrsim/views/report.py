"""Self-contained HTML reports and chart export (PNG, SVG, HTML) that work offline.

A report is one HTML file: the vega libraries are inlined once (bundled by vl-convert) and
every chart is embedded as its Vega-Lite spec, so the file opens on a laptop without
network, can be mailed to a client and still shows interactive tooltips.  Pictures for
decks are written by vl-convert in the same house theme.  Every file goes through
`okrsim.core.fileio` so that an interrupted export never leaves a half-written file.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd

from okrsim.core.errors import ParameterError
from okrsim.core.fileio import write_bytes_atomic, write_text_atomic
from okrsim.experiments.comparison import versus
from okrsim.experiments.headline import HEADLINE_KPI, Headline
from okrsim.model.kpis import KPIS
from okrsim.views.panels import Panel
from okrsim.views.style import THEME_NAME, register_theme

__all__ = [
    "HEADLINE_KPIS",
    "chart_spec",
    "comparison_report",
    "headline",
    "kpi_table_html",
    "render_html",
    "save_chart",
]

#: KPIs of the summary table (the CLI shows the same ones).
HEADLINE_KPIS: tuple[str, ...] = ("total_value", "end_value_rate", "aligned_capacity_share", "adaptation_lag_weeks",
                                  "lead_time_weeks", "waste_share", "overhead_share", "conflicts_caught_early",
                                  "estimation_error", "okr_score_mean")
_KPI = {k.name: k for k in KPIS}
FORMATS: tuple[str, ...] = ("png", "svg", "html")


@lru_cache(maxsize=1)
def _bundle() -> str:
    """vega, vega-lite and vega-embed as one script (about 0.9 MB), built once per process."""
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    return vlc.javascript_bundle(vl_version=vl_version_for_vl_convert())


def chart_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec in the house theme, whatever theme is active globally."""
    register_theme()
    with alt.theme.enable(THEME_NAME):
        return chart.to_dict()


def save_chart(chart: alt.TopLevelMixin, path: str | Path, fmt: str | None = None, scale: float = 2.0) -> Path:
    """Write `chart` as PNG, SVG or self-contained HTML, atomically and without network.

    Parameters
    ----------
    fmt : {"png", "svg", "html"}, optional
        Default: from the file extension.
    scale : float
        PNG resolution factor (2 gives crisp pictures on slides).
    """
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    path = Path(path)
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise ParameterError(f"format {fmt!r} is not supported; valid formats are {', '.join(FORMATS)}")
    spec = chart_spec(chart)
    vl = vl_version_for_vl_convert()
    if fmt == "png":
        return write_bytes_atomic(path, vlc.vegalite_to_png(spec, vl_version=vl, scale=scale))
    if fmt == "svg":
        return write_text_atomic(path, vlc.vegalite_to_svg(spec, vl_version=vl))
    title = spec.get("title", {})
    text = title.get("text", "okrsim chart") if isinstance(title, dict) else str(title)
    return write_text_atomic(path, render_html([("", chart)], title=str(text)))


# ---------------------------------------------------------------------------- tables
def _fmt(x: float) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    ax = abs(x)
    return f"{x:,.0f}" if ax >= 1000 else f"{x:.1f}" if ax >= 10 else f"{x:.3f}"


def kpi_table_html(summary: pd.DataFrame, paired: pd.DataFrame, kpis: Sequence[str] = HEADLINE_KPIS) -> str:
    """Each policy's mean [95% CI], the paired difference to the baseline and the win rate.

    Differences whose CI is clear of zero are marked ``better`` or ``worse`` (by the KPI's
    direction), so the table reads at a glance and stays honest about noise.
    """
    policies = list(dict.fromkeys(summary["policy"].astype(str)))
    base = policies[0]
    s = summary.set_index(["kpi", "policy"])
    p = paired.set_index(["kpi", "policy"]) if len(paired) else None
    head = ["KPI (unit)", *map(html.escape, policies),
            *[f"{html.escape(n)} &minus; {html.escape(base)}" for n in policies[1:]],
            *[f"{html.escape(n)} better in" for n in policies[1:]]]
    rows = []
    for k in kpis:
        if (k, base) not in s.index:
            continue
        spec = _KPI.get(k)
        label = f"{k.replace('_', ' ')} ({spec.unit})" if spec else k
        cells = [f'<th scope="row" title="{html.escape(spec.meaning if spec else k)}">{html.escape(label)}</th>']
        for n in policies:
            r = s.loc[(k, n)]
            cells.append(f"<td>{_fmt(r['mean'])} <small>[{_fmt(r['ci_low'])}, {_fmt(r['ci_high'])}]</small></td>")
        for n in policies[1:]:
            if p is None or (k, n) not in p.index:
                cells.append("<td>n/a</td>")
                continue
            r = p.loc[(k, n)]
            sign = 1 if (spec is None or spec.better == "higher") else -1
            cls = ""
            if r["ci_low"] > 0 or r["ci_high"] < 0:
                cls = "better" if sign * r["mean_diff"] > 0 else "worse"
            cells.append(f'<td class="{cls}">{_fmt(r["mean_diff"])} '
                         f'<small>[{_fmt(r["ci_low"])}, {_fmt(r["ci_high"])}]</small></td>')
        for n in policies[1:]:
            w = p.loc[(k, n)]["win_rate"] if p is not None and (k, n) in p.index else math.nan
            cells.append(f"<td>{'n/a' if not math.isfinite(w) else f'{w:.0%}'}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    n = int(summary["n"].max()) if len(summary) else 0
    return ('<table class="okrsim-kpis">'
            f"<caption>Mean [95% CI] over {n} paired replications; green: better than {html.escape(base)} with a CI "
            "clear of zero, red: worse</caption>"
            "<thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead>"
            "<tbody>" + "".join(rows) + "</tbody></table>")


TABLE_CSS = """
table.okrsim-kpis { border-collapse: collapse; font: 13px/1.35 "Liberation Sans", Helvetica, Arial, sans-serif; }
table.okrsim-kpis caption { caption-side: top; text-align: left; color: #555; padding: 4px 0; }
table.okrsim-kpis th, table.okrsim-kpis td { border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; }
table.okrsim-kpis th[scope=row] { text-align: left; font-weight: normal; }
table.okrsim-kpis td.better { background: #d9f0e3; }
table.okrsim-kpis td.worse { background: #f9dcd0; }
table.okrsim-kpis small { color: #666; }
"""


def headline(panel: Panel) -> list[str]:
    """The headline figure (`okrsim.experiments.headline.Headline`) of the challenger (the last
    policy) against each other policy, as ``okrsim demo`` prints it, with the absolute
    advantage beside it: with two annual baselines, both are stated."""
    names = panel.policy_names
    challenger = names[-1]
    out = []
    for base in names[:-1]:
        h = Headline.of(versus(panel.runs, challenger, base, HEADLINE_KPI), challenger, base)
        out.append(f"{h.sentence()}; absolute advantage {h.absolute()}.")
    return out


# ------------------------------------------------------------------------------ HTML
_PAGE_CSS = """
body { font: 15px/1.5 "Liberation Sans", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1000px;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 2em; }
.lead { font-size: 1.1em; } .note { color: #555; font-size: 0.9em; }
.okrsim-chart { margin: 0.5em 0 1.5em; } pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 12px; }
"""


def render_html(sections: Iterable[tuple[str, alt.TopLevelMixin | str]], title: str, intro_html: str = "",
                footer_html: str = "") -> str:
    """A self-contained page: each section is a heading and a chart (or an HTML fragment).

    The vega libraries are inlined once and each chart gets its own ``div``; this avoids
    altair's inline template, which draws only the first chart of a page.
    """
    body, specs = [], []
    for i, (heading, item) in enumerate(sections):
        if heading:
            body.append(f"<h2>{html.escape(heading)}</h2>")
        if isinstance(item, str):
            body.append(item)
        else:
            body.append(f'<div class="okrsim-chart" id="okrsim-chart-{i}"></div>')
            specs.append((f"okrsim-chart-{i}", chart_spec(item)))
    calls = "\n".join(
        f"vegaEmbed('#{div}', {json.dumps(spec, allow_nan=False)}, opts).catch(function (e) {{ console.error(e); }});"
        for div, spec in specs)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="okrsim">
<title>{html.escape(title)}</title>
<style>{_PAGE_CSS}{TABLE_CSS}</style>
<script>{_bundle()}</script>
</head>
<body>
<h1>{html.escape(title)}</h1>
{intro_html}
{''.join(body)}
{footer_html}
<script>
var opts = {{"renderer": "svg", "actions": {{"export": true, "source": false, "compiled": false, "editor": false}}}};
{calls}
</script>
</body>
</html>
"""


def comparison_report(panel: Panel, path: str | Path, title: str | None = None, write_settings: bool = True) -> Path:
    """Write the HTML report of a comparison: headline, KPI table, charts and settings.

    Parameters
    ----------
    panel : Panel
        From `okrsim.views.panels.build_panel`.
    path : str or Path
        The ``.html`` file to write.
    write_settings : bool
        Also write the settings as YAML next to the report (``<name>.yaml``), so the
        report can be reproduced with ``okrsim report --params``.
    """
    from okrsim.views.charts import CHARTS, panel_charts

    path = Path(path)
    s = panel.settings
    names = panel.policy_names
    title = title or f"okrsim: {' vs '.join(names)} in the '{s.scenario.name}' scenario"
    yaml_text = s.to_yaml()
    settings_path = path.with_suffix(".yaml")
    intro = ("".join(f'<p class="lead">{html.escape(line)}</p>' for line in headline(panel))
             + f'<p class="note">{s.replications} paired replications with common random numbers (seed {s.seed}); '
             f"horizon {s.scenario.horizon.weeks} weeks. Charts are interactive (hover for values) and need no "
             "network.</p>"
             + kpi_table_html(panel.summary, panel.paired))
    charts = panel_charts(panel)
    sections: list[tuple[str, alt.TopLevelMixin | str]] = [(CHARTS[k][0], c) for k, c in charts.items()]
    reproduce = (f"okrsim report --params {settings_path.name} --out {path.name}" if write_settings
                 else "save the settings below as settings.yaml, then: okrsim report --params settings.yaml")
    footer = ("<h2>Settings</h2>"
              f'<p class="note">Reproduce exactly: <code>{html.escape(reproduce)}</code></p>'
              f"<details><summary>Scenario, policies, replications and seed (YAML)</summary>"
              f"<pre>{html.escape(yaml_text)}</pre></details>")
    page = render_html(sections, title, intro, footer)
    if write_settings:
        write_text_atomic(settings_path, yaml_text)
    return write_text_atomic(path, page)
