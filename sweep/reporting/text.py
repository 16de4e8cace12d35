"""Tables as text, for people (terminal, Markdown) and programs (CSV, JSON): the
rounding and layout every report shares.

The CLI imports this module at start-up: pandas (through
:mod:`sweep.reporting.analysis`) is imported inside the functions that make tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from tabulate import tabulate

if TYPE_CHECKING:
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


def value_text(v: Any) -> str:
    """A parameter value as short text (floats to 4 significant digits)."""
    return f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v)


def readable_table(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Round and merge columns for reading: rate with its interval, whole epochs."""

    def pct(x: float) -> str:
        return "" if np.isnan(x) else f"{100 * x:.1f}%"

    def epochs(x: float) -> str:
        return "-" if np.isnan(x) else f"{x:,.0f}"

    out = table[list(keys)].copy()
    for k in keys:
        out[k] = out[k].map(value_text)
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


def _as_text(readable: pd.DataFrame, raw: pd.DataFrame, fmt: str) -> str:
    if fmt == "csv":
        return raw.to_csv(index=False)
    if fmt == "json":
        return raw.to_json(orient="records", indent=1)
    style = "github" if fmt == "markdown" else "simple"
    return tabulate(
        readable,
        headers="keys",
        tablefmt=style,
        showindex=False,
        disable_numparse=True,
        stralign="right",
    )


def format_table(table: pd.DataFrame, fmt: str = "table", by: Sequence[str] = ()) -> str:
    """A :func:`~sweep.reporting.analysis.convergence_table` as text in ``fmt``.

    ``csv`` and ``json`` keep every column with its raw value and the
    grouping keys under their column names; ``table`` and ``markdown`` are
    rounded for reading.
    """
    readable = readable_table(table, by) if fmt in ("table", "markdown") else table
    return _as_text(readable, table, fmt)


def failure_table(df: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Trials per failure mode (see :func:`sweep.reporting.analysis.failure_modes`) in each group:
    counts and shares of converged, slow, stuck and diverged."""

    from .analysis import failure_modes

    modes = failure_modes(df)
    # Only the combinations that hold trials: a cartesian product of the keys would
    # show paired axes (init_low, init_high) crossed, as empty rows.
    counts = (
        modes.groupby(list(by), sort=True, observed=True, dropna=False)["failure"]
        .value_counts()
        .unstack(fill_value=0)
        if by
        else modes["failure"].value_counts().to_frame().T.reset_index(drop=True)
    )
    counts = counts.reindex(columns=modes["failure"].cat.categories, fill_value=0)
    counts.columns = [str(c) for c in counts.columns]
    counts.insert(0, "trials", counts.sum(axis=1))
    return counts.reset_index() if by else counts


def readable_failures(table: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """A :func:`failure_table` for reading: counts with their shares."""
    readable = table.copy()
    for k in by:
        readable[k] = readable[k].map(value_text)
    for mode in ("converged", "slow", "stuck", "diverged"):
        counts = zip(table[mode], table["trials"], strict=True)
        readable[mode] = [f"{n:,} ({percent(n / t)})" if t else "-" for n, t in counts]
    return readable


def format_failures(table: pd.DataFrame, fmt: str, by: Sequence[str]) -> str:
    readable = readable_failures(table, by) if fmt in ("table", "markdown") else table
    return _as_text(readable, table, fmt)


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
    return tabulate(
        grid.fillna(""), headers=header, tablefmt="simple", stralign="right", disable_numparse=True
    )


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
            parts.append("\n" + ", ".join(f"{k} = {value_text(v)}" for k, v in fixed))
        parts.append(_grid(sub))
    return "\n".join(parts)


def tabulate_frame(table: pd.DataFrame) -> str:
    """A small DataFrame as aligned text, blanks for missing values."""
    cells = table.astype(object).where(table.notna(), None)  # NaN is not "missing" to tabulate
    return tabulate(cells, headers="keys", showindex=False, floatfmt=".1f", missingval="")
