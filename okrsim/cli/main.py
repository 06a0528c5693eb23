"""The ``okrsim`` command line: demo, run, compare, params (and plug-in subcommands).

Every input problem becomes one line on stderr and exit status 2, never a traceback: the
people typing these commands are consultants before a client meeting and trainees in a
workshop.  Subcommands of other layers (sweeps, reports) register themselves through
`PLUGINS`, each module exposing ``register(subparsers)``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from okrsim.core.errors import ParameterError
from okrsim.core.params import POLICY_PRESETS, SCENARIO_PRESETS, Policy, Scenario
from okrsim.core.registry import POLICY_SECTION, REGISTRY, lookup
from okrsim.experiments.comparison import Comparison, compare
from okrsim.model.kpis import KPIS
from okrsim.model.simulation import simulate

__all__ = ["PLUGINS", "add_world_options", "main", "parse_sets", "policies_from_args", "scenario_from_args"]

#: Modules that add subcommands; a missing module is skipped.
PLUGINS: tuple[str, ...] = ("okrsim.cli.research", "okrsim.cli.views")

#: KPIs shown in the human-readable comparison table.
HEADLINE_KPIS = ("total_value", "end_value_rate", "aligned_capacity_share", "adaptation_lag_weeks",
                 "lead_time_weeks", "waste_share", "overhead_share", "conflicts_caught_early",
                 "estimation_error", "okr_score_mean")


# ---------------------------------------------------------------------------------- parsing
def _parse_value(text: str) -> Any:
    """A --set value as YAML would read it: numbers, true/false, lists for shocks."""
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_sets(items: Sequence[str] | None, policy_names: Sequence[str] = ()) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Split ``--set key=value`` items into world overrides and lever overrides per policy.

    Returns ``(world, levers)`` where ``levers`` maps a policy name, or ``"*"`` for every
    compared policy, to its changed levers.
    """
    world: dict[str, Any] = {}
    levers: dict[str, dict[str, Any]] = {}
    for item in items or ():
        if "=" not in item:
            raise ParameterError(f"--set {item!r} must look like section.name=value, e.g. market.shift_rate=3")
        key, _, raw = item.partition("=")
        key = key.strip()
        if "." not in key:
            raise ParameterError(f"--set {item!r} needs a section: market.*, portfolio.*, organisation.*, "
                                 "horizon.*, policy.* or POLICYNAME.*")
        section, _, name = key.partition(".")
        value = _parse_value(raw)
        if section == POLICY_SECTION:
            lookup(f"policy.{name}")
            levers.setdefault("*", {})[name] = value
        elif section in policy_names:
            lookup(f"policy.{name}")
            levers.setdefault(section, {})[name] = value
        else:
            spec = lookup(key)
            if spec.section == POLICY_SECTION:  # pragma: no cover - lookup of a dotted world key
                raise ParameterError(f"{key} is a lever; use policy.{name}=...")
            world[key] = value
    unknown = set(levers) - {"*", *policy_names}
    if unknown:
        raise ParameterError(f"--set names policies {sorted(unknown)} that are not compared; compared: {list(policy_names)}")
    return world, levers


def add_world_options(parser: argparse.ArgumentParser, policies: bool = True, many: bool = True) -> None:
    """Options shared by every subcommand that simulates: scenario, policies, overrides, seed."""
    parser.add_argument("--scenario", default="dynamic",
                        help=f"preset ({', '.join(SCENARIO_PRESETS)}) or a YAML/JSON scenario file (default: dynamic)")
    if policies:
        if many:
            parser.add_argument("--policies", default="annual,quarterly_okr",
                                help="comma-separated presets or YAML/JSON policy files; the first is the baseline "
                                     "(default: annual,quarterly_okr)")
        else:
            parser.add_argument("--policy", default="quarterly_okr", help="preset or YAML/JSON policy file")
    parser.add_argument("--set", action="append", metavar="KEY=VALUE", default=[],
                        help="override a parameter: section.name=value (world), policy.name=value (every policy) "
                             "or POLICYNAME.name=value (one policy); repeatable")
    parser.add_argument("--seed", type=int, default=0, help="master seed (default: 0)")


def _load_policy(text: str) -> Policy:
    path = Path(text)
    if text in POLICY_PRESETS:
        return Policy.preset(text)
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
        return Policy.load(path)
    return Policy.preset(text)  # raises with the list of presets


def scenario_from_args(args: argparse.Namespace, world: dict[str, Any]) -> Scenario:
    """The scenario named by ``--scenario`` with the world overrides of ``--set`` applied."""
    text = args.scenario
    path = Path(text)
    if text in SCENARIO_PRESETS:
        base = Scenario.preset(text)
    elif path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
        base = Scenario.load(path)
    else:
        base = Scenario.preset(text)
    return base.replace(world) if world else base


def policies_from_args(args: argparse.Namespace) -> tuple[Scenario, list[Policy]]:
    """Scenario and policies from ``--scenario``, ``--policies``/``--policy`` and ``--set``."""
    raw = getattr(args, "policies", None) or getattr(args, "policy", None) or "annual"
    policies = [_load_policy(p.strip()) for p in raw.split(",") if p.strip()]
    world, levers = parse_sets(args.set, [p.name for p in policies])
    scenario = scenario_from_args(args, world)
    out = []
    for p in policies:
        changes = {**levers.get("*", {}), **levers.get(p.name, {})}
        out.append(p.replace(changes) if changes else p)
    return scenario, out


# ---------------------------------------------------------------------------------- output
def _fmt(x: float | None, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    ax = abs(x)
    if ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    return f"{x:.{digits}f}"


def comparison_table(c: Comparison, kpis: Sequence[str] = HEADLINE_KPIS) -> str:
    """A readable table: each policy's mean [95% CI], then the paired difference and win rate."""
    names = [p.name for p in c.policies]
    summary = c.summary.set_index(["kpi", "policy"])
    pairs = c.paired.set_index(["kpi", "policy"])
    header = ["KPI"] + names + [f"{n} - {names[0]}" for n in names[1:]] + [f"{n} wins" for n in names[1:]]
    rows = []
    for k in kpis:
        unit = next(s.unit for s in KPIS if s.name == k)
        row = [f"{k} ({unit})"]
        for n in names:
            s = summary.loc[(k, n)]
            row.append(f"{_fmt(s['mean'])} [{_fmt(s['ci_low'])}, {_fmt(s['ci_high'])}]")
        for n in names[1:]:
            p = pairs.loc[(k, n)]
            row.append(f"{_fmt(p['mean_diff'])} [{_fmt(p['ci_low'])}, {_fmt(p['ci_high'])}]")
        for n in names[1:]:
            p = pairs.loc[(k, n)]
            row.append("n/a" if math.isnan(p["win_rate"]) else f"{p['win_rate']:.0%}")
        rows.append(row)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True))

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def _headline(c: Comparison) -> str:
    names = [p.name for p in c.policies]
    base = names[0]
    lines = []
    for n in names[1:]:
        p = c.paired.set_index(["kpi", "policy"]).loc[("total_value", n)]
        verdict = ("more" if p["ci_low"] > 0 else "less" if p["ci_high"] < 0 else "no clearly different")
        lines.append(
            f"{n} delivers {verdict} value than {base}: {p['rel_mean']:+.1%} "
            f"(95% CI {p['rel_ci_low']:+.1%} to {p['rel_ci_high']:+.1%}), better in {p['win_rate']:.0%} of "
            f"{c.replications} paired replications."
        )
    return "\n".join(lines)


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, allow_nan=False))


# ---------------------------------------------------------------------------------- commands
def cmd_demo(args: argparse.Namespace) -> int:
    scenario = Scenario.preset("dynamic")
    c = compare(scenario, ["annual", "quarterly_okr"], replications=args.replications, seed=args.seed)
    if args.json:
        _print_json(c.to_dict())
        return 0
    print(f"okrsim demo: annual plan vs quarterly OKR portfolio, scenario 'dynamic', "
          f"{args.replications} paired replications, seed {args.seed}\n")
    print(comparison_table(c))
    print()
    print(_headline(c))
    print("\nWhere quarterly cycles do not pay: okrsim compare --scenario mature "
          "--set quarterly_okr.planning_cost=2.5")
    hook = _plugin_attr("okrsim.cli.views", "demo_report")
    if hook is not None and not args.no_report:
        path = hook(c, args.report)
        print(f"\nReport with charts (opens offline): {path}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    scenario, policies = policies_from_args(args)
    c = compare(scenario, policies, replications=args.replications, seed=args.seed)
    if args.json:
        _print_json(c.to_dict())
    else:
        print(f"scenario {scenario.name!r}, {args.replications} paired replications, seed {args.seed}\n")
        print(comparison_table(c))
        print()
        print(_headline(c))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    scenario, (policy,) = policies_from_args(args)
    run = simulate(scenario, policy, args.seed)
    if args.out:
        from okrsim.core.fileio import write_atomic

        out = Path(args.out)
        for name, frame in run.frames().items():
            write_atomic(out / f"{name}.csv", lambda tmp, f=frame: f.to_csv(tmp, index=False))
        scenario.save(out / "scenario.yaml")
        policy.save(out / "policy.yaml")
    if args.json:
        _print_json(run.summary())
        return 0
    print(f"scenario {scenario.name!r}, policy {policy.name!r}, seed {args.seed}: {run.n_events} events\n")
    width = max(len(k.name) for k in KPIS)
    for k in KPIS:
        print(f"{k.name.ljust(width)}  {_fmt(run.kpis[k.name]):>10}  {k.unit}")
    if args.out:
        print(f"\nframes, scenario and policy written to {args.out}/")
    return 0


def cmd_params(args: argparse.Namespace) -> int:
    specs = [p for p in REGISTRY if args.section in (None, p.section)]
    if args.json:
        _print_json([{
            "key": p.key, "section": p.section, "name": p.name, "type": p.kind,
            "default": list(map(list, p.default)) if p.kind == "shocks" else p.default,
            "low": p.low, "high": p.high, "unit": p.unit, "meaning": p.meaning,
            "effect": p.effect, "role": p.role,
        } for p in specs])
        return 0
    rows = [("parameter", "type", "default", "range", "unit", "meaning")]
    for p in specs:
        rng = "" if p.low is None else f"[{p.low:g}, {p.high:g}]"
        default = "[]" if p.kind == "shocks" else str(p.default)
        meaning = p.meaning + (f" ({p.effect} {p.role})" if p.effect else "")
        rows.append((p.key, p.kind, default, rng, p.unit, meaning))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:5], widths, strict=True)) + "  " + r[5])
    print(f"\nScenario presets: {', '.join(SCENARIO_PRESETS)}.  Policy presets: {', '.join(POLICY_PRESETS)}.")
    return 0


# ---------------------------------------------------------------------------------- wiring
def _plugin_attr(module: str, name: str) -> Any:
    try:
        return getattr(importlib.import_module(module), name, None)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return None
        raise


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="okrsim",
        description="Annual portfolio plans vs quarterly OKR cycles, simulated (SimPy).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="headline comparison: annual vs quarterly_okr on the dynamic scenario")
    p.add_argument("--replications", type=int, default=30, help="paired replications (default: 30)")
    p.add_argument("--seed", type=int, default=0, help="master seed (default: 0)")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument("--report", default="okrsim-demo-report.html", help="where to write the HTML report")
    p.add_argument("--no-report", action="store_true", help="do not write the HTML report")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("run", help="one replication of one policy, with its KPIs (and frames with --out)")
    add_world_options(p, many=False)
    p.add_argument("--json", action="store_true", help="print inputs, seed and KPIs as JSON")
    p.add_argument("--out", help="directory to write the run's frames (CSV), scenario and policy (YAML)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("compare", help="paired comparison of policies with confidence intervals")
    add_world_options(p)
    p.add_argument("--replications", type=int, default=30, help="paired replications (default: 30)")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("params", help="the parameter registry: every input with type, default, range, unit")
    p.add_argument("--json", action="store_true", help="print the registry as JSON")
    p.add_argument("--section", choices=["market", "portfolio", "organisation", "horizon", "policy"],
                   help="only this section")
    p.set_defaults(func=cmd_params)

    for module in PLUGINS:
        register = _plugin_attr(module, "register")
        if register is not None:
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``okrsim`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ParameterError as exc:
        print(f"okrsim {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"okrsim {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"okrsim {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
