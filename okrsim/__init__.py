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
    "save_chart": ("okrsim.report", "save_chart"),
}

__all__ = [
    "EFFECTS",
    "KPIS",
    "POLICY_PRESETS",
    "REGISTRY",
    "SCENARIO_PRESETS",
    "STORIES",
    "Comparison",
    "Explorer",
    "KpiSpec",
    "Panel",
    "ParamSpec",
    "ParameterError",
    "Policy",
    "Run",
    "Scenario",
    "Settings",
    "__version__",
    "build_panel",
    "charts",
    "checks",
    "compare",
    "comparison_report",
    "effect_levers",
    "lookup",
    "mix_effects",
    "notebook_setup",
    "replication_seed",
    "save_chart",
    "simulate",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = importlib.import_module(module)
        return value if attribute is None else getattr(value, attribute)
    raise AttributeError(f"module 'okrsim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
