"""Command-line subcommands for researchers: sweep, sensitivity, decompose, breakeven.

`okrsim.cli` imports this module and calls `register`.  Every command validates its input
before running anything (bad input: one line on stderr, exit status 2, nothing written),
takes ``--workers N`` (local processes) or ``--scheduler ADDRESS`` (a dask cluster), shows a
progress bar on a terminal (``--no-progress`` to silence it) and prints JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

import pandas as pd

from okrsim.cli.main import add_world_options, policies_from_args
from okrsim.core.errors import ParameterError
from okrsim.core.values import parse_value

__all__ = ["register"]


# ---------------------------------------------------------------------------------- helpers
def _clean(x: Any) -> Any:
    """JSON-safe: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _print_json(data: Any) -> None:
    print(json.dumps(_clean(data), indent=2, allow_nan=False))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [_clean(r) for r in frame.to_dict(orient="records")]


def _table(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False, float_format=lambda v: f"{v:.4g}")


def _add_execution(p: argparse.ArgumentParser, store_help: str) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, metavar="N",
                       help="local worker processes (default: all cores; 1 runs in this process)")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="dask scheduler address, e.g. tcp://10.0.0.5:8786 (workers need okrsim installed)")
    p.add_argument("--out", metavar="DIR", help=store_help)
    p.add_argument("--batch-runs", type=int, metavar="N", help="runs per task (default: automatic, at most 64)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="give up when no batch finishes for this long")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (default: shown on a terminal)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def _execution(args: argparse.Namespace) -> dict[str, Any]:
    if args.workers is not None and args.workers < 1:
        raise ParameterError(f"--workers {args.workers} must be at least 1")
    return {
        "executor": args.scheduler if args.scheduler else "processes",
        "workers": args.workers,
        "out": args.out,
        "batch_runs": args.batch_runs,
        "timeout": args.timeout,
        "progress": not args.no_progress and sys.stderr.isatty(),
    }


def _range(text: str | None, flag: str) -> tuple[Any, Any] | None:
    """``LOW:HIGH`` as two numbers, read by the one value parser (`parse_value`); the factor checks the range."""
    if text is None:
        return None
    lo, sep, hi = text.partition(":")
    bounds = (parse_value(lo.strip()), parse_value(hi.strip()))
    if not sep or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds):
        raise ParameterError(f"{flag} {text!r} must look like LOW:HIGH, e.g. 0:6")
    return bounds


def _values(text: str | None, flag: str) -> list[Any] | None:
    if text is None:
        return None
    out = []
    for part in text.split(","):
        value = parse_value(part.strip())
        if not isinstance(value, (int, float)):  # bool is an int
            raise ParameterError(f"{flag} {text!r} must be comma-separated numbers or true/false")
        out.append(value)
    return out


def _two(policies: list[Any], command: str) -> None:
    if len(policies) != 2:
        raise ParameterError(f"okrsim {command} compares two policies, base then target: "
                             f"--policies annual,quarterly_okr; got {[p.name for p in policies]}")


# ---------------------------------------------------------------------------------- commands
def cmd_sweep(args: argparse.Namespace) -> int:
    from okrsim.experiments.sweep_file import read_sweep_file
    from okrsim.experiments.sweeps import sweep

    if not args.out:
        raise ParameterError("okrsim sweep needs --out DIR, the result store (resumable)")
    inputs = read_sweep_file(args.spec)
    res = sweep(**inputs, **_execution(args))
    if args.json:
        _print_json(res.summary())
    else:
        print(f"{res.computed_runs} runs computed, {res.reused_runs} reused from {res.path}, "
              f"{res.seconds:.1f} s on {res.executor}; load with okrsim.load_results({str(res.path)!r})")
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from okrsim.experiments.designs import factor, morris_design, sobol_design
    from okrsim.experiments.sensitivity import sensitivity_tables
    from okrsim.experiments.sweeps import sweep

    scenario, policies = policies_from_args(args)
    if not args.factor:
        raise ParameterError("okrsim sensitivity needs at least one --factor KEY[=LOW:HIGH]")
    factors = []
    for text in args.factor:
        key, sep, rng = text.partition("=")
        factors.append(factor(key.strip(), _range(rng, f"--factor {key}") if sep else None))
    if args.method == "sobol":
        design = sobol_design(factors, args.n, seed=args.sample_seed, second_order=args.second_order)
    else:
        if args.second_order:
            raise ParameterError("--second-order needs --method sobol (Morris screening has no pair indices)")
        design = morris_design(factors, args.trajectories, levels=args.levels, seed=args.sample_seed)
    outputs = args.output or ["advantage"]
    from okrsim.experiments.outcomes import parse_output

    for o in outputs:  # before the sweep: a typo in an output must not cost the runs
        parse_output(o, [p.name for p in policies])
    res = sweep(design, scenario, policies, args.replications, args.seed, **_execution(args))
    frame, pairs = sensitivity_tables(res, outputs, second_order=args.second_order)
    if args.json:
        extra = {"interactions": _records(pairs)} if pairs is not None else {}
        _print_json({"method": args.method, "sweep": res.summary(), "indices": _records(frame), **extra})
    else:
        print(f"{args.method} sensitivity, {len(design)} design points x {len(policies)} policies x "
              f"{args.replications} replications ({res.seconds:.1f} s)\n")
        print(_table(frame))
        if pairs is not None:
            print("\nsecond order (S2: variance two factors explain together beyond each alone)\n")
            print(_table(pairs))
    return 0


def cmd_decompose(args: argparse.Namespace) -> int:
    from okrsim.experiments.decomposition import decompose

    scenario, policies = policies_from_args(args)
    _two(policies, "decompose")
    d = decompose(scenario, policies[0], policies[1], kpi_name=args.kpi, replications=args.replications,
                  seed=args.seed, **_execution(args))
    if args.json:
        _print_json({"scenario": scenario.name, "kpi": d.kpi, "base": d.base, "target": d.target,
                     "replications": args.replications, "seed": args.seed,
                     "total": {"advantage": d.total, "ci_low": d.total_ci_low, "ci_high": d.total_ci_high},
                     "effects": _records(d.frame), "coalitions": _records(d.coalitions), "sweep": d.sweep.summary()})
    else:
        print(f"Shapley decomposition of the advantage of {d.target} over {d.base} on {d.kpi}, scenario "
              f"{scenario.name!r}, {args.replications} replications, seed {args.seed}\n")
        print(_table(d.frame))
        print("\ncontribution: mean Shapley value [95% CI]; alone: only this effect switched on; "
              "last: only this effect switched off again")
    return 0


def cmd_breakeven(args: argparse.Namespace) -> int:
    from okrsim.experiments.thresholds import advantage_map, breakeven

    scenario, policies = policies_from_args(args)
    _two(policies, "breakeven")
    common = {"scenario": scenario, "policies": policies, "kpi_name": args.kpi, "replications": args.replications,
              "seed": args.seed, **_execution(args)}
    if args.y_parameter is None:
        be = breakeven(args.parameter, _values(args.values, "--values"), bounds=_range(args.range, "--range"),
                       points=args.points, **common)
        if args.json:
            _print_json({**be.to_dict(), "sweep": be.sweep.summary() if be.sweep else None})
        else:
            print(_table(be.frame))
            print(f"\n{be.message}")
        return 0
    frame = advantage_map(args.parameter, args.y_parameter,
                          x_values=_values(args.values, "--values"), y_values=_values(args.y_values, "--y-values"),
                          x_bounds=_range(args.range, "--range"), y_bounds=_range(args.y_range, "--y-range"),
                          points=(args.points, args.y_points), **common)
    if args.json:
        _print_json({"kpi": args.kpi, "base": policies[0].name, "target": policies[1].name, "map": _records(frame)})
    else:
        grid = frame.pivot(index="y", columns="x", values="advantage").sort_index(ascending=False)
        print(f"advantage of {policies[1].name} over {policies[0].name} on {args.kpi}: rows {args.y_parameter}, "
              f"columns {args.parameter}\n")
        print(grid.to_string(float_format=lambda v: f"{v:.4g}"))
    return 0


# ---------------------------------------------------------------------------------- wiring
def register(subparsers: Any) -> None:
    """Add ``sweep``, ``sensitivity``, ``decompose`` and ``breakeven`` to the ``okrsim`` parser."""
    p = subparsers.add_parser("sweep", help="run a sweep from a YAML/JSON spec into a resumable Parquet store",
                              description="Run SPEC (see docs/research.md) into the result store DIR.  Running the "
                                          "same command again resumes an interrupted sweep.")
    p.add_argument("spec", metavar="SPEC.yaml", help="sweep specification: scenario, policies, design, replications, seed")
    _add_execution(p, "result store directory (required)")
    p.set_defaults(func=cmd_sweep)

    p = subparsers.add_parser("sensitivity", help="Sobol indices or Morris screening of the advantage or any KPI")
    add_world_options(p, policies=True, many=True)
    p.add_argument("--factor", action="append", metavar="KEY[=LOW:HIGH]",
                   help="parameter to vary, with its range (default: the registry's); repeatable")
    p.add_argument("--method", choices=["sobol", "morris"], default="sobol", help="default: sobol")
    p.add_argument("--n", type=int, default=64, help="Sobol base sample size, a power of two (default: 64)")
    p.add_argument("--trajectories", type=int, default=10, help="Morris trajectories (default: 10)")
    p.add_argument("--levels", type=int, default=4, help="Morris grid levels, even (default: 4)")
    p.add_argument("--second-order", action="store_true",
                   help="also report second-order Sobol indices of pairs of factors (about twice the runs)")
    p.add_argument("--sample-seed", type=int, default=0, help="seed of the design's sampling (default: 0)")
    p.add_argument("--output", action="append", metavar="NAME",
                   help="advantage (default), advantage:KPI, POLICY:KPI or KPI; repeatable")
    p.add_argument("--replications", type=int, default=4, help="replications per design point (default: 4)")
    _add_execution(p, "result store directory for the runs (resumable)")
    p.set_defaults(func=cmd_sensitivity)

    p = subparsers.add_parser("decompose", help="Shapley split of the advantage into agility, alignment, "
                                                "transparency and learning")
    add_world_options(p, policies=True, many=True)
    p.add_argument("--kpi", default="total_value", help="KPI to decompose (default: total_value)")
    p.add_argument("--replications", type=int, default=60, help="replications, 16 runs each (default: 60)")
    _add_execution(p, "result store directory for the runs (resumable)")
    p.set_defaults(func=cmd_decompose)

    p = subparsers.add_parser("breakeven", help="where the paired advantage crosses zero; with --y-parameter a 2-D map")
    add_world_options(p, policies=True, many=True)
    p.add_argument("--parameter", required=True, metavar="KEY",
                   help="parameter to vary: market.shift_rate, policy.planning_cost, quarterly_okr.planning_cost ...")
    p.add_argument("--range", metavar="LOW:HIGH", help="range of the parameter (default: the registry's)")
    p.add_argument("--values", metavar="V1,V2,...", help="explicit values instead of --range/--points")
    p.add_argument("--points", type=int, default=11, help="values across the range (default: 11)")
    p.add_argument("--y-parameter", metavar="KEY", help="second parameter: print a 2-D map of the advantage")
    p.add_argument("--y-range", metavar="LOW:HIGH")
    p.add_argument("--y-values", metavar="V1,V2,...")
    p.add_argument("--y-points", type=int, default=7, help="values of the second parameter (default: 7)")
    p.add_argument("--kpi", default="total_value", help="KPI of the advantage (default: total_value)")
    p.add_argument("--replications", type=int, default=20, help="replications per value (default: 20)")
    _add_execution(p, "result store directory for the runs (resumable)")
    p.set_defaults(func=cmd_breakeven)
