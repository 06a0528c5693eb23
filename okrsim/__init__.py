"""okrsim: does re-deciding the portfolio every quarter with OKRs beat a plan fixed once a year?

The public API: build a world (`Scenario`) and levers (`Policy`), `simulate` one run or
`compare` policies over paired replications with common random numbers.
"""

from okrsim.compare import Comparison, compare
from okrsim.errors import ParameterError
from okrsim.kpis import KPIS, KpiSpec
from okrsim.model import simulate
from okrsim.params import POLICY_PRESETS, SCENARIO_PRESETS, Policy, Scenario, effect_levers, mix_effects
from okrsim.recorder import Run
from okrsim.registry import EFFECTS, REGISTRY, ParamSpec, lookup
from okrsim.streams import replication_seed

__version__ = "0.1.0"

__all__ = [
    "EFFECTS",
    "KPIS",
    "POLICY_PRESETS",
    "REGISTRY",
    "SCENARIO_PRESETS",
    "Comparison",
    "KpiSpec",
    "ParamSpec",
    "ParameterError",
    "Policy",
    "Run",
    "Scenario",
    "__version__",
    "compare",
    "effect_levers",
    "lookup",
    "mix_effects",
    "replication_seed",
    "simulate",
]
