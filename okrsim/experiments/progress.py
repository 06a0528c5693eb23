"""Progress bars for long experiments: a widget in notebooks, a text bar in terminals.

`tqdm.auto` picks the right one; everything that runs many simulations takes a ``progress``
switch so that tests, scripts and ``--json`` output can turn it off.
"""

from __future__ import annotations

from typing import Any

__all__ = ["progress_bar"]


class _Silent:
    """Stands in for a bar when progress is off."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, *, initial: int = 0, enabled: bool = True, desc: str = "okrsim", unit: str = "run") -> Any:
    """A bar counting `unit` up to `total`, starting at `initial` (runs already on disk)."""
    if not isinstance(enabled, bool):
        from okrsim.core.errors import ParameterError

        raise ParameterError(f"progress = {enabled!r} must be true or false")
    if not enabled:
        return _Silent()
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit=unit, dynamic_ncols=True, smoothing=0.1)
