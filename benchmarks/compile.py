"""Seconds to compile a kernel, cold, against another commit in the same run.

    python benchmarks/compile.py                       # this tree, 3 rounds
    python benchmarks/compile.py --previous HEAD~1     # and that commit's, alternating

Each round runs every case in a new process with empty Numba and kernel
caches, in order, as a test run or a user's first sweep meets them: the
first case also compiles the pieces every kernel shares. A case's time is
its first ``train_batch`` call (one epoch, 8 networks), nearly all of it
compiling. Trees alternate round by round; figures are medians. Compiling
takes most of the test suite's time (tests/ compiles over a hundred kernels).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from same_code import add_worktree, remove_worktree

from sweep.store.provenance import cpu_name

ROOT = Path(__file__).resolve().parent.parent
#: (kernel, task, width, the recipe's fields off their defaults)
CASES = [
    ("general", "xor", 2, {}),
    ("general", "xor", 2, {"optimizer": "adam"}),
    ("general", "parity3", 4, {"activation": "tanh", "loss": "xent", "update": "online"}),
    ("tiled", "xor", 2, {}),
    ("tiled", "xor", 8, {"optimizer": "delta-bar-delta"}),
    ("tiled", "xor", 3, {"optimizer": "adam", "update": "online"}),
    ("tiled", "parity4", 4, {}),
    ("tiled", "parity5", 3, {"optimizer": "rmsprop", "update": "online"}),
]
_WORKER = """
import json, sys, time
import numpy as np
from kernels import get_task, init_batch, train_batch
from kernels.recipe import Recipe
times = []
for kernel, task, width, fields in json.loads(sys.argv[1]):
    X, Y = get_task(task)
    params = init_batch(np.arange(8), X.shape[1], width, Y.shape[1])
    t = time.perf_counter()
    train_batch(X, Y, params, 0.1, 1, kernel=kernel, recipe=Recipe(**fields))
    times.append(time.perf_counter() - t)
print(json.dumps(times))
"""


def _label(case: tuple) -> str:
    kernel, task, width, fields = case
    recipe = ", ".join(f"{k}={v}" for k, v in fields.items()) or "default"
    return f"{kernel:>8} {task:>8} H={width:<2} {recipe}"


def cold_seconds(folder: Path) -> list[float]:
    """Each case's first call, in a new process with empty caches, in ``folder``'s tree."""
    with tempfile.TemporaryDirectory() as numba, tempfile.TemporaryDirectory() as generated:
        env = {**os.environ, "PYTHONPATH": str(folder), "PYTHONSAFEPATH": "1"}
        env |= {"NUMBA_CACHE_DIR": numba, "SWEEP_KERNEL_CACHE": generated}
        out = subprocess.run(
            [sys.executable, "-c", _WORKER, json.dumps(CASES)],
            cwd=folder,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return json.loads(out.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds (figures are medians)")
    parser.add_argument("--previous", help="a commit to time alongside, alternating")
    args = parser.parse_args()
    trees = {"this tree": ROOT}
    if args.previous:
        trees[args.previous] = add_worktree(args.previous)
    try:
        rounds: dict[str, list[list[float]]] = {name: [] for name in trees}
        for _ in range(args.repeat):
            for name, folder in trees.items():
                rounds[name].append(cold_seconds(folder))
    finally:
        if args.previous:
            remove_worktree(trees[args.previous])
    medians = {
        name: [statistics.median(c) for c in zip(*r, strict=True)] for name, r in rounds.items()
    }
    print(f"# {cpu_name()}, seconds to compile cold, median of {args.repeat} rounds")
    print(
        f"{'case':<66}"
        + "".join(f"{name:>12}" for name in trees)
        + ("   ratio" if args.previous else "")
    )
    for i, case in enumerate(CASES):
        row = [medians[name][i] for name in trees]
        ratio = f"{row[0] / row[1]:8.2f}" if args.previous else ""
        print(f"{_label(case):<66}" + "".join(f"{s:12.2f}" for s in row) + ratio)
    totals = [sum(medians[name]) for name in trees]
    ratio = f"{totals[0] / totals[1]:8.2f}" if args.previous else ""
    print(f"{'all':<66}" + "".join(f"{s:12.2f}" for s in totals) + ratio)


if __name__ == "__main__":
    main()
