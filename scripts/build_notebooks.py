"""Write and execute the notebooks, so that they are stored executed and small.

* ``explorer.ipynb`` and ``dashboard.ipynb`` are generated from the cells below and from
  `okrsim.cli.views.DASHBOARD_CELLS`;
* the teaching notebooks ``notebooks/0*.ipynb`` are their own source: edit them in
  JupyterLab, then run this script to re-execute them top to bottom in a fresh kernel.

Every notebook is executed in place without widget state (``store_widget_state=False``,
which keeps each a few KB), and the per-cell execution timestamps are dropped so that a
rebuild without changes leaves only the outputs that really changed.  Strict nbval then
compares the stored outputs with a fresh run (``make test``).

    python scripts/build_notebooks.py              # every notebook
    python scripts/build_notebooks.py 01 explorer  # some of them (by prefix of the file name)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from okrsim.cli.views import DASHBOARD_CELLS
from okrsim.core.fileio import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

EXPLORER_CELLS: tuple[tuple[str, str], ...] = (
    ("markdown", "# Explorer: annual plan vs quarterly OKR portfolio\n\n"
                 "Every parameter of the model is a control (tabs on the left); the charts and the KPI table follow. "
                 "Sliders report when released; type exact values in the boxes (invalid ones are refused with a "
                 "message and the last valid result stays on screen)."),
    ("code", "from okrsim import Explorer, notebook_setup\n\nnotebook_setup()"),
    ("code", "# NBVAL_IGNORE_OUTPUT\nexplorer = Explorer()\nexplorer.widget"),
    ("markdown", "The explorer is an object too: `explorer.panel` holds the tidy frames behind the charts, "
                 "`explorer.set_value(key, value)` moves a control, `explorer.export()` writes the pictures "
                 "and the settings that reproduce them."),
    ("code", "print(explorer)\nprint('charts:', ', '.join(explorer.chart_widgets))\n"
             "print('controls:', len(explorer.controls), 'world,', sum(map(len, explorer.policy_controls)), 'levers')"),
)

#: Generated notebooks: file name -> cells.
GENERATED: dict[str, tuple[tuple[str, str], ...]] = {
    "explorer.ipynb": EXPLORER_CELLS,
    "dashboard.ipynb": DASHBOARD_CELLS,
}


def teaching_notebooks() -> list[Path]:
    """The numbered teaching notebooks, in order."""
    return sorted(NOTEBOOKS.glob("0*.ipynb"))


def write_cells(path: Path, cells: tuple[tuple[str, str], ...]) -> None:
    """Write an unexecuted notebook from (kind, source) pairs."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "markdown" else nbformat.v4.new_code_cell(src)
                for kind, src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    write_text_atomic(path, nbformat.writes(nb))


def tidy(path: Path) -> None:
    """Drop execution timestamps and any widget state, so stored notebooks stay small and stable."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    write_text_atomic(path, nbformat.writes(nb))


def execute(path: Path, timeout: int = 300) -> float:
    """Run `path` top to bottom in a fresh kernel and store the outputs; returns seconds taken."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                    "--ExecutePreprocessor.store_widget_state=False", f"--ExecutePreprocessor.timeout={timeout}",
                    str(path)], check=True, cwd=path.parent)
    seconds = time.perf_counter() - start
    tidy(path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="prefixes of notebook file names (default: all)")
    args = parser.parse_args(argv)
    paths = [NOTEBOOKS / name for name in GENERATED] + teaching_notebooks()
    if args.names:
        paths = [p for p in paths if any(p.name.startswith(n) for n in args.names)]
        if not paths:
            parser.error(f"no notebook starts with {' or '.join(args.names)}")
    for path in paths:
        if path.name in GENERATED:
            write_cells(path, GENERATED[path.name])
        seconds = execute(path)
        print(f"wrote {path.relative_to(ROOT)} ({seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
