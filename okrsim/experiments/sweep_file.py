"""Sweep specification files (YAML or JSON) for ``okrsim sweep SPEC.yaml``.

A file names the base scenario, the policies, the design and the replications; it is the
record of an experiment that a paper's supplement can carry.  Example::

    scenario: dynamic                 # preset, file (relative to this file) or mapping: Scenario.coerce
    policies: [annual, quarterly_okr] # presets, files or mappings like a policy file: Policy.coerce
    design:
      method: lhs                     # grid | lhs | sobol | morris | points
      n: 64                           # lhs points; sobol base size (a power of two)
      seed: 1                         # sampling seed
      factors:
        market.shift_rate: [0, 6]     # [low, high]; null = the registry's range
        quarterly_okr.planning_cost: null
    replications: 10
    seed: 0

Every key is checked; an unknown one is an error naming the valid keys, so a typo cannot
silently fall back to a default.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from okrsim.core.errors import ParameterError
from okrsim.core.fileio import read_mapping
from okrsim.core.params import Policy, Scenario
from okrsim.core.registry import show
from okrsim.experiments.designs import Design, explicit_points, full_grid, latin_hypercube, morris_design, sobol_design

__all__ = ["design_from_dict", "read_sweep_file"]

_TOP = {"scenario", "policies", "design", "replications", "seed"}
_DESIGN_KEYS = {
    "grid": {"factors", "levels"},
    "lhs": {"factors", "n", "seed"},
    "sobol": {"factors", "n", "seed", "second_order"},
    "morris": {"factors", "trajectories", "levels", "seed"},
    "points": {"points"},
}


def _unknown(where: str, keys: set[str], valid: set[str]) -> None:
    extra = sorted(set(keys) - valid)
    if extra:
        raise ParameterError(f"{where}: unknown keys {extra}; valid keys are {', '.join(sorted(valid))}")


def design_from_dict(data: Mapping[str, Any] | None) -> Design | None:
    """A design from the ``design`` section of a sweep file (None: a single point)."""
    if data is None:
        return None
    if not isinstance(data, Mapping):
        raise ParameterError(f"design must be a mapping with a method; got {data!r}")
    data = dict(data)
    method = data.pop("method", None)
    if method not in _DESIGN_KEYS:
        raise ParameterError(f"design method = {method!r} must be one of {', '.join(_DESIGN_KEYS)}")
    _unknown(f"design ({method})", set(data), _DESIGN_KEYS[method])
    if method == "points":
        return explicit_points(data.get("points") or {})
    factors = data.get("factors")
    if not factors:
        raise ParameterError(f"a {method} design needs factors: {{parameter: [low, high] or null}}")
    if method == "grid":
        return full_grid(factors, levels=data.get("levels", 5))
    if method == "lhs":
        if "n" not in data:
            raise ParameterError("an lhs design needs n, the number of points")
        return latin_hypercube(factors, data["n"], seed=data.get("seed", 0))
    if method == "sobol":
        if "n" not in data:
            raise ParameterError("a sobol design needs n, the base sample size (a power of two, e.g. 64)")
        return sobol_design(factors, data["n"], seed=data.get("seed", 0), second_order=bool(data.get("second_order", False)))
    return morris_design(factors, data.get("trajectories", 10), levels=data.get("levels", 4), seed=data.get("seed", 0))


def read_sweep_file(path: str | Path) -> dict[str, Any]:
    """Arguments for `okrsim.experiments.sweeps.sweep` from a YAML or JSON file.

    Returns
    -------
    dict
        ``design``, ``scenario``, ``policies``, ``replications``, ``seed``.
    """
    path = Path(path)
    data = read_mapping(path, "sweep specification with scenario, policies, design, replications, seed")
    _unknown(str(path), set(data), _TOP)
    base_dir = path.parent
    policies = data.get("policies", ["annual", "quarterly_okr"])
    if not isinstance(policies, (str, list)):
        raise ParameterError(f"policies = {show(policies)} in {str(path)!r} must be a list of preset names, files or "
                             "mappings, baseline first")
    return {
        "design": design_from_dict(data.get("design")),
        # file names are relative to the sweep file; absolute paths stay
        "scenario": Scenario.coerce(data.get("scenario", "dynamic"), relative_to=base_dir),
        "policies": list(Policy.coerce_many(policies, relative_to=base_dir)),
        "replications": data.get("replications", 10),
        "seed": data.get("seed", 0),
    }
