"""Where chunks train, and what the driver starts ahead of them (sweep/runner/execute.py)."""

import threading
import time

import pytest

import kernels.stop
import kernels.train
import sweep.runner.execute
from sweep.runner.execute import start_here


@pytest.mark.parametrize(
    "jobs, backend, here",
    [
        (2, "threading", True),
        (1, "sequential", True),
        (1, "loky", True),
        (2, "loky", False),
        (1, "dask", False),
        (4, "dask", False),
    ],
)
def test_numba_starts_early_only_where_the_chunks_train(monkeypatch, jobs, backend, here):
    started = []
    monkeypatch.setattr(sweep.runner.execute, "warm_up", lambda: started.append(True))
    start_here(jobs, backend)
    assert started == ([True] if here else [])


def test_warm_up_leaves_numba_ready():
    kernels.train.warm_up()
    assert kernels.train._ready.signatures  # compiled, or loaded from the cache


@pytest.mark.parametrize("jobs", [2, 3])
def test_threads_train_at_most_two_chunks_per_worker_ahead_of_the_writer(monkeypatch, jobs):
    started = []
    # Threads build a chunk's rows where they train it: "rows" are the chunk here.
    monkeypatch.setattr(
        sweep.runner.execute, "chunk_rows", lambda c: (started.append(c), (c, 0.0))[1]
    )
    monkeypatch.setattr(sweep.runner.execute, "compile_ahead", lambda *args, **kw: 0)
    chunks = [f"chunk {i}" for i in range(40)]
    written = []
    for done in sweep.runner.execute.execute(chunks, jobs=jobs, backend="threading"):
        table = done.table
        time.sleep(0.01)  # a slow writer: the workers would run ahead
        written.append(table)
        assert len(started) - len(written) <= 2 * jobs
    assert sorted(written) == sorted(chunks)


def test_worker_processes_get_at_most_two_chunks_each_ahead_of_the_writer(monkeypatch):
    from joblib.externals import loky

    from sweep.config.study import make_config
    from sweep.runner.plan import plan

    real = loky.get_reusable_executor
    sent = []

    class Counting:  # the pool, counting what the driver hands it
        def __init__(self, pool):
            self.pool = pool

        def submit(self, *args):
            sent.append(args[1])
            return self.pool.submit(*args)

        def shutdown(self, **kwargs):
            return self.pool.shutdown(**kwargs)

    monkeypatch.setattr(loky, "get_reusable_executor", lambda **kw: Counting(real(**kw)))
    chunks = plan(make_config(seeds="0:64", lr=0.5, width=2, epochs=10), jobs=2, chunk_size=4)
    written = []
    for done in sweep.runner.execute.execute(chunks, jobs=2, backend="loky"):
        time.sleep(0.02)  # a slow writer: without the window, every chunk would be sent
        written.append(done.chunk)
        assert len(sent) - len(written) <= 2 * 2
    assert len(written) == len(chunks) == 16 and {id(c) for c in written} == {id(c) for c in chunks}
    assert done.table.num_rows == 4  # rows, built by the driver from what the worker returned


def test_a_stop_ends_the_loky_workers_at_once_and_quietly(monkeypatch):
    # Where a stop lands decides which of loky's races it meets (its manager
    # thread raising mid-shutdown, which left workers running on, 2 in 10
    # runs of the CLI under load): this asserts what must hold wherever it lands.
    from sweep.config.study import make_config
    from sweep.runner.plan import plan

    uncaught = []
    monkeypatch.setattr(threading, "excepthook", lambda args: uncaught.append(args.exc_value))
    chunks = plan(make_config(seeds="0:64", lr=0.5, width=2, epochs=100_000), jobs=2, chunk_size=2)
    try:
        for _ in range(2):
            run = sweep.runner.execute.execute(chunks, jobs=2, backend="loky")
            next(run)
            workers = list(sweep.runner.pool.loky_executor(2)._processes.values())
            with pytest.raises(KeyboardInterrupt):
                run.throw(KeyboardInterrupt)  # Ctrl-C, where the driver waits
            assert workers and not [p for p in workers if p.is_alive()]
    finally:
        kernels.stop.clear()  # the stop flag is this process's: let later tests train
    assert uncaught == []


def test_a_worker_killed_while_sending_its_result_ends_the_run(monkeypatch):
    # What a worker killed mid-send leaves: part of a message in the result pipe,
    # which loky's reader then waits on for ever (it never sees the dead worker).
    import os
    import signal
    import struct

    from sweep.config.study import make_config
    from sweep.errors import SweepError
    from sweep.runner.plan import plan

    chunks = plan(make_config(seeds="0:64", lr=0.5, width=2, epochs=200_000), jobs=2, chunk_size=4)
    run = sweep.runner.execute.execute(chunks, jobs=2, backend="loky")
    next(run)
    executor = sweep.runner.pool.loky_executor(2)
    os.write(executor._result_queue._writer.fileno(), struct.pack("!i", 4096) + b"partial")
    os.kill(next(iter(executor._processes)), signal.SIGKILL)

    def too_long(signum, frame):  # (without the fix: for ever)
        raise TimeoutError("the run still waits on the dead worker")

    previous = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(20)
    try:
        with pytest.raises(SweepError, match="worker stopped"):
            for _ in run:
                pass
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
