"""Global sensitivity analysis of sweep outcomes (SALib): Sobol' indices and Morris screening.

Which world parameters and levers drive the advantage of quarterly OKR cycles, and which do
not matter?  Sobol' indices split the variance of an outcome across factors: ``S1`` is the
share a factor explains alone, ``ST`` the share including all its interactions.  Morris
screening ranks many factors with few runs: ``mu_star`` is the mean absolute elementary
effect (the change of the outcome for a step of ``1 / (levels - 1)`` of a factor's range,
per unit of that step), ``sigma`` its spread (non-linearity or interactions).

The functions on arrays (`sobol_analysis`, `morris_analysis`) work for any model, which is
how the test suite checks the pipeline against the Ishigami function's analytic indices
before it is trusted on the simulation.  `sensitivity` reduces a sweep to one value per
design point (the mean over replications; replications share random numbers across
points) and analyses that.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from okrsim.core.errors import ParameterError
from okrsim.experiments.designs import Design, seed_value
from okrsim.experiments.outcomes import parse_output, point_means

if TYPE_CHECKING:
    from okrsim.experiments.sweeps import SweepResult

__all__ = ["MORRIS_COLUMNS", "SOBOL2_COLUMNS", "SOBOL_COLUMNS", "morris_analysis", "sensitivity", "sensitivity_tables",
           "sobol_analysis", "sobol_interactions"]

SOBOL_COLUMNS = ("output", "parameter", "S1", "S1_conf", "ST", "ST_conf")
SOBOL2_COLUMNS = ("output", "parameter", "other", "S2", "S2_conf")
MORRIS_COLUMNS = ("output", "parameter", "mu_star", "mu_star_conf", "sigma")


def _check(design: Design, outputs: Mapping[str, np.ndarray], method: str, conf_level: float,
           resamples: int, seed: int) -> dict[str, np.ndarray]:
    if not isinstance(design, Design) or design.method != method:
        got = design.method if isinstance(design, Design) else type(design).__name__
        maker = "sobol_design" if method == "sobol" else "morris_design"
        raise ParameterError(f"{method} analysis needs a design from okrsim.experiments.designs.{maker}; got {got!r}")
    if not isinstance(conf_level, float) or not 0 < conf_level < 1:
        raise ParameterError(f"conf_level = {conf_level!r} must be a number strictly between 0 and 1")
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 10:
        raise ParameterError(f"resamples = {resamples!r} must be a whole number of at least 10")
    seed_value("seed", seed)
    if not outputs:
        raise ParameterError("give at least one output to analyse")
    out = {}
    for name, y in outputs.items():
        y = np.asarray(y, dtype=float).ravel()
        if len(y) != len(design):
            raise ParameterError(f"output {name!r} has {len(y)} values; the design has {len(design)} points")
        bad = np.flatnonzero(~np.isfinite(y))
        if len(bad):
            raise ParameterError(f"output {name!r} is undefined (NaN) at {len(bad)} design points, e.g. {bad[:5].tolist()}; "
                                 "choose a KPI defined in every run, or more replications")
        out[name] = y
    return out


def sobol_analysis(design: Design, outputs: Mapping[str, np.ndarray], *, conf_level: float = 0.95,
                   resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """First-order and total Sobol' indices of each output, with bootstrap confidence.

    Parameters
    ----------
    design : Design
        From `okrsim.experiments.designs.sobol_design`.
    outputs : mapping of str to ndarray
        One value per design point, in design order.
    conf_level : float
        Confidence level of ``S1_conf`` and ``ST_conf`` (half-widths).
    resamples : int
        Bootstrap resamples for the confidence half-widths.
    seed : int
        Seed of the bootstrap (results are reproducible).

    Returns
    -------
    DataFrame
        ``output``, ``parameter``, ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.
    """
    return _sobol_tables(design, outputs, conf_level, resamples, seed)[0]


def sobol_interactions(design: Design, outputs: Mapping[str, np.ndarray], *, conf_level: float = 0.95,
                       resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Second-order Sobol' indices: the share of variance two factors explain together
    beyond what each explains alone.

    ``ST - S1`` tells that a factor interacts, not with which; ``S2`` names the partner.  It
    needs a design sampled for it (``sobol_design(..., second_order=True)``, about twice the
    runs), because SALib estimates each pair from extra cross-sampled matrices.

    Returns
    -------
    DataFrame
        ``output, parameter, other, S2, S2_conf``: one row per output and unordered pair of
        factors (``parameter`` before ``other`` in design order).
    """
    _require_second_order(design)
    pairs = _sobol_tables(design, outputs, conf_level, resamples, seed)[1]
    assert pairs is not None
    return pairs


def _require_second_order(design: Design) -> None:
    if not (isinstance(design, Design) and design.method == "sobol" and design.options.get("second_order", False)):
        got = design.method if isinstance(design, Design) else type(design).__name__
        raise ParameterError(f"second-order Sobol' indices need a design sampled for them, "
                             f"sobol_design(..., second_order=True) (okrsim sensitivity --second-order); got {got!r} "
                             "without second-order samples")


def _sobol_tables(design: Design, outputs: Mapping[str, np.ndarray], conf_level: float, resamples: int,
                  seed: int) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """First-order and total indices, and the pair indices where the design has them, from one
    SALib analysis per output (its bootstrap is the costly part)."""
    from SALib.analyze import sobol

    ys = _check(design, outputs, "sobol", conf_level, resamples, seed)
    second = bool(design.options.get("second_order", False))
    keys = design.keys
    rows, pairs = [], []
    for name, y in ys.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            # SALib treats seed 0 as "no seed" and would draw from numpy's global state
            si = sobol.analyze(design.problem, y, calc_second_order=second, num_resamples=resamples,
                               conf_level=conf_level, seed=seed + 1)
        for j, key in enumerate(keys):
            rows.append({"output": name, "parameter": key, "S1": float(si["S1"][j]), "S1_conf": float(si["S1_conf"][j]),
                         "ST": float(si["ST"][j]), "ST_conf": float(si["ST_conf"][j])})
        if second:
            pairs += [{"output": name, "parameter": keys[i], "other": keys[j], "S2": float(si["S2"][i, j]),
                       "S2_conf": float(si["S2_conf"][i, j])} for i in range(len(keys)) for j in range(i + 1, len(keys))]
    return (pd.DataFrame(rows, columns=list(SOBOL_COLUMNS)),
            pd.DataFrame(pairs, columns=list(SOBOL2_COLUMNS)) if second else None)


def morris_analysis(design: Design, outputs: Mapping[str, np.ndarray], *, conf_level: float = 0.95,
                    resamples: int = 1000, seed: int = 0) -> pd.DataFrame:
    """Morris screening of each output: ``mu_star`` with confidence, and ``sigma``.

    Returns
    -------
    DataFrame
        ``output``, ``parameter``, ``mu_star``, ``mu_star_conf``, ``sigma``.
    """
    from SALib.analyze import morris

    ys = _check(design, outputs, "morris", conf_level, resamples, seed)
    rows = []
    for name, y in ys.items():
        si = morris.analyze(design.problem, np.asarray(design.sample, dtype=float), y, num_resamples=resamples,
                            conf_level=conf_level, num_levels=int(design.options["levels"]), seed=seed + 1)
        for j, key in enumerate(design.keys):
            rows.append({"output": name, "parameter": key, "mu_star": float(si["mu_star"][j]),
                         "mu_star_conf": float(si["mu_star_conf"][j]), "sigma": float(si["sigma"][j])})
    return pd.DataFrame(rows, columns=list(MORRIS_COLUMNS))


def sensitivity(result: SweepResult, outputs: Sequence[str] | str = ("advantage",), *, conf_level: float = 0.95,
                resamples: int = 1000, seed: int | None = None, second_order: bool = False) -> pd.DataFrame:
    """Sobol' indices or Morris screening of a finished sweep, chosen by its design.

    Parameters
    ----------
    result : SweepResult
        A complete sweep over a `sobol_design` or `morris_design`.
    outputs : str or sequence of str
        ``"advantage"`` (paired advantage of the last policy over the first on total_value),
        ``"advantage:KPI"``, ``"POLICY:KPI"`` or ``"KPI"`` (the last policy's).
    seed : int, optional
        Bootstrap seed; defaults to the sweep's seed.
    second_order : bool
        Return the second-order Sobol' indices of pairs of factors instead (`sobol_interactions`;
        the sweep's design must be sampled with ``second_order=True``).

    Returns
    -------
    DataFrame
        Sobol: ``output, parameter, S1, S1_conf, ST, ST_conf``; Morris: ``output, parameter,
        mu_star, mu_star_conf, sigma``; with `second_order`: ``output, parameter, other, S2,
        S2_conf``.
    """
    frame, pairs = sensitivity_tables(result, outputs, conf_level=conf_level, resamples=resamples, seed=seed,
                                      second_order=second_order)
    if second_order:
        assert pairs is not None
        return pairs
    return frame


def sensitivity_tables(result: SweepResult, outputs: Sequence[str] | str = ("advantage",), *, conf_level: float = 0.95,
                       resamples: int = 1000, seed: int | None = None,
                       second_order: bool = False) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """`sensitivity` and, with `second_order`, the pair indices too, from one read of the store
    and one analysis (what ``okrsim sensitivity --second-order`` prints); the pairs are None
    without `second_order`."""
    design = result.design
    if design.method not in ("sobol", "morris"):
        raise ParameterError(f"sensitivity needs a sweep over a sobol_design or morris_design; this one is {design.method!r}")
    if second_order:
        _require_second_order(design)
    if not result.complete:
        raise ParameterError(f"the sweep is incomplete ({result.computed_runs + result.reused_runs} of {result.n_runs} "
                             "runs); run it again to resume, then analyse")
    specs = [parse_output(o, result.policies) for o in ([outputs] if isinstance(outputs, str) else outputs)]
    columns = ["point", "policy", "replication", *dict.fromkeys(s.kpi for s in specs)]
    frame = result.frame(columns=columns)
    ys = {s.name: point_means(frame, s, len(design)) for s in specs}
    seed = result.spec.seed if seed is None else seed
    if design.method == "morris":
        return morris_analysis(design, ys, conf_level=conf_level, resamples=resamples, seed=seed), None
    first, pairs = _sobol_tables(design, ys, conf_level, resamples, seed)
    return first, pairs if second_order else None
