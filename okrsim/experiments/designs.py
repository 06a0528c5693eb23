"""Experimental designs: which combinations of parameters a sweep runs.

A design is a table of points (one column per factor) plus the raw sample it was decoded
from.  The split follows exploratory modelling: factors are world uncertainties
(``market.shift_rate``) or policy levers (``policy.planning_cost`` for every policy,
``quarterly_okr.planning_cost`` for one), and samplers are interchangeable: a full grid,
a Latin hypercube, Saltelli's Sobol' sample and Morris trajectories all return the same
`Design`, so the same sweep, store and analyses work with each.

Bounds come from the parameter registry unless given, and given bounds are checked against
it, so a design can never ask the model for a value it would refuse half-way through a
long sweep.  Integer parameters are sampled on ``[low - 0.5, high + 0.5]`` and rounded, which
gives every integer the same chance; booleans are sampled on ``[0, 1]`` and thresholded at
0.5.  The raw sample is kept because SALib's estimators need it in its own order and scale.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from okrsim.core.errors import ParameterError
from okrsim.core.registry import POLICY_SECTION, SCENARIO_SECTIONS, ParamSpec, is_finite_number, lookup, show

__all__ = [
    "METHODS",
    "Design",
    "Factor",
    "explicit_points",
    "factor",
    "full_grid",
    "latin_hypercube",
    "morris_design",
    "resolve_key",
    "seed_value",
    "single_point",
    "sobol_design",
    "whole_number",
]

#: Design methods; ``sobol`` and ``morris`` designs can be analysed by `okrsim.experiments.sensitivity.sensitivity`.
METHODS: tuple[str, ...] = ("single", "points", "grid", "lhs", "sobol", "morris", "crossed")
#: Largest design a constructor builds; beyond it a typo (levels=50 on eight factors) is likelier than intent.
MAX_POINTS = 10_000_000
_KINDS = ("int", "float", "bool")


# ---------------------------------------------------------------------------------- factors
@dataclass(frozen=True)
class Factor:
    """One swept input: its name, kind and range (or explicit levels).

    Parameters
    ----------
    key : str
        Column name in results.  For the model, a registry key (``market.shift_rate``,
        ``policy.cadence_weeks``) or ``<policy name>.<lever>`` to change one policy only;
        `factor` builds such factors with the registry's kind and bounds.  Any name works for
        designs evaluated by other functions (the Ishigami check of the sensitivity pipeline).
    low, high : float
        Inclusive range.  For booleans 0 and 1.
    kind : {"float", "int", "bool"}
    values : tuple, optional
        Explicit levels for a grid; all within ``[low, high]``.
    """

    key: str
    low: float
    high: float
    kind: str = "float"
    values: tuple[Any, ...] | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.key, str) or not self.key:
            raise ParameterError(f"factor name = {self.key!r} must be a non-empty string")
        if self.kind not in _KINDS:
            raise ParameterError(f"factor {self.key}: kind = {self.kind!r} must be one of {', '.join(_KINDS)}")
        for name in ("low", "high"):
            v = getattr(self, name)
            if not is_finite_number(v):
                raise ParameterError(f"factor {self.key}: {name} = {show(v)} must be a finite number")
            object.__setattr__(self, name, float(v))
        if self.low > self.high:
            raise ParameterError(f"factor {self.key}: low = {self.low:g} must not exceed high = {self.high:g}")
        if self.kind == "int" and not (self.low.is_integer() and self.high.is_integer()):
            raise ParameterError(f"factor {self.key}: bounds [{self.low:g}, {self.high:g}] of an integer parameter "
                                 "must be whole numbers")
        if self.values is not None:
            vals = tuple(_coerce(self, v) for v in self.values)
            if not vals:
                raise ParameterError(f"factor {self.key}: values must list at least one level")
            if len(set(vals)) != len(vals):
                raise ParameterError(f"factor {self.key}: values {list(vals)} repeat a level")
            object.__setattr__(self, "values", vals)

    @property
    def sampling_bounds(self) -> tuple[float, float]:
        """Bounds of the raw sample (SALib's ``problem["bounds"]``): see the module docstring."""
        if self.kind == "int":
            return self.low - 0.5, self.high + 0.5
        return self.low, self.high

    def decode(self, raw: np.ndarray) -> np.ndarray:
        """Model values from raw sample values: rounded integers, thresholded booleans."""
        raw = np.asarray(raw, dtype=float)
        if self.kind == "bool":
            return raw >= 0.5
        if self.kind == "int":
            return np.clip(np.floor(raw + 0.5), self.low, self.high).astype(np.int64)
        return np.clip(raw, self.low, self.high)

    def grid(self, levels: int) -> tuple[Any, ...]:
        """Evenly spaced levels across the range (distinct integers, both booleans)."""
        if self.values is not None:
            return self.values
        if self.kind == "bool":
            return (False, True)
        raw = np.linspace(self.low, self.high, levels)
        vals = self.decode(raw).tolist()
        return tuple(dict.fromkeys(vals))  # ordered unique: integer grids may collapse

    def to_dict(self) -> dict[str, Any]:
        """Plain data for manifests and JSON."""
        out: dict[str, Any] = {"key": self.key, "low": self.low, "high": self.high, "kind": self.kind}
        if self.values is not None:
            out["values"] = list(self.values)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Factor:
        values = data.get("values")
        return cls(data["key"], data["low"], data["high"], data.get("kind", "float"),
                   tuple(values) if values is not None else None)


def _coerce(f: Factor, v: Any) -> Any:
    if f.kind == "bool":
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        raise ParameterError(f"factor {f.key}: level {v!r} must be true or false")
    if not is_finite_number(v):
        raise ParameterError(f"factor {f.key}: level {show(v)} must be a finite number in [{f.low:g}, {f.high:g}]")
    if f.kind == "int":
        if float(v) != int(v):
            raise ParameterError(f"factor {f.key}: level {v!r} must be a whole number")
        v = int(v)
    else:
        v = float(v)
    if not f.low <= v <= f.high:
        raise ParameterError(f"factor {f.key}: level {v!r} is outside [{f.low:g}, {f.high:g}]")
    return v


def resolve_key(key: str) -> tuple[ParamSpec, str | None]:
    """The registry entry behind a factor name and the policy it is scoped to, if any.

    ``market.shift_rate`` and ``policy.planning_cost`` resolve as usual (bare unique names
    too); ``quarterly_okr.planning_cost`` resolves to the lever ``policy.planning_cost``
    scoped to the policy named ``quarterly_okr``, so a sweep can price one policy's
    planning without touching the other's.
    """
    if not isinstance(key, str):
        raise ParameterError(f"factor name = {key!r} must be a string such as 'market.shift_rate'")
    section, dot, name = key.partition(".")
    if dot and section not in (*SCENARIO_SECTIONS, POLICY_SECTION):
        spec = None
        try:
            spec = lookup(f"{POLICY_SECTION}.{name}")
        except ParameterError:
            pass
        if spec is not None:
            return spec, section
    return lookup(key), None


def factor(key: str, bounds: Any = None) -> Factor:
    """A `Factor` for a model parameter, with kind and range checked against the registry.

    Parameters
    ----------
    key : str
        Registry key, unique bare name, or ``<policy>.<lever>``.
    bounds : None, (low, high), {"low": .., "high": ..}, {"values": [...]} or Factor
        ``None`` takes the registry's full valid range (false and true for booleans).

    Raises
    ------
    ParameterError
        Unknown parameter (with suggestions), a parameter that cannot be swept, or bounds or
        levels outside the registry's range: the message names all three.
    """
    if isinstance(bounds, Factor):
        f = bounds
        key = f.key
        bounds = {"values": list(f.values)} if f.values is not None else None if f.kind == "bool" else (f.low, f.high)
    spec, scope = resolve_key(key)
    name = spec.key if scope is None else f"{scope}.{spec.name}"
    if spec.kind == "shocks":
        raise ParameterError(f"{spec.key} (scheduled shocks) cannot be swept; sweep shift_rate or shift_share instead")
    low, high = (0.0, 1.0) if spec.kind == "bool" else (spec.low, spec.high)
    assert low is not None and high is not None
    values = None
    if bounds is None:
        pass
    elif isinstance(bounds, Mapping):
        unknown = set(bounds) - {"low", "high", "values"}
        if unknown or not bounds:
            raise ParameterError(f"{name}: bounds {dict(bounds)!r} must have keys low and high, or values")
        if "values" in bounds:
            if "low" in bounds or "high" in bounds:
                raise ParameterError(f"{name}: give either values or low/high, not both")
            raw = bounds["values"]
            if isinstance(raw, (str, bytes)) or not isinstance(raw, (Sequence, np.ndarray)):
                raise ParameterError(f"{name}: values = {raw!r} must be a list of levels")
            values = tuple(spec.validate(v) for v in raw)
        elif spec.kind == "bool":
            raise ParameterError(f"{name} is true or false: give no bounds, or {{'values': [false, true]}}")
        else:
            low, high = _bound(spec, name, bounds.get("low", low)), _bound(spec, name, bounds.get("high", high))
    elif isinstance(bounds, (Sequence, np.ndarray)) and not isinstance(bounds, (str, bytes)) and len(bounds) == 2:
        if spec.kind == "bool":
            raise ParameterError(f"{name} is true or false: give no bounds, or {{'values': [false, true]}}")
        low, high = _bound(spec, name, bounds[0]), _bound(spec, name, bounds[1])
    else:
        raise ParameterError(f"{name}: bounds = {bounds!r} must be null (registry range), [low, high] or {{values: [...]}}; "
                             f"valid is {spec.describe_range()}")
    if values is None and low >= high:
        raise ParameterError(f"{name}: bounds [{low:g}, {high:g}] are empty: low must be below high "
                             f"(valid is {spec.describe_range()})")
    return Factor(name, float(low), float(high), spec.kind, values)


def _bound(spec: ParamSpec, name: str, value: Any) -> float:
    try:
        return float(spec.validate(value))
    except ParameterError as exc:
        raise ParameterError(f"bounds of {name}: {exc}") from None


def _as_factors(factors: Any) -> tuple[Factor, ...]:
    """Normalise the ways a user lists factors; registry names are checked, free `Factor` objects kept."""
    if isinstance(factors, Factor):
        factors = [factors]
    if isinstance(factors, Mapping):
        items = list(factors.items())
    elif isinstance(factors, (str, bytes)) or not isinstance(factors, Sequence):
        raise ParameterError(f"factors = {factors!r} must be a mapping of parameter to bounds or a list of parameters")
    else:
        items = [(f.key, f) if isinstance(f, Factor) else (f, None) for f in factors]
    out = []
    for key, bounds in items:
        if isinstance(bounds, Factor):
            try:
                resolve_key(bounds.key)
            except ParameterError:
                out.append(bounds)  # a free factor, e.g. an input of a test function; sweeps refuse it
                continue
        out.append(factor(key, bounds))
    keys = [f.key for f in out]
    if len(set(keys)) != len(keys):
        dup = sorted({k for k in keys if keys.count(k) > 1})
        raise ParameterError(f"factors {dup} are listed more than once")
    return tuple(out)


# ---------------------------------------------------------------------------------- designs
@dataclass(frozen=True, eq=False)
class Design:
    """Points to run: factor values per point plus the raw sample they came from.

    Attributes
    ----------
    factors : tuple of Factor
    sample : ndarray, shape (n_points, n_factors)
        Raw sample in sampling scale and in the sampler's order (SALib needs both); for
        grids and explicit points the values themselves.
    method : str
        One of `METHODS`.
    options : dict
        Sampler settings (``n``, ``seed``, ``levels`` ...), recorded in the result store.
    """

    factors: tuple[Factor, ...]
    sample: np.ndarray
    method: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        sample = np.array(self.sample, dtype=float, copy=True)
        if sample.ndim != 2 or sample.shape[1] != len(self.factors) or sample.shape[0] < 1:
            raise ParameterError(f"design sample of shape {sample.shape} does not match {len(self.factors)} factors")
        sample.setflags(write=False)
        object.__setattr__(self, "sample", sample)
        object.__setattr__(self, "options", dict(self.options))
        if self.method not in METHODS:
            raise ParameterError(f"design method = {self.method!r} must be one of {', '.join(METHODS)}")

    def __len__(self) -> int:
        return self.sample.shape[0]

    def __repr__(self) -> str:
        return f"Design({self.method!r}, {len(self)} points, factors={list(self.keys)}, options={dict(self.options)})"

    @property
    def keys(self) -> tuple[str, ...]:
        """Factor names, in column order."""
        return tuple(f.key for f in self.factors)

    @cached_property
    def columns(self) -> dict[str, np.ndarray]:
        """Decoded model values per factor (read-only arrays, one entry per point)."""
        out = {}
        for j, f in enumerate(self.factors):
            col = f.decode(self.sample[:, j])
            col.setflags(write=False)
            out[f.key] = col
        return out

    def point(self, i: int) -> dict[str, Any]:
        """Values of point `i` as plain Python scalars, ready for `Scenario.replace`."""
        return {k: col[i].item() for k, col in self.columns.items()}

    def frame(self) -> pd.DataFrame:
        """One row per point: ``point`` and one column per factor."""
        return pd.DataFrame({"point": np.arange(len(self), dtype=np.int64), **self.columns})

    @property
    def problem(self) -> dict[str, Any]:
        """The SALib problem dictionary of this design."""
        return {"num_vars": len(self.factors), "names": list(self.keys),
                "bounds": [list(f.sampling_bounds) for f in self.factors]}

    def cross(self, other: Design) -> Design:
        """Every point of this design combined with every point of `other` (EMA-style
        scenarios x policies); this design's points vary slowest."""
        if set(self.keys) & set(other.keys):
            raise ParameterError(f"cannot cross designs that share factors {sorted(set(self.keys) & set(other.keys))}")
        n, m = len(self), len(other)
        _check_size(n * m)
        sample = np.hstack([np.repeat(self.sample, m, axis=0), np.tile(other.sample, (n, 1))])
        return Design(self.factors + other.factors, sample, "crossed",
                      {"designs": [self.describe(), other.describe()]})

    def describe(self) -> dict[str, Any]:
        """Method, options and factors as plain data (without the sample)."""
        return {"method": self.method, "options": dict(self.options), "factors": [f.to_dict() for f in self.factors]}

    def fingerprint(self) -> str:
        """Hash of the whole design; a stored sweep only resumes the identical design."""
        h = hashlib.sha256(json.dumps(self.describe(), sort_keys=True, default=str).encode())
        h.update(np.ascontiguousarray(self.sample).tobytes())
        h.update(str(self.sample.shape).encode())
        return h.hexdigest()


def _check_size(n: int) -> None:
    if n > MAX_POINTS:
        raise ParameterError(f"the design would have {n:,} points, more than {MAX_POINTS:,}; use fewer levels or factors")


def whole_number(name: str, value: Any, minimum: int) -> int:
    """`value` as an int, or a `ParameterError` naming `name` (counts, sizes, levels)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParameterError(f"{name} = {show(value)} must be a whole number of at least {minimum}")
    if value > 2**53:  # beyond any feasible count, and beyond numpy's int64 arithmetic
        raise ParameterError(f"{name} = {show(value)} is too large: valid is a whole number in [{minimum}, 2^53]")
    return int(value)


def seed_value(name: str, seed: Any) -> int:
    """A seed as an int in [0, 2^63): what Parquet's int64 columns and SALib both accept."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise ParameterError(f"{name} = {show(seed)} must be a whole number in [0, 2^63)")
    return int(seed)


def _need_factors(fs: tuple[Factor, ...], method: str) -> None:
    if not fs:
        raise ParameterError(f"a {method} design needs at least one factor")


def single_point() -> Design:
    """The design with one point and no factors: a sweep of policies and replications only."""
    return Design((), np.zeros((1, 0)), "single")


def explicit_points(points: pd.DataFrame | Mapping[str, Sequence[Any]]) -> Design:
    """Points chosen by hand: a frame or mapping with one column per parameter, one row per point."""
    frame = pd.DataFrame(points)
    if frame.empty or len(frame.columns) == 0:
        raise ParameterError("explicit points need at least one row and one parameter column")
    _check_size(len(frame))
    fs, cols = [], []
    for key in frame.columns:
        base = factor(str(key))
        spec, _ = resolve_key(base.key)
        col = [spec.validate(v.item() if hasattr(v, "item") else v) for v in frame[key].tolist()]
        cols.append([float(v) for v in col])
        fs.append(Factor(base.key, base.low, base.high, base.kind, tuple(dict.fromkeys(col))))
    return Design(tuple(fs), np.array(cols, dtype=float).T, "points", {"n": len(frame)})


def full_grid(factors: Any, levels: int | Mapping[str, int] = 5) -> Design:
    """Every combination of `levels` evenly spaced values per factor (the first varies slowest).

    Parameters
    ----------
    factors : mapping or list
        ``{"market.shift_rate": (0, 6), "policy.retrospectives": None, "policy.cadence_weeks":
        {"values": [52, 26, 13]}}`` or a list of keys (registry ranges).
    levels : int or mapping
        Levels per factor (ignored for explicit values and booleans).
    """
    fs = _as_factors(factors)
    _need_factors(fs, "grid")
    per = {f.key: (levels.get(f.key, 5) if isinstance(levels, Mapping) else levels) for f in fs}
    for k, v in per.items():
        whole_number(f"levels of {k}", v, 1)
    axes = [f.grid(per[f.key]) for f in fs]
    _check_size(math.prod(len(a) for a in axes))
    sample = np.array([[float(v) for v in combo] for combo in itertools.product(*axes)], dtype=float)
    return Design(fs, sample, "grid", {"levels": per})


def latin_hypercube(factors: Any, n: int, seed: int = 0) -> Design:
    """`n` points by Latin hypercube sampling (SALib), each factor stratified into `n` bins."""
    from SALib.sample import latin

    fs = _as_factors(factors)
    _need_factors(fs, "Latin hypercube")
    n = whole_number("n (Latin hypercube points)", n, 1)
    _check_size(n)
    seed = seed_value("design seed", seed)
    sample = latin.sample(_problem(fs), n, seed=seed)
    return Design(fs, sample, "lhs", {"n": n, "seed": seed})


def sobol_design(factors: Any, n: int, seed: int = 0, second_order: bool = False) -> Design:
    """Saltelli's extension of the Sobol' sequence (SALib), for `okrsim.experiments.sensitivity.sensitivity`.

    Parameters
    ----------
    n : int
        Base sample size, a power of two (the sequence's balance properties, and so the
        estimators' convergence, need it).  The design has ``n * (d + 2)`` points for `d`
        factors, or ``n * (2d + 2)`` with `second_order`.
    seed : int
        Seed of the scrambling, recorded with the design.
    """
    from SALib.sample import sobol

    fs = _as_factors(factors)
    _need_factors(fs, "Sobol")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2 or (int(n) & (int(n) - 1)):
        if isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 2:
            lower = 2 ** int(math.log2(n))
            hint = f"try {lower} or {2 * lower}"
        else:
            hint = "e.g. 64, 128 or 256"
        raise ParameterError(f"Sobol base sample size n = {n!r} must be a power of two of at least 2 "
                             f"(the Sobol' sequence is balanced only then); {hint}")
    n = int(n)
    d = len(fs)
    _check_size(n * (2 * d + 2 if second_order else d + 2))
    seed = seed_value("design seed", seed)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a SALib or scipy warning about the sample is an error here
        sample = sobol.sample(_problem(fs), n, calc_second_order=bool(second_order), seed=seed)
    return Design(fs, sample, "sobol", {"n": n, "seed": seed, "second_order": bool(second_order)})


def morris_design(factors: Any, trajectories: int = 10, levels: int = 4, seed: int = 0) -> Design:
    """Morris one-at-a-time trajectories (SALib), for screening many factors cheaply.

    The design has ``trajectories * (d + 1)`` points for `d` factors.
    """
    from SALib.sample import morris

    fs = _as_factors(factors)
    _need_factors(fs, "Morris")
    trajectories = whole_number("Morris trajectories", trajectories, 2)
    levels = whole_number("Morris levels", levels, 2)
    if levels % 2:
        raise ParameterError(f"Morris levels = {levels} must be even (4 is usual) so that steps are symmetric")
    _check_size(trajectories * (len(fs) + 1))
    seed = seed_value("design seed", seed)
    sample = morris.sample(_problem(fs), trajectories, num_levels=levels, seed=seed)
    return Design(fs, sample, "morris", {"trajectories": trajectories, "levels": levels, "seed": seed})


def _problem(fs: tuple[Factor, ...]) -> dict[str, Any]:
    return {"num_vars": len(fs), "names": [f.key for f in fs], "bounds": [list(f.sampling_bounds) for f in fs]}
