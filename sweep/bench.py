"""Quick benchmarks behind ``sweep bench``: ratios measured in one run, one thread.

The full suite, with numpy-batched, JAX and PyTorch peers, is
``python benchmarks/run.py``; it builds on these helpers.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from kernels import get_task, init_batch, reference, train_batch

from .api import run
from .config.options import DEFAULT_BACKEND
from .store.provenance import cpu_name


def header() -> str:
    """The line above the figures: this machine's CPU and what is timed."""
    return f"# {cpu_name()}; XOR 2-H-1; kernel: 1,024 networks x 2,000 epochs"


def timed(fn: Callable[[], object], repeat: int = 3) -> float:
    """Median wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def kernel_ns(
    width: int,
    batch: int,
    epochs: int,
    exp: str = "fast",
    dtype=np.float64,
    repeat: int = 3,
    task: str = "xor",
    kernel: str = "general",
) -> float:
    """ns per network-epoch of a fused kernel (compiled or loaded outside the timing)."""
    X, Y = get_task(task)
    params = init_batch(np.arange(batch), X.shape[1], width, Y.shape[1], dtype=dtype)
    run = dict(exp=exp, kernel=kernel)
    train_batch(X, Y, {k: v[..., :8] for k, v in params.items()}, 0.1, 2, **run)
    seconds = timed(lambda: train_batch(X, Y, params, 0.1, epochs, **run), repeat)
    return seconds / (batch * epochs) * 1e9


def reference_ns(
    width: int, networks: int = 2, epochs: int = 300, repeat: int = 3, task: str = "xor"
) -> float:
    """ns per network-epoch of the numpy reference (kernels.reference)."""
    X, Y = get_task(task)
    params = init_batch(np.arange(networks), X.shape[1], width, Y.shape[1])
    seconds = timed(lambda: reference.train_batch(X, Y, params, 0.1, epochs, 0.1, 0), repeat)
    return seconds / (networks * epochs) * 1e9


def sweep_seconds(jobs: int, backend: str, **axes) -> tuple[float, int]:
    """(seconds, trials) of one fresh sweep through the API."""
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        frame = run(out=Path(tmp) / "bench", jobs=jobs, backend=backend, progress=False, **axes)
        return time.perf_counter() - t0, len(frame)


def quick(repeat: int = 3) -> pd.DataFrame:
    """The quick table: kernel vs numpy reference, and sweep throughput, 1 vs 2 workers."""
    rows = []
    for width in (2, 8):
        ref = reference_ns(width, repeat=repeat)
        variants = [
            ("fast", np.float64, "tiled"),
            ("fast", np.float64, "general"),
            ("exact", np.float64, "general"),
            ("fast", np.float32, "tiled"),
        ]
        for exp, dtype, kernel in variants:
            ns = kernel_ns(width, 1024, 2000, exp, dtype, repeat, kernel=kernel)
            rows.append(
                {
                    "what": f"kernel {exp}, {kernel}, {np.dtype(dtype).name}",
                    "width": width,
                    "ns_per_network_epoch": ns,
                    "x_reference": ref / ns,
                }
            )
        rows.append(
            {
                "what": "numpy reference float64",
                "width": width,
                "ns_per_network_epoch": ref,
                "x_reference": 1.0,
            }
        )
    # 20,000 trials: enough training to time against the start-up.
    axes = dict(seeds="0:1000", lr="log:0.1:10:5", width="1:5", epochs=2000)
    runs = ((1, "sequential"), (2, DEFAULT_BACKEND))
    for jobs, backend in runs:  # warm the JIT here and in the (reused) worker pool
        sweep_seconds(jobs, backend, **{**axes, "seeds": "0:100"})
    base = None
    for jobs, backend in runs:
        seconds, trials = min(sweep_seconds(jobs, backend, **axes) for _ in range(repeat))
        base = base or seconds
        rows.append(
            {
                "what": f"sweep run, {jobs} warm worker{'s' * (jobs > 1)} ({backend})",
                "trials_per_s": trials / seconds,
                "speedup": base / seconds,
            }
        )
    table = pd.DataFrame(rows)
    table["width"] = table["width"].astype("Int64")  # blank, not NaN, for the sweep rows
    return table
