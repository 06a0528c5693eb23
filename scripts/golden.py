"""Write (or check) the golden back-test: the KPIs of every preset pair at three seeds.

``tests/golden/kpis.csv`` holds one row per scenario preset x policy preset x seed and one
column per KPI, sorted, with floats written by ``repr`` (the shortest text that reads back
to the same double), so a model change shows in review as a readable diff of this file.

``tests/test_golden.py`` compares to a relative tolerance of `RTOL` (1e-9), not bit for bit:
numpy's vectorised ``exp``, ``log`` and sums round the last bit differently on CPUs with
different instruction sets (a machine with AVX-512 FP16 differed from the one that wrote the
file in 33 of 2,184 cells, by at most 4e-16 relative), while any change of the model moves
some KPI by far more.  On one machine a seed still gives bit-identical results (the executor
tests check that).  Regenerating keeps the stored text of every cell within the tolerance, so
an unchanged model gives an empty diff on any machine.  Regenerate only when a change of the
model's results is intended (and say why in the commit):

    python scripts/golden.py            # or: make golden
    python scripts/golden.py --check    # exit 1 and list the differences, write nothing

The numbers also depend on numpy's and scipy's random variates, so they hold for the
versions pinned in ``requirements/constraints.txt``; after ``make lock`` upgrades numpy or
scipy, run the test and regenerate if only the variates moved.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "kpis.csv"
#: Three seeds: enough to catch a change that shows only in some draws, few enough to run in seconds.
SEEDS: tuple[int, ...] = (0, 1, 2)
KEYS: tuple[str, ...] = ("scenario", "policy", "seed")
#: Relative tolerance of the comparison: far above the last-bit rounding of numpy's SIMD loops
#: on different CPUs (seen: 4e-16), far below any change of the model.
RTOL = 1e-9
#: Absolute tolerance, for KPIs that are zero in one file and rounding residue in the other.
ATOL = 1e-12

Case = tuple[str, str, int]


def cases() -> list[Case]:
    """Every (scenario preset, policy preset, seed), sorted as the rows of the CSV."""
    import okrsim

    return sorted((s, p, seed) for s in okrsim.SCENARIO_PRESETS for p in okrsim.POLICY_PRESETS for seed in SEEDS)


def _text(value: object) -> str:
    """Exact text of a KPI: ``repr`` of the float (``nan``/``inf`` included), so equal text means equal bits."""
    number = float(value)  # type: ignore[arg-type]
    if math.isnan(number):
        return "nan"
    return repr(number)


def kpi_row(case: Case) -> dict[str, str]:
    """One simulation: the case's keys and the text of each KPI, in the order of ``okrsim.KPIS``.

    Kept at module level so that a process pool can pickle it (the test runs it there too).
    """
    import okrsim

    scenario, policy, seed = case
    run = okrsim.simulate(okrsim.Scenario.preset(scenario), okrsim.Policy.preset(policy), seed=seed)
    row = {"scenario": scenario, "policy": policy, "seed": str(seed)}
    row.update({name: _text(value) for name, value in run.kpis.items()})
    return row


def compute(rows: Iterable[dict[str, str]] | None = None) -> list[dict[str, str]]:
    """The golden rows, computed in this process unless `rows` (e.g. from a process pool) are given."""
    return list(rows) if rows is not None else [kpi_row(c) for c in cases()]


def to_csv(rows: list[dict[str, str]]) -> str:
    """The CSV text: a header, then one line per row (Unix line ends, no quoting unless needed)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def read(path: Path = GOLDEN) -> list[dict[str, str]]:
    """The stored rows, every value kept as the exact text written."""
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def same(a: str, b: str) -> bool:
    """Whether two cells agree: equal text, both NaN, or numbers within `RTOL` (and `ATOL`)."""
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return abs(x - y) <= RTOL * max(abs(x), abs(y)) + ATOL


def keep_stored(stored: list[dict[str, str]], current: list[dict[str, str]]) -> list[dict[str, str]]:
    """`current`, with the stored text of every cell that agrees with it (`same`): what
    regenerating writes, so that only real changes show in the diff."""
    old = {tuple(r[k] for k in KEYS): r for r in stored}
    out = []
    for row in current:
        before = old.get(tuple(row[k] for k in KEYS), {})
        out.append({c: before[c] if c in before and same(before[c], v) else v for c, v in row.items()})
    return out


def differences(stored: list[dict[str, str]], current: list[dict[str, str]], limit: int = 20) -> list[str]:
    """Human-readable differences: missing or extra rows and columns, then changed cells (first `limit`)."""
    def index(rows: list[dict[str, str]]) -> dict[tuple[str, ...], dict[str, str]]:
        return {tuple(r[k] for k in KEYS): r for r in rows}

    old, new = index(stored), index(current)
    out = [f"row {'/'.join(k)} is new" for k in new.keys() - old.keys()]
    out += [f"row {'/'.join(k)} is gone" for k in old.keys() - new.keys()]
    old_cols = list(stored[0]) if stored else []
    new_cols = list(current[0]) if current else []
    if old_cols != new_cols:
        out.append(f"columns changed: {old_cols} -> {new_cols}")
    for key in sorted(old.keys() & new.keys()):
        for column in new_cols:
            if column in old[key] and not same(old[key][column], new[key][column]):
                out.append(f"{'/'.join(key)} {column}: {old[key][column]} -> {new[key][column]}")
    if [tuple(r[k] for k in KEYS) for r in stored] != sorted(old, key=lambda k: (k[0], k[1], int(k[2]))):
        out.append("the stored rows are not sorted; regenerate the file")
    return out[:limit] + ([f"... and {len(out) - limit} more"] if len(out) > limit else [])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the stored file instead of writing it")
    parser.add_argument("--out", type=Path, default=GOLDEN, help=f"CSV to write or check (default {GOLDEN.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    rows = compute()
    if args.check:
        diff = differences(read(args.out), rows)
        print("\n".join(diff) if diff else f"{args.out}: {len(rows)} rows, the same to {RTOL:g} relative")
        return 1 if diff else 0
    if args.out.exists():
        rows = keep_stored(read(args.out), rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_csv(rows), encoding="utf-8")
    print(f"wrote {args.out} ({len(rows)} rows); review its diff before committing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
