"""Where the batches of a sweep run: in-process, local processes, any Executor, or dask.

All backends sit behind one small interface (`Evaluator.imap_unordered`), so the sweep loop
cannot tell them apart and the same seed gives the same results on each.  Three things are
done here so that a sweep never hangs a notebook:

- local process pools start workers with ``forkserver`` on Linux and ``spawn`` elsewhere
  (both are safe with the threads that Jupyter, tqdm and dask start, unlike ``fork``) and
  run only top-level functions of `okrsim`.  The fork server imports okrsim once, so every
  pool after the first starts in milliseconds instead of a second or two per sweep;
- at most a few batches per worker are in flight, so Ctrl-C (a notebook's "interrupt")
  returns within about one batch, and memory does not grow with the size of the sweep;
- pools this module starts are shut down and their workers terminated on any error or
  interrupt, and each worker exits by itself if the process that started it dies (a killed
  kernel or ``kill -9``), so no orphaned workers keep the machine busy.
"""

from __future__ import annotations

import concurrent.futures as cf
import itertools
import multiprocessing
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

__all__ = ["EXECUTORS", "Evaluator", "SweepTimeout", "default_workers", "open_evaluator", "start_method"]

#: Named executors; anything else must be an Executor, a dask Client or a scheduler address.
EXECUTORS: tuple[str, ...] = ("serial", "processes")
#: Batches in flight per worker: enough to keep workers busy, few enough to stop quickly.
IN_FLIGHT_PER_WORKER = 2


class SweepTimeout(TimeoutError):
    """No batch finished within the sweep's timeout; finished runs are kept."""


def default_workers() -> int:
    """Cores this process may use (respects CPU affinity, e.g. in containers)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


#: Modules the fork server imports once (``__main__`` is multiprocessing's own default).
PRELOAD: tuple[str, ...] = ("__main__", "okrsim.experiments.sweep_spec")


def start_method() -> str:
    """``forkserver`` on Linux, ``spawn`` elsewhere (macOS frameworks dislike forking)."""
    if sys.platform.startswith("linux") and "forkserver" in multiprocessing.get_all_start_methods():
        return "forkserver"
    return "spawn"


def _context() -> Any:
    ctx = multiprocessing.get_context(start_method())
    if ctx.get_start_method() == "forkserver":
        # Process-wide setting of the fork server; it takes effect when the server starts.
        ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


def _worker_init(main_pid: int) -> None:
    """Worker initializer: leave Ctrl-C to the main process, and exit when it is gone.

    In a terminal Ctrl-C reaches every process of the foreground group; the main process
    then stops the pool, so workers ignore it instead of each printing a traceback.  A
    worker's parent is the main process (spawn) or the fork server, which exits with the
    main process; either way a changed parent means the sweep is over.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by `_process_pool` until now
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(0.5)
            try:
                os.kill(main_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # pragma: no cover - a pid reused by another user
                os._exit(1)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="okrsim-parent-watch", daemon=True).start()


def _ready() -> int:
    return os.getpid()


def _process_pool(n: int) -> cf.ProcessPoolExecutor:
    """A pool whose `n` workers are all started now, with Ctrl-C blocked while they start.

    A spawned worker inherits the signal mask, so a Ctrl-C that arrives while it is still
    importing okrsim waits until `_worker_init` has set it to be ignored, instead of killing
    the worker with a traceback of its own.  Starting the workers at once (they start
    lazily otherwise) also lets their start-up overlap with the sweep's own preparation.
    """
    pool = cf.ProcessPoolExecutor(max_workers=n, mp_context=_context(), initializer=_worker_init,
                                  initargs=(os.getpid(),))
    mask = getattr(signal, "pthread_sigmask", None)
    old = mask(signal.SIG_BLOCK, {signal.SIGINT}) if mask else None
    try:
        for _ in range(n):
            pool.submit(_ready)
    finally:
        if mask:
            mask(signal.SIG_SETMASK, old)
    return pool


def _is_dask_client(obj: Any) -> bool:
    return type(obj).__module__.startswith("distributed") and hasattr(obj, "get_executor")


class Evaluator:
    """A backend that runs ``fn(task)`` for many tasks and yields results as they finish.

    Use `open_evaluator` to create one, as a context manager.
    """

    def __init__(self, kind: str, workers: int, executor: cf.Executor | None = None, *,
                 owns_executor: bool = False, client: Any = None, owns_client: bool = False) -> None:
        self.kind = kind
        self.workers = workers
        self._executor = executor
        self._owns_executor = owns_executor
        self._client = client
        self._owns_client = owns_client

    def __repr__(self) -> str:
        return f"Evaluator({self.kind!r}, workers={self.workers})"

    def imap_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any], *, timeout: float | None = None) -> Iterator[Any]:
        """Yield ``fn(task)`` for every task, in completion order.

        Parameters
        ----------
        timeout : float, optional
            Seconds to wait for the next batch to finish before raising `SweepTimeout`
            (parallel backends only: an in-process run cannot be interrupted safely).
        """
        if self._executor is None:
            for task in tasks:
                yield fn(task)
            return
        it = iter(tasks)
        pending: set[cf.Future] = set()
        try:
            for task in itertools.islice(it, IN_FLIGHT_PER_WORKER * self.workers):
                pending.add(self._executor.submit(fn, task))
            while pending:
                done, pending = cf.wait(pending, timeout=timeout, return_when=cf.FIRST_COMPLETED)
                if not done:
                    raise SweepTimeout(f"no batch finished within {timeout:g} s on the {self.kind} executor; "
                                       "finished runs are saved: raise timeout= or check the workers, then run again")
                for task in itertools.islice(it, len(done)):
                    pending.add(self._executor.submit(fn, task))
                for future in done:
                    yield future.result()
        except BrokenProcessPool:
            raise ChildProcessError("a worker process died (out of memory, or killed); finished runs are saved: "
                                    "run the sweep again to resume") from None
        finally:
            for future in pending:
                future.cancel()

    def close(self, abort: bool = False) -> None:
        """Release what this evaluator started; with `abort`, stop running work at once."""
        ex, self._executor = self._executor, None
        if ex is not None and self._owns_executor:
            if abort:
                processes = list((getattr(ex, "_processes", None) or {}).values())
                ex.shutdown(wait=False, cancel_futures=True)
                for p in processes:
                    if p.is_alive():
                        p.terminate()
                for p in processes:
                    p.join(timeout=5)
            else:
                ex.shutdown(wait=True)
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
    full = path if os.path.isabs(path) else os.path.join(getattr(multiprocessing.process, "ORIGINAL_DIR", None)
                                                          or os.getcwd(), path)
    if not os.path.exists(full):
        raise ParameterError(f"local worker processes cannot start from a program read from {path!r}: they re-import "
                             "the main program from its file; save it to a file (with if __name__ == '__main__':) "
                             "or use executor='serial'")


def open_evaluator(executor: Any = "processes", workers: int | None = None, *, connect_timeout: float = 10.0,
                   tasks: int | None = None) -> Evaluator:
    """An `Evaluator` for `executor`.

    Parameters
    ----------
    executor : str, Executor or dask Client
        ``"processes"`` (default): a local process pool with `workers` processes (all cores
        by default; one worker runs in-process).  ``"serial"``: in this process.  Any
        `concurrent.futures.Executor`: used as given, never shut down here.  A
        ``dask.distributed.Client``: its cluster.  A scheduler address such as
        ``"tcp://10.0.0.5:8786"``: connect, run, and disconnect.
    workers : int, optional
        Processes of the local pool; ignored by other backends.
    connect_timeout : float
        Seconds to wait for a dask scheduler before giving up with a clear error.
    tasks : int, optional
        Number of tasks to come, if known: a local pool never starts more workers than
        tasks, and none at all for a single task (starting one costs about a second).

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
        return Evaluator("processes", n, _process_pool(n), owns_executor=True)
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
