"""Peak memory and time of a run's summary and of every report, at 10^6 to 10^8 trials.

    python benchmarks/reports_scale.py [--trials 1e6,1e7] [--store summary,full]
                                       [--dir DIR] [--json FILE]

For each size and store: ``sweep run`` (not quiet: it prints the summary),
then ``sweep report``, ``sweep report --html`` and ``sweep compare`` (seeds
below N/2 against the rest) on the folder, each in a fresh process (threads,
so one process's ``wait4`` peak covers it). Also the time to read the
columns a report needs (pyarrow, no checks), the floor a report is held to
(at most 2x). The goal: peak RSS at most 1 GiB for each command.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sweep.config.schema import PARAM_COLUMNS
from sweep.store.provenance import cpu_name

#: What a report reads: every parameter but the seed (a report never pools over
#: one silently, so it must see them all) and the outcomes.
COLUMNS = [c for c in PARAM_COLUMNS if c != "seed"] + [
    "converged", "diverged", "epoch_solved", "epoch_converged", "final_loss",
]  # fmt: skip


def _timed(argv: list[str]) -> tuple[float, int]:
    """(seconds, peak RSS in bytes) of one ``sweep`` command in a fresh process."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sweep", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"sweep {' '.join(argv)} failed: {proc.stderr.read().decode()[-500:]}")
    return seconds, usage.ru_maxrss * 1024


def _read_floor(out: Path) -> float:
    """Seconds a fresh process takes to import pyarrow and read the columns a report
    needs, with no checks and Arrow's threads: what any report of the folder must
    at least cost."""
    code = (  # batch by batch: at 10^8 trials the columns outgrow memory
        "import sys, pyarrow.dataset as ds\n"
        f"for _ in ds.dataset(sys.argv[1], format='parquet').to_batches(columns={COLUMNS!r}):\n"
        "    pass"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(out)], check=True)
    return time.perf_counter() - started


def measure(trials: int, store: str, folder: Path) -> list[dict]:
    out = folder / f"{store}{trials}"
    runs = {
        "sweep run": [
            "run",
            "--seeds",
            f"0:{trials}",
            "--lr",
            "0.5",
            "--width",
            "2",
            "--epochs",
            "0",
            "--store",
            store,
            "--out",
            str(out),
            "--force",
        ],
        "sweep report": ["report", str(out)],
        "sweep report --html": ["report", str(out), "--html"],
        "sweep compare": ["compare", str(out), "--where-a", f"seed < {trials // 2}"],
    }
    rows = []
    for what, argv in runs.items():
        seconds, peak = _timed(argv)
        rows.append(
            {
                "trials": trials,
                "store": store,
                "command": what,
                "seconds": seconds,
                "peak_bytes": peak,
            }
        )
    floor = _read_floor(out)
    for row in rows[1:]:
        row["x_read"] = row["seconds"] / floor
    shutil.rmtree(out)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", default="1e6,1e7", help="comma list, e.g. 1e6,1e7,1e8")
    parser.add_argument("--store", default="summary", help="summary, full or both: summary,full")
    parser.add_argument("--dir", type=Path, help="where to write (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args()
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=args.dir))
    print(f"# {cpu_name()}; {os.cpu_count()} cores; XOR 2-2-1, --epochs 0, threads")
    print("| trials | store | command | seconds | peak RSS | x reading the columns |")
    print("| ---: | --- | --- | ---: | ---: | ---: |")
    rows = []
    try:
        for store in args.store.split(","):
            for trials in (int(float(t)) for t in args.trials.split(",")):
                for row in measure(trials, store, folder):
                    rows.append(row)
                    x = f"{row['x_read']:.2f}" if "x_read" in row else ""
                    print(
                        f"| {trials:,} | {store} | {row['command']} | {row['seconds']:.1f} | "
                        f"{row['peak_bytes'] / 2**20:,.0f} MiB | {x} |",
                        flush=True,
                    )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
