"""Kernels the test suite starts talk over IPC sockets, never over TCP ports.

jupyter_client picks a kernel's five TCP ports by binding to port 0, closing, and letting
the kernel bind them a moment later; another process that starts a kernel (or a server) in
that moment can take the same port, and the kernel dies with "Address already in use"
("Kernel died before replying to kernel_info").  That happens when tests run in parallel
(pytest-xdist) or while a second ``make test`` runs.  Unix-domain sockets with a unique path
per kernel cannot collide.  The paths live in a short directory because a socket path may
hold at most 107 characters.

Used by the root ``conftest.py`` (nbval's kernels), by tests that run notebooks with nbclient,
and by the browser fixtures (``SERVER_KERNEL_FLAGS`` for JupyterLab and Voila).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid

import zmq
from jupyter_client import AsyncKernelManager, KernelManager
from traitlets import CaselessStrEnum, default

__all__ = ["SERVER_KERNEL_FLAGS", "AsyncIpcKernelManager", "IpcKernelManager", "socket_dir"]

#: Command-line flags that make a Jupyter server (Lab, Voila) start its kernels on IPC sockets.
SERVER_KERNEL_FLAGS: tuple[str, ...] = ("--KernelManager.transport=ipc",)


_socket_dir: str | None = None


def socket_dir() -> str:
    """A short directory for sockets (``/tmp/okrsim-k-XXXXXXXX``), one per test process, removed at exit."""
    global _socket_dir
    if _socket_dir is None:
        _socket_dir = tempfile.mkdtemp(prefix="okrsim-k-", dir="/tmp" if os.path.isdir("/tmp") else None)
        atexit.register(shutil.rmtree, _socket_dir, ignore_errors=True)
    return _socket_dir


def _unique_ip() -> str:
    # jupyter_client's default is "kernel-ipc" in the working directory, shared by every
    # kernel started there before its connection file exists: a path per kernel instead.
    return os.path.join(socket_dir(), f"{uuid.uuid4().hex[:12]}-ipc")


class IpcKernelManager(KernelManager):
    """A `KernelManager` whose kernel listens on unique IPC sockets (nbval's manager).

    Its clients receive IOPub messages without a high-water mark.  nbval reads a cell's
    IOPub messages only after the kernel has replied, so everything the cell sent waits in the
    sockets' queues; ZeroMQ's default limit of 1,000 messages per queue made the publisher drop
    the rest, and a cell that displays the explorer (about 2,000 widget messages) never saw
    its "idle" status ("Timeout ... waiting for output").  With no limit on the receiving side,
    the client's I/O thread drains the publisher as fast as the kernel sends."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    @default("ip")
    def _ip_default(self) -> str:
        return _unique_ip()

    def client(self, **kwargs: object) -> object:
        kc = super().client(**kwargs)
        kc.context.setsockopt(zmq.RCVHWM, 0)  # the default of every socket it creates from now on
        return kc


class AsyncIpcKernelManager(AsyncKernelManager):
    """The same for nbclient, whose default manager is asynchronous."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    @default("ip")
    def _ip_default(self) -> str:
        return _unique_ip()
