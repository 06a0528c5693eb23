"""Atomic file writes, and the one reader of input files (`read_mapping`).

Every file the kit writes (parameter files, reports, figures, result chunks) goes through
here, so an interrupted process never leaves a half-written file that a later run would
trust.  The pattern is the usual one: write a temporary file in the same directory, flush it
to disk, then rename it over the target, which POSIX guarantees to be atomic.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from okrsim.core.errors import ParameterError

__all__ = ["read_mapping", "write_atomic", "write_bytes_atomic", "write_text_atomic"]


def write_atomic(path: str | Path, writer: Callable[[Path], None]) -> Path:
    """Let `writer` fill a temporary path, then move it to `path` in one step.

    Parameters
    ----------
    path : str or Path
        Final location; its directory is created if needed.
    writer : callable
        Receives the temporary path and writes the complete file there.  Libraries that
        want a file name rather than a handle (pandas, pyarrow, vl-convert) fit this form.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
    tmp_path = Path(tmp)
    try:
        writer(tmp_path)
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write `data` to `path` atomically."""
    return write_atomic(path, lambda tmp: tmp.write_bytes(data))


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write UTF-8 `text` to `path` atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def read_mapping(path: str | Path, what: str) -> Mapping[str, Any]:
    """Read a YAML (any suffix but ``.json``) or JSON file that must hold a mapping.

    YAML is read with the YAML 1.2 core schema (`okrsim.core.values`), the same rules as
    ``--set`` values and the explorer's text boxes.  Every input file of the kit (scenarios,
    policies, sweep specifications, settings) goes through here, so a missing file, a syntax
    error or a list where a mapping belongs gets the same clear `ParameterError` naming the
    file and `what` it should be.
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"{what} file {str(path)!r} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ParameterError(f"cannot read {what} file {str(path)!r}: {exc}") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text, object_pairs_hook=_unique_keys)
        else:
            from okrsim.core.values import load_yaml

            data = load_yaml(text)  # YAML 1.2 core schema: 1e0 is a number, 1:30 and 010 are not sexagesimal or octal
    except Exception as exc:  # any parse error is the user's file
        raise ParameterError(f"cannot parse {str(path)!r}: {exc}") from None
    if not isinstance(data, Mapping):
        raise ParameterError(f"{str(path)!r} must hold a mapping ({what}); got {type(data).__name__}")
    return data


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON objects as dicts, refusing a key given twice (json keeps the last one silently)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out
