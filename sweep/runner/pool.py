"""joblib's pool of loky worker processes: started with a watch on the driver,
unblocked when a worker dies mid-send, abandoned or stopped."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from .rows import watch_driver


def release_workers() -> None:
    """Stop joblib's idle loky workers now rather than at interpreter exit.

    joblib keeps its process pool for the next call; at exit it joins the
    workers gracefully, which takes a noticeable share of a short sweep. A one-shot
    command has no next call. joblib has no public way to do this, and loky's
    ``get_reusable_executor()`` starts a new pool when its arguments differ
    from joblib's, so the current pool is reached directly (a no-op should
    loky rename it).
    """
    from joblib.externals.loky import reusable_executor

    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        executor.shutdown(wait=True, kill_workers=True)


def loky_executor(jobs: int):
    """joblib's reusable pool of ``jobs`` loky worker processes, each watching its
    driver from the moment it starts (:func:`sweep.runner.rows.watch_driver`)."""
    from joblib.externals.loky import get_reusable_executor

    return get_reusable_executor(max_workers=jobs, initializer=watch_driver)


def abandon(executor) -> None:
    """Stop ``executor``'s workers now, their tasks abandoned, not awaited.

    The shutdown fails the futures still pending itself (one cancelled here
    first makes it raise). Its manager thread can still trip over its own
    bookkeeping as it kills the workers (KeyError, now and then): that
    thread's traceback is dropped, and workers it left are killed.
    """
    unstick(executor, 0.0)
    with _silenced("ExecutorManagerThread"):
        executor.shutdown(wait=True, kill_workers=True)
    for process in list(getattr(executor, "_processes", {}).values()):
        process.kill()


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


#: Seconds a dead worker goes unnoticed by loky before :func:`unstick` acts.
STUCK_AFTER = 1.0


def unstick(executor, dead_since: float | None) -> float | None:
    """Unblock loky's result reader after a worker died while sending its result.

    A worker killed mid-send leaves part of a message in the result pipe, and
    loky's manager thread then reads for the rest for ever: it never sees the
    dead worker, no future fails, and even the interpreter's exit waits on
    it. Once a worker has been dead for :data:`STUCK_AFTER` seconds (loky
    notices a plain death at once), zeros complete the message: it fails to
    unpickle, and loky finds its pool broken, kills the workers and fails the
    futures. Returns when a dead worker was first seen (None: none is dead)."""
    processes = list(getattr(executor, "_processes", {}).values())
    if not any(p.exitcode is not None for p in processes):
        return None
    now = time.monotonic()
    if dead_since is None:
        return now
    thread = getattr(executor, "_executor_manager_thread", None)
    queue = getattr(executor, "_result_queue", None)
    if now - dead_since < STUCK_AFTER or thread is None or queue is None:
        return dead_since
    fd = queue._writer.fileno()
    os.set_blocking(fd, False)
    while thread.is_alive() and time.monotonic() - now < 5:
        try:
            os.write(fd, bytes(1 << 16))
        except BlockingIOError:
            time.sleep(0.01)
        except OSError:
            break
    return dead_since
