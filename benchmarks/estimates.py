"""A dry run's estimates against the run: time, disk and peak memory of the README's
examples and every classics file.

    python benchmarks/estimates.py [--only NAME,...] [--dir DIR] [--json FILE]

For each, in a fresh folder: ``sweep run ... --dry-run`` (its time, disk and
memory lines), then the run itself, quiet, in a fresh process (wall time,
the Parquet written, peak RSS from ``wait4``). Prints each estimate, the
actual figure and their ratio; the goal is a ratio within 1/2 and 2. Then
the runs that derive the estimates' constants (a row's cost, a shape's, a
part's, start-up, a generated kernel's compile), and two dry runs of the
first example with no run between, which must say the same. Run it on an
idle machine: the actual times are what the estimates are held to.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from sweep.store.provenance import cpu_name

ROOT = Path(__file__).resolve().parent.parent
CLASSICS = sorted((ROOT / "examples" / "classics").glob("*.toml"))
#: The README's sweeps (its TOML example is written to sweep.toml first).
README = {
    "quick start": "",
    "wide": "--seeds 0:5000 --lr log:0.01:10:13 --width 1:9",
    "parity3": "--task parity3 --width 2,3,4 --epochs 20000 --tol 0.05",
    "sweep.toml": "--config {toml} --seeds 0:100",
    "lr-search": "--seeds 0:10 --lr loguniform:0.01:10 --momentum uniform:0:0.95 --samples 64 "
    "--width 2 --epochs 3000",
    "tasks": "--task xor,and,or --init-radius 0.5,1,2 --width 2,3 --lr 0.3,1,3 --seeds 0:500 "
    "--epochs 3000",
}
TOML = 'seeds = "0:2000"\nlr = "log:0.01:10:13"\nwidth = [2, 3, 4]\ninit-radius = 1.0\n'
UNITS = {"bytes": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}


def _seconds(text: str) -> float:
    """A dry run's time line as seconds."""
    if "under a second" in text:
        return 0.5
    value, unit = re.search(r"about ([\d.]+) (s|min|h)\b", text).groups()
    return float(value) * {"s": 1, "min": 60, "h": 3600}[unit]


def _amount(line: str) -> float:
    value, unit = re.search(r"about ([\d.]+) (bytes|kB|MB|GB|TB)", line).groups()
    return float(value) * UNITS[unit]


def dry_run(argv: list[str]) -> dict:
    """The dry run's estimates: seconds, disk and memory bytes."""
    said = subprocess.run(
        [sys.executable, "-m", "sweep", "run", *argv, "--dry-run"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    lines = {line.split(":")[0]: line for line in said.splitlines()}
    return {
        "seconds": _seconds(lines["time"]),
        "disk": _amount(lines["disk"]),
        "memory": _amount(lines["memory"]),
        "text": said,
    }


def actual(argv: list[str], out: Path) -> dict:
    """The run's wall time, Parquet bytes and peak RSS."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sweep", "run", *argv, "--quiet"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"sweep run {shlex.join(argv)} failed: {proc.stderr.read().decode()}")
    disk = sum(p.stat().st_size for p in out.glob("part-*.parquet"))
    return {"seconds": seconds, "disk": disk, "memory": usage.ru_maxrss * 1024}


def row_costs(folder: Path) -> None:
    """Derive sweep.runner.plan's NS_PER_ROW and NS_PER_VALUE, and
    sweep.runner.estimate's ROW_ON_DISK: runs of 0 epochs (training costs
    nothing) at two sizes, so start-up cancels in the difference; single-core
    ns are the wall time's times the workers."""
    jobs = os.cpu_count() or 1
    sizes = (1_000_000, 3_000_000)
    per_row = {}
    print("\nrows: runs of 0 epochs, XOR 2-2-1 (14 stored values a row when full)")
    print("| store | ns a row (single core) | bytes a row on disk | a part's footer (bytes) |")
    print("| --- | ---: | ---: | ---: |")
    for store in ("summary", "full"):
        got = []
        for n in sizes:
            argv = ["--seeds", f"0:{n}", "--lr", "0.5", "--width", "2", "--epochs", "0"]
            out = folder / "rows" / f"{store}-{n}"
            got.append(
                actual([*argv, "--store", store, "--jobs", str(jobs), "--out", str(out)], out)
            )
        extra = sizes[1] - sizes[0]
        ns = (got[1]["seconds"] - got[0]["seconds"]) * jobs / extra * 1e9
        per_row[store] = ns
        disk = (got[1]["disk"] - got[0]["disk"]) / extra
        footers = [pq.ParquetFile(p).metadata.serialized_size for p in out.glob("part-*.parquet")]
        print(f"| {store} | {ns:,.0f} | {disk:,.1f} | {max(footers):,} |")
        if store == "summary":
            startup = got[0]["seconds"] - sizes[0] * ns * 1e-9 / jobs
    per_value = (per_row["full"] - per_row["summary"]) / 14
    print(f"NS_PER_ROW ~ {per_row['summary']:,.0f}; NS_PER_VALUE ~ {per_value:,.0f}")
    print(f"STARTUP_SECONDS ~ {startup:.1f} (what is left at no trials)")
    print("PART_ON_DISK ~ the full store's footer, plus its column chunks' headers")


def shape_and_part_costs(folder: Path) -> None:
    """Derive sweep.runner.estimate's SHAPE_SECONDS and PART_SECONDS: 64 shapes
    against one shape of the same trials, and 200 parts against one."""
    base = ["--seeds", "0:10", "--width", "2", "--epochs", "3000"]
    shapes = ["--lr", "loguniform:0.01:10", "--momentum", "uniform:0:0.95", "--samples", "64"]
    one = ["--lr", "log:0.01:10:64", "--momentum", "0.5"]
    few, many = (
        ["--seeds", "0:20000", "--lr", "0.5", "--width", "2", "--epochs", "0", "--chunk-size", size]
        for size in ("20000", "100")
    )
    runs = {}
    for name, argv in (("64 shapes", base + shapes), ("1 shape", base + one)):
        runs[name] = actual([*argv, "--out", str(folder / "shapes" / name[:2].strip())], folder)
    for name, argv in (("1 part", few), ("200 parts", many)):
        runs[name] = actual([*argv, "--out", str(folder / "parts" / name[:3].strip())], folder)
    shape = (runs["64 shapes"]["seconds"] - runs["1 shape"]["seconds"]) / 63
    part = (runs["200 parts"]["seconds"] - runs["1 part"]["seconds"]) / 199
    print(f"\nSHAPE_SECONDS ~ {shape:.3f}; PART_SECONDS ~ {part:.3f}")


def compile_cost(folder: Path) -> None:
    """Derive sweep.runner.estimate's COMPILE_SECONDS: the Chauvin classic (five
    generated kernels, one per width) with an empty kernel cache, then again."""
    config = ["--config", str(ROOT / "examples" / "classics" / "rhw1986_chauvin_xor_width.toml")]
    env = {**os.environ, "SWEEP_KERNEL_CACHE": str(folder / "kernels")}
    runs = []
    for attempt in ("cold", "warm"):
        out = folder / "compile" / attempt
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "sweep", "run", *config, "--out", str(out), "--quiet"],
            env=env,
            check=True,
        )
        runs.append(time.perf_counter() - started)
    print(f"\ncompiling: {runs[0]:.1f} s with no kernels compiled, {runs[1]:.1f} s with them")
    print(f"COMPILE_SECONDS ~ {(runs[0] - runs[1]) / 5:.1f} (five generated kernels)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated names (default: all)")
    parser.add_argument("--dir", type=Path, help="where to write (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args()
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=args.dir))
    (folder / "sweep.toml").write_text(TOML)
    cases = {
        name: shlex.split(flags.format(toml=folder / "sweep.toml"))
        for name, flags in README.items()
    }
    cases |= {f.stem: ["--config", str(f)] for f in CLASSICS}
    if args.only:
        cases = {k: v for k, v in cases.items() if k in args.only.split(",")}
    print(f"# {cpu_name()}; {os.cpu_count()} cores; estimates of `sweep run --dry-run`")
    head = ["sweep"] + [f"{what} est. | actual | ratio" for what in ("time", "disk", "memory")]
    print("| " + " | ".join(head) + " |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = []
    for name, flags in cases.items():
        out = folder / "runs" / name.replace(" ", "_")
        argv = [*flags, "--out", str(out)]
        guess, got = dry_run(argv), actual(argv, out)
        row = {"sweep": name, "estimate": guess, "actual": got}
        rows.append(row)
        cells = []
        for key, fmt in (
            ("seconds", "{:,.0f} s"),
            ("disk", "{:,.1f} MB"),
            ("memory", "{:,.0f} MB"),
        ):
            scale = 1 if key == "seconds" else 1e6
            ratio = got[key] / guess[key] if guess[key] else float("nan")
            cells += [fmt.format(guess[key] / scale), fmt.format(got[key] / scale), f"{ratio:.2f}"]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    row_costs(folder)
    shape_and_part_costs(folder)
    compile_cost(folder)
    first = next(iter(cases.values()))
    probe = [*first, "--out", str(folder / "never")]
    again = [dry_run(probe)["text"] for _ in range(2)]
    print(f"\ntwo dry runs with no run between say the same: {again[0] == again[1]}")
    if args.json:
        for row in rows:
            row["estimate"].pop("text")
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
