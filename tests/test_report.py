"""Reports and exported pictures: self-contained, offline, reproducible."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from okrsim import charts
from okrsim.core.errors import ParameterError
from okrsim.views.panels import Settings, build_panel
from okrsim.views.report import chart_spec, comparison_report, kpi_table_html, render_html, save_chart


@pytest.fixture(scope="module")
def panel():
    return build_panel(Settings(replications=3, seed=1))


def _no_network(page: str) -> None:
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "page loads something from the network"
    assert "cdn.jsdelivr" not in page and "unpkg.com" not in page


def test_report_is_self_contained(panel, tmp_path):
    path = comparison_report(panel, tmp_path / "r.html")
    page = path.read_text()
    _no_network(page)
    assert page.count('<div class="okrsim-chart"') == len(charts.CHARTS)
    assert page.count("vegaEmbed('#okrsim-chart-") == len(charts.CHARTS)
    assert "quarterly_okr delivers" in page and 'class="okrsim-kpis"' in page
    assert "okrsim report --params r.yaml --out r.html" in page
    assert Settings.load(tmp_path / "r.yaml") == panel.settings


def test_report_is_deterministic(panel, tmp_path):
    a = comparison_report(panel, tmp_path / "a" / "r.html").read_text()
    b = comparison_report(build_panel(panel.settings), tmp_path / "b" / "r.html").read_text()
    assert a == b


def test_save_chart_formats(panel, tmp_path):
    chart = charts.value_over_time(panel.timeline, panel.market)
    assert save_chart(chart, tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    svg = save_chart(chart, tmp_path / "c.svg").read_text()
    assert svg.startswith("<svg") and "cumulative value" in svg
    html = save_chart(chart, tmp_path / "c.html").read_text()
    _no_network(html)
    assert html.count("vegaEmbed('#okrsim-chart-") == 1
    with pytest.raises(ParameterError, match="format 'pdf'"):
        save_chart(chart, tmp_path / "c.pdf")
    # two exports of the same chart are identical bytes (pictures in a deck can be regenerated)
    assert save_chart(chart, tmp_path / "d.svg").read_text() == svg


def test_chart_spec_applies_the_house_theme_locally(panel):
    import altair as alt

    chart = charts.learning_curve(panel.cycles)
    assert chart_spec(chart)["config"]["font"].startswith("Liberation Sans")
    assert alt.theme.active == "default"


def test_kpi_table_marks_clear_differences():
    summary = pd.DataFrame([
        {"kpi": "total_value", "policy": "a", "mean": 100.0, "ci_low": 90.0, "ci_high": 110.0, "n": 5},
        {"kpi": "total_value", "policy": "b", "mean": 120.0, "ci_low": 110.0, "ci_high": 130.0, "n": 5},
        {"kpi": "waste_share", "policy": "a", "mean": 0.1, "ci_low": 0.05, "ci_high": 0.15, "n": 5},
        {"kpi": "waste_share", "policy": "b", "mean": 0.2, "ci_low": 0.15, "ci_high": 0.25, "n": 5},
    ])
    paired = pd.DataFrame([
        {"kpi": "total_value", "policy": "b", "mean_diff": 20.0, "ci_low": 10.0, "ci_high": 30.0, "win_rate": 0.8},
        {"kpi": "waste_share", "policy": "b", "mean_diff": 0.1, "ci_low": 0.05, "ci_high": 0.15, "win_rate": 0.1},
    ])
    html = kpi_table_html(summary, paired, ["total_value", "waste_share"])
    assert '<td class="better">20.0' in html and '<td class="worse">0.100' in html
    assert "80%" in html and "10%" in html and "5 paired replications" in html


def test_render_html_escapes_titles():
    page = render_html([("<b>x</b>", "<p>fragment</p>")], title="a < b")
    assert "<title>a &lt; b</title>" in page and "&lt;b&gt;x&lt;/b&gt;" in page and "<p>fragment</p>" in page
