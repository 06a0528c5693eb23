"""Where batches of runs go: in-process, local processes, any Executor, or dask.

Sweeps, comparisons for the views (`okrsim.views.panels.build_panel`) and the explorer all
sit behind one small interface (`Evaluator.imap_unordered`), so none of them can tell the
backends apart and the same seed gives the same results on each: every run draws its random
numbers from its own seed, never from a worker's state.

Local processes come from loky's reusable executor (the process pool that joblib uses):
one pool per Python process, started once and shared by every sweep and explorer of a
notebook, with crash detection (a killed worker is an error, not a hang), workers started
by fork+exec (safe with the threads that Jupyter, tqdm and dask run) and functions pickled
with cloudpickle.  Two things loky does not do are added here, because they were measured
missing: a worker ignores Ctrl-C (the process that owns the pool decides what stops; in a
terminal Ctrl-C reaches the whole process group) and exits by itself when the process that
started it dies (``kill -9`` of a kernel leaves loky's workers waiting for their idle
timeout otherwise).  At most a few batches per worker are in flight, so an interrupt
returns within about one batch and memory does not grow with the size of the sweep.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from okrsim.core.errors import ParameterError

__all__ = ["EXECUTORS", "Evaluator", "SweepTimeout", "as_evaluator", "default_workers", "open_evaluator"]

#: Named executors; anything else must be an Executor, a dask Client or a scheduler address.
EXECUTORS: tuple[str, ...] = ("serial", "processes")
#: Batches in flight per worker: enough to keep workers busy, few enough to stop quickly.
IN_FLIGHT_PER_WORKER = 2
#: Seconds an idle local worker waits for work before it exits (loky starts it again when needed).
IDLE_SECONDS = 600


class SweepTimeout(TimeoutError):
    """No batch finished within the sweep's timeout; finished runs are kept."""


def default_workers() -> int:
    """Cores this process may use (respects CPU affinity, e.g. in containers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _worker_init(main_pid: int) -> None:
    """Worker initializer: leave Ctrl-C to the main process, and exit when it is gone.

    A worker starts with Ctrl-C blocked (see `_submit`), so one that arrives while it is
    still importing waits here and is then ignored, instead of killing the worker with a
    traceback of its own.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})

    def watch() -> None:
        while True:
            time.sleep(0.5)
            try:
                os.kill(main_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # pragma: no cover - a pid reused by another user
                os._exit(1)

    threading.Thread(target=watch, name="okrsim-parent-watch", daemon=True).start()


def _local_pool(n: int) -> cf.Executor:
    """The process-wide loky pool, resized to `n` workers if needed."""
    from loky import get_reusable_executor

    return get_reusable_executor(max_workers=n, timeout=IDLE_SECONDS, initializer=_worker_init,
                                 initargs=(os.getpid(),))


def _submit(executor: cf.Executor, fn: Callable[..., Any], *args: Any) -> cf.Future:
    """``executor.submit`` with Ctrl-C blocked in this thread meanwhile.

    loky starts workers (fork+exec) inside ``submit``, or in its manager thread, which is
    created by the first ``submit`` and inherits this thread's signal mask; a started
    process keeps the mask.  So every worker begins life with Ctrl-C blocked until
    `_worker_init` has told it to ignore Ctrl-C.
    """
    mask = getattr(signal, "pthread_sigmask", None)
    if mask is None or threading.current_thread() is not threading.main_thread():  # pragma: no cover
        return executor.submit(fn, *args)
    old = mask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        return executor.submit(fn, *args)
    finally:
        mask(signal.SIG_SETMASK, old)


def _preload(modules: tuple[str, ...]) -> int:
    """Import `modules` in a worker, so that the first real task does not pay for it."""
    import importlib

    for name in modules:
        importlib.import_module(name)
    return os.getpid()


def _is_dask_client(obj: Any) -> bool:
    return type(obj).__module__.startswith("distributed") and hasattr(obj, "get_executor")


class Evaluator:
    """A backend that runs ``fn(task)`` for many tasks and yields results as they finish.

    Use `open_evaluator` to create one, as a context manager, or keep one open for the
    life of an interactive view (the explorer does).
    """

    def __init__(self, kind: str, workers: int, executor: cf.Executor | None = None, *,
                 client: Any = None, owns_client: bool = False) -> None:
        self.kind = kind
        self.workers = workers
        self._executor = executor
        self._client = client
        self._owns_client = owns_client
        self._closed = False

    def __repr__(self) -> str:
        return f"Evaluator({self.kind!r}, workers={self.workers})"

    def _pool(self) -> cf.Executor | None:
        if self._closed:
            raise ParameterError(f"{self!r} is closed; open a new one with open_evaluator()")
        if self.kind == "processes":
            # Fetched on every use: another evaluator may have killed the shared pool (an
            # interrupted sweep), and loky then starts a fresh one.
            self._executor = _local_pool(self.workers)
        return self._executor

    def imap_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any], *, timeout: float | None = None) -> Iterator[Any]:
        """Yield ``fn(task)`` for every task, in completion order.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait for the next batch to finish before raising `SweepTimeout`
            (parallel backends only: an in-process run cannot be interrupted safely).
        """
        executor = self._pool()
        if executor is None:
            for task in tasks:
                yield fn(task)
            return
        it = iter(tasks)
        pending: set[cf.Future] = set()
        try:
            for task in itertools.islice(it, IN_FLIGHT_PER_WORKER * self.workers):
                pending.add(_submit(executor, fn, task))
            while pending:
                done, pending = cf.wait(pending, timeout=timeout, return_when=cf.FIRST_COMPLETED)
                if not done:
                    raise SweepTimeout(f"no batch finished within {timeout:g} s on the {self.kind} executor; "
                                       "finished runs are saved: raise timeout= or check the workers, then run again")
                for task in itertools.islice(it, len(done)):
                    pending.add(_submit(executor, fn, task))
                for future in done:
                    yield future.result()
        except BrokenProcessPool:  # loky's TerminatedWorkerError is one
            raise ChildProcessError("a worker process died (out of memory, or killed); finished runs are saved: "
                                    "run the sweep again to resume") from None
        finally:
            for future in pending:
                future.cancel()

    def close(self, abort: bool = False) -> None:
        """Release what this evaluator started; with `abort`, stop running work at once.

        The shared local pool stays up after a normal close, so the next sweep starts at
        once; an abort (an error, a timeout, Ctrl-C) kills its workers, because they may be
        busy with work nobody waits for any more.
        """
        if self._closed:
            return
        self._closed = True
        if self.kind == "processes" and abort and self._executor is not None:
            self._executor.shutdown(wait=False, kill_workers=True)  # type: ignore[call-arg]
        self._executor = None
        client, self._client = self._client, None
        if client is not None and self._owns_client:
            client.close()

    def __enter__(self) -> Evaluator:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close(abort=exc_type is not None)


def _check_main_module() -> None:
    """Refuse a process pool when workers could not import the main program.

    Workers re-import ``__main__`` from its file; a program read from stdin (``python -``)
    has no file, and every worker would die at start.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if getattr(main, "__spec__", None) is not None or not path:
        return  # ``python -m``, notebooks, IPython, ``python -c``
    import multiprocessing.process

    full = path if os.path.isabs(path) else os.path.join(getattr(multiprocessing.process, "ORIGINAL_DIR", None)
                                                          or os.getcwd(), path)
    if not os.path.exists(full):
        raise ParameterError(f"local worker processes cannot start from a program read from {path!r}: they re-import "
                             "the main program from its file; save it to a file (with if __name__ == '__main__':) "
                             "or use executor='serial'")


def open_evaluator(executor: Any = "processes", workers: int | None = None, *, connect_timeout: float = 10.0,
                   tasks: int | None = None, preload: tuple[str, ...] = ()) -> Evaluator:
    """An `Evaluator` for `executor`.

    Parameters
    ----------
    executor : str, Executor or dask Client
        ``"processes"`` (default): the shared local process pool with `workers` processes
        (all cores by default; one worker runs in-process).  ``"serial"``: in this process.
        Any `concurrent.futures.Executor`: used as given, never shut down here.  A
        ``dask.distributed.Client``: its cluster.  A scheduler address such as
        ``"tcp://10.0.0.5:8786"``: connect, run, and disconnect.
    workers : int, optional
        Processes of the local pool; ignored by other backends.
    connect_timeout : float
        Seconds to wait for a dask scheduler before giving up with a clear error.
    tasks : int, optional
        Number of tasks to come, if known: a local pool never uses more workers than
        tasks, and none at all for a single task (starting one costs about a second).
    preload : tuple of str
        Modules every local worker imports at once (in the background), so that the first
        batch does not wait for imports; the explorer preloads its run code this way.

    Raises
    ------
    ParameterError
        Unknown executor, bad worker count, or an unreachable scheduler; nothing is started.
    """
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ParameterError(f"workers = {workers!r} must be a whole number of at least 1")
    if isinstance(executor, str) and executor in EXECUTORS:
        if executor == "serial":
            return Evaluator("serial", 1)
        n = workers or default_workers()
        if tasks is not None:
            n = min(n, tasks)
        if n <= 1:
            return Evaluator("serial", 1)
        _check_main_module()
        ev = Evaluator("processes", n)
        pool = ev._pool()
        assert pool is not None
        for _ in range(n):  # start the workers now, so their start overlaps the caller's preparation
            _submit(pool, _preload, tuple(preload))
        return ev
    if isinstance(executor, str) and ("://" in executor or ":" in executor):
        client = _connect(executor, connect_timeout)
        return Evaluator("dask", _dask_workers(client), client.get_executor(pure=False), client=client, owns_client=True)
    if _is_dask_client(executor):
        return Evaluator("dask", _dask_workers(executor), executor.get_executor(pure=False), client=executor)
    if isinstance(executor, cf.Executor):
        n = getattr(executor, "_max_workers", None) or default_workers()
        return Evaluator(type(executor).__name__, int(n), executor)
    raise ParameterError(f"executor = {executor!r} must be 'processes', 'serial', a concurrent.futures.Executor, "
                         "a dask.distributed.Client or a scheduler address such as 'tcp://host:8786'")


def as_evaluator(executor: Any, workers: int | None = None, *, tasks: int | None = None,
                 preload: tuple[str, ...] = ()) -> tuple[Evaluator, bool]:
    """`executor` as an `Evaluator`, and whether the caller opened it (and so must close it).

    Lets functions take what `open_evaluator` takes, or an evaluator someone keeps open
    (the explorer keeps one for its whole life).
    """
    if isinstance(executor, Evaluator):
        return executor, False
    if executor is None:
        return Evaluator("serial", 1), True
    return open_evaluator(executor, workers, tasks=tasks, preload=preload), True


def _connect(address: str, timeout: float) -> Any:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ParameterError(f"connect_timeout = {timeout!r} must be a positive number of seconds")
    _probe(address, timeout)
    from distributed import Client

    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ParameterError(f"cannot reach the dask scheduler at {address!r} within {timeout:g} s ({exc}); "
                             "check the address, or start one with `dask scheduler` and `dask worker ADDRESS`") from None


def _probe(address: str, timeout: float) -> None:
    """Fail at once when nothing listens at a TCP scheduler address.

    dask retries a refused connection until its timeout; a plain socket connect says in
    milliseconds that no scheduler runs there, which is the common mistake.
    """
    scheme, sep, rest = address.partition("://")
    if sep and scheme != "tcp":
        return  # tls, ucx, inproc ...: leave it to dask
    host, _, port = (rest if sep else address).rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ParameterError(f"scheduler address {address!r} must look like tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise ParameterError(f"cannot reach the dask scheduler at {address!r} ({exc.strerror or exc}); check the "
                             "address, or start one with `dask scheduler` and `dask worker ADDRESS`") from None


def _dask_workers(client: Any) -> int:
    try:
        return max(1, sum(client.nthreads().values()))
    except Exception:  # a cluster that is still scaling up may not answer yet
        return 1
