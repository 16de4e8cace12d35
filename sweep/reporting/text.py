"""Tables as text, for people (terminal, Markdown) and programs (CSV, JSON): the
rounding and layout every report shares.

The CLI imports this module at start-up: pandas (through
:mod:`sweep.reporting.analysis`) is imported inside the functions that make tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from tabulate import tabulate

if TYPE_CHECKING:
    import pandas as pd


FORMATS = ("table", "csv", "json", "markdown")


def percent(rate: float, decimals: int | None = None) -> str:
    """A rate as a percentage that never rounds to a misleading 0% or 100%: whole
    percents, or as many decimals as a rate near 0 or 1 needs to show two
    significant digits of its distance from there (``decimals`` fixes them)."""
    if np.isnan(rate):
        return ""
    if rate in (0, 1):  # exactly none, or all: no decimals to show
        return f"{100 * rate:.0f}%"
    if decimals is None:
        distance = min(rate, 1 - rate)
        decimals = 0 if distance == 0 or distance >= 0.01 else _decimals(100 * distance)
    return f"{100 * rate:.{decimals}f}%"


def _decimals(x: float, digits: int = 2) -> int:
    """Decimals that show ``digits`` significant digits of ``x`` > 0."""
    return max(0, digits - 1 - int(np.floor(np.log10(x))))


def rate_text(rate: float, low: float, high: float) -> str:
    """A rate with its interval, to as many decimals as the interval needs to show
    (two significant digits of its half-width, one decimal at least):
    ``75.0% [74.2%, 75.8%]``, ``0.0498% [0.0456%, 0.0544%]``."""
    if np.isnan(rate):
        return ""
    half = 100 * (high - low) / 2
    decimals = max(1, _decimals(half)) if half > 0 else 1
    if 0 < rate < 1:  # a rate near 0 or 1 is never shown as 0% or 100%
        decimals = max(decimals, _decimals(100 * min(rate, 1 - rate)))
    return f"{percent(rate, decimals)} [{percent(low, decimals)}, {percent(high, decimals)}]"


def value_text(v: Any) -> str:
    """A parameter value as short text (floats to 4 significant digits)."""
    return f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v)


def _means(table: pd.DataFrame, column: str) -> list[str]:
    """A mean column with its interval, ``0.0123 [0.011, 0.0136]`` (``-``: no value)."""
    values = table[[column, f"{column}_low", f"{column}_high"]].to_numpy()
    return [
        "-" if np.isnan(m) else f"{m:.3g}" + ("" if np.isnan(lo) else f" [{lo:.3g}, {hi:.3g}]")
        for m, lo, hi in values
    ]


def readable_table(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Round and merge columns for reading: rate with its interval, whole epochs."""

    def epochs(x: float) -> str:
        return "-" if np.isnan(x) else f"{x:,.0f}"

    out = table[list(keys)].copy()
    for k in keys:
        out[k] = out[k].map(value_text)
    out["trials"] = table["trials"]
    out["converged"] = [
        f"{k:,} ({rate_text(r, lo, hi)})"
        for k, r, lo, hi in zip(
            table["converged"], table["rate"], table["rate_low"], table["rate_high"], strict=True
        )
    ]
    out["median epochs"] = table["epochs_median"].map(epochs)
    out["p10-p90"] = [
        "-" if np.isnan(a) else f"{a:,.0f}-{b:,.0f}"
        for a, b in zip(table["epochs_p10"], table["epochs_p90"], strict=True)
    ]
    out["solved"] = table["solved_rate"].map(percent)
    out["diverged"] = table["diverged_rate"].map(percent)
    out["mean loss"] = _means(table, "mean_final_loss")
    if "test_loss" in table:
        out["test loss"] = _means(table, "test_loss")
    if "test_accuracy" in table:
        out["test accuracy"] = [
            rate_text(m, lo, hi)
            for m, lo, hi in table[
                ["test_accuracy", "test_accuracy_low", "test_accuracy_high"]
            ].to_numpy()
        ]
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
    counts and shares of converged, slow, stuck, diverged and untrained."""

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
    from .analysis import FAILURE_MODES

    readable = table.copy()
    for k in by:
        readable[k] = readable[k].map(value_text)
    for mode in FAILURE_MODES:
        counts = zip(table[mode], table["trials"], strict=True)
        readable[mode] = [f"{n:,} ({percent(n / t)})" if t else "-" for n, t in counts]
    return readable


def format_failures(table: pd.DataFrame, fmt: str, by: Sequence[str]) -> str:
    readable = readable_failures(table, by) if fmt in ("table", "markdown") else table
    return _as_text(readable, table, fmt)


def grid_text(table: pd.DataFrame, regression: bool = False) -> str:
    """Convergence rate and median epochs, lr x width (a convergence table of them);
    for a regression task, the rate and the mean final MSE ("diverged" where
    every network diverged)."""
    if regression:  # the mean is over networks that did not diverge
        second = [
            ("diverged" if d == 1 else "    -") if np.isnan(v) else f"{v:>9.3g}"
            for v, d in zip(table["mean_final_loss"], table["diverged_rate"], strict=True)
        ]
    else:
        second = ["    -" if np.isnan(m) else f"{m:>5,.0f}" for m in table["epochs_median"]]
    cells = [
        "-" if t == 0 else f"{percent(r):>5} {v}"
        for t, r, v in zip(table["trials"], table["rate"], second, strict=True)
    ]
    grid = table.assign(cell=cells).pivot(index="lr", columns="width", values="cell")
    grid.index = [f"{v:.4g}" for v in grid.index]
    header = ["lr \\ width"] + [str(w) for w in grid.columns]
    return tabulate(
        grid.fillna(""), headers=header, tablefmt="simple", stralign="right", disable_numparse=True
    )


def tabulate_frame(table: pd.DataFrame) -> str:
    """A small DataFrame as aligned text, blanks for missing values."""
    cells = table.astype(object).where(table.notna(), None)  # NaN is not "missing" to tabulate
    return tabulate(cells, headers="keys", showindex=False, floatfmt=".1f", missingval="")


def _median_text(median: float, low: float, high: float) -> str:
    """A median difference and its interval; the order-statistic interval needs
    six values (sweep.intervals.median_ranks), so fewer show none."""
    if np.isnan(median):
        return "-"
    if np.isnan(low):
        return f"{median:+,.0f} [too few pairs]"
    return f"{median:+,.0f} [{low:+,.0f}, {high:+,.0f}]"


def readable_difference(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """A comparison's table rounded for reading: rates as percentages, differences
    in percentage points with their intervals."""
    readable = table.copy()
    for k in keys:
        readable[k] = readable[k].map(value_text)
    for col in ("rate_a", "rate_b"):
        readable[col] = table[col].map(percent)
    readable["difference"] = _with_interval(
        table,
        "difference",
        lambda d, lo, hi: f"{100 * d:+.2f} pp [{100 * lo:+.2f}, {100 * hi:+.2f}]",
    )
    drop = ["difference_low", "difference_high"]
    if "epochs_difference" in table:
        readable["mcnemar_p"] = table["mcnemar_p"].map(lambda v: f"{v:.3g}")
        for col in ("epochs_a", "epochs_b"):
            readable[col] = table[col].map(lambda v: "-" if np.isnan(v) else f"{v:,.0f}")
        readable["epochs_difference"] = _with_interval(table, "epochs_difference", _median_text)
        drop += ["epochs_difference_low", "epochs_difference_high"]
    for prefix in ("loss", "test_loss"):  # a regression task's MSEs
        if f"{prefix}_difference" not in table:
            continue
        for col in (f"{prefix}_a", f"{prefix}_b"):
            readable[col] = table[col].map(lambda v: "-" if np.isnan(v) else f"{v:.3g}")
        readable[f"{prefix}_difference"] = _with_interval(
            table,
            f"{prefix}_difference",
            lambda d, lo, hi: "-" if np.isnan(d) else f"{d:+.3g} [{lo:+.3g}, {hi:+.3g}]",
        )
        drop += [f"{prefix}_difference_low", f"{prefix}_difference_high"]
    return readable.drop(columns=drop)


def _with_interval(table: pd.DataFrame, name: str, text: Callable) -> list[str]:
    """Each row's ``name`` with its interval (``name_low``, ``name_high``), as ``text``
    writes the three."""
    bounds = (table[name], table[f"{name}_low"], table[f"{name}_high"])
    return [text(*row) for row in zip(*bounds, strict=True)]
