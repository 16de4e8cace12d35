"""A run's missing kernels compile side by side in worker processes, not one by one
in the driver."""

import json
import os
import subprocess
import sys

import pytest

from sweep.runner.rows import DRIVER_PID

RUN = """
import json
from numba.core import event
from sweep.config.study import make_config
from sweep.runner import compile_ahead
from sweep.runner.plan import plan

# Two generated kernels (momentum or not; the quickest to compile), neither in
# the caches of this new process.
config = make_config(seeds="0:1000", lr=0.5, width=2, momentum="0,0.9", epochs=2000)
chunks = plan(config, jobs=2)
assert {chunk.kernel for chunk in chunks} == {"tiled"}
with event.install_recorder("numba:compile") as compiles:
    before = len(compile_ahead.missing(chunks))
    announced = []
    compiled = compile_ahead.compile_ahead(chunks, 2, announced.append)
    after = len(compile_ahead.missing(chunks))
started = sum(1 for _, e in compiles.buffer if e.is_start)
said = dict(before=before, compiled=compiled, after=after, started=started, announced=announced)
print(json.dumps(said))
"""


def test_missing_kernels_compile_in_workers_and_then_load_in_the_driver(tmp_path):
    caches = {"NUMBA_CACHE_DIR": str(tmp_path / "numba"), "SWEEP_KERNEL_CACHE": str(tmp_path)}
    # The driver the workers watch is the process below, as execute() sets it.
    driver = {k: v for k, v in os.environ.items() if k != DRIVER_PID}
    proc = subprocess.run(
        [sys.executable, "-c", RUN],
        env={**driver, **caches},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    # The driver starts a compile only in the probes, each of which it stops
    # there (twice before, twice in compile_ahead); the workers compile both
    # kernels, which the driver's probes then find in the caches.
    said = json.loads(proc.stdout.splitlines()[-1])
    assert said == {"before": 2, "compiled": 2, "after": 0, "started": 4, "announced": [2]}


def test_without_a_cache_the_workers_share_nothing_compiles_ahead(tmp_path, monkeypatch):
    from kernels import cache
    from sweep.runner import compile_ahead

    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("SWEEP_KERNEL_CACHE", str(blocked / "kernels"))
    monkeypatch.setattr(compile_ahead, "missing", lambda chunks: pytest.fail("probed"))
    cache.writable_cache_dir.cache_clear()
    try:  # each process would write its kernels to a temporary folder of its own
        assert compile_ahead.compile_ahead(["a chunk", "another"], 2) == 0
    finally:
        cache.writable_cache_dir.cache_clear()
