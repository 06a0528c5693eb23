"""Exercise notebooks: built from one source each, participant versions free of solutions and runnable
untouched ("not attempted yet" everywhere), solution versions executed with every check correct.

Strict nbval of exercises/solutions/ (re-executing them and comparing outputs) runs separately:
``pytest --nbval exercises/solutions --nbval-sanitize-with tests/nbval_sanitize.cfg``.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from ipc_kernels import AsyncIpcKernelManager

from okrsim.teaching.checks import TASKS

ROOT = Path(__file__).parents[1]
_spec = importlib.util.spec_from_file_location("build_exercises", ROOT / "scripts" / "build_exercises.py")
build = importlib.util.module_from_spec(_spec)
sys.modules["build_exercises"] = build  # dataclasses look their module up by name
_spec.loader.exec_module(build)

SOURCES = build.sources()
CHECK_CALL = re.compile(r'check\("([0-9a-z-]+)"')


def _outputs_text(cell) -> str:
    parts = []
    for o in cell.get("outputs", []):
        if o.output_type == "stream":
            parts.append(o.text)
        elif o.output_type in ("execute_result", "display_data"):
            parts.append(o.data.get("text/plain", ""))
        elif o.output_type == "error":
            parts.append(f"ERROR {o.ename}: {o.evalue}")
    return "\n".join(parts)


def _check_cells(nb) -> list[tuple[str, object]]:
    return [(m.group(1), c) for c in nb.cells if c.cell_type == "code" for m in CHECK_CALL.finditer(c.source)]


def test_at_least_six_exercises_cover_every_task():
    assert len(SOURCES) >= 6
    used = set()
    for source in SOURCES:
        nb = nbformat.read(build.targets(source)["participant"], as_version=4)
        used |= {task_id for task_id, _ in _check_cells(nb)}
    assert used == set(TASKS)
    for t in TASKS.values():
        assert (ROOT / t.notebook).exists(), t.notebook
        assert t.id in (ROOT / t.notebook).read_text(), (t.id, t.notebook)


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.stem)
def test_committed_notebooks_match_their_source(source):
    """Rebuilding from the source reproduces the committed cells: the two versions cannot drift."""
    assert build.drift(source) == [], "run: python scripts/build_exercises.py " + source.stem[:2]


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.stem)
def test_participant_notebooks_hold_no_solutions(source):
    text = "\n".join(c.source for c in nbformat.read(build.targets(source)["participant"], as_version=4).cells)
    assert "### BEGIN" not in text and "### END" not in text and "For the discussion" not in text
    blocks: dict[str | None, set[str]] = {"SOLUTION": set(), "PLACEHOLDER": set()}
    for cell in build.parse(source.read_text()):
        inside = None
        for line in cell.lines:
            m = re.match(r"\s*### (BEGIN|END) (SOLUTION|PLACEHOLDER)", line)
            if m:
                inside = m.group(2) if m.group(1) == "BEGIN" else None
            elif inside and line.strip() and not line.strip().startswith("#") and len(line.strip()) > 12:
                blocks[inside].add(line.strip())
    leaked = [line for line in blocks["SOLUTION"] - blocks["PLACEHOLDER"] if line in text]
    assert not leaked, leaked
    for task_id, cell in _check_cells(nbformat.read(build.targets(source)["participant"], as_version=4)):
        assert f"{TASKS[task_id].variable} = ..." in cell.source or f"{TASKS[task_id].variable} = {{" in cell.source


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.stem)
def test_task_texts_state_how_they_are_checked(source):
    nb = nbformat.read(build.targets(source)["participant"], as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "{{" not in markdown
    for task_id, _ in _check_cells(nb):
        assert f"`{task_id}`" in markdown and TASKS[task_id].tolerance in markdown, task_id


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.stem)
def test_untouched_participant_notebook_runs_and_reports_not_attempted(source, tmp_path):
    """As a participant opens it: run all cells, no error, every check says 'not attempted yet'."""
    path = tmp_path / build.targets(source)["participant"].name
    shutil.copy(build.targets(source)["participant"], path)
    nb = nbformat.read(path, as_version=4)
    build.execute(nb, tmp_path, timeout=180, kernel_manager_class=AsyncIpcKernelManager)
    errors = [_outputs_text(c) for c in nb.cells if c.cell_type == "code" and "ERROR" in _outputs_text(c)]
    assert not errors, errors
    checks = _check_cells(nb)
    assert checks
    for task_id, cell in checks:
        out = _outputs_text(cell)
        assert f"… {task_id}: not attempted yet" in out, out


@pytest.mark.parametrize("source", SOURCES, ids=lambda s: s.stem)
def test_solution_notebook_is_executed_and_every_check_passes(source):
    nb = nbformat.read(build.targets(source)["solution"], as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "store solutions executed, or strict nbval compares nothing"
    assert not any(o.output_type == "error" for c in code for o in c.outputs)
    assert not any(o.output_type == "stream" and o.name == "stderr" for c in code for o in c.outputs)
    for task_id, cell in _check_cells(nb):
        assert f"✔ {task_id}: correct" in _outputs_text(cell), _outputs_text(cell)


def test_source_format_and_markers(tmp_path):
    src = tmp_path / "99_demo.py"
    src.write_text('# %% [markdown]\n# # Title\n#\n# Checked: {{tolerance:01-price}}\n\n# %%\nx = 1\n'
                   "### BEGIN SOLUTION\nANSWER = 42\n### END SOLUTION\n### BEGIN PLACEHOLDER\nANSWER = ...\n"
                   "### END PLACEHOLDER\n\n# %% [markdown] solution\n# Only for trainers\n")
    participant, solution = build.render(src, "participant"), build.render(src, "solution")
    assert [c.source for c in participant.cells] == [f"# Title\n\nChecked: {TASKS['01-price'].tolerance}",
                                                     "x = 1\nANSWER = ..."]
    assert [c.source for c in solution.cells][1:] == ["x = 1\nANSWER = 42", "Only for trainers"]
    src.write_text("# %%\n### BEGIN SOLUTION\nx = 1\n")
    with pytest.raises(ValueError, match="without ### END"):
        build.render(src, "solution")
    src.write_text("x = 1\n# %%\n")
    with pytest.raises(ValueError, match="before the first"):
        build.render(src, "solution")
