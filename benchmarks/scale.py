"""Cost and memory of very large sweeps: 10^6, 10^7 (and 10^8) trials end to end.

    python benchmarks/scale.py [--trials 1e6,1e7] [--jobs 2] [--backend threading]
                               [--resume] [--json FILE]

Each row is one fresh ``sweep run --epochs 0 --store summary`` (XOR 2-2-1,
one lr, seeds 0:N) in a new folder: wall time, peak resident memory of the
driver and its workers (the largest of each, from ``wait4``), Parquet bytes
per trial, and microseconds per trial. ``--resume`` then deletes 1% of the
parts and times the rerun that heals them. Ratios to the smallest size are
printed, measured in this one run: the issue's goals are time(10^7) <= 11 x
time(10^6), and peak(10^7) <= 1 GiB and <= 1.25 x peak(10^6).
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

from sweep.store.provenance import cpu_name


def _run(argv: list[str]) -> tuple[float, int]:
    """(seconds, peak RSS in bytes over the process and its children) of a CLI run."""
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "sweep", *argv], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"sweep {' '.join(argv)} failed with status {proc.returncode}")
    # ru_maxrss of wait4 covers the process itself; worker processes report
    # through RUSAGE_CHILDREN of this process only once reaped, so they are
    # read separately (the largest child of any run so far: an upper bound).
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(usage.ru_maxrss, children) * 1024


def measure(trials: int, jobs: int, backend: str, resume: bool, folder: Path) -> dict:
    """One fresh run of ``trials`` trials (and optionally its healing rerun)."""
    out = folder / f"n{trials}"
    argv = [
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
        "summary",
        "--jobs",
        str(jobs),
        "--backend",
        backend,
        "--out",
        str(out),
        "--quiet",
        "--force",
    ]
    seconds, peak = _run(argv)
    parts = sorted(out.glob("part-*.parquet"))
    size = sum(p.stat().st_size for p in parts)
    row = {
        "trials": trials,
        "seconds": seconds,
        "peak_bytes": peak,
        "parts": len(parts),
        "bytes_per_trial": size / trials,
        "us_per_trial": seconds / trials * 1e6,
    }
    if resume:
        lost = parts[:: max(1, round(len(parts) / max(1, round(len(parts) * 0.01))))]
        for part in lost:
            part.unlink()
        again, again_peak = _run(argv)
        row.update(resume_parts=len(lost), resume_seconds=again, resume_peak_bytes=again_peak)
    shutil.rmtree(out)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", default="1e6,1e7", help="comma list, e.g. 1e6,1e7,1e8")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--backend", default="threading")
    parser.add_argument("--resume", action="store_true", help="also time healing 1%% of parts")
    parser.add_argument("--dir", type=Path, help="where to write (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args()
    sizes = [int(float(t)) for t in args.trials.split(",")]
    folder = Path(tempfile.mkdtemp(dir=args.dir))
    try:
        # Compile (or load) every kernel once, untimed.
        measure(1000, args.jobs, args.backend, False, folder)
        rows = [measure(n, args.jobs, args.backend, args.resume, folder) for n in sizes]
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    base = rows[0]
    print(
        f"# {cpu_name()}, {args.jobs} {args.backend} workers, XOR 2-2-1, --epochs 0, "
        "--store summary"
    )
    print(
        f"{'trials':>12} {'time s':>8} {'x time':>7} {'peak MB':>8} {'x peak':>7} "
        f"{'B/trial':>8} {'us/trial':>9}"
        + (f" {'resume s':>9} {'resume %':>9}" if args.resume else "")
    )
    for r in rows:
        line = (
            f"{r['trials']:>12,} {r['seconds']:>8.1f} {r['seconds'] / base['seconds']:>7.2f} "
            f"{r['peak_bytes'] / 1e6:>8.0f} {r['peak_bytes'] / base['peak_bytes']:>7.2f} "
            f"{r['bytes_per_trial']:>8.1f} {r['us_per_trial']:>9.2f}"
        )
        if args.resume:
            line += (
                f" {r['resume_seconds']:>9.1f} {100 * r['resume_seconds'] / r['seconds']:>8.0f}%"
            )
        print(line)
    if args.json:
        record = {"cpu": cpu_name(), "jobs": args.jobs, "backend": args.backend, "rows": rows}
        args.json.write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
