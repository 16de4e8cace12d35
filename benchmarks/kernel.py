"""ns per network-epoch of the fused kernel vs numpy, measured in one run.

    python benchmarks/kernel.py            # B = 4096, E = 10,000 (about a minute)
    python benchmarks/kernel.py --quick    # B = 1024, E = 2,000

One thread everywhere (BLAS is pinned to one thread before numpy loads).
Each figure is the median of ``--repeat`` timings.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import notebook_loop, numpy_batched  # noqa: E402

from kernels import get_task, init_batch, reference, train_batch  # noqa: E402


def timed(fn, repeat: int) -> float:
    """Median wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def measure(batch: int, epochs: int, widths: list[int], repeat: int) -> list[dict]:
    """Rows of (approach, width, dtype, ns per network-epoch)."""
    X, Y = get_task("xor")
    rows = []
    for width in widths:
        p64 = init_batch(np.arange(batch), 2, width, 1)
        p32 = init_batch(np.arange(batch), 2, width, 1, dtype=np.float32)
        # Warm the JIT (or its cache) outside the timings.
        for p, exp in ((p64, "fast"), (p64, "exact"), (p32, "fast")):
            train_batch(X, Y, {k: v[..., :8] for k, v in p.items()}, 0.1, 2, exp=exp)

        def per_epoch(seconds: float, networks: int, n_epochs: int) -> float:
            return seconds / (networks * n_epochs) * 1e9

        head = {k: v[..., :4] for k, v in p64.items()}
        cases = [
            ("kernel fast", "float64", batch, epochs,
             partial(train_batch, X, Y, p64, 0.1, epochs, exp="fast")),
            ("kernel exact", "float64", batch, epochs,
             partial(train_batch, X, Y, p64, 0.1, epochs, exp="exact")),
            ("kernel fast", "float32", batch, epochs,
             partial(train_batch, X, Y, p32, 0.1, epochs, exp="fast")),
            ("numpy batched", "float64", batch, epochs // 10,
             partial(numpy_batched, X, Y, p64, 0.1, epochs // 10)),
            ("notebook loop", "float64", 4, 300, partial(notebook_loop, X, Y, head, 0.1, 300, 4)),
            ("numpy reference", "float64", 4, 300,
             partial(reference.train_batch, X, Y, head, 0.1, 300, 0.1, 0)),
        ]  # fmt: skip
        for name, dtype, networks, n_epochs, fn in cases:
            ns = per_epoch(timed(fn, repeat), networks, n_epochs)
            rows.append({"approach": name, "width": width, "dtype": dtype, "ns": ns})
    return rows


def print_table(rows: list[dict]) -> None:
    base = {(r["width"]): r["ns"] for r in rows if r["approach"] == "numpy reference"}
    notebook = {(r["width"]): r["ns"] for r in rows if r["approach"] == "notebook loop"}
    print(f"{'approach':<16} {'H':>3} {'dtype':<8} {'ns/net-epoch':>13} "
          f"{'x reference':>12} {'x notebook':>11}")  # fmt: skip
    for r in rows:
        print(
            f"{r['approach']:<16} {r['width']:>3} {r['dtype']:<8} {r['ns']:>13.1f} "
            f"{base[r['width']] / r['ns']:>12.0f} {notebook[r['width']] / r['ns']:>11.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="B=1024, E=2000, H=2,8")
    parser.add_argument("--repeat", type=int, default=3, help="timings per figure (median)")
    args = parser.parse_args()
    batch, epochs, widths = (1024, 2000, [2, 8]) if args.quick else (4096, 10_000, [2, 8, 32])
    print(f"# {cpu_name()}, 1 thread, XOR 2-H-1, B={batch}, E={epochs}, "
          f"median of {args.repeat}")  # fmt: skip
    print_table(measure(batch, epochs, widths, args.repeat))


if __name__ == "__main__":
    main()
