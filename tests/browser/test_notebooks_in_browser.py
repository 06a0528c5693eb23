"""The teaching notebooks in a real JupyterLab: run all, and every chart must be drawn offline.

The number of charts a notebook displays is read from its stored outputs (each chart is an
altair ``JupyterChart`` widget), so adding a chart to a notebook needs no change here.  The
charts inside a focused explorer are counted separately: the explorer must draw at least one
and show its sliders.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
#: The start notebook and one effect notebook (the quickest to run of 01-04).
NOTEBOOKS = ("00_start_here.ipynb", "03_transparency.ipynb")

#: Drawn charts outside the explorer: a ``.vega-embed`` holding vega's marks (SVG or canvas).
COUNT_CHARTS = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .vega-embed')]
    .filter(e => !e.closest('.okrsim-explorer') && e.querySelector('svg.marks, canvas.marks')).length"""


def stored_charts(name: str) -> tuple[int, int]:
    """(code cells, chart outputs) of a stored notebook."""
    nb = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    charts = sum(1 for c in code for o in c.get("outputs", [])
                 if "JupyterChart" in "".join(o.get("data", {}).get("text/plain", "")))
    return len(code), charts


def _run_all(page, url: str, name: str, cells: int) -> None:
    page.goto(f"{url}/lab/tree/{name}?reset", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    try:  # Lab may ask which kernel to use for a notebook it has not seen: keep the suggested one
        page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click(timeout=3_000)
    except Exception:
        pass
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()
    page.wait_for_function(
        """n => { const p = [...document.querySelectorAll(
                     '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell.jp-CodeCell .jp-InputArea-prompt')];
                  return p.length === n && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }""",
        arg=cells, timeout=120_000)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_jupyterlab_and_draws_every_chart_offline(name, lab, page_and_log, screenshot):
    page, log = page_and_log
    cells, expected = stored_charts(name)
    assert expected > 0, f"{name} should display charts"
    _run_all(page, lab.url, name, cells)
    stem = Path(name).stem
    try:
        page.wait_for_function(f"n => ({COUNT_CHARTS})() >= n", arg=expected, timeout=60_000)
    finally:
        screenshot(page, f"lab-{stem}-end")
    assert page.evaluate(COUNT_CHARTS) == expected
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    panel.locator(".jp-OutputArea-output .vega-embed").first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # let the browser paint what content-visibility skipped while off screen
    screenshot(page, f"lab-{stem}-first-chart")
    explorer = panel.locator(".okrsim-explorer")
    explorer.locator(".vega-embed svg.marks").first.wait_for(timeout=60_000)
    assert explorer.locator(".widget-slider").count() > 0
    explorer.first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    screenshot(page, f"lab-{stem}-explorer")
    text = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)").inner_text()
    for problem in ("Error loading script", "JavaScript Error", "Error displaying widget", "Traceback"):
        assert problem not in text, problem
    errors = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output[data-mime-type*='error']")
    assert errors.count() == 0
    assert log.errors == []
