"""Suite-wide test set-up, loaded by every pytest run in this repository (tests and nbval).

Notebook kernels started by nbval use IPC sockets instead of TCP ports, so that kernels
started at the same moment by parallel test workers, or by a second ``make test``, cannot
collide on a port (see tests/ipc_kernels.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "tests"))

from ipc_kernels import IpcKernelManager


def pytest_configure(config: object) -> None:
    try:
        import nbval.kernel
    except ImportError:  # nbval is a dev dependency; plain pytest runs without it
        return
    nbval.kernel.KernelManager = IpcKernelManager
