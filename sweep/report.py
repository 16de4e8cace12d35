"""Render convergence tables for people (terminal, Markdown) and programs (CSV, JSON)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from tabulate import tabulate

if TYPE_CHECKING:  # the CLI imports FORMATS from here without loading pandas
    import pandas as pd

FORMATS = ("table", "csv", "json", "markdown")

#: Columns :func:`summary` reads.
SUMMARY_COLUMNS = ("converged", "diverged", "epoch_converged", "epoch_solved", "final_loss")


def percent(rate: float) -> str:
    """A rate as a percentage that never rounds to a misleading 0% or 100%."""
    text = f"{100 * rate:.0f}%"
    if text not in ("0%", "100%") or rate in (0, 1):
        return text
    if 0.001 <= rate <= 0.999:
        return f"{100 * rate:.1f}%"
    return "<0.1%" if rate < 0.5 else ">99.9%"


def _readable(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Round and merge columns for reading: rate with its interval, whole epochs."""

    def pct(x: float) -> str:
        return "" if np.isnan(x) else f"{100 * x:.1f}%"

    def epochs(x: float) -> str:
        return "-" if np.isnan(x) else f"{x:,.0f}"

    out = table[list(keys)].copy()
    if "lr" in out:
        out["lr"] = out["lr"].map(lambda v: f"{v:.4g}")
    out["trials"] = table["trials"]
    out["converged"] = [
        f"{pct(r)} [{pct(lo)}, {pct(hi)}]"
        for r, lo, hi in zip(table["rate"], table["rate_low"], table["rate_high"], strict=True)
    ]
    out["median epochs"] = table["epochs_median"].map(epochs)
    out["p10-p90"] = [
        "-" if np.isnan(a) else f"{a:,.0f}-{b:,.0f}"
        for a, b in zip(table["epochs_p10"], table["epochs_p90"], strict=True)
    ]
    out["solved"] = table["solved_rate"].map(pct)
    out["diverged"] = table["diverged_rate"].map(pct)
    out["mean loss"] = table["mean_final_loss"].map(lambda v: f"{v:.3g}")
    return out


def format_table(table: pd.DataFrame, fmt: str = "table", by: Sequence[str] = ()) -> str:
    """A :func:`~sweep.analysis.convergence_table` as text in ``fmt``.

    ``csv`` and ``json`` keep every column with its raw value and the
    grouping keys under their column names; ``table`` and ``markdown`` are
    rounded for reading.
    """
    if fmt == "csv":
        return table.to_csv(index=False)
    if fmt == "json":
        return table.to_json(orient="records", indent=1)
    readable = _readable(table, by)
    style = "github" if fmt == "markdown" else "simple"
    return tabulate(readable, headers="keys", tablefmt=style, showindex=False,
                    disable_numparse=True, stralign="right")  # fmt: skip


def _value(v) -> str:
    return f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v)


def _grid(df: pd.DataFrame) -> str:
    """Convergence rate and median epochs, lr x width."""
    from .analysis import convergence_table

    table = convergence_table(df, ["lr", "width"])
    cells = [
        "-" if t == 0 else f"{percent(r):>5} " + ("    -" if np.isnan(m) else f"{m:>5,.0f}")
        for t, r, m in zip(table["trials"], table["rate"], table["epochs_median"], strict=True)
    ]
    grid = table.assign(cell=cells).pivot(index="lr", columns="width", values="cell")
    grid.index = [f"{v:.4g}" for v in grid.index]
    header = ["lr \\ width"] + [str(w) for w in grid.columns]
    return tabulate(grid.fillna(""), headers=header, tablefmt="simple", stralign="right",
                    disable_numparse=True)  # fmt: skip


def summary(df: pd.DataFrame) -> str:
    """The compact end-of-run view: convergence rate and median epochs, lr x width,
    one grid for each combination of the other parameters that vary."""
    from .analysis import varying

    others = [k for k in varying(df) if k not in ("lr", "width")]
    n, conv = len(df), int(df["converged"].sum())
    parts = [
        f"{n:,} trials, {conv:,} converged ({100 * conv / max(n, 1):.1f}%). "
        "Cells: convergence rate, median epochs to converge."
    ]
    groups = df.groupby(others, sort=True, dropna=False) if others else [((), df)]
    for values, sub in groups:
        values = values if isinstance(values, tuple) else (values,)
        if others:
            fixed = zip(others, values, strict=True)
            parts.append("\n" + ", ".join(f"{k} = {_value(v)}" for k, v in fixed))
        parts.append(_grid(sub))
    return "\n".join(parts)
