"""The default recipe on its generated kernel against a hand-written C loop, in one run.

    python benchmarks/versus_c.py [--batch 4096] [--epochs 10000] [--repeat 3]

XOR 2-H-1 at H = 2, 8 and 32, float64, fast exp, one thread, against
benchmarks/c_proxy.c built both ways of ``run.C_BUILDS`` (IEEE with FMA, as
the kernel may compute; and fast-math, which it may not). Each round times
every case once, interleaved; figures are medians over ``--repeat`` rounds.
Goal (issue "one entry per part"): the kernel at or under the C loop at
every H.
"""

from __future__ import annotations

import argparse
import statistics
import time

import kernel  # noqa: F401  (pins one thread for BLAS before numpy loads)
from run import C_BUILDS, c_proxy_ns

from kernels import get_task, init_batch, train_batch
from sweep.store.provenance import cpu_name

WIDTHS = (2, 8, 32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--epochs", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    X, Y = get_task("xor")
    params = {h: init_batch(range(args.batch), 2, h, 1) for h in WIDTHS}
    for h in WIDTHS:  # compiles, untimed
        train_batch(X, Y, params[h], 0.1, 1, curve_every=0, kernel="tiled")
    ours: dict[int, list[float]] = {h: [] for h in WIDTHS}
    theirs: dict[tuple[str, int], list[float]] = {(c, h): [] for c in C_BUILDS for h in WIDTHS}
    for _ in range(args.repeat):
        for h in WIDTHS:
            t0 = time.perf_counter()
            train_batch(X, Y, params[h], 0.1, args.epochs, curve_every=0, kernel="tiled")
            ours[h].append((time.perf_counter() - t0) / (args.batch * args.epochs) * 1e9)
            for build, flags in C_BUILDS.items():
                ns = c_proxy_ns(flags, h, 1)
                if ns is None:
                    raise SystemExit("no gcc: the C loop cannot be built")
                theirs[(build, h)].append(ns)
    print(
        f"# {cpu_name()}, 1 thread, XOR 2-H-1, float64, fast exp, B = {args.batch}, "
        f"E = {args.epochs}, medians of {args.repeat} interleaved rounds"
    )
    for h in WIDTHS:
        mine = statistics.median(ours[h])
        line = [f"H = {h:>2}: kernel {mine:6.1f} ns"]
        for build in C_BUILDS:
            c = statistics.median(theirs[(build, h)])
            line.append(f"C ({build}) {c:6.1f} ns, kernel / C {mine / c:.2f}")
        print("; ".join(line))


if __name__ == "__main__":
    main()
