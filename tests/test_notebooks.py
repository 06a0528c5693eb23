"""The teaching notebooks, checked without running them (``make test`` runs them with strict nbval).

Each numbered notebook must open with its question and learning goals, close with a summary
and questions for discussion, guard its headline claims with ``assert`` cells, be stored
executed top to bottom without widget state or CDN references, and keep numbers out of its
Markdown: every number a reader sees is printed by a code cell, so it always matches the
model that is installed.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("0*.ipynb"))
EXPECTED = ["00_start_here", "01_agility", "02_alignment", "03_transparency", "04_learning_loops",
            "05_steering_system", "06_for_researchers"]
#: Effect notebooks and the focus of the explorer each must contain.
EFFECT_NOTEBOOKS = {"01_agility": "agility", "02_alignment": "alignment", "03_transparency": "transparency",
                    "04_learning_loops": "learning"}
#: Strings that mean a chart or widget would load from the network, or failed to.
CDN = ("cdn.jsdelivr", "unpkg.com", "esm.sh", "Error loading script", "requirejs")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    s = cell["source"]
    return s if isinstance(s, str) else "".join(s)


def bullets(text: str) -> list[str]:
    return [line[2:].strip() for line in text.splitlines() if line.startswith("- ")]


def section(text: str, heading: str) -> str:
    """The text under a Markdown heading, up to the next heading of the same or higher level."""
    match = re.search(rf"^(#+) {re.escape(heading)}\s*$", text, flags=re.M)
    assert match, f"no heading {heading!r}"
    level = len(match.group(1))
    rest = text[match.end():]
    end = re.search(rf"^#{{1,{level}}} ", rest, flags=re.M)
    return rest[: end.start()] if end else rest


def section_after(text: str, marker: str) -> str:
    assert marker in text, f"missing {marker}"
    return text.split(marker, 1)[1]


def prose(text: str) -> str:
    """Markdown without code, link targets and notebook numbers: what is left is what a reader reads as text."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)  # fenced code
    text = re.sub(r"`[^`]*`", " ", text)  # inline code
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    return re.sub(r"\b0[0-6]\b", " ", text)  # the notebooks' own numbers: "see 05"


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def notebook(request) -> tuple[str, dict]:
    return request.param.stem, load(request.param)


def test_the_numbered_notebooks_are_all_there():
    assert [p.stem for p in NOTEBOOKS] == EXPECTED


def test_opens_with_its_question_and_learning_goals(notebook):
    name, nb = notebook
    first = nb["cells"][0]
    text = source(first)
    assert first["cell_type"] == "markdown" and text.startswith("# "), f"{name} must open with a title"
    question = re.search(r"^\*\*Question:\*\* (.+)$", text, flags=re.M)
    assert question and question.group(1).rstrip().endswith("?"), f"{name} must state its question"
    goals = bullets(section_after(text, "**Learning goals**"))
    assert len(goals) >= 3, f"{name} needs at least three learning goals"



def test_closes_with_a_summary_and_questions_for_discussion(notebook):
    name, nb = notebook
    last = nb["cells"][-1]
    assert last["cell_type"] == "markdown", f"{name} must end with its summary"
    text = source(last)
    assert len(bullets(section(text, "Summary"))) >= 3, f"{name}: the summary needs at least three points"
    questions = bullets(section(text, "Questions for discussion"))
    assert len(questions) >= 3 and all(q.endswith("?") for q in questions), f"{name}: three or more questions"


def test_headline_claims_are_guarded_by_explained_asserts(notebook):
    name, nb = notebook
    asserts = [node for cell in nb["cells"] if cell["cell_type"] == "code"
               for node in ast.walk(ast.parse(source(cell))) if isinstance(node, ast.Assert)]
    assert len(asserts) >= (3 if name.startswith("00") else 6), f"{name} guards too few claims"
    for node in asserts:
        msg = node.msg
        assert isinstance(msg, ast.Constant) and isinstance(msg.value, str) and len(msg.value) >= 20, \
            f"{name}: every assert needs a message that states the claim (line {node.lineno})"


def test_stored_executed_top_to_bottom_without_errors_or_widget_state(notebook):
    name, nb = notebook
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), f"{name} must be stored executed top to bottom in a fresh kernel"
    for cell in code:
        assert not [o for o in cell["outputs"] if o["output_type"] == "error"], f"{name} has an error output"
        assert "execution" not in cell["metadata"], f"{name}: rebuild with scripts/build_notebooks.py (timestamps)"
    assert "widgets" not in nb["metadata"], f"{name} stores widget state; rebuild with scripts/build_notebooks.py"


def test_small_offline_and_free_of_machine_details(notebook):
    name, _ = notebook
    text = (NOTEBOOK_DIR / f"{name}.ipynb").read_text(encoding="utf-8")
    assert len(text) < 120_000, f"{name} is {len(text)} bytes; keep outputs small"
    for s in CDN:
        assert s not in text, f"{name} contains {s!r}"
    outputs = json.dumps([c.get("outputs", []) for c in load(NOTEBOOK_DIR / f"{name}.ipynb")["cells"]])
    for s in ("/tmp/", "/work/", "/home/", "/root/"):
        assert s not in outputs, f"{name} prints a path ({s}); outputs must not depend on the machine"


def test_markdown_explains_in_words_and_leaves_numbers_to_the_code(notebook):
    name, nb = notebook
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        text = prose(source(cell))
        digits = re.search(r".{0,40}\d.{0,40}", text)
        assert digits is None, f"{name}, cell {i}: a number in Markdown ({digits.group(0)!r}); print it from code"


def test_prose_helper_catches_numbers_but_not_code_or_notebook_names():
    assert re.search(r"\d", prose("quarterly cycles deliver 32% more")) is not None
    assert re.search(r"\d", prose("costs 2.5 team-weeks")) is not None
    assert re.search(r"\d", prose("see [05 steering](05_steering_system.ipynb) and `cadence_weeks=13`")) is None
    assert re.search(r"\d", prose("```python\nx = 13\n```\nthen 04")) is None


def test_charts_render_offline(notebook):
    name, nb = notebook
    code = [source(c) for c in nb["cells"] if c["cell_type"] == "code"]
    outputs = json.dumps([c.get("outputs", []) for c in nb["cells"]])
    assert "JupyterChart" in outputs, f"{name} displays no chart"
    assert "notebook_setup()" in code[0], f"{name}: the first code cell must call okrsim.notebook_setup()"


@pytest.mark.parametrize("name", sorted(EFFECT_NOTEBOOKS))
def test_effect_notebooks_have_a_focused_explorer_whose_output_is_not_compared(name):
    nb = load(NOTEBOOK_DIR / f"{name}.ipynb")
    cells = [c for c in nb["cells"] if c["cell_type"] == "code" and "Explorer(" in source(c)]
    assert cells, f"{name} needs an interactive explorer"
    cell = cells[0]
    assert f'focus="{EFFECT_NOTEBOOKS[name]}"' in source(cell), f"{name}: the explorer must focus on its effect"
    assert "nbval-ignore-output" in cell["metadata"].get("tags", []), "widget views change between runs"
    assert cell["outputs"], f"{name}: the explorer cell must be stored executed"


def test_links_point_to_files_that_exist(notebook):
    name, nb = notebook
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", source(cell)):
            if "://" in target:
                continue
            assert (NOTEBOOK_DIR / target).resolve().exists(), f"{name} links to missing {target}"


def test_the_start_notebook_maps_every_other_notebook():
    text = "".join(source(c) for c in load(NOTEBOOK_DIR / "00_start_here.ipynb")["cells"] if c["cell_type"] == "markdown")
    for name in [*EXPECTED[1:], "dashboard"]:
        assert f"({name}.ipynb)" in text, f"00 must point to {name}"
    for reader in ("Consultants", "Trainers", "Researchers"):
        assert reader in text, f"00 must say where {reader.lower()} start"
