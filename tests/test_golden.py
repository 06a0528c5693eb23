"""Golden back-test: the KPIs of every scenario preset x policy preset x 3 seeds.

``tests/golden/kpis.csv`` stores them (one row per scenario, policy and seed; one column per
KPI; floats as ``repr``).  They are compared to a relative tolerance of 1e-9 (``RTOL`` in
``scripts/golden.py``, which says why: numpy rounds the last bit differently on different
CPUs); any change of the model's results fails here, and a reviewer sees it as a diff of
that file.  On one machine, results are bit-identical across processes (tested below).  When a
change is intended, regenerate it with

    python scripts/golden.py        (or ``make golden``)

and commit the CSV with the change that moved it.  The values hold for the numpy and scipy
pinned in ``requirements/constraints.txt``.
"""

from __future__ import annotations

import concurrent.futures as cf
import importlib.util
import multiprocessing
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("golden", ROOT / "scripts" / "golden.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pickle finds kpi_row by this name (see the process-pool test)
    spec.loader.exec_module(module)
    return module


golden = _load_script()


@pytest.fixture(scope="module")
def stored() -> list[dict[str, str]]:
    return golden.read()


@pytest.fixture(scope="module")
def current() -> list[dict[str, str]]:
    return golden.compute()


def test_the_golden_file_covers_every_preset_pair_and_seed_in_order(stored):
    import okrsim

    assert [(r["scenario"], r["policy"], int(r["seed"])) for r in stored] == golden.cases()
    assert list(stored[0]) == [*golden.KEYS, *(k.name for k in okrsim.KPIS)]


def test_kpis_match_the_golden_file(stored, current):
    diff = golden.differences(stored, current)
    assert not diff, ("the model's results changed; if intended, run `python scripts/golden.py` and commit "
                      "tests/golden/kpis.csv with the change:\n" + "\n".join(diff))


def test_regenerating_an_unchanged_model_rewrites_the_file_unchanged(stored, current):
    """Byte for byte, on any machine: cells within the tolerance keep their stored text."""
    assert golden.GOLDEN.read_text(encoding="utf-8") == golden.to_csv(golden.keep_stored(stored, current))


def test_a_changed_value_is_reported(stored):
    """The comparison can fail: a change in the seventh digit and one missing row are both named."""
    changed = [dict(r) for r in stored[1:]]
    changed[0]["total_value"] = repr(float(changed[0]["total_value"]) * (1 + 1e-7))
    diff = golden.differences(stored, changed)
    assert any("total_value" in d for d in diff)
    assert any(d.endswith("is gone") for d in diff)
    assert golden.keep_stored(stored, changed)[0]["total_value"] == changed[0]["total_value"]


def test_last_bit_rounding_is_not_a_change(stored):
    """What a CPU with other SIMD loops does to a KPI (a few units in the last place) passes."""
    import math

    changed = [dict(r) for r in stored]
    for row in changed:
        for column, text in row.items():
            if column not in golden.KEYS and text != "nan":
                x = float(text)
                row[column] = repr(math.nextafter(math.nextafter(x, math.inf), math.inf))
    assert golden.differences(stored, changed) == []
    assert golden.keep_stored(stored, changed) == stored


def test_identical_under_a_spawned_process_pool(current, monkeypatch):
    """Fresh interpreters (own hash seed, import order and caches), fed by pickled tasks as sweeps
    are, give the same bits as this process."""
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))  # spawned workers get this sys.path and import `golden`
    with cf.ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        rows = list(pool.map(golden.kpi_row, golden.cases(), chunksize=8))
    assert rows == current  # the exact text: bit for bit on one machine
