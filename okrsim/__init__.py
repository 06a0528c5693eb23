"""okrsim: does re-deciding the portfolio every quarter with OKRs beat a plan fixed once a year?

The public API: build a world (`Scenario`) and levers (`Policy`), `simulate` one run or
`compare` policies over paired replications with common random numbers; sweep, decompose
and find break-even points (`okrsim.sweep` and friends); draw (`okrsim.charts`) and explore
(`okrsim.Explorer`, imported on first use so that ``import okrsim`` stays light and free of
ipywidgets).
"""

from __future__ import annotations

import importlib
from typing import Any

from okrsim.compare import Comparison, compare
from okrsim.errors import ParameterError
from okrsim.kpis import KPIS, KpiSpec
from okrsim.model import simulate
from okrsim.params import POLICY_PRESETS, SCENARIO_PRESETS, Policy, Scenario, effect_levers, mix_effects
from okrsim.recorder import Run
from okrsim.registry import EFFECTS, REGISTRY, ParamSpec, lookup
from okrsim.streams import replication_seed

__version__ = "0.1.0"

#: Names imported on first access (they pull in altair, ipywidgets or dask).
_LAZY = {
    "charts": ("okrsim.charts", None),
    "checks": ("okrsim.checks", None),
    "Explorer": ("okrsim.widgets", "Explorer"),
    "notebook_setup": ("okrsim.notebook", "notebook_setup"),
    "Settings": ("okrsim.panels", "Settings"),
    "Panel": ("okrsim.panels", "Panel"),
    "build_panel": ("okrsim.panels", "build_panel"),
    "STORIES": ("okrsim.panels", "STORIES"),
    "comparison_report": ("okrsim.report", "comparison_report"),
    "sweep": ("okrsim.experiment", "sweep"),
    "SweepResult": ("okrsim.experiment", "SweepResult"),
    "open_results": ("okrsim.experiment", "open_results"),
    "load_results": ("okrsim.store", "load_results"),
    "Design": ("okrsim.design", "Design"),
    "Factor": ("okrsim.design", "Factor"),
    "full_grid": ("okrsim.design", "full_grid"),
    "latin_hypercube": ("okrsim.design", "latin_hypercube"),
    "sobol_design": ("okrsim.design", "sobol_design"),
    "morris_design": ("okrsim.design", "morris_design"),
    "explicit_points": ("okrsim.design", "explicit_points"),
    "sensitivity": ("okrsim.gsa", "sensitivity"),
    "sobol_analysis": ("okrsim.gsa", "sobol_analysis"),
    "sobol_interactions": ("okrsim.gsa", "sobol_interactions"),
    "morris_analysis": ("okrsim.gsa", "morris_analysis"),
    "decompose": ("okrsim.shapley", "decompose"),
    "Decomposition": ("okrsim.shapley", "Decomposition"),
    "breakeven": ("okrsim.thresholds", "breakeven"),
    "BreakEven": ("okrsim.thresholds", "BreakEven"),
    "advantage_map": ("okrsim.thresholds", "advantage_map"),
    "save_chart": ("okrsim.report", "save_chart"),
}

__all__ = [
    "EFFECTS",
    "KPIS",
    "POLICY_PRESETS",
    "REGISTRY",
    "SCENARIO_PRESETS",
    "STORIES",
    "BreakEven",
    "Comparison",
    "Decomposition",
    "Design",
    "Explorer",
    "Factor",
    "KpiSpec",
    "Panel",
    "ParamSpec",
    "ParameterError",
    "Policy",
    "Run",
    "Scenario",
    "Settings",
    "SweepResult",
    "__version__",
    "advantage_map",
    "breakeven",
    "build_panel",
    "charts",
    "checks",
    "compare",
    "comparison_report",
    "decompose",
    "effect_levers",
    "explicit_points",
    "full_grid",
    "latin_hypercube",
    "load_results",
    "lookup",
    "mix_effects",
    "morris_analysis",
    "morris_design",
    "notebook_setup",
    "open_results",
    "replication_seed",
    "save_chart",
    "sensitivity",
    "simulate",
    "sobol_analysis",
    "sobol_design",
    "sobol_interactions",
    "sweep",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = importlib.import_module(module)
        return value if attribute is None else getattr(value, attribute)
    raise AttributeError(f"module 'okrsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
