"""The teaching notebooks in a real JupyterLab: run all, and every chart must be drawn offline.

The number of charts a notebook displays is read from its stored outputs (each chart is an
altair ``JupyterChart`` widget), so adding a chart to a notebook needs no change here.  The
charts inside a focused explorer are counted separately: the explorer must draw at least one
and show its sliders.

On a loaded machine a kernel start, a run-all or a chart can take minutes: every wait polls
its condition within the test's overall budget (see ``conftest.py``), and only the opening of
the notebook is retried (once, and reported) when it was merely slow.
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


#: Lab's kernel for the open notebook is started and idle.
KERNEL_IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
#: Every code cell of the visible notebook has run (its prompt reads ``[n]``).
ALL_RUN = """n => { const p = [...document.querySelectorAll(
                 '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell.jp-CodeCell .jp-InputArea-prompt')];
              return p.length === n && p.every(e => /\\[\\d+\\]/.test(e.textContent)); }"""


def _open(waits, url: str, name: str) -> None:
    """Open the notebook in a fresh workspace and wait until its kernel is idle (one retry if only slow)."""
    page = waits.page

    def load(deadline) -> None:
        page.goto(f"{url}/lab/tree/{name}?reset", wait_until="domcontentloaded", timeout=max(1.0, deadline.left_ms()))
        waits.selector(KERNEL_IDLE, f"the kernel of {name} to be idle", deadline)

    waits.load(load, f"JupyterLab with {name}")
    try:  # Lab may ask which kernel to use for a notebook it has not seen: keep the suggested one
        page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept").click(timeout=3_000)
    except Exception:  # no dialog is the normal case
        pass


def _run_all(waits, name: str, cells: int) -> None:
    waits.page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    waits.page.locator("li.lm-Menu-item[data-command='runmenu:run-all']").click()
    waits.function(ALL_RUN, f"all {cells} cells of {name} to run", arg=cells)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_in_jupyterlab_and_draws_every_chart_offline(name, lab, page_and_log, screenshot, waits):
    page, log = page_and_log
    cells, expected = stored_charts(name)
    assert expected > 0, f"{name} should display charts"
    stem = Path(name).stem
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    explorer = panel.locator(".okrsim-explorer")

    def attempt() -> None:
        try:
            _open(waits, lab.url, name)
            _run_all(waits, name, cells)
            waits.function(f"n => ({COUNT_CHARTS})() >= n", f"{expected} charts of {name}", arg=expected)
        finally:
            screenshot(page, f"lab-{stem}-end")
        waits.until(lambda ms: explorer.locator(".vega-embed svg.marks").first.wait_for(timeout=ms),
                    f"the explorer's first chart in {name}")

    waits.lab_run(attempt, lab, name)
    assert page.evaluate(COUNT_CHARTS) == expected
    panel.locator(".jp-OutputArea-output .vega-embed").first.scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # let the browser paint what content-visibility skipped while off screen
    screenshot(page, f"lab-{stem}-first-chart")
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
    assert "create_subshell_request" not in log.kernel_requests, "widget messages must stay on the main shell"
