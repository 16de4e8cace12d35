"""End-to-end throughput of `sweep run` on the default sweep, 1 worker vs 2 (threads, processes).

    python benchmarks/sweep_e2e.py [--repeat 3] [--seeds 0:1000]

Each figure is the median over ``--repeat`` fresh runs (new output folder,
warm JIT cache). Also reports the time from start to the first stored part.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one_run(jobs: int, seeds: str, backend: str) -> tuple[float, float, int]:
    """(seconds, seconds to first part, trials) of one fresh CLI run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "xor"
        t0 = time.perf_counter()
        cmd = [
            sys.executable,
            "-m",
            "sweep",
            "run",
            "--seeds",
            seeds,
            "--jobs",
            str(jobs),
            "--backend",
            backend,
            "--out",
            str(out),
            "--quiet",
        ]
        proc = subprocess.Popen(cmd)
        first = None
        while proc.poll() is None:
            if first is None and any(out.glob("*.parquet")):
                first = time.perf_counter() - t0
            time.sleep(0.01)
        total = time.perf_counter() - t0
        if proc.returncode:
            raise SystemExit(f"sweep run failed with {proc.returncode}")
        import pandas as pd

        trials = len(pd.read_parquet(out, columns=["trial_id"]))
        return total, first if first is not None else total, trials


def measure(seeds: str, repeat: int) -> list[dict]:
    """Median seconds of fresh runs with 1 worker and with 2 threads or processes (warm caches)."""
    # The same sweep once, untimed: it compiles (or loads) every kernel it uses,
    # the generated ones included (a smaller sweep would not pick those).
    one_run(2, seeds, "loky")
    rows = []
    for jobs, backend in ((1, "sequential"), (2, "threading"), (2, "loky")):
        runs = [one_run(jobs, seeds, backend) for _ in range(repeat)]
        seconds = statistics.median(r[0] for r in runs)
        rows.append(
            {
                "jobs": jobs,
                "backend": backend,
                "trials": runs[0][2],
                "seconds": seconds,
                "first_part_s": statistics.median(r[1] for r in runs),
                "trials_per_s": runs[0][2] / seconds,
            }
        )
    return rows


def format_rows(rows: list[dict]) -> str:
    from tabulate import tabulate

    table = [
        [r["jobs"], r["backend"], r["trials"], r["seconds"], r["first_part_s"], r["trials_per_s"]]
        for r in rows
    ]
    text = tabulate(
        table,
        headers=["jobs", "backend", "trials", "seconds", "first part (s)", "trials/s"],
        floatfmt=".2f",
    )
    speedups = [
        f"parallel speed-up, 2 workers ({r['backend']}) vs 1: "
        f"{rows[0]['seconds'] / r['seconds']:.2f}x"
        for r in rows[1:]
    ]
    return "\n".join([text, *speedups])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seeds", default="0:1000")
    args = parser.parse_args()
    print(format_rows(measure(args.seeds, args.repeat)))


if __name__ == "__main__":
    main()
