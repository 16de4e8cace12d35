"""Where a kernel's arrays start: on a cache line, or 16 bytes into one.

    python benchmarks/alignment.py [--batch 4096] [--epochs 500] [--repeat 9]

Every optimiser of benchmarks/optimizers.py on its generated kernel, and
GD, mini-batches of 2 and Adam on the general kernel, XOR 2-8-1, float64,
fast exp, subnormals flushed, one thread. Each round times every case with
its arrays where :mod:`kernels.memory` puts them (on a cache line) and 16
bytes into a line, where numpy's own allocation of a generated kernel's
parameters started; figures are medians over ``--repeat`` rounds.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import kernel  # noqa: F401  (pins one thread for BLAS before numpy loads)
import numpy as np
from optimizers import OPTIMIZERS

from kernels import get_task, init_batch, memory, train_batch
from kernels.recipe import Recipe
from sweep.store.provenance import cpu_name

#: Bytes into a cache line where numpy started a generated kernel's parameters.
NUMPY_OFFSET = 16
ON_A_LINE = memory.line_aligned
#: The general kernel's cases: mini-batches, which only it runs, and two recipes
#: that the generated kernels run too.
GENERAL = {
    "gd": OPTIMIZERS["gd"],
    "mini-batches of 2": Recipe(update="ordered", batch_size=2),
    "adam": OPTIMIZERS["adam"],
}


def _off_a_line(size: int, dtype: np.dtype, fill: float | None = None) -> np.ndarray:
    """:func:`kernels.memory.line_aligned`, but starting NUMPY_OFFSET bytes into a line."""
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

    def run(which: str, recipe: Recipe, place, epochs: int) -> float:
        memory.line_aligned = place
        try:
            t0 = time.perf_counter()
            train_batch(X, Y, params, 0.1, epochs, curve_every=0, kernel=which, recipe=recipe)
            return time.perf_counter() - t0
        finally:
            memory.line_aligned = ON_A_LINE

    recipes = {("tiled", name): recipe for name, recipe in OPTIMIZERS.items()}
    recipes.update({("general", name): recipe for name, recipe in GENERAL.items()})
    cases = {
        (which, name, where): (which, dataclasses.replace(recipe, subnormals="flush"), place)
        for (which, name), recipe in recipes.items()
        for where, place in placements.items()
    }
    for case in cases.values():  # compiles, untimed
        run(*case, 1)
    times: dict[tuple[str, str, str], list[float]] = {key: [] for key in cases}
    for _ in range(args.repeat):
        for key, case in cases.items():
            times[key].append(run(*case, args.epochs))
    print(
        f"# {cpu_name()}, 1 thread, XOR 2-8-1, float64, fast exp, subnormals flushed, "
        f"B = {args.batch}, E = {args.epochs}, medians of {args.repeat}"
    )
    wheres = list(placements)
    header = " ".join(f"{w + ' ns':>14}" for w in wheres)
    print(f"{'kernel':>8} {'recipe':>18} {header} {'ratio':>6}")
    for which, name in recipes:
        ns = [
            statistics.median(times[(which, name, w)]) / (args.batch * args.epochs) * 1e9
            for w in wheres
        ]
        figures = " ".join(f"{v:>14.1f}" for v in ns)
        print(f"{which:>8} {name:>18} {figures} {ns[1] / ns[0]:>6.3f}")


if __name__ == "__main__":
    main()
