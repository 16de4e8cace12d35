"""Views of sampled axes (random search, ``--samples``): each sampled axis against
the outcome, in bins of the axis.

A sampled axis takes as many values as points were drawn, so a table or a
heatmap by its values has one cell per point and says little. Its view is
the convergence rate (with its interval) in :data:`BINS` bins of equal
probability under the axis's distribution: equal widths for ``uniform``,
equal ratios for ``loguniform``, whole numbers for a narrow ``randint``.
A bin pools the points inside it and says how many (``points``); the
other sampled axes are pooled too, and said to be.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..config.sampling import Distribution
from .aggregate import Aggregate
from .text import _as_text, readable_failures, readable_table, value_text

#: Bins of each sampled axis (deciles of its distribution).
BINS = 10


def edges(distribution: Distribution, bins: int = BINS) -> np.ndarray:
    """The ``bins + 1`` edges of an axis's bins (fewer for a randint of fewer values)."""
    low, high = distribution.low, distribution.high
    if distribution.kind == "loguniform":
        return np.geomspace(low, high, bins + 1)
    if distribution.kind == "randint":
        return np.unique(np.round(np.linspace(low, high, min(bins, int(high - low)) + 1)))
    return np.linspace(low, high, bins + 1)


def _labels(distribution: Distribution, cuts: np.ndarray) -> list[str]:
    """``[a, b)`` for each bin; a whole number alone where a randint bin holds one."""
    out = []
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        if distribution.kind == "randint" and b - a == 1:
            out.append(str(int(a)))
        else:
            out.append(f"[{value_text(float(a))}, {value_text(float(b))})")
    return out


def binned(agg: Aggregate, axis: str, distribution: Distribution) -> Aggregate:
    """``agg`` with the values of ``axis`` swapped for their bins (an ordered
    categorical of ``[a, b)`` labels), in its cells, histograms, failures and
    curves alike; a ``points`` count per cell says how many values each bin
    pools."""
    cuts = edges(distribution)
    labels = _labels(distribution, cuts)

    def to_bins(frame: pd.DataFrame | None) -> pd.DataFrame | None:
        if frame is None or axis not in frame:
            return frame
        values = frame[axis].to_numpy(dtype=float)
        index = np.clip(np.searchsorted(cuts, values, side="right") - 1, 0, len(labels) - 1)
        out = frame.copy()
        out[axis] = pd.Categorical.from_codes(index, categories=labels, ordered=True)
        return out

    cells = to_bins(agg.cells)
    cells["points"] = 1  # each cell is one value of the axis: points add up per bin
    return replace(
        agg,
        cells=cells,
        epochs=to_bins(agg.epochs),
        failures=to_bins(agg.failures),
        curves=to_bins(agg.curves),
    )


def listed_keys(agg: Aggregate) -> list[str]:
    """The parameters that vary and are not sampled: a sampled view's other groups."""
    return [k for k in agg.varying() if k not in agg.sampled]


def sampled_table(agg: Aggregate, failures: bool = False) -> pd.DataFrame:
    """Each sampled axis in bins against the outcome, one block per axis: columns
    ``axis``, ``bin``, ``low``, ``high``, the listed axes that vary, ``points``,
    then the convergence table's columns (or, with ``failures``, the
    failure modes')."""
    keys = listed_keys(agg)
    blocks = []
    for axis, distribution in agg.sampled.items():
        grouped = binned(agg, axis, distribution)
        table = (grouped.failure_table if failures else grouped.table)([axis, *keys])
        points = grouped.cells.groupby([axis, *keys], observed=True, dropna=False)["points"]
        table.insert(len(keys) + 1, "points", points.sum().to_numpy())
        cuts = edges(distribution)
        codes = table[axis].cat.codes.to_numpy()
        table.insert(0, "axis", axis)
        table.insert(2, "low", cuts[codes])
        table.insert(3, "high", cuts[codes + 1])
        table[axis] = table[axis].astype(str)
        blocks.append(table.rename(columns={axis: "bin"}))
    return pd.concat(blocks, ignore_index=True)


def heading(agg: Aggregate, axis: str) -> str:
    """What a block of :func:`sampled_table` shows, and what it pools."""
    distribution = agg.sampled[axis]
    spacing = "log-spaced " if distribution.kind == "loguniform" else ""
    line = (
        f"{axis}: sampled {distribution.text} ({agg.values(axis):,} points), "
        f"in {len(edges(distribution)) - 1} {spacing}bins"
    )
    others = [a for a in agg.sampled if a != axis]
    if others:
        pooled = ", ".join(f"{a} ({agg.values(a):,} points)" for a in others)
        line += f"; pooled over the other sampled axes: {pooled}"
    return line


def readable_blocks(
    agg: Aggregate, failures: bool = False, compact: bool = False
) -> list[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """Each sampled axis's block of :func:`sampled_table`: (its :func:`heading`, its
    rows, the rows rounded for reading; ``compact``: rates and epochs only)."""
    keys = listed_keys(agg)
    out = []
    for axis, block in sampled_table(agg, failures).groupby("axis", sort=False):
        block = block.rename(columns={"bin": axis}).drop(columns=["axis", "low", "high"])
        shown = [axis, *keys]
        readable = (readable_failures if failures else readable_table)(block, shown)
        readable = readable.drop(columns=["points"], errors="ignore")
        readable.insert(len(shown), "points", block["points"].map("{:,}".format).to_numpy())
        if compact:
            readable = readable[[*shown, "points", "trials", "converged", "median epochs"]]
        out.append((heading(agg, axis), block, readable))
    return out


def format_sampled(
    agg: Aggregate, fmt: str = "table", failures: bool = False, compact: bool = False
) -> str:
    """:func:`sampled_table` as text: csv and json whole, table and markdown one
    block per axis under its heading (``compact``: the run's summary)."""
    if fmt not in ("table", "markdown"):
        table = sampled_table(agg, failures)
        return _as_text(table, table, fmt)
    blocks = readable_blocks(agg, failures, compact)
    return "\n\n".join(f"{head}\n{_as_text(shown, raw, fmt)}" for head, raw, shown in blocks)
