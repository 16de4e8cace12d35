"""Run chunks on a backend and hand back their rows as they finish.

Backends: ``threading`` (default, joblib's threads), ``loky`` (worker
processes), ``sequential`` (one chunk at a time), ``dask`` (a
``dask.distributed`` cluster; needs the ``dask`` extra). Each keeps at most
two chunks per worker trained or training and not yet written, so the
driver's memory stays flat however many chunks a sweep has.

Threads are the default because the kernels (and the draws of initial
weights) release the GIL: a chunk holds it only for its Python glue and for
the driver to build its rows, and threads need no process start-up, no
second Numba start-up and no pickled results (``benchmarks/sweep_e2e.py``
compares them). loky isolates a
crash to one worker and scales past the GIL's limit (a few dozen cores);
Dask spans machines.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
from joblib import Parallel, delayed, parallel_config

from kernels.stop import FLAG, clear, request_stop
from kernels.train import warm_up

from ..config.options import BACKENDS, DEFAULT_BACKEND
from ..errors import SweepError
from .cluster import on_dask
from .compile_ahead import compile_ahead
from .plan import Chunk
from .pool import abandon, loky_executor, unstick
from .rows import (
    DRIVER_PID,
    WATCH_INTERVAL,
    Finished,
    chunk_rows,
    run_chunk,
    to_table,
)


def check_backend(backend: str) -> None:
    """Fail early, before anything is written, if ``backend`` cannot run here."""
    if backend == "dask":
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise SweepError(
                "backend dask needs dask.distributed: pip install 'tinynet-sweep[dask]'"
            ) from None


def _in_this_thread(jobs: int, backend: str) -> bool:
    """Whether chunks train one by one in the calling thread."""
    return backend == "sequential" or (jobs == 1 and backend != "dask")


def start_here(jobs: int, backend: str) -> None:
    """Start Numba's run-time now if this process will train the chunks.

    It holds the GIL for a while (the longer when scipy is installed: Numba
    imports it). Started before the driver's other start-up work (the pandas
    import the first write needs), that work overlaps training, whose kernels
    release the GIL, rather than delaying it.
    """
    if backend == "threading" or _in_this_thread(jobs, backend):
        warm_up()


class _Window:
    """Back-pressure for threads: at most ``size`` chunks trained or training
    whose rows are not yet written.

    joblib dispatches a task when one finishes, not when its result is
    consumed, so workers ahead of the writer (short trials) piled finished
    chunks up in memory without bound. A task waits here for a free
    slot; the driver frees one per chunk written. Worker processes (loky,
    Dask) have theirs in :func:`_on_loky` and :func:`sweep.runner.cluster.on_dask`.
    """

    def __init__(self, size: int, encode: Callable[[pa.Table], Any] | None = None):
        self._free = threading.Semaphore(size)
        self._closed = threading.Event()
        self._encode = encode

    def run(self, chunk: Chunk, index: int) -> tuple[int, Any, float]:
        """Train a chunk and build its rows (and encode them), in the worker
        thread: the ids' hashing, Arrow's copies and Parquet's encoding then
        run beside the writer, not in it."""
        while not self._free.acquire(timeout=0.05):
            if self._closed.is_set() or FLAG[0]:  # the run is ending: train nothing more
                raise SweepError("the run ended before this chunk started")
        rows, seconds = chunk_rows(chunk)
        return index, self._encode(rows) if self._encode else rows, seconds

    def written(self) -> None:
        self._free.release()

    def close(self) -> None:
        self._closed.set()


def execute(
    chunks: Iterable[Chunk],
    *,
    jobs: int,
    backend: str = DEFAULT_BACKEND,
    scheduler: str | None = None,
    encode: Callable[[pa.Table], Any] | None = None,
    announce: Callable[[int], None] | None = None,
) -> Iterator[Finished]:
    """Train ``chunks`` and yield each as soon as it is done (any order): the chunk,
    its rows and the seconds its training took. ``encode``, if given, is applied
    to the rows where the threads backend builds them, in its worker threads
    (the other backends hand back rows). ``announce`` is told how many kernels
    compile ahead, if any do (:mod:`sweep.runner.compile_ahead`).

    Ctrl-C (or SIGTERM, see :mod:`sweep.cli`) sets :data:`kernels.stop.FLAG`,
    which running kernels read once an epoch: every chunk of this process
    stops within an epoch, whatever its size. Worker processes are stopped
    by their backend.
    """
    if backend not in BACKENDS:
        raise SweepError(f"backend: unknown backend {backend!r} (choose {', '.join(BACKENDS)})")
    chunks = list(chunks)
    clear()
    with _stop_on_interrupt():
        if _in_this_thread(jobs, backend):
            yield from _one_by_one(chunks)
            return
        os.environ[DRIVER_PID] = str(os.getpid())  # inherited by the workers started below
        if backend == "threading":
            compile_ahead(chunks, jobs, announce)
        if backend == "dask":
            yield from on_dask(chunks, jobs, scheduler)
            return
        if backend == "loky":
            yield from _on_loky(chunks, jobs)
            return
        yield from _on_threads(chunks, jobs, encode)


@contextmanager
def _stop_on_interrupt() -> Iterator[None]:
    """Ctrl-C sets the kernels' stop flag before KeyboardInterrupt unwinds: the
    backends' clean-up then waits an epoch for running kernels, not a chunk."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        request_stop()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _one_by_one(chunks: list[Chunk]) -> Iterator[Finished]:
    """One chunk at a time, each in a helper thread, while this thread waits where
    a signal can reach it.

    The helper is a daemon, and a stop does not wait for it: a kernel stops
    within an epoch, but a first use compiles for seconds first (Numba and
    the generated kernels write their caches atomically, so abandoning a
    compile loses nothing).
    """
    for chunk in chunks:
        future: Future = Future()

        def train(chunk: Chunk = chunk, future: Future = future) -> None:
            try:
                future.set_result(chunk_rows(chunk))
            except BaseException as e:  # handed to the waiting thread
                future.set_exception(e)

        threading.Thread(target=train, name="sweep-chunk", daemon=True).start()
        try:
            yield Finished(chunk, *future.result())
        except BaseException:
            request_stop()
            raise


def _on_threads(
    chunks: list[Chunk], jobs: int, encode: Callable[[pa.Table], Any] | None
) -> Iterator[Finished]:
    with parallel_config(backend="threading"):
        # pre_dispatch bounds the chunks queued; the window, those finished
        # but not yet written.
        parallel = Parallel(n_jobs=jobs, return_as="generator_unordered", pre_dispatch="2*n_jobs")
        window = _Window(2 * jobs, encode)
        try:
            for index, rows, seconds in parallel(
                delayed(window.run)(c, i) for i, c in enumerate(chunks)
            ):
                yield Finished(chunks[index], rows, seconds)
                window.written()
        except BaseException:
            request_stop()
            raise
        finally:
            window.close()


def _on_loky(chunks: list[Chunk], jobs: int) -> Iterator[Finished]:
    """Train ``chunks`` in loky worker processes, at most two per worker in flight.

    Futures, not joblib's ``Parallel``: joblib dispatches a task when one
    finishes, not when its result is consumed, so with a writer behind the
    workers (short trials) finished chunks piled up in the driver. Here
    a chunk is sent only once one is written. The pool is joblib's own
    (:func:`release_workers` stops it).
    """
    executor = loky_executor(jobs)
    todo = iter(enumerate(chunks))
    running: dict[Future, int] = {}

    def submit() -> None:
        item = next(todo, None)
        if item is not None:
            running[executor.submit(run_chunk, item[1], item[0])] = item[0]

    try:
        for _ in range(2 * jobs):
            submit()
        dead_since = None
        while running:
            finished, _ = wait(running, timeout=WATCH_INTERVAL, return_when=FIRST_COMPLETED)
            if not finished:
                dead_since = unstick(executor, dead_since)
            for future in finished:
                del running[future]
                index, result, seconds = future.result()
                yield Finished(chunks[index], to_table(chunks[index], result), seconds)
                submit()
    except Exception as e:
        if type(e).__name__ in ("TerminatedWorkerError", "BrokenProcessPool"):  # a worker died
            raise SweepError(
                f"a worker stopped mid-chunk ({type(e).__name__}); the results written so "
                "far are kept: run the same command again to resume"
            ) from None
        raise
    except BaseException:
        # Ctrl-C: the workers ignore it; their chunks are abandoned, not awaited.
        request_stop()
        abandon(executor)
        raise
