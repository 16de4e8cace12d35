"""Where chunks train, and what the driver starts ahead of them (sweep/execute.py)."""

import pytest

import kernels.train
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
