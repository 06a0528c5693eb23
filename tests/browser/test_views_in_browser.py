"""The views in a real browser: JupyterLab explorer, Voila dashboard, offline HTML report.

Each test drives Debian's Chromium through Playwright, checks what a person would see (a
chart drawn as SVG inside ``.vega-embed``, a KPI table that changes when a slider moves, a
refusal message for a bad typed value) and that the browser console stays free of errors.
Screenshots land in ``test-artifacts/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHART = ".okrsim-chart-value svg.marks"
TABLE = ".okrsim-kpi-table"
SHIFT = ".okrsim-param-market-shift-rate"


def _chart_text(page) -> str:
    """The visible content of the value chart (its title and marks), to detect a redraw."""
    return page.locator(CHART).first.inner_html()


def _press_right(page, times: int = 5) -> None:
    handle = page.locator(f"{SHIFT} .noUi-handle").first
    handle.focus()
    for _ in range(times):
        handle.press("ArrowRight")


def _accept_kernel_dialog(page) -> None:
    """Lab may ask which kernel to use for a notebook it has not seen: keep the suggested one."""
    try:
        page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click(timeout=5_000)
    except Exception:  # no dialog is the normal case
        return
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)


def test_jupyterlab_runs_the_explorer_and_follows_a_slider(lab, page_and_log, screenshot):
    page, log = page_and_log
    page.goto(f"{lab.url}/lab/tree/explorer.ipynb?reset", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    _accept_kernel_dialog(page)
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()
    page.wait_for_function(
        """() => { const p = [...document.querySelectorAll('.jp-Cell.jp-CodeCell .jp-InputArea-prompt')];
                   return p.length >= 3 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }""", timeout=120_000)
    page.wait_for_selector(CHART, timeout=60_000)
    page.wait_for_selector(f"{TABLE} table", timeout=30_000)
    assert page.locator(".okrsim-explorer .widget-slider").count() > 20
    screenshot(page, "lab-explorer-initial")

    chart_before = _chart_text(page)
    table_before = page.locator(TABLE).first.inner_html()
    _press_right(page, 5)
    page.wait_for_function(
        "before => document.querySelector('.okrsim-kpi-table').innerHTML !== before", arg=table_before, timeout=60_000)
    page.wait_for_function(
        "before => document.querySelector('.okrsim-chart-value svg.marks').innerHTML !== before",
        arg=chart_before, timeout=60_000)
    status = page.locator(".okrsim-status").first.inner_text()
    assert "dynamic_custom" in status
    screenshot(page, "lab-explorer-after-slider")

    # a value typed out of range is refused with a visible message; the result on screen stays
    table_now = page.locator(TABLE).first.inner_html()
    box = page.locator(f"{SHIFT} input[type='text']").first
    box.fill("99")
    box.press("Enter")
    error = page.locator(".okrsim-error").first
    error.wait_for(state="visible", timeout=30_000)
    text = error.inner_text()
    assert "market.shift_rate = 99.0" in text and "[0, 12]" in text
    assert page.locator(TABLE).first.inner_html() == table_now
    screenshot(page, "lab-explorer-refused-value")
    assert log.errors == []


def test_voila_dashboard_renders_without_code_and_responds(voila, page_and_log, screenshot):
    page, log = page_and_log
    page.goto(voila.url + "/", wait_until="domcontentloaded", timeout=120_000)
    page.wait_for_selector(CHART, timeout=120_000)
    page.wait_for_selector(f"{TABLE} table", timeout=60_000)
    body = page.locator("body").inner_text()
    assert "Explorer()" not in body and "notebook_setup" not in body, "code must be hidden"
    screenshot(page, "voila-dashboard-initial")
    table_before = page.locator(TABLE).first.inner_html()
    _press_right(page, 3)
    page.wait_for_function(
        "before => document.querySelector('.okrsim-kpi-table').innerHTML !== before", arg=table_before, timeout=60_000)
    screenshot(page, "voila-dashboard-after-slider")
    assert log.errors == []


def test_html_report_renders_offline(browser, tmp_path, screenshot):
    from okrsim.views.charts import CHARTS
    from okrsim.views.panels import Settings, build_panel
    from okrsim.views.report import comparison_report

    path = comparison_report(build_panel(Settings(replications=5)), tmp_path / "report.html")
    context = browser.new_context(offline=True, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(("file:", "data:", "blob:")) else requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(Path(path).as_uri())
    page.wait_for_function(
        f"() => document.querySelectorAll('.okrsim-chart svg.marks').length === {len(CHARTS)}", timeout=60_000)
    assert page.locator("table.okrsim-kpis").count() == 1
    screenshot(page, "report-offline")
    context.close()
    assert requests == [], f"the report asked the network for {requests}"
    assert errors == []
