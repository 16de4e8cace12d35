"""Short runs: what a call costs besides its epochs, against another commit, in one run.

    python benchmarks/short_runs.py --previous HEAD~1 [--repeat 7]

XOR 2-8-1, B = 4,096 networks, the generated kernel, fast exp, float64, one
thread. A call lays its networks' parameters and optimiser state out in
blocks for the kernel and back (kernels/blocks.py), once however many epochs
it trains: at 1 epoch that is nearly all of its time, at 2,000 nearly none.
Printed: ns per network-epoch at each length, for this tree and for
``--previous`` (a git worktree), each in a worker process of its own pinned
to the same CPU, timed in turn in interleaved rounds; medians of
``--repeat`` rounds, and this tree's over the other's.
"""

from __future__ import annotations

import argparse
import os
import statistics

import kernel  # noqa: F401  (pins one thread for BLAS and XLA before numpy loads)
from recipes import Worker

from kernels.recipe import Recipe
from sweep.store.provenance import cpu_name

OPTIMIZERS = {
    "gd": Recipe(),
    "momentum 0.9": Recipe(momentum=0.9),
    "irprop-": Recipe(optimizer="irprop-"),
    "adam": Recipe(optimizer="adam"),
}
EPOCHS = (1, 100, 2000)
WIDTH, BATCH = 8, 4096


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--previous", required=True, help="git ref to compare with, e.g. HEAD~1")
    parser.add_argument("--repeat", type=int, default=7, help="rounds (figures are medians)")
    args = parser.parse_args()
    cpu = min(os.sched_getaffinity(0))
    trees = {"this tree": Worker(cpu), args.previous: Worker(cpu, args.previous)}
    times = {(tree, name, e): [] for tree in trees for name in OPTIMIZERS for e in EPOCHS}
    try:
        for _ in range(args.repeat):
            for name, recipe in OPTIMIZERS.items():
                for epochs in EPOCHS:
                    for tree, worker in trees.items():
                        ns = worker.ns(WIDTH, BATCH, epochs, recipe)
                        times[(tree, name, epochs)].append(ns)
    finally:
        for worker in trees.values():
            worker.close()
    print(
        f"# {cpu_name()}, 1 thread, XOR 2-{WIDTH}-1, float64, fast exp, B = {BATCH}, "
        f"the generated kernel, medians of {args.repeat} interleaved rounds"
    )
    print(f"{'optimizer':>14} {'epochs':>7} {'this ns':>9} {'previous ns':>12} {'ratio':>6}")
    for name in OPTIMIZERS:
        for epochs in EPOCHS:
            here, there = (statistics.median(times[(t, name, epochs)]) for t in trees)
            print(f"{name:>14} {epochs:>7,} {here:>9.1f} {there:>12.1f} {here / there:>6.2f}")


if __name__ == "__main__":
    main()
