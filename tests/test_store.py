"""The result store: metadata, atomic chunks, resume, refusal of foreign or different stores."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pyarrow.parquet as pq
import pytest

import okrsim
from okrsim import ParameterError, Scenario
from okrsim.experiments.designs import latin_hypercube
from okrsim.experiments.store import ResultStore, load_results, read_manifest
from okrsim.experiments.sweep_spec import SweepSpec
from okrsim.experiments.sweeps import open_results, sweep

SMALL = Scenario.preset("dynamic").replace({"horizon.weeks": 52})
DESIGN = latin_hypercube({"market.shift_rate": (0, 6)}, n=3, seed=1)
ARGS = {"design": DESIGN, "scenario": SMALL, "policies": ["annual", "quarterly_okr"], "replications": 2, "seed": 3}


def run(out, **kw):
    return sweep(**{**ARGS, **kw}, out=out, executor="serial", progress=False, flush_rows=4)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    out = tmp_path_factory.mktemp("store") / "s"
    res = run(out)
    return out, res


def test_manifest_records_version_seed_and_every_parameter(store):
    out, res = store
    m = read_manifest(out)
    assert m["okrsim_version"] == okrsim.__version__
    assert m["complete"] is True and m["runs_done"] == m["runs_total"] == res.n_runs == 12
    assert m["spec"]["seed"] == 3 and m["spec"]["replications"] == 2
    assert m["spec"]["scenario"] == SMALL.to_dict()
    assert m["spec"]["policies"][1]["cadence_weeks"] == 13
    assert m["fingerprint"] == res.spec.fingerprint()


def test_every_chunk_describes_itself(store):
    out, _ = store
    parts = sorted((out / "chunks").glob("part-*.parquet"))
    assert len(parts) >= 3  # flush_rows=4: results streamed as they finished
    for p in parts:
        meta = json.loads(pq.read_schema(p).metadata[b"okrsim"])
        assert meta["okrsim_version"] == okrsim.__version__ and meta["seed"] == 3
        assert meta["scenario"]["horizon"]["weeks"] == 52
        t = pq.read_table(p).to_pandas()
        assert t.groupby(["point", "replication"]).size().eq(2).all()  # whole units only


def test_load_results_equals_the_in_memory_sweep(store):
    out, res = store
    mem = sweep(**ARGS, executor="serial", progress=False)
    pd.testing.assert_frame_equal(load_results(out), mem.frame(), check_exact=True)
    pd.testing.assert_frame_equal(res.frame(), mem.frame(), check_exact=True)
    sub = load_results(out, columns=["point", "policy", "total_value"])
    assert list(sub.columns) == ["point", "policy", "total_value"] and len(sub) == 12
    with pytest.raises(ParameterError, match="not in this store"):
        load_results(out, columns=["nope"])


def test_running_again_reuses_everything(store):
    out, _ = store
    before = sorted(p.name for p in (out / "chunks").iterdir())
    again = run(out)
    assert again.computed_runs == 0 and again.reused_runs == 12 and again.complete
    assert sorted(p.name for p in (out / "chunks").iterdir()) == before


def test_open_results_rebuilds_the_sweep(store):
    out, res = store
    opened = open_results(out)
    assert opened.complete and opened.spec.fingerprint() == res.spec.fingerprint()
    assert opened.design.fingerprint() == DESIGN.fingerprint()


def test_resume_after_losing_chunks_computes_only_the_missing_units(store, tmp_path):
    out, res = store
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    parts = sorted((copy / "chunks").glob("part-*.parquet"))
    lost = sum(pq.read_metadata(p).num_rows for p in parts[1:])
    for p in parts[1:]:
        p.unlink()
    (copy / "chunks" / ".part-000009.parquet.abc.tmp").write_bytes(b"half a file")  # killed mid-write
    assert len(load_results(copy)) == 12 - lost  # readers ignore the temporary file
    again = run(copy)
    assert again.computed_runs == lost and again.reused_runs == 12 - lost
    pd.testing.assert_frame_equal(load_results(copy), res.frame(), check_exact=True)
    assert not list((copy / "chunks").glob(".*.tmp"))


@pytest.mark.parametrize(("change", "word"), [({"seed": 4}, "seed"), ({"replications": 3}, "replications"),
                                             ({"policies": ["annual", "only_agility"]}, "policies"),
                                             ({"design": latin_hypercube({"market.shift_rate": (0, 6)}, n=3, seed=2)},
                                              "design")])
def test_a_different_sweep_is_refused_and_nothing_changes(store, change, word):
    out, _ = store
    before = {p.name: p.stat().st_mtime_ns for p in out.rglob("*")}
    with pytest.raises(ParameterError, match=f"different sweep.*{word}"):
        run(out, **change)
    assert {p.name: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_foreign_directories_and_files_are_refused(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "thesis.tex").write_text("x")
    with pytest.raises(ParameterError, match="not empty"):
        run(tmp_path / "notes")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ParameterError, match="is a file"):
        run(tmp_path / "file")
    with pytest.raises(ParameterError, match="not an okrsim result store"):
        load_results(tmp_path / "notes")


def test_other_versions_are_refused(store, tmp_path):
    out, _ = store
    copy = tmp_path / "old"
    shutil.copytree(out, copy)
    m = json.loads((copy / "manifest.json").read_text())
    m["okrsim_version"] = "0.0.1"
    (copy / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ParameterError, match=r"okrsim 0\.0\.1"):
        run(copy)


def test_one_writer_at_a_time(tmp_path):
    spec = SweepSpec.build(DESIGN, SMALL, ["annual", "quarterly_okr"], 2, 3)
    first = ResultStore.open(tmp_path / "s", spec)
    try:
        with pytest.raises(ParameterError, match="another sweep is writing"):
            ResultStore.open(tmp_path / "s", spec)
    finally:
        first.close()
    ResultStore.open(tmp_path / "s", spec).close()  # free again


def test_duplicated_chunks_are_detected(store, tmp_path):
    out, _ = store
    copy = tmp_path / "dup"
    shutil.copytree(out, copy)
    first = sorted((copy / "chunks").glob("part-*.parquet"))[0]
    shutil.copy(first, copy / "chunks" / "part-999999.parquet")
    with pytest.raises(ParameterError, match="inconsistent"):
        run(copy)
