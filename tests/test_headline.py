"""The kit's one headline figure (issue 14, item 2): defined once (`okrsim.experiments.headline`),
and identical, to the rounding shown, in the demo's output, its report, notebook 00 and the
trainer guide."""

from __future__ import annotations

import functools
import html
import importlib.util
import math
from pathlib import Path

import nbformat
import numpy as np
import pytest

from okrsim.cli.main import main
from okrsim.experiments.headline import HEADLINE_POLICIES, HEADLINE_REPLICATIONS, HEADLINE_SEED, Headline, headline_comparison
from okrsim.experiments.statistics import paired

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location("headline_script", ROOT / "scripts" / "headline.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.cache
def _headlines() -> tuple[object, tuple[Headline, Headline]]:
    c = headline_comparison()
    return c, tuple(Headline.from_comparison(c, "quarterly_okr", base) for base in ("annual", "annual_gates"))


def test_the_headline_is_the_mean_paired_relative_advantage_with_its_ci_and_win_rate():
    """`Headline` states `statistics.paired` of total value, and says 'more' only when the
    absolute difference's CI is above zero."""
    rng = np.random.default_rng(3)
    base = rng.uniform(100, 200, 30)
    values = base * rng.uniform(1.0, 1.2, 30)
    h = Headline.from_values(values, base, "b", "a")
    stats = paired(values, base)
    assert (h.rel_mean, h.rel_ci_low, h.rel_ci_high, h.win_rate, h.mean_diff) == pytest.approx(
        (stats["rel_mean"], stats["rel_ci_low"], stats["rel_ci_high"], stats["win_rate"], stats["mean_diff"]))
    assert h.verdict == "more" and h.replications == 30
    assert h.figure == f"{stats['rel_mean']:+.1%} (95% CI {stats['rel_ci_low']:+.1%} to {stats['rel_ci_high']:+.1%})"
    assert h.sentence() == f"b delivers more total value than a: {h.figure}, better in 100% of 30 paired replications"
    assert Headline.from_values(base, values, "a", "b").verdict == "less"
    swing = np.repeat([5.0, -5.0], 15)  # paired differences with mean exactly zero
    tie = Headline.from_values(base + swing, base, "c", "a")
    assert tie.ci_low < 0 < tie.ci_high and tie.verdict == "no clearly different"
    assert Headline(*("x", "y", 3), *([math.nan] * 7)).figure == "n/a"


def test_the_headline_comparison_is_the_demos():
    """The demo's defaults are the headline comparison's settings."""
    assert (HEADLINE_POLICIES, HEADLINE_REPLICATIONS, HEADLINE_SEED) == (("annual", "annual_gates", "quarterly_okr"), 50, 1)
    c, _ = _headlines()
    assert [p.name for p in c.policies] == list(HEADLINE_POLICIES)
    assert (c.replications, c.seed, c.scenario.name) == (HEADLINE_REPLICATIONS, HEADLINE_SEED, "dynamic")


def test_the_headline_is_identical_in_demo_report_notebook_and_trainer_guide(tmp_path, capsys):
    c, headlines = _headlines()
    report = tmp_path / "demo.html"
    assert main(["demo", "--report", str(report)]) == 0
    printed = capsys.readouterr().out
    page = report.read_text()
    nb = nbformat.read(ROOT / "notebooks" / "00_start_here.ipynb", as_version=4)
    stored = "".join(o.get("text", "") for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", []))
    guide = (ROOT / "docs" / "trainer-guide.md").read_text()
    for h in headlines:
        sentence = h.sentence()
        assert sentence in printed, (sentence, printed)
        assert html.escape(sentence) in page or sentence in page
        assert sentence in stored, "notebook 00 is stale: rebuild it (scripts/build_notebooks.py 00)"
        assert sentence in guide
    # the value chart's title in the report states the same figure (the last policy against the first)
    assert headlines[0].figure in page
    assert _script().render(guide, c) == guide, "docs/trainer-guide.md is stale: run python scripts/headline.py"
