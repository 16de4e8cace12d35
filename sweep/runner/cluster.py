"""Chunks trained on a Dask cluster: a running scheduler, or a local cluster of
worker processes that watch their driver and whose deaths are counted."""

from __future__ import annotations

import logging
import os
import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress

from ..errors import SweepError
from .plan import Chunk
from .rows import Finished, driver_alive, run_chunk, stop_worker, to_table, watch_driver

#: A local Dask scheduler's options: its HTTP server on a free loopback port.
QUIET_SCHEDULER = {"dashboard_address": "127.0.0.1:0"}


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


def on_dask(chunks: list[Chunk], jobs: int, scheduler: str | None) -> Iterator[Finished]:
    """Train ``chunks`` on a Dask cluster, at most two per worker in flight.

    Futures, not joblib's Dask backend: a chunk whose workers keep dying
    fails with KilledWorker after ``distributed.scheduler.allowed-failures``
    deaths, which ends the run at once (joblib's Dask backend polls on), and the
    window keeps the driver's memory flat. Workers of a local cluster that die
    before they take a chunk count towards the same limit, per worker.
    """
    import dask
    from dask.distributed import wait as dask_wait
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

            try:
                client.register_plugin(WatchDriver(), name="sweep-watch-driver")
            except OSError as e:  # a worker died as the plugin reached it (CommClosedError)
                raise SweepError(
                    f"a Dask worker died as the run started ({str(e).splitlines()[0]}); "
                    "the results written so far are kept: run the same command again to resume"
                ) from None
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
            finished = _finished(dask_wait, running, None if deaths is None else 0.5)
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
        # for the nannies' grace period.
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
