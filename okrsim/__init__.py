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

from okrsim.core.errors import ParameterError
from okrsim.core.params import POLICY_PRESETS, SCENARIO_PRESETS, Policy, Scenario, effect_levers, mix_effects
from okrsim.core.registry import EFFECTS, REGISTRY, ParamSpec, lookup
from okrsim.core.streams import replication_seed
from okrsim.core.version import __version__
from okrsim.experiments.comparison import Comparison, compare
from okrsim.model.kpis import KPIS, KpiSpec
from okrsim.model.run import Run
from okrsim.model.simulation import simulate

#: Names imported on first access (they pull in altair, ipywidgets or dask).
_LAZY = {
    "charts": ("okrsim.views.charts", None),
    "checks": ("okrsim.teaching.checks", None),
    "Explorer": ("okrsim.views.explorer", "Explorer"),
    "notebook_setup": ("okrsim.views.notebook", "notebook_setup"),
    "Settings": ("okrsim.views.panels", "Settings"),
    "Panel": ("okrsim.views.panels", "Panel"),
    "build_panel": ("okrsim.views.panels", "build_panel"),
    "STORIES": ("okrsim.views.panels", "STORIES"),
    "comparison_report": ("okrsim.views.report", "comparison_report"),
    "sweep": ("okrsim.experiments.sweeps", "sweep"),
    "SweepResult": ("okrsim.experiments.sweeps", "SweepResult"),
    "open_results": ("okrsim.experiments.sweeps", "open_results"),
    "load_results": ("okrsim.experiments.store", "load_results"),
    "Design": ("okrsim.experiments.designs", "Design"),
    "Factor": ("okrsim.experiments.designs", "Factor"),
    "full_grid": ("okrsim.experiments.designs", "full_grid"),
    "latin_hypercube": ("okrsim.experiments.designs", "latin_hypercube"),
    "sobol_design": ("okrsim.experiments.designs", "sobol_design"),
    "morris_design": ("okrsim.experiments.designs", "morris_design"),
    "explicit_points": ("okrsim.experiments.designs", "explicit_points"),
    "sensitivity": ("okrsim.experiments.sensitivity", "sensitivity"),
    "sobol_analysis": ("okrsim.experiments.sensitivity", "sobol_analysis"),
    "sobol_interactions": ("okrsim.experiments.sensitivity", "sobol_interactions"),
    "morris_analysis": ("okrsim.experiments.sensitivity", "morris_analysis"),
    "decompose": ("okrsim.experiments.decomposition", "decompose"),
    "Decomposition": ("okrsim.experiments.decomposition", "Decomposition"),
    "breakeven": ("okrsim.experiments.thresholds", "breakeven"),
    "BreakEven": ("okrsim.experiments.thresholds", "BreakEven"),
    "advantage_map": ("okrsim.experiments.thresholds", "advantage_map"),
    "save_chart": ("okrsim.views.report", "save_chart"),
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
