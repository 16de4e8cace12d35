"""The classics' figures from their results: ``python examples/classics/table.py [ROOT]``.

For each set-up in this folder whose results are in ``ROOT/<file name>``
(default ``results/classics``; run one with ``sweep run --config
examples/classics/NAME.toml --out results/classics/NAME``), one row per
combination of the settings that vary within it: trials, the rate (converged,
or solved for a run of 0 epochs) with its 95% Wilson interval, and the mean
and median epochs to converge among the converged, the mean with a 95%
normal interval. Prints a Markdown table.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

import sweep
from sweep.intervals import Z95, wilson_interval
from sweep.reporting.analysis import varying

HERE = Path(__file__).parent


def figures(df: pd.DataFrame) -> pd.DataFrame:
    """One row per combination of the varying settings (see the module docstring)."""
    keys = varying(df)
    guessing = bool((df["epochs"] == 0).all())
    hit = df["epoch_solved"].notna() if guessing else df["converged"].astype(bool)
    epochs = df["epoch_converged"].astype("Float64").astype(float).where(hit)
    work = df[keys].assign(_hit=hit, _epochs=epochs)
    rows = []
    for values, group in work.groupby(keys, sort=True) if keys else [((), work)]:
        n, k = len(group), int(group["_hit"].sum())
        low, high = wilson_interval(np.array([k]), np.array([n]))
        e = group["_epochs"].dropna()
        half = Z95 * e.std(ddof=1) / np.sqrt(len(e)) if len(e) > 1 else np.nan
        values = values if isinstance(values, tuple) else (values,)
        rows.append(
            {
                "setting": ", ".join(f"{key} {v}" for key, v in zip(keys, values, strict=True)),
                "trials": n,
                "measure": "solved at epoch 0" if guessing else "converged",
                "rate": k / n,
                "rate_low": float(low[0]),
                "rate_high": float(high[0]),
                "epochs_mean": e.mean() if len(e) else np.nan,
                "epochs_low": e.mean() - half,
                "epochs_high": e.mean() + half,
                "epochs_median": e.median() if len(e) else np.nan,
            }
        )
    return pd.DataFrame(rows)


def markdown(name: str, table: pd.DataFrame) -> list[str]:
    """Rows of the README's table for one set-up."""
    lines = []
    for row in table.itertuples():
        digits = ".1%" if row.rate_high >= 0.01 else ".3%"  # rare events: the digits that count
        rate = f"{row.rate:{digits}} [{row.rate_low:{digits}}, {row.rate_high:{digits}}]"
        if np.isnan(row.epochs_mean) or row.measure != "converged":
            epochs = "–"
        elif np.isnan(row.epochs_low):  # one converged trial: no interval
            epochs = f"{row.epochs_mean:,.0f} (one trial)"
        else:
            epochs = (
                f"{row.epochs_mean:,.0f} [{row.epochs_low:,.0f}, {row.epochs_high:,.0f}]; "
                f"median {row.epochs_median:,.0f}"
            )
        lines.append(
            f"| `{name}` | {row.setting or '–'} | {row.trials:,} | "
            f"{row.measure}: {rate} | {epochs} |"
        )
    return lines


def main(root: Path) -> None:
    print("| set-up | setting | trials | rate [95%] | mean epochs [95%]; median |")
    print("| --- | --- | ---: | --- | --- |")
    for path in sorted(HERE.glob("*.toml")):
        folder = root / path.stem
        if folder.exists():
            print("\n".join(markdown(path.stem, figures(sweep.load(folder)))))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("results/classics"))
