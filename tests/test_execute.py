"""Where chunks train, and what the driver starts ahead of them (sweep/execute.py)."""

import time

import pytest

import kernels.train
import sweep.execute
from sweep.execute import start_here


@pytest.mark.parametrize(
    "jobs, backend, here",
    [(2, "threading", True), (1, "sequential", True), (1, "loky", True), (2, "loky", False),
     (1, "dask", False), (4, "dask", False)],
)  # fmt: skip
def test_numba_starts_early_only_where_the_chunks_train(monkeypatch, jobs, backend, here):
    started = []
    monkeypatch.setattr(kernels.train, "warm_up", lambda: started.append(True))
    start_here(jobs, backend)
    assert started == ([True] if here else [])


def test_warm_up_leaves_numba_ready():
    kernels.train.warm_up()
    assert kernels.train._ready.signatures  # compiled, or loaded from the cache


@pytest.mark.parametrize("jobs", [2, 3])
def test_threads_train_at_most_two_chunks_per_worker_ahead_of_the_writer(monkeypatch, jobs):
    started = []
    # Threads build a chunk's rows where they train it: "rows" are the chunk here.
    monkeypatch.setattr(sweep.execute, "chunk_rows",
                        lambda c: (started.append(c), (c, 0.0))[1])  # fmt: skip
    chunks = [f"chunk {i}" for i in range(40)]
    written = []
    for done in sweep.execute.execute(chunks, jobs=jobs, backend="threading"):
        table = done.table
        time.sleep(0.01)  # a slow writer: the workers would run ahead
        written.append(table)
        assert len(started) - len(written) <= 2 * jobs
    assert sorted(written) == sorted(chunks)
