"""The default sweep's first run, with empty caches: its missing kernels compiled
ahead side by side in worker processes (:mod:`sweep.runner.compile_ahead`),
against each compiled where its chunks train, alternating in one run.

    python benchmarks/first_run.py --rounds 3

Each round runs both in new processes with empty Numba and kernel caches, in
turn, then the same sweep again with the caches full (what every later run
pays). Figures are medians of the rounds: wall seconds and the CPU seconds
of the run's processes (workers included).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from sweep.store.provenance import cpu_name

_RUN = """
import sys
import sweep, sweep.runner.execute as execute
if sys.argv[2] == "off":
    execute.compile_ahead = lambda *args, **kw: 0
sweep.train(out=sys.argv[1], backend="threading", progress=False)
"""


def _timed(out: str, ahead: str, caches: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (this run's processes, waited for) of one sweep."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", _RUN, out, ahead],
        env={**os.environ, **caches},
        check=True,
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[tuple[float, float]]] = {"ahead": [], "in place": [], "cached": []}
    for _ in range(args.rounds):
        for name, ahead in (("ahead", "on"), ("in place", "off")):
            with tempfile.TemporaryDirectory() as tmp:
                caches = {"NUMBA_CACHE_DIR": f"{tmp}/numba", "SWEEP_KERNEL_CACHE": tmp}
                times[name].append(_timed(f"{tmp}/out", ahead, caches))
                if name == "ahead":
                    times["cached"].append(_timed(f"{tmp}/again", ahead, caches))
    print(f"# {cpu_name()}; {os.cpu_count()} cores; the default sweep (42,000 trials, 6 kernels)")
    print(f"# backend threading; medians of {args.rounds} rounds")
    print(f"{'kernels':>10} {'wall s':>8} {'cpu s':>8} {'x in place':>11}")
    base = statistics.median(w for w, _ in times["in place"])
    for name, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{name:>10} {wall:8.1f} {cpu:8.1f} {wall / base:11.2f}")


if __name__ == "__main__":
    main()
