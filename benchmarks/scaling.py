"""Cost vs trials and width: one core, XOR, fast exp, float64 (kernel plus row building).

    python benchmarks/scaling.py [--quick]

Trials 10^3 .. 10^6 at width 2, and widths 1 .. 64 at 10^4 trials, 200
epochs each: cost should grow linearly in trials x epochs x width.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sweep.config.study import make_config
from sweep.runner.plan import plan
from sweep.runner.rows import chunk_rows


def seconds_for(trials: int, width: int, epochs: int = 200) -> tuple[float, str]:
    """Seconds to train (and build the rows of) a sweep, and the kernel the plan chose."""
    cfg = make_config(seeds=f"0:{trials}", lr=0.5, width=width, epochs=epochs, curve_every=0)
    chunks = plan(cfg, jobs=1)
    chunk_rows(chunks[-1])  # warm the JIT
    t0 = time.perf_counter()
    for chunk in chunks:
        chunk_rows(chunk)
    return time.perf_counter() - t0, chunks[0].kernel


def measure(quick: bool = False) -> list[dict]:
    cases = [
        (trials, 2) for trials in ([10**3, 10**4, 10**5] if quick else [10**3, 10**4, 10**5, 10**6])
    ]
    cases += [(10**4, width) for width in ([1, 4, 16] if quick else [1, 2, 4, 8, 16, 32, 64])]
    rows = []
    for trials, width in cases:
        seconds, kernel = seconds_for(trials, width)
        rows.append(
            {"trials": trials, "width": width, "epochs": 200, "seconds": seconds, "kernel": kernel}
        )
    for r in rows:
        r["ns_per_trial_epoch"] = r["seconds"] / (r["trials"] * r["epochs"]) * 1e9
        r["ns_per_trial_epoch_unit"] = r["ns_per_trial_epoch"] / r["width"]
    return rows


def format_rows(rows: list[dict]) -> str:
    from tabulate import tabulate

    return tabulate(
        [
            [
                r["trials"],
                r["width"],
                r["epochs"],
                r["kernel"],
                r["seconds"],
                r["ns_per_trial_epoch"],
                r["ns_per_trial_epoch_unit"],
            ]
            for r in rows
        ],
        headers=[
            "trials",
            "width",
            "epochs",
            "kernel",
            "seconds",
            "ns/trial-epoch",
            "ns/trial-epoch/unit",
        ],
        floatfmt=".2f",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print(format_rows(measure(parser.parse_args().quick)))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
