"""The benchmark suite: kernel vs peers, end-to-end sweeps, scaling; saved for comparison.

    python benchmarks/run.py           # full: about 10 minutes on 2 cores
    python benchmarks/run.py --quick   # about 2 minutes

Everything is measured in this one run, on this machine, one thread per
process. Results go to ``benchmarks/history/<UTC time>.json`` and ``.csv``
(one row per figure) so runs can be compared over time.
"""

from __future__ import annotations

import kernel  # sets the thread environment before numpy loads

import argparse
import json
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

import recipes
import scaling
import sweep_e2e
from sweep.store.provenance import cpu_name

HISTORY = Path(__file__).resolve().parent / "history"


#: IEEE-preserving with FMA (what the fast kernel is allowed), and full fast-math
#: (reciprocal approximations, no NaN/inf: what the kernel must not do).
C_BUILDS = {
    "IEEE + FMA": [
        "-O3",
        "-march=native",
        "-fno-math-errno",
        "-fno-trapping-math",
        "-ffp-contract=fast",
    ],
    "fast-math": ["-O3", "-march=native", "-ffast-math"],
}


def git_commit() -> str | None:
    """The commit measured (``+dirty`` with uncommitted changes), None outside git."""
    import subprocess

    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=here,
            text=True,
            capture_output=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "kernels", "sweep"],
            cwd=here.parent,
            text=True,
            capture_output=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit + ("+dirty" if dirty else "")


def c_proxy_ns(flags: list[str], width: int, repeat: int) -> float | None:
    """ns per network-epoch of benchmarks/c_proxy.c at H = ``width`` (median), None
    without gcc."""
    import shutil
    import statistics
    import subprocess
    import tempfile

    if shutil.which("gcc") is None:
        print("# gcc not found: the C proxy row is skipped", file=sys.stderr)
        return None
    exe = Path(tempfile.mkdtemp()) / "c_proxy"
    source = Path(__file__).resolve().parent / "c_proxy.c"
    subprocess.run(["gcc", *flags, f"-DH={width}", "-o", str(exe), str(source), "-lm"], check=True)
    runs = [
        float(
            subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.split()[0]
        )
        for _ in range(repeat)
    ]
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    when = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    print(f"# {when}, {cpu_name()}, Python {platform.python_version()}, commit {git_commit()}")

    batch, epochs, widths = (1024, 2000, [2, 8]) if args.quick else (4096, 10_000, [2, 8, 32])
    print(
        f"\n## Kernel, ns per network-epoch (B={batch}, E={epochs}, 1 thread, median of "
        f"{args.repeat})"
    )
    kernel_rows = kernel.measure(batch, epochs, widths, args.repeat)
    print(kernel.format_rows(kernel_rows))
    for label, flags in C_BUILDS.items():
        for width in widths:
            proxy = c_proxy_ns(flags, width, args.repeat)
            if proxy is None:
                break
            kernel_rows.append(
                {"approach": f"C proxy, {label}", "width": width, "dtype": "float64", "ns": proxy}
            )
            print(f"hardware proxy, C ({label}: {' '.join(flags)}), H = {width}: {proxy:.1f} ns")

    print("\n## Training recipes, ns per network-epoch (XOR, interleaved rounds)")
    recipe_rows = recipes.measure(
        *((1024, 500) if args.quick else (4096, 2000)), args.repeat, recipes.BASELINE
    )
    print(recipes.format_rows(recipe_rows))
    for line in recipes.ratios(recipe_rows):
        print(line)

    seeds = "0:200" if args.quick else "0:1000"
    print(f"\n## End to end: `sweep run --seeds {seeds}` (default grid otherwise)")
    e2e_rows = sweep_e2e.measure(seeds, args.repeat)
    print(sweep_e2e.format_rows(e2e_rows))

    print("\n## Scaling: seconds of one `sweep` kernel pass vs trials and width (1 core)")
    scale_rows = scaling.measure(quick=args.quick)
    print(scaling.format_rows(scale_rows))

    HISTORY.mkdir(exist_ok=True)
    meta = {
        "when": when,
        "cpu": cpu_name(),
        "python": platform.python_version(),
        "quick": args.quick,
        "commit": git_commit(),
    }
    frames = [
        pd.DataFrame(rows).assign(table=name)
        for name, rows in (
            ("kernel", kernel_rows),
            ("recipes", recipe_rows),
            ("e2e", e2e_rows),
            ("scaling", scale_rows),
        )
    ]
    everything = pd.concat(frames, ignore_index=True).assign(**meta)
    stem = HISTORY / f"{when}{'-quick' if args.quick else ''}"
    everything.to_csv(stem.with_suffix(".csv"), index=False)
    stem.with_suffix(".json").write_text(
        json.dumps(
            {
                **meta,
                "kernel": kernel_rows,
                "recipes": recipe_rows,
                "e2e": e2e_rows,
                "scaling": scale_rows,
            },
            indent=1,
        )
    )
    print(f"\nwrote {stem}.json and .csv", file=sys.stderr)


if __name__ == "__main__":
    main()
