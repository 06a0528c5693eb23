"""Atomic writes: a failed writer leaves nothing behind."""

from __future__ import annotations

import pytest

from okrsim.core.fileio import write_atomic, write_text_atomic


def test_write_text_atomic(tmp_path):
    path = write_text_atomic(tmp_path / "sub" / "a.txt", "hello")
    assert path.read_text() == "hello"
    write_text_atomic(path, "again")
    assert path.read_text() == "again"
    assert [p.name for p in path.parent.iterdir()] == ["a.txt"]


def test_failed_writer_leaves_no_partial_file(tmp_path):
    target = tmp_path / "b.txt"
    target.write_text("old")

    def broken(tmp):
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["b.txt"]
