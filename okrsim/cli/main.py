"""The ``okrsim`` command line: demo, run, compare, params (and plug-in subcommands).

Every input problem becomes one line on stderr and exit status 2, never a traceback: the
people typing these commands are consultants before a client meeting and trainees in a
workshop.  Only input problems, though: the kit's `ParameterError` and OS errors about a file
or directory the user named (or a default output path).  Anything else is a bug in the kit
and shows as one, with its traceback, so that it gets reported instead of looking like a
typo.  Exit statuses: 0 done, 2 bad input, 3 a sweep's ``--timeout`` passed (finished runs
are kept), 130 interrupted, 141 output pipe closed early (``okrsim params | head``).

Scenarios and policies are read by `Scenario.coerce` and `Policy.coerce`, and ``--set``
values by `okrsim.core.values.parse_value` (YAML 1.2), exactly as the Python API and sweep
files read them.  Subcommands of other layers (sweeps, reports) register themselves through
`PLUGINS`, each module exposing ``register(subparsers)``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from okrsim.core.errors import ParameterError
from okrsim.core.params import POLICY_PRESETS, SCENARIO_PRESETS, Policy, Scenario
from okrsim.core.registry import POLICY_SECTION, REGISTRY, lookup
from okrsim.core.values import parse_value
from okrsim.experiments.comparison import Comparison, compare
from okrsim.experiments.executors import SweepTimeout
from okrsim.experiments.headline import HEADLINE_REPLICATIONS, HEADLINE_SCENARIO, HEADLINE_SEED, Headline, headline_comparison
from okrsim.model.kpis import KPIS
from okrsim.model.simulation import simulate

__all__ = ["PLUGINS", "add_world_options", "main", "need_two_policies", "parse_sets", "policies_from_args",
           "scenario_from_args"]

#: Modules that add subcommands; a missing module is skipped.
PLUGINS: tuple[str, ...] = ("okrsim.cli.research", "okrsim.cli.views")

#: Directory that commands write into unless told otherwise (``out/`` is in .gitignore), so
#: that ``make demo`` in a clone leaves ``git status`` clean.
OUT_DIR = Path("out")

#: Exit statuses (see the module docstring).
EXIT_BAD_INPUT, EXIT_TIMEOUT, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 2, 3, 130, 141

#: KPIs shown in the human-readable comparison table.
HEADLINE_KPIS = ("total_value", "end_value_rate", "aligned_capacity_share", "adaptation_lag_weeks",
                 "lead_time_weeks", "waste_share", "overhead_share", "conflicts_caught_early",
                 "estimation_error", "okr_score_mean")


# ---------------------------------------------------------------------------------- parsing
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
        value = parse_value(raw)
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


def scenario_from_args(args: argparse.Namespace, world: dict[str, Any]) -> Scenario:
    """The scenario named by ``--scenario`` (`Scenario.coerce`) with the world overrides of ``--set`` applied."""
    base = Scenario.coerce(args.scenario)
    return base.replace(world) if world else base


def _policy_items(args: argparse.Namespace) -> list[str]:
    """The entries of ``--policies a,b`` or ``--policy a``; an empty entry is an error, not a default."""
    flag, raw = ("--policies", args.policies) if hasattr(args, "policies") else ("--policy", getattr(args, "policy", "annual"))
    items = [p.strip() for p in raw.split(",")]
    presets = ", ".join(POLICY_PRESETS)
    if flag == "--policy" and not raw.strip():
        raise ParameterError(f"--policy {raw!r} is empty: give a preset name ({presets}) or a policy file, "
                             "e.g. --policy quarterly_okr")
    if not all(items):
        raise ParameterError(f"{flag} {raw!r} has an empty entry: give comma-separated preset names ({presets}) "
                             "or policy files, e.g. --policies annual,quarterly_okr")
    if flag == "--policy" and len(items) != 1:
        raise ParameterError(f"--policy {raw!r} names {len(items)} policies; okrsim run runs one "
                             "(okrsim compare --policies compares several)")
    return items


def policies_from_args(args: argparse.Namespace) -> tuple[Scenario, list[Policy]]:
    """Scenario and policies from ``--scenario``, ``--policies``/``--policy`` and ``--set``."""
    policies = list(Policy.coerce_many(_policy_items(args)))
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
    """The headline figure (`okrsim.experiments.headline.Headline`) of each policy against the first."""
    base = c.policies[0].name
    return "\n".join(f"{Headline.from_comparison(c, p.name, base).sentence()}." for p in c.policies[1:])


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, allow_nan=False))


# ---------------------------------------------------------------------------------- commands
def _report_path(args: argparse.Namespace, default_name: str) -> Path:
    """Where a command writes its report: ``--report FILE``, else ``--out DIR`` (default ``out/``)."""
    if getattr(args, "report", None):
        return Path(args.report)
    return Path(args.out) / default_name


#: The demo's baselines, in the order the headline names them, with the words it uses.
DEMO_BASELINES: tuple[tuple[str, str], ...] = (
    ("annual", "the typical annual process (budget round, sponsors, last year's split, change board)"),
    ("annual_gates", "the annual process with stage gates (quarterly gate reviews, mid-year reforecast, "
                     "post-implementation reviews)"),
)


def baseline_headline(c: Comparison, policy: str = "quarterly_okr",
                      baselines: Sequence[tuple[str, str]] = DEMO_BASELINES) -> str:
    """One line per baseline: `policy`'s paired advantage in total value, absolute and relative,
    each with its 95% CI, naming which baseline is which.

    Both baselines are reported because an advantage over a weak baseline alone overstates
    what a change of practice buys (docs/model.md, 7.9): the typical process is what most
    organisations run, the gated one the best an annual process does.
    """
    lines = []
    for name, words in baselines:
        h = Headline.from_comparison(c, policy, name)
        lines.append(f"Against {name}, {words}:\n  {h.sentence()};\n  absolute advantage {h.absolute()}.")
    return "\n".join(lines)


def cmd_demo(args: argparse.Namespace) -> int:
    c = headline_comparison(args.replications, args.seed)
    if args.json:
        _print_json(c.to_dict())
        return 0
    print(f"okrsim demo: quarterly OKR portfolio vs two annual baselines, scenario {HEADLINE_SCENARIO!r}, "
          f"{args.replications} paired replications, seed {args.seed}\n")
    print("Baselines: annual = typical annual process; annual_gates = annual process with stage gates.\n")
    print(comparison_table(c))
    print("\nThe headline: mean paired relative advantage in total value, with its 95% CI and win rate.\n")
    print(baseline_headline(c))
    print("\nWhere quarterly cycles do not pay: okrsim compare --scenario mature_independent "
          "--policies annual_gates,quarterly_okr (a tie); okrsim compare --scenario mature "
          "--set quarterly_okr.planning_cost=2.5")
    hook = _plugin_attr("okrsim.cli.views", "demo_report")
    if hook is not None and not args.no_report:
        path = hook(c, _report_path(args, "okrsim-demo-report.html"))
        print(f"\nReport with charts (opens offline): {path}")
    return 0


def need_two_policies(names: Sequence[str], command: str, where: str) -> None:
    """Refuse fewer than two policies for a command that compares (its tables pair each with the first)."""
    if len(names) < 2:
        raise ParameterError(f"{where}: okrsim {command} needs at least two policies, the baseline first, e.g. "
                             f"--policies annual,quarterly_okr; got {list(names)} (okrsim run runs a single policy)")


def cmd_compare(args: argparse.Namespace) -> int:
    scenario, policies = policies_from_args(args)
    need_two_policies([p.name for p in policies], "compare", f"--policies {args.policies!r}")
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

    p = sub.add_parser("demo", help="headline comparison: quarterly_okr vs the typical annual process and the "
                                    "annual process with stage gates, on the dynamic scenario")
    p.add_argument("--replications", type=int, default=HEADLINE_REPLICATIONS,
                   help=f"paired replications (default: {HEADLINE_REPLICATIONS}, the headline comparison's)")
    p.add_argument("--seed", type=int, default=HEADLINE_SEED,
                   help=f"master seed (default: {HEADLINE_SEED}, the headline comparison's)")
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.add_argument("--out", default=str(OUT_DIR), metavar="DIR",
                   help=f"directory for the HTML report (default: {OUT_DIR}/, never the current directory)")
    p.add_argument("--report", metavar="FILE", help="write the HTML report to this file instead")
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


def _named_paths(args: argparse.Namespace) -> Iterator[Path]:
    """Files and directories the command line names (or defaults to) for reading or writing."""
    for attr in ("out", "report", "params", "spec", "notebook", "scenario"):
        value = getattr(args, attr, None)
        if isinstance(value, str) and value:
            yield Path(value)
    for attr in ("policies", "policy"):
        value = getattr(args, attr, None)
        if isinstance(value, str):
            yield from (Path(p.strip()) for p in value.split(",") if p.strip())


def is_user_file_error(exc: OSError, args: argparse.Namespace) -> bool:
    """Whether `exc` is about a path the user named (or a default output path).

    That is the path itself, anything inside it (files of an output directory), a directory
    on the way to it that cannot be made, or a file next to it (the temporary file of an
    atomic write).  Such errors (no permission, a file where a directory belongs, a full
    disk) are the user's to fix and get a one-line message; an OS error anywhere else is the
    kit's own problem.
    """
    names = [Path(os.path.abspath(p)) for p in _named_paths(args)]
    for filename in (exc.filename, exc.filename2):
        if isinstance(filename, (str, os.PathLike)):
            path = Path(os.path.abspath(filename))
            if any(path == n or n in path.parents or path in n.parents or path.parent == n.parent for n in names):
                return True
    return False


def _fail(args: argparse.Namespace, message: object) -> None:
    text = re.sub(r"\s*\n\s*", " ", str(message).strip())  # one line, whatever the message holds (a YAML error's lines)
    print(f"okrsim {args.command}: error: {text}", file=sys.stderr)


def _quiet_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null so that the exit flush cannot fail again.

    The approach of the Python documentation ("Note on SIGPIPE", signal module).
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``okrsim`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a reader that went away (`| head`) shows here, inside the handlers
        return status
    except ParameterError as exc:
        _fail(args, exc)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_BROKEN_PIPE
    except SweepTimeout as exc:
        _fail(args, exc)
        return EXIT_TIMEOUT
    except OSError as exc:
        if not is_user_file_error(exc, args):
            raise  # not about the user's files: a bug, shown with its traceback
        _fail(args, exc)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"okrsim {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
