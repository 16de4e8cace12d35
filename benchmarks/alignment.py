"""Where a generated kernel's arrays start: on a cache line, or 16 bytes into one.

    python benchmarks/alignment.py [--batch 4096] [--epochs 500] [--repeat 9]

Every optimiser of benchmarks/optimizers.py on its generated kernel, XOR
2-8-1, float64, fast exp, subnormals flushed, one thread. Each round times
every case with its arrays where :func:`kernels.codegen.line_aligned` puts
them (on a cache line, :data:`kernels.codegen.CACHE_LINE`) and 16 bytes into
a line, where numpy's own allocations of this size start; figures are medians
over ``--repeat`` rounds. A row of a block is ``NB`` values, a few cache
lines: off a line, every vector load or store of it touches one line more.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import kernel  # noqa: F401  (pins one thread for BLAS before numpy loads)
import numpy as np
from optimizers import OPTIMIZERS

from kernels import codegen, get_task, init_batch, train_batch
from sweep.store.provenance import cpu_name

#: Bytes into a cache line where numpy's allocations of these sizes start.
NUMPY_OFFSET = 16
ON_A_LINE = codegen.line_aligned


def _off_a_line(size: int, dtype: np.dtype, fill: float | None = None) -> np.ndarray:
    """:func:`kernels.codegen.line_aligned`, but starting NUMPY_OFFSET bytes into a line."""
    skip = NUMPY_OFFSET // np.dtype(dtype).itemsize
    return ON_A_LINE(size + skip, dtype, fill)[skip:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    X, Y = get_task("xor")
    params = init_batch(range(args.batch), 2, 8, 1, -1.0, 1.0)
    placements = {"on a line": ON_A_LINE, f"{NUMPY_OFFSET} bytes in": _off_a_line}

    def run(recipe, place, epochs: int) -> float:
        codegen.line_aligned = place
        try:
            t0 = time.perf_counter()
            train_batch(X, Y, params, 0.1, epochs, curve_every=0, kernel="tiled", recipe=recipe)
            return time.perf_counter() - t0
        finally:
            codegen.line_aligned = ON_A_LINE

    cases = {
        (name, where): (dataclasses.replace(recipe, subnormals="flush"), place)
        for name, recipe in OPTIMIZERS.items()
        for where, place in placements.items()
    }
    for recipe, place in cases.values():  # compiles, untimed
        run(recipe, place, 1)
    times: dict[tuple[str, str], list[float]] = {key: [] for key in cases}
    for _ in range(args.repeat):
        for key, (recipe, place) in cases.items():
            times[key].append(run(recipe, place, args.epochs))
    print(
        f"# {cpu_name()}, 1 thread, XOR 2-8-1, float64, fast exp, subnormals flushed, "
        f"B = {args.batch}, E = {args.epochs}, medians of {args.repeat}"
    )
    wheres = list(placements)
    print(f"{'optimizer':>18} " + " ".join(f"{w + ' ns':>14}" for w in wheres) + f" {'ratio':>6}")
    for name in OPTIMIZERS:
        ns = [
            statistics.median(times[(name, w)]) / (args.batch * args.epochs) * 1e9 for w in wheres
        ]
        print(f"{name:>18} " + " ".join(f"{v:>14.1f}" for v in ns) + f" {ns[1] / ns[0]:>6.3f}")


if __name__ == "__main__":
    main()
