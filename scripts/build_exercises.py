"""Build the exercise notebooks from their master sources, so participant and solution versions cannot drift.

Each exercise has one source, ``exercises/source/NN_name.py``, in the percent format of jupytext
(cells start with ``# %%`` for code or ``# %% [markdown]`` for text; markdown lines start with
``# ``).  Inside a code cell, nbgrader-style markers split what the two versions get::

    ### BEGIN SOLUTION
    ANSWER = 42                  # solution notebook only
    ### END SOLUTION
    ### BEGIN PLACEHOLDER
    ANSWER = ...                 # participant notebook only
    ### END PLACEHOLDER

A cell header may end with ``solution`` (``# %% [markdown] solution``) to appear only in the
solution notebook.  ``{{tolerance:TASK}}`` and ``{{variable:TASK}}`` in markdown are replaced by
the task's text from `okrsim.teaching.checks`, so what a task promises is what its check does.

Writes ``exercises/NN_name.ipynb`` (participant, unexecuted) and
``exercises/solutions/NN_name.ipynb`` (executed, stored with outputs for strict nbval).

    python scripts/build_exercises.py            # build all
    python scripts/build_exercises.py 03 05      # build some
    python scripts/build_exercises.py --check    # only verify that the notebooks match the sources
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ROOT / "exercises"
SOURCES = EXERCISES / "source"
SOLUTIONS = EXERCISES / "solutions"
VARIANTS = ("participant", "solution")

_HEADER = re.compile(r"^# %%(?: \[(markdown)\])?(?: (solution|participant))?\s*$")
_MARK = re.compile(r"^\s*### (BEGIN|END) (SOLUTION|PLACEHOLDER)\s*$")
_TOKEN = re.compile(r"\{\{(tolerance|variable|expects):([0-9a-z-]+)\}\}")


@dataclass(frozen=True)
class Cell:
    """One cell of a source: its kind, which versions show it, and its raw lines."""

    kind: str  # "code" or "markdown"
    only: str | None  # None (both), "solution" or "participant"
    lines: tuple[str, ...]


def parse(text: str) -> list[Cell]:
    """Split a percent-format source into cells."""
    cells: list[Cell] = []
    kind, only, lines = None, None, []
    for line in text.splitlines():
        m = _HEADER.match(line)
        if m:
            if kind is not None:
                cells.append(Cell(kind, only, tuple(lines)))
            kind, only, lines = ("markdown" if m.group(1) else "code"), m.group(2), []
        elif kind is None:
            if line.strip():
                raise ValueError(f"text before the first '# %%' cell header: {line!r}")
        else:
            lines.append(line)
    if kind is not None:
        cells.append(Cell(kind, only, tuple(lines)))
    return cells


def _code(lines: tuple[str, ...], variant: str) -> str:
    out, block = [], None
    for line in lines:
        m = _MARK.match(line)
        if m:
            begin, which = m.group(1) == "BEGIN", m.group(2)
            if (begin and block is not None) or (not begin and block != which):
                raise ValueError(f"unbalanced marker {line.strip()!r}")
            block = which if begin else None
            continue
        if (block == "SOLUTION" and variant != "solution") or (block == "PLACEHOLDER" and variant != "participant"):
            continue
        out.append(line)
    if block is not None:
        raise ValueError(f"### BEGIN {block} without ### END {block}")
    return "\n".join(out).strip("\n")


def _markdown(lines: tuple[str, ...]) -> str:
    from okrsim.teaching.checks import task

    out = []
    for line in lines:
        if line.startswith("# "):
            out.append(line[2:])
        elif line.strip() in ("#", ""):
            out.append("")
        else:
            raise ValueError(f"markdown lines must start with '# ': {line!r}")
    text = "\n".join(out).strip("\n")
    return _TOKEN.sub(lambda m: getattr(task(m.group(2)), m.group(1)), text)


def render(source: Path, variant: str) -> nbformat.NotebookNode:
    """The participant or solution notebook of one source, unexecuted."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}")
    nb = nbformat.v4.new_notebook()
    for cell in parse(source.read_text(encoding="utf-8")):
        if cell.only is not None and cell.only != variant:
            continue
        if cell.kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(_markdown(cell.lines)))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(_code(cell.lines, variant)))
    for i, c in enumerate(nb.cells):  # stable ids: rebuilding changes nothing when nothing changed
        c["id"] = f"{source.stem[:2]}-{variant[0]}-{i:02d}"
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def targets(source: Path) -> dict[str, Path]:
    """Where the two notebooks of a source live."""
    name = source.stem + ".ipynb"
    return {"participant": EXERCISES / name, "solution": SOLUTIONS / name}


def sources(selection: list[str] | None = None) -> list[Path]:
    """Exercise sources in order, optionally only those whose name starts with one of `selection`."""
    found = sorted(SOURCES.glob("[0-9][0-9]_*.py"))
    if selection:
        found = [s for s in found if any(s.name.startswith(x) for x in selection)]
    return found


def cell_sources(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    """(cell type, source) pairs: what must agree between a source and its notebooks."""
    return [(c.cell_type, c.source) for c in nb.cells]


def drift(source: Path) -> list[str]:
    """Notebooks of `source` whose cells differ from a fresh render (empty when in step)."""
    out = []
    for variant, path in targets(source).items():
        if not path.exists() or cell_sources(nbformat.read(path, as_version=4)) != cell_sources(render(source, variant)):
            out.append(str(path.relative_to(ROOT)))
    return out


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 300, kernel_manager_class: type | None = None) -> None:
    """Run every cell in a fresh kernel, as a participant would, without storing widget state.

    Tests pass an IPC kernel manager (tests/ipc_kernels.py) so that parallel runs cannot collide on ports.
    """
    from nbclient import NotebookClient

    extra = {"kernel_manager_class": kernel_manager_class} if kernel_manager_class is not None else {}
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(cwd)}},
                   store_widget_state=False, **extra).execute()


def build(source: Path) -> None:
    from okrsim.core.fileio import write_text_atomic

    paths = targets(source)
    write_text_atomic(paths["participant"], nbformat.writes(render(source, "participant")))
    nb = render(source, "solution")
    start = time.perf_counter()
    execute(nb, paths["solution"].parent)
    write_text_atomic(paths["solution"], nbformat.writes(nb))
    print(f"wrote {paths['participant'].relative_to(ROOT)} and {paths['solution'].relative_to(ROOT)} "
          f"(executed in {time.perf_counter() - start:.0f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="exercise numbers or name prefixes to build (default: all)")
    parser.add_argument("--check", action="store_true", help="verify the notebooks match their sources; build nothing")
    args = parser.parse_args(argv)
    chosen = sources(args.only)
    if not chosen:
        print("no exercise sources found", file=sys.stderr)
        return 2
    if args.check:
        stale = [p for s in chosen for p in drift(s)]
        for p in stale:
            print(f"out of date: {p} (run python scripts/build_exercises.py)", file=sys.stderr)
        return 1 if stale else 0
    SOLUTIONS.mkdir(parents=True, exist_ok=True)
    for s in chosen:
        build(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
