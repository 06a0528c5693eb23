"""Write and execute the view notebooks (notebooks/explorer.ipynb, notebooks/dashboard.ipynb).

The notebooks are stored executed, so that strict nbval compares their outputs; widget
state is not stored (``store_widget_state=False``), which keeps them a few KB.  Run after
changing the cells here or `okrsim.cli_views.DASHBOARD_CELLS`:

    python scripts/build_notebooks.py
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat

from okrsim.cli_views import DASHBOARD_CELLS
from okrsim.fileio import write_text_atomic

ROOT = Path(__file__).resolve().parents[1]

EXPLORER_CELLS: tuple[tuple[str, str], ...] = (
    ("markdown", "# Explorer: annual plan vs quarterly OKR portfolio\n\n"
                 "Every parameter of the model is a control (tabs on the left); the charts and the KPI table follow. "
                 "Sliders report when released; type exact values in the boxes (invalid ones are refused with a "
                 "message and the last valid result stays on screen)."),
    ("code", "from okrsim.notebook import notebook_setup\nfrom okrsim.widgets import Explorer\n\nnotebook_setup()"),
    ("code", "# NBVAL_IGNORE_OUTPUT\nexplorer = Explorer()\nexplorer.widget"),
    ("markdown", "The explorer is an object too: `explorer.panel` holds the tidy frames behind the charts, "
                 "`explorer.set_value(key, value)` moves a control, `explorer.export()` writes the pictures "
                 "and the settings that reproduce them."),
    ("code", "print(explorer)\nprint('charts:', ', '.join(explorer.chart_widgets))\n"
             "print('controls:', len(explorer.controls), 'world,', sum(map(len, explorer.policy_controls)), 'levers')"),
)


def build(path: Path, cells: tuple[tuple[str, str], ...]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(src) if kind == "markdown" else nbformat.v4.new_code_cell(src)
                for kind, src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    write_text_atomic(path, nbformat.writes(nb))
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                    "--ExecutePreprocessor.store_widget_state=False", "--ExecutePreprocessor.timeout=120", str(path)],
                   check=True, cwd=path.parent)
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> int:
    build(ROOT / "notebooks" / "explorer.ipynb", EXPLORER_CELLS)
    build(ROOT / "notebooks" / "dashboard.ipynb", DASHBOARD_CELLS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
