"""The result store: a directory of Parquet chunks that a sweep streams to and resumes from.

Layout of a store directory::

    manifest.json          okrsim version, fingerprint, full inputs, progress
    design.parquet         the design: point, factor values and the raw sample
    chunks/part-000001.parquet ...   result rows, whole units only

Every file is written atomically (`okrsim.core.fileio.write_atomic`), so a sweep killed at any
moment leaves only complete chunks (plus, at worst, a hidden temporary file that readers
ignore and the next run deletes).  A chunk holds whole units (a design point in one
replication under every policy), so the units present on disk are exactly the finished
ones: a resumed sweep computes the others, and the final rows equal an uninterrupted
sweep's.  Chunks are written every `flush_rows` rows or `flush_seconds` seconds, whichever
comes first; that bounds both memory and the work lost to a ``kill -9``.  Each chunk's
Parquet metadata carries the okrsim version, the seed and the full parameter set, so a
single file is self-describing.  One writer at a time is enforced with an OS lock, which
the OS releases when the process dies.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from okrsim.core.errors import ParameterError
from okrsim.core.fileio import write_atomic, write_text_atomic
from okrsim.experiments.designs import Design, Factor
from okrsim.experiments.sweep_spec import SweepSpec, canonical_order

__all__ = ["FORMAT", "MemorySink", "ResultStore", "done_units", "load_results", "read_design", "read_manifest"]

#: Format tag of the store layout, checked before reading or resuming.
FORMAT = "okrsim-sweep/1"
MANIFEST = "manifest.json"
DESIGN = "design.parquet"
CHUNKS = "chunks"
LOCK = ".lock"
_PART = re.compile(r"^part-(\d{6,})\.parquet$")
_OWN = {MANIFEST, DESIGN, CHUNKS, LOCK}


def _version() -> str:
    import okrsim  # at call time: okrsim/__init__ may import this module

    return okrsim.__version__


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def read_manifest(path: str | Path) -> dict[str, Any]:
    """The manifest of the store at `path` (raises `ParameterError` if there is none)."""
    path = Path(path)
    file = path / MANIFEST
    if not file.is_file():
        raise ParameterError(f"{str(path)!r} is not an okrsim result store (no {MANIFEST})")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ParameterError(f"cannot read {str(file)!r}: {exc}") from None
    if data.get("format") != FORMAT:
        raise ParameterError(f"{str(path)!r} holds format {data.get('format')!r}; this okrsim reads {FORMAT!r}")
    return data


def read_design(path: str | Path, manifest: dict[str, Any] | None = None) -> Design:
    """The design of the store at `path`, exactly as it was sampled."""
    path = Path(path)
    manifest = manifest or read_manifest(path)
    info = manifest["spec"]["design"]
    factors = tuple(Factor.from_dict(f) for f in info["factors"])
    table = pq.read_table(path / DESIGN)
    n = table.num_rows
    sample = np.column_stack([table.column(f"sample:{f.key}").to_numpy() for f in factors]) if factors else np.zeros((n, 0))
    return Design(factors, sample, info["method"], info["options"])


def _parts(path: Path) -> list[Path]:
    chunks = path / CHUNKS
    if not chunks.is_dir():
        return []
    return sorted(p for p in chunks.iterdir() if _PART.match(p.name))


def load_results(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Every result row in the store at `path`, as one tidy frame.

    Rows are sorted by ``point``, ``policy`` (in the sweep's order) and ``replication``, so the
    frame does not depend on which executor produced it or in which order runs finished.

    Parameters
    ----------
    path : str or Path
        A directory written by `okrsim.experiments.sweeps.sweep` (or ``okrsim sweep --out``).
    columns : list of str, optional
        Read only these columns (faster and smaller for big stores).

    Notes
    -----
    An interrupted sweep's store loads too, with the runs finished so far; the manifest's
    ``complete`` says whether it is whole.  Re-run the sweep to complete it.
    """
    path = Path(path)
    manifest = read_manifest(path)
    names = [p["name"] for p in manifest["spec"]["policies"]]
    all_columns = manifest["columns"]
    if columns is not None:
        unknown = [c for c in columns if c not in all_columns]
        if unknown:
            raise ParameterError(f"columns {unknown} are not in this store; columns are {', '.join(all_columns)}")
    parts = _parts(path)
    if parts:
        frame = pd.concat([pq.read_table(p, columns=columns).to_pandas() for p in parts], ignore_index=True)
    else:  # nothing finished yet: rebuild the spec for the column types
        frame = SweepSpec.from_dict(manifest["spec"], read_design(path, manifest)).empty_frame()
        frame = frame[list(columns)] if columns is not None else frame
    return canonical_order(frame, names)


def done_units(path: str | Path, spec: SweepSpec) -> np.ndarray:
    """Sorted ids of the units whose rows are in the store at `path` (read-only).

    A unit is ``point * replications + replication``; it is done when all its policies'
    rows are on disk, which chunks guarantee by holding whole units only.
    """
    path = Path(path)
    parts = _parts(path)
    if not parts:
        return np.zeros(0, dtype=np.int64)
    units = []
    for p in parts:
        t = pq.read_table(p, columns=["point", "replication"])
        units.append(t.column("point").to_numpy() * spec.replications + t.column("replication").to_numpy())
    ids, counts = np.unique(np.concatenate(units), return_counts=True)
    n_pol = len(spec.policies)
    if (counts != n_pol).any():
        bad = ids[counts != n_pol][:5].tolist()
        raise ParameterError(f"result store {str(path)!r} is inconsistent: units {bad} have "
                             f"{counts[counts != n_pol][:5].tolist()} rows instead of {n_pol}; "
                             "were chunk files copied in by hand?")
    if len(ids) and ids[-1] >= spec.n_units:
        raise ParameterError(f"result store {str(path)!r} holds units beyond this sweep")
    return ids.astype(np.int64)


def _describe_difference(old: dict[str, Any], new: dict[str, Any]) -> str:
    diffs = [k for k in ("seed", "replications", "scenario", "policies", "kpis", "design") if old.get(k) != new.get(k)]
    return ", ".join(diffs) if diffs else "the design points"


class MemorySink:
    """Keeps results in memory: for small sweeps that need no file (``out=None``)."""

    def __init__(self, spec: SweepSpec) -> None:
        self.spec = spec
        self._frames: list[pd.DataFrame] = []

    def done_units(self) -> np.ndarray:
        return np.zeros(0, dtype=np.int64)

    def add(self, frame: pd.DataFrame) -> None:
        self._frames.append(frame)

    def flush(self) -> None:
        pass

    def close(self, complete: bool = False) -> None:
        pass

    def frame(self) -> pd.DataFrame:
        if not self._frames:
            return self.spec.empty_frame()
        return self.spec.canonical(pd.concat(self._frames, ignore_index=True))


class ResultStore:
    """A store directory opened for writing by one sweep; see the module docstring."""

    def __init__(self, path: Path, spec: SweepSpec, lock_fd: int | None, flush_rows: int, flush_seconds: float) -> None:
        self.path = path
        self.spec = spec
        self._lock_fd = lock_fd
        self._flush_rows = flush_rows
        self._flush_seconds = flush_seconds
        self._buffer: list[pd.DataFrame] = []
        self._buffered = 0
        self._last_flush = time.monotonic()
        self._meta = json.dumps({
            "okrsim_version": _version(), "format": FORMAT, "fingerprint": spec.fingerprint(),
            "seed": spec.seed, **spec.to_dict(),
        }, default=str).encode()
        parts = _parts(path)
        self._next = 1 + max((int(_PART.match(p.name).group(1)) for p in parts), default=0)  # type: ignore[union-attr]
        self._done = done_units(path, spec)
        self._rows_done = len(self._done) * len(spec.policies)

    # ------------------------------------------------------------------------- open / check
    @staticmethod
    def check(path: str | Path, spec: SweepSpec) -> None:
        """Refuse, without writing anything, a path that cannot hold this sweep.

        A new or empty directory is fine; so is a store of the very same sweep (it resumes).
        Anything else (a file, an unrelated directory, a store of a different sweep or
        okrsim version) is an error that says what differs.
        """
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise ParameterError(f"out = {str(path)!r} is a file; give a directory for the result store")
        if not path.is_dir():
            return
        entries = {p.name for p in path.iterdir() if not (p.name.startswith(".") and p.name.endswith(".tmp"))}
        if not entries:
            return
        if MANIFEST not in entries:
            if entries <= _OWN and not _parts(path):
                return  # a store whose creation was interrupted before any result
            raise ParameterError(f"out = {str(path)!r} is not empty and holds no okrsim sweep; "
                                 "choose a new directory for the result store")
        manifest = read_manifest(path)
        if manifest.get("okrsim_version") != _version():
            raise ParameterError(f"{str(path)!r} was written by okrsim {manifest.get('okrsim_version')}, this is "
                                 f"{_version()}: results would not be comparable; use a new directory")
        if manifest.get("fingerprint") != spec.fingerprint():
            what = _describe_difference(manifest.get("spec", {}), spec.to_dict())
            raise ParameterError(f"{str(path)!r} holds a different sweep ({what} differ); use a new directory "
                                 "or the same inputs to resume it")

    @classmethod
    def open(cls, path: str | Path, spec: SweepSpec, *, flush_rows: int = 10_000, flush_seconds: float = 10.0) -> ResultStore:
        """Create the store or reopen it to resume; call `check` first (it writes nothing)."""
        path = Path(path)
        cls.check(path, spec)
        path.mkdir(parents=True, exist_ok=True)
        lock_fd = _lock(path)
        try:
            for tmp in [*path.glob(".*.tmp"), *(path / CHUNKS).glob(".*.tmp")]:
                tmp.unlink(missing_ok=True)  # left by a process killed mid-write
            (path / CHUNKS).mkdir(exist_ok=True)
            if not (path / MANIFEST).is_file():
                _write_design(path / DESIGN, spec.design)
            store = cls(path, spec, lock_fd, flush_rows, flush_seconds)
            store._write_manifest()
        except BaseException:
            _unlock(lock_fd)
            raise
        return store

    # ------------------------------------------------------------------------------ writing
    def done_units(self) -> np.ndarray:
        """Sorted ids of the units already on disk."""
        return self._done

    def add(self, frame: pd.DataFrame) -> None:
        """Buffer the rows of whole units; write a chunk when the buffer is big or old."""
        self._buffer.append(frame)
        self._buffered += len(frame)
        if self._buffered >= self._flush_rows or time.monotonic() - self._last_flush >= self._flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Write buffered rows as one chunk (atomically)."""
        self._last_flush = time.monotonic()
        if not self._buffer:
            return
        frame = pd.concat(self._buffer, ignore_index=True)
        table = pa.Table.from_pandas(frame, preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), b"okrsim": self._meta})
        target = self.path / CHUNKS / f"part-{self._next:06d}.parquet"
        write_atomic(target, lambda tmp: pq.write_table(table, tmp))
        self._next += 1
        self._rows_done += len(frame)
        self._buffer, self._buffered = [], 0

    def close(self, complete: bool = False) -> None:
        """Flush, record progress in the manifest, and release the lock."""
        try:
            self.flush()
            self._write_manifest(complete)
        finally:
            _unlock(self._lock_fd)
            self._lock_fd = None

    def _write_manifest(self, complete: bool = False) -> None:
        spec = self.spec
        old = {}
        if (self.path / MANIFEST).is_file():
            old = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
        data = {
            "format": FORMAT,
            "okrsim_version": _version(),
            "fingerprint": spec.fingerprint(),
            "created": old.get("created", _now()),
            "updated": _now(),
            "complete": bool(complete),
            "runs_total": spec.n_runs,
            "runs_done": self._rows_done,
            "columns": list(spec.columns),
            "spec": spec.to_dict(),
        }
        write_text_atomic(self.path / MANIFEST, json.dumps(data, indent=2, default=str) + "\n")


def _write_design(path: Path, design: Design) -> None:
    data: dict[str, Any] = {"point": np.arange(len(design), dtype=np.int64), **design.columns}
    for j, f in enumerate(design.factors):
        data[f"sample:{f.key}"] = design.sample[:, j]
    table = pa.Table.from_pandas(pd.DataFrame(data), preserve_index=False)
    write_atomic(path, lambda tmp: pq.write_table(table, tmp))


def _lock(path: Path) -> int | None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock, one writer is the user's job
        return None
    fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise ParameterError(f"another sweep is writing to {str(path)!r} right now; wait for it or use another "
                             "directory") from None
    return fd


def _unlock(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)  # closing releases the flock
