"""The layers of okrsim import one way only: core < model < experiments < views | teaching < cli.

The contract lives in ``.importlinter`` and is checked by import-linter, which follows every
import, including those inside functions and indirect chains through other modules.  The
second test proves the check can fail: a copy of the package with one upward import must be
refused, naming that import.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("core", "model", "experiments", "views", "teaching", "cli")


def _lint(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    code = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(config_filename='.importlinter'))"
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_layer_contract_is_kept():
    done = _lint(ROOT, ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def test_an_upward_import_breaks_the_contract(tmp_path):
    shutil.copytree(ROOT / "okrsim", tmp_path / "okrsim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    errors = tmp_path / "okrsim" / "core" / "errors.py"
    errors.write_text(errors.read_text() + "\n\ndef _upward():\n    from okrsim.views import charts  # noqa: F401\n")
    done = _lint(tmp_path, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "BROKEN" in done.stdout
    assert "okrsim.core.errors -> okrsim.views.charts" in done.stdout


def test_every_module_lives_in_a_layer():
    stray = sorted(p.name for p in (ROOT / "okrsim").glob("*.py") if p.name != "__init__.py")
    assert stray == [], f"modules outside the layers: {stray}; put each into one of {', '.join(LAYERS)}"
    packages = sorted(p.name for p in (ROOT / "okrsim").iterdir() if (p / "__init__.py").is_file())
    assert packages == sorted(LAYERS)
