"""Run chunks on a backend and hand back their rows as they finish.

Backends: ``threading`` (default, joblib's threads), ``loky`` (worker
processes), ``sequential`` (one chunk at a time), ``dask`` (a
``dask.distributed`` cluster; needs the ``dask`` extra). Each keeps at most
two chunks per worker trained or training and not yet written, so the
driver's memory stays flat however many chunks a sweep has.

Threads are the default because the kernels (and the draws of initial
weights) release the GIL: a chunk holds it only for its Python glue and for
the driver to build its rows (~2% of a default sweep, measured before the
draws were compiled), and threads need no process start-up, no second
Numba start-up and no pickled results: on the default sweep with 2 workers,
0.2-0.7 s less than loky (``benchmarks/sweep_e2e.py``). loky isolates a
crash to one worker and scales past the GIL's limit (a few dozen cores);
Dask spans machines.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager, suppress
from typing import Any, NamedTuple

import pyarrow as pa
from joblib import Parallel, delayed, parallel_config

from kernels.stop import FLAG, clear, request_stop

from ..config.options import BACKENDS, DEFAULT_BACKEND
from ..errors import SweepError
from .plan import Chunk
from .rows import (
    DRIVER_PID,
    chunk_rows,
    driver_alive,
    run_chunk,
    stop_worker,
    to_table,
    watch_driver,
)


class Finished(NamedTuple):
    """A trained chunk: its rows (or what ``execute``'s ``encode`` made of them),
    and the seconds training took (in its worker)."""

    chunk: Chunk
    table: Any
    seconds: float


#: A local Dask scheduler's options: its HTTP server on a free loopback port.
QUIET_SCHEDULER = {"dashboard_address": "127.0.0.1:0"}


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

    It holds the GIL for 0.15-0.35 s (the more when scipy is installed: Numba
    imports it). Started before the driver's other start-up work (the pandas
    import the first write needs), that work overlaps training, whose kernels
    release the GIL, rather than delaying it: the default sweep finishes
    ~0.15 s sooner on 1 or 2 threads.
    """
    if backend == "threading" or _in_this_thread(jobs, backend):
        from kernels.train import warm_up

        warm_up()


def release_workers() -> None:
    """Stop joblib's idle loky workers now rather than at interpreter exit.

    joblib keeps its process pool for the next call; at exit it joins the
    workers gracefully, which took 0.3 s of a 7.5 s default sweep. A one-shot
    command has no next call. joblib has no public way to do this, and loky's
    ``get_reusable_executor()`` starts a new pool when its arguments differ
    from joblib's, so the current pool is reached directly (a no-op should
    loky rename it).
    """
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


class _Window:
    """Back-pressure for threads: at most ``size`` chunks trained or training
    whose rows are not yet written.

    joblib dispatches a task when one finishes, not when its result is
    consumed, so workers faster than the writer (short trials) piled
    finished chunks up in memory: a 3,000,000-trial sweep at 200 epochs
    peaked at 2.2 GB, 0.9 GB with the window. A task waits here for a free
    slot; the driver frees one per chunk written. Worker processes (loky,
    Dask) have theirs in :func:`_on_loky` and :func:`_on_dask`.
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


def _dask_client(scheduler: str | None, jobs: int):
    from dask.distributed import Client

    # The run says in one line what went wrong: Dask's own logging (the
    # scheduler and nannies live in this process; worker processes read the
    # environment) prints dozens of lines on a Ctrl-C or a worker's death.
    # (Restored by _on_dask once the client is closed.)
    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "critical")

    if scheduler:
        try:
            return Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as e:
            raise SweepError(f"cannot reach the Dask scheduler at {scheduler}: {e}") from None
    # One thread per worker process: the kernel is single-threaded. The
    # client owns this LocalCluster and closes it when it closes. Its worker
    # processes start with Ctrl-C ignored (an ignored signal stays ignored in
    # a new process, and Python keeps it so): a terminal's SIGINT reaches the
    # whole process group, and each worker would print a traceback. The driver
    # stops them. Without a dashboard the scheduler still serves HTTP (health,
    # metrics), on port 8787 unless told otherwise, and warns on stderr when
    # another cluster holds it: any free port on loopback instead.
    ignoring = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if ignoring else None
    try:
        return Client(
            n_workers=jobs,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            scheduler_kwargs=QUIET_SCHEDULER,
        )
    except (RuntimeError, OSError, TimeoutError) as e:  # its workers died as they started
        raise SweepError(
            f"the local Dask cluster's workers died as they started "
            f"({str(e).splitlines()[0]}); nothing was trained"
        ) from None
    finally:
        if ignoring:
            signal.signal(signal.SIGINT, previous)


class _WorkerDeaths:
    """Deaths of a local cluster's worker processes, counted by their pids: a worker
    that dies as it starts never runs a task, so Dask's own count of a task's
    failures never sees it, and its nanny starts another for ever."""

    def __init__(self, client):
        self._cluster = getattr(client, "cluster", None)
        self._seen: set[int] = set()

    def _pids(self) -> set[int]:
        workers = getattr(self._cluster, "workers", {}) or {}
        pids = set()
        for nanny in list(workers.values()):
            process = getattr(getattr(nanny, "process", None), "process", None)
            pid = getattr(process, "pid", None)
            if pid is not None:
                pids.add(pid)
        return pids

    def count(self) -> int:
        """Worker processes started so far that are gone."""
        pids = self._pids()
        self._seen |= pids
        return sum(1 for pid in self._seen if not driver_alive(pid))


def _on_dask(chunks: list[Chunk], jobs: int, scheduler: str | None) -> Iterator[Finished]:
    """Train ``chunks`` on a Dask cluster, at most two per worker in flight.

    Futures, not joblib's Dask backend: a chunk whose workers keep dying
    fails with KilledWorker after ``distributed.scheduler.allowed-failures``
    deaths, which ends the run at once (joblib's Dask backend polls on), and the
    window keeps the driver's memory flat. Workers of a local cluster that die
    before they take a chunk count towards the same limit, per worker.
    """
    import dask
    from dask.distributed import wait
    from distributed.diagnostics.plugin import WorkerPlugin
    from distributed.scheduler import KilledWorker

    dask_logs = logging.getLogger("distributed")
    level = dask_logs.level
    client = _dask_client(scheduler, jobs)
    run = uuid.uuid4().hex[:8]  # keys unique to this run: a shared cluster dedupes by key
    allowed = dask.config.get("distributed.scheduler.allowed-failures") + 1
    try:
        deaths = None
        if scheduler is None:  # workers of this machine watch their driver from the start

            class WatchDriver(WorkerPlugin):
                def setup(self, worker) -> None:
                    watch_driver()

            client.register_plugin(WatchDriver(), name="sweep-watch-driver")
            deaths = _WorkerDeaths(client)
        workers = len(client.scheduler_info().get("workers", {})) or jobs
        todo = iter(enumerate(chunks))
        running: dict = {}

        def submit() -> None:
            item = next(todo, None)
            if item is not None:
                i, chunk = item
                future = client.submit(run_chunk, chunk, i, key=f"sweep-{run}-chunk-{i}")
                running[future] = i

        for _ in range(2 * workers):
            submit()
        while running:
            finished = _finished(wait, running, None if deaths is None else 0.5)
            if deaths is not None and deaths.count() >= allowed * (jobs + 1):
                raise SweepError(
                    f"the Dask workers died {deaths.count()} times, before or while running "
                    "chunks; the results written so far are kept: run the same command again "
                    "to resume"
                )
            for future in finished:
                i = running.pop(future)
                try:
                    index, result, seconds = future.result()
                except KilledWorker:
                    raise SweepError(
                        f"chunk {i} ({chunks[i].size:,} trials) was lost: the Dask workers "
                        f"running it died {allowed} times; the results written so far are "
                        "kept: run the same command again to resume"
                    ) from None
                future.release()
                yield Finished(chunks[index], to_table(chunks[index], result), seconds)
                submit()
    except BaseException:
        # Running kernels stop within an epoch. A local cluster's workers are
        # then killed: one that is compiling a kernel would hold the close up
        # for the nannies' grace period (4 s).
        with suppress(Exception):
            pids = client.run(stop_worker, wait=True)
            if scheduler is None:
                for pid in pids.values():
                    os.kill(pid, signal.SIGKILL)
        raise
    finally:
        client.close()
        dask_logs.setLevel(level)


def _finished(wait: Callable, running: dict, timeout: float | None) -> set:
    """The futures of ``running`` that finish first, within ``timeout`` seconds
    (None: however long it takes; an empty set if none did)."""
    try:
        return wait(list(running), timeout=timeout, return_when="FIRST_COMPLETED").done
    except TimeoutError:
        return set()


def execute(
    chunks: Iterable[Chunk],
    *,
    jobs: int,
    backend: str = DEFAULT_BACKEND,
    scheduler: str | None = None,
    encode: Callable[[pa.Table], Any] | None = None,
) -> Iterator[Finished]:
    """Train ``chunks`` and yield each as soon as it is done (any order): the chunk,
    its rows and the seconds its training took. ``encode``, if given, is applied
    to the rows where the threads backend builds them, in its worker threads
    (the other backends hand back rows).

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
        if backend == "dask":
            yield from _on_dask(chunks, jobs, scheduler)
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


@contextmanager
def _silenced(thread_name: str) -> Iterator[None]:
    """Drop the uncaught exceptions of threads named ``thread_name`` meanwhile."""
    previous = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        if args.thread is None or args.thread.name != thread_name:
            previous(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous


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


def loky_executor(jobs: int):
    """joblib's reusable pool of ``jobs`` loky worker processes, each watching its
    driver from the moment it starts (:func:`sweep.runner.rows.watch_driver`)."""
    from joblib.externals.loky import get_reusable_executor

    return get_reusable_executor(max_workers=jobs, initializer=watch_driver)


def _on_loky(chunks: list[Chunk], jobs: int) -> Iterator[Finished]:
    """Train ``chunks`` in loky worker processes, at most two per worker in flight.

    Futures, not joblib's ``Parallel``: joblib dispatches a task when one
    finishes, not when its result is consumed, so with a writer slower than
    the workers (short trials) finished chunks piled up in the driver. Here
    a chunk is sent only once one is written. The pool is joblib's own
    (:func:`release_workers` stops it).
    """
    from concurrent.futures import FIRST_COMPLETED, wait

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
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
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
        # The shutdown fails the futures still pending itself (one cancelled
        # here first makes it raise). Its manager thread can still trip over
        # its own bookkeeping as it kills the workers (KeyError, now and then):
        # that thread's traceback is dropped, and workers it left are killed.
        request_stop()
        with _silenced("ExecutorManagerThread"):
            executor.shutdown(wait=True, kill_workers=True)
        for process in list(getattr(executor, "_processes", {}).values()):
            process.kill()
        raise
