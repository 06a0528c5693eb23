"""Write a PNG of every chart function to docs/figures/ (the gallery of docs/charts.md).

Every figure is a real model result: the comparison charts come from paired replications of
the ``dynamic`` and ``disruption`` scenarios, the decomposition, break-even and sensitivity
charts from the experiments layer on small designs (so the script runs in about a minute on
2 cores; their confidence intervals say how small).  Usage:

    python scripts/make_figures.py [--out docs/figures] [--quick]

``--quick`` uses fewer replications and design points (for CI smoke runs).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from okrsim import charts
from okrsim.views.panels import STORIES, build_panel
from okrsim.views.report import save_chart

ROOT = Path(__file__).resolve().parents[1]


def _quiet(**kw: Any) -> dict[str, Any]:
    return {"progress": False, "executor": "serial", **kw}


def experiment_frames(quick: bool) -> dict[str, Callable[[], pd.DataFrame]]:
    """Frames of the experiments layer, computed lazily (each is a small real experiment)."""
    from okrsim.experiments.decomposition import decompose
    from okrsim.experiments.designs import morris_design, sobol_design
    from okrsim.experiments.sensitivity import sensitivity
    from okrsim.experiments.sweeps import sweep
    from okrsim.experiments.thresholds import advantage_map, breakeven

    reps = 3 if quick else 10
    factors = {"market.shift_rate": (0.0, 6.0), "portfolio.estimation_noise": (0.0, 1.5),
               "quarterly_okr.planning_cost": (0.0, 3.0), "organisation.n_teams": (4, 16)}
    return {
        "decomposition": lambda: decompose(replications=reps, **_quiet()).frame,
        "breakeven": lambda: breakeven("quarterly_okr.planning_cost", bounds=(0.0, 4.0), points=5 if quick else 7,
                                       scenario="mature", replications=reps, **_quiet()).frame,
        "breakeven_map": lambda: advantage_map("market.shift_rate", "quarterly_okr.planning_cost",
                                               x_bounds=(0.0, 4.0), y_bounds=(0.0, 4.0), points=(3, 3) if quick else (5, 5),
                                               scenario="mature", replications=max(2, reps // 2), **_quiet()),
        "sobol": lambda: sensitivity(sweep(sobol_design(factors, n=4 if quick else 16, seed=1), "dynamic",
                                           replications=1, **_quiet())),
        "morris": lambda: sensitivity(sweep(morris_design(factors, trajectories=3 if quick else 8, seed=1), "dynamic",
                                            replications=1, **_quiet())),
    }


def figures(quick: bool) -> dict[str, Callable[[], Any]]:
    """Every chart function, each with the data it is shown on."""
    reps = 5 if quick else 30
    dynamic = build_panel(STORIES["default"].settings(replications=reps))
    disruption = build_panel(STORIES["disruption"].settings(replications=reps))
    exp = experiment_frames(quick)
    return {
        "value_over_time": lambda: charts.value_over_time(dynamic.timeline, dynamic.market),
        "capacity_by_theme": lambda: charts.capacity_by_theme(disruption.themes),
        "advantage": lambda: charts.advantage(dynamic.runs, "total_value"),
        "kpi_comparison": lambda: charts.kpi_comparison(dynamic.paired, "annual"),
        "shock_response": lambda: charts.shock_response(disruption.timeline, disruption.market, kinds=("shock",)),
        "okr_scorecards": lambda: charts.okr_scorecards(dynamic.scorecards),
        "learning_curve": lambda: charts.learning_curve(dynamic.cycles),
        "decomposition_waterfall": lambda: charts.decomposition_waterfall(exp["decomposition"]()),
        "breakeven_curve": lambda: charts.breakeven_curve(exp["breakeven"]()),
        "breakeven_map": lambda: charts.breakeven_map(exp["breakeven_map"]()),
        "sensitivity_sobol": lambda: charts.sensitivity_indices(exp["sobol"]()),
        "sensitivity_morris": lambda: charts.sensitivity_indices(exp["morris"]()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "figures"), help="folder for the PNGs")
    parser.add_argument("--quick", action="store_true", help="fewer replications and design points")
    args = parser.parse_args(argv)
    out = Path(args.out)
    t0 = time.perf_counter()
    for name, make in figures(args.quick).items():
        chart = make()
        path = save_chart(chart, out / f"{name}.png")
        print(f"{path}: {chart.to_dict()['title']['text']}")
    print(f"{len(list(out.glob('*.png')))} figures in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
