"""The views in a real browser: JupyterLab explorer, Voila dashboard, offline HTML report.

Each test drives Debian's Chromium through Playwright, checks what a person would see (a
chart drawn as SVG inside ``.vega-embed``, a KPI table that changes when a slider moves, a
refusal message for a bad typed value) and that the browser console stays free of errors.
Screenshots land in ``test-artifacts/``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from okrsim.views.explorer import TAB_LABELS

pytestmark = pytest.mark.browser

CHART = ".okrsim-chart-value svg.marks"
TABLE = ".okrsim-kpi-table"
SHIFT = ".okrsim-param-market-shift-rate"
KERNEL_IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"


def _chart_text(page) -> str:
    """The visible content of the value chart (its title and marks), to detect a redraw."""
    return page.locator(CHART).first.inner_html()


def _press_right(page, times: int = 5) -> None:
    handle = page.locator(f"{SHIFT} .noUi-handle").first
    handle.focus()
    for _ in range(times):
        handle.press("ArrowRight")


def _accept_kernel_dialog(waits) -> None:
    """Lab may ask which kernel to use for a notebook it has not seen: keep the suggested one."""
    try:
        waits.page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click(timeout=5_000)
    except Exception:  # no dialog is the normal case
        return
    waits.selector(KERNEL_IDLE, "the kernel to be idle after the kernel dialog")


def _show_tab(page, label: str) -> None:
    """Click the chart tab called `label` (the explorer draws a tab's chart when it is shown)."""
    page.locator(".okrsim-explorer .lm-TabBar-tab", has_text=re.compile(f"^{re.escape(label)}$")).first.click()


def _table_changed(waits, before: str) -> None:
    waits.function("before => document.querySelector('.okrsim-kpi-table').innerHTML !== before",
                   "the KPI table to follow the slider", arg=before)


def test_jupyterlab_runs_the_explorer_and_follows_a_slider(lab, page_and_log, screenshot, waits):
    page, log = page_and_log

    def load(deadline) -> None:
        page.goto(f"{lab.url}/lab/tree/explorer.ipynb?reset", wait_until="domcontentloaded",
                  timeout=max(1.0, deadline.left_ms()))
        waits.selector(KERNEL_IDLE, "the kernel of explorer.ipynb to be idle", deadline)

    def attempt() -> None:
        waits.load(load, "JupyterLab with explorer.ipynb")
        _accept_kernel_dialog(waits)
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()
        waits.function("""() => { const p = [...document.querySelectorAll('.jp-Cell.jp-CodeCell .jp-InputArea-prompt')];
                                  return p.length >= 3 && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }""",
                       "every cell of explorer.ipynb to run")
        waits.selector(CHART, "the explorer's value chart")
        waits.selector(f"{TABLE} table", "the explorer's KPI table")

    waits.lab_run(attempt, lab, "explorer.ipynb")
    assert page.locator(".okrsim-explorer .widget-slider").count() > 20
    screenshot(page, "lab-explorer-initial")

    # A value typed out of range is refused with a visible message and the result on screen
    # stays.  Checked first, while no update is on its way: after the slider moves below,
    # debounced updates may still land for a while, and one landing after the refusal once
    # made the table differ (under load).
    table_now = page.locator(TABLE).first.inner_html()
    box = page.locator(f"{SHIFT} input[type='text']").first
    box.fill("99")
    box.press("Enter")
    error = page.locator(".okrsim-error").first
    waits.until(lambda ms: error.wait_for(state="visible", timeout=ms), "the refusal message")
    text = error.inner_text()
    assert "market.shift_rate = 99.0" in text and "[0, 12]" in text
    assert page.locator(TABLE).first.inner_html() == table_now
    screenshot(page, "lab-explorer-refused-value")

    chart_before = _chart_text(page)
    table_before = page.locator(TABLE).first.inner_html()
    _press_right(page, 5)
    _table_changed(waits, table_before)
    waits.function("before => document.querySelector('.okrsim-chart-value svg.marks').innerHTML !== before",
                   "the value chart to follow the slider", arg=chart_before)
    # five key presses may arrive as more than one debounced update on a loaded machine: the
    # status says "updating…" until the last one has run, then names the changed world
    waits.function("() => document.querySelector('.okrsim-status').innerText.includes('dynamic_custom')",
                   "the status line to name the changed world")
    screenshot(page, "lab-explorer-after-slider")
    assert log.errors == []
    assert "comm_msg" in log.kernel_requests, "the slider's change should have reached the kernel"
    assert "create_subshell_request" not in log.kernel_requests, "widget messages must stay on the main shell"


def test_voila_dashboard_renders_without_code_and_responds(voila, page_and_log, screenshot, waits):
    page, log = page_and_log

    def load(deadline) -> None:
        # Voila runs the notebook while it serves the page: "ready" is the first chart drawn.
        page.goto(voila.url + "/", wait_until="domcontentloaded", timeout=max(1.0, deadline.left_ms()))
        waits.selector(CHART, "the dashboard's value chart", deadline)

    waits.load(load, "the Voila dashboard")
    waits.selector(f"{TABLE} table", "the dashboard's KPI table")
    body = page.locator("body").inner_text()
    assert "Explorer()" not in body and "notebook_setup" not in body, "code must be hidden"
    screenshot(page, "voila-dashboard-initial")
    # Every chart, not only the visible one, must follow a slider: a chart widget that failed
    # to initialise in the page ignores later updates from the kernel and stays frozen.
    before = {}
    for name, label in TAB_LABELS.items():
        _show_tab(page, label)
        waits.selector(f".okrsim-chart-{name} svg.marks", f"the {label} chart")
        before[name] = page.locator(f".okrsim-chart-{name} svg.marks").first.inner_html()
    _show_tab(page, TAB_LABELS["value"])
    table_before = page.locator(TABLE).first.inner_html()
    _press_right(page, 3)
    _table_changed(waits, table_before)
    for name, label in TAB_LABELS.items():
        _show_tab(page, label)
        waits.function("([n, b]) => { const e = document.querySelector(`.okrsim-chart-${n} svg.marks`);"
                       " return e !== null && e.innerHTML !== b; }", f"the {label} chart to follow the slider",
                       arg=[name, before[name]])
    screenshot(page, "voila-dashboard-after-slider")
    assert log.errors == []


def test_make_lab_runs_as_root_without_news_or_update_popups(make_lab, page_and_log, screenshot, waits):
    """`make lab` as people run it (as root on training VMs): Lab opens a notebook and shows no toast.

    JupyterLab asks "Would you like to get notified about official Jupyter news?" whenever its
    ``fetchNews`` setting is unset, even with ``--LabApp.news_url=None``; the Makefile's
    settings override sets it.
    """
    page, log = page_and_log

    def load(deadline) -> None:
        page.goto(f"{make_lab.url}/lab/tree/00_start_here.ipynb?reset", wait_until="domcontentloaded",
                  timeout=max(1.0, deadline.left_ms()))
        waits.selector(KERNEL_IDLE, "the kernel of 00_start_here.ipynb to be idle", deadline)

    waits.load(load, "make lab")
    _accept_kernel_dialog(waits)
    page.wait_for_timeout(3_000)  # the news question is raised right after Lab restores; give it time to show
    screenshot(page, "make-lab-no-popups")
    assert page.locator(".Toastify__toast").all_inner_texts() == []
    # the overrides become the schema's defaults, which the frontend composes with the (empty) user settings
    defaults = page.evaluate("""async () => {
        const r = await (await fetch('/lab/api/settings/@jupyterlab/apputils-extension:notification')).json();
        const p = r.schema.properties;
        return {fetchNews: p.fetchNews.default, checkForUpdates: p.checkForUpdates.default, user: r.settings}; }""")
    assert defaults == {"fetchNews": "false", "checkForUpdates": False, "user": {}}, defaults
    kernels = page.evaluate("""async () => (await (await fetch(
        '/lab/api/settings/@jupyterlab/apputils-extension:kernels-settings')).json()).schema.properties""")
    assert kernels["commsOverSubshells"]["default"] == "disabled", "widget callbacks must not run beside cells"
    assert page.evaluate("async () => (await (await fetch('/lab/api/news')).json()).news") == []
    if os.geteuid() == 0:
        assert "--allow-root" in make_lab.proc.args, "as root, Lab starts only with --allow-root"
    assert log.errors == []


def test_html_report_renders_offline(browser, tmp_path, screenshot, budget_seconds):
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
    page.wait_for_function(  # a local file: no server or kernel, only the budget for a loaded machine
        f"() => document.querySelectorAll('.okrsim-chart svg.marks').length === {len(CHARTS)}",
        timeout=budget_seconds * 1000)
    assert page.locator("table.okrsim-kpis").count() == 1
    screenshot(page, "report-offline")
    context.close()
    assert requests == [], f"the report asked the network for {requests}"
    assert errors == []
