"""Figures of sampled axes (:mod:`sweep.reporting.sampled`): each sampled axis
against the convergence rate, its points and its bins; and for two or more
sampled axes, the points in the plane of each pair, coloured by their rate.
:func:`write_figures` chooses between these and :mod:`sweep.reporting.plots`."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize

from .aggregate import Aggregate
from .plots import _colour_bar, _grid, _outer_labels, _pages, _panels, _save, write_plots
from .sampled import binned, edges, listed_keys
from .titles import title as _title


def _points(agg: Aggregate, columns: list[str]) -> pd.DataFrame:
    """Each sampled point (a combination of ``columns``): trials and its rate."""
    sums = agg.cells.groupby(columns, observed=True, dropna=False)[["trials", "converged"]].sum()
    return sums.assign(rate=sums["converged"] / sums["trials"]).reset_index()


def _axis_scale(ax, agg: Aggregate, axis: str, which: str = "x") -> None:
    if agg.sampled[axis].kind == "loguniform":
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")


def rate_by_axis(agg: Aggregate, path: Path) -> list[Path]:
    """One panel per sampled axis (and combination of the listed axes that vary):
    every point's rate as a dot sized by its trials, the bins' rates as a line
    with their 95% intervals as a band."""
    keys = listed_keys(agg)
    panels = []
    for axis in agg.sampled:
        bins = binned(agg, axis, agg.sampled[axis]).table([axis, *keys])
        dots = _points(agg, [axis, *keys])
        others = [a for a in agg.sampled if a != axis]
        pooled = f"pooled over {', '.join(others)}" if others else ""
        for label, rows in _panels(dots, keys):
            mine = bins if not keys else bins.merge(rows[keys].drop_duplicates(), on=keys)
            panels.append((axis, "\n".join(t for t in (label, pooled) if t), rows, mine))
    written = []
    for page, file in _pages(panels, path):
        fig, axes = _grid(len(page), 3.4, 2.6, len(keys) + 1, sharey=True)
        _outer_labels(axes, len(page), "", "convergence rate")
        for ax, (axis, label, dots, bins) in zip(axes.flat, page, strict=False):
            size = 6 + 30 * dots["trials"] / max(dots["trials"].max(), 1)
            ax.scatter(dots[axis], dots["rate"], s=size, color="0.55", alpha=0.6, lw=0)
            distribution = agg.sampled[axis]
            middle = _middles(bins[axis], distribution)
            ax.fill_between(middle, bins["rate_low"], bins["rate_high"], color="C0", alpha=0.2)
            ax.plot(middle, bins["rate"], "o-", color="C0", ms=3, lw=1.5)
            _axis_scale(ax, agg, axis)
            ax.set_ylim(-0.02, 1.02)
            ax.set_xlabel(f"{axis} ({distribution.text})", fontsize=8)
            ax.set_title(label, fontsize=8)
            ax.grid(alpha=0.3)
        what = "Convergence rate by sampled axis: points (grey, by trials) and bins (95% interval)"
        written.append(_save(fig, _title(agg.trials, agg.fixed(), what), file))
    return written


def _middles(labels: pd.Series, distribution) -> np.ndarray:
    """Each bin's centre (geometric for a log-uniform axis), from its category code."""
    cuts = edges(distribution)
    codes = labels.cat.codes.to_numpy()
    low, high = cuts[codes], cuts[codes + 1]
    return np.sqrt(low * high) if distribution.kind == "loguniform" else (low + high) / 2


def rate_by_pair(agg: Aggregate, path: Path) -> list[Path]:
    """For each pair of sampled axes (and combination of the listed axes that vary),
    the points in their plane, coloured by the point's convergence rate."""
    keys = listed_keys(agg)
    panels = []
    for x, y in combinations(agg.sampled, 2):
        dots = _points(agg, [x, y, *keys])
        for label, rows in _panels(dots, keys):
            panels.append((x, y, label, rows))
    written = []
    norm = Normalize(0, 1)
    for page, file in _pages(panels, path):
        fig, axes = _grid(len(page), 3.2, 2.8, len(keys))
        image = None
        for ax, (x, y, label, dots) in zip(axes.flat, page, strict=False):
            colours = {"c": dots["rate"], "cmap": "magma", "norm": norm}
            image = ax.scatter(dots[x], dots[y], s=18, lw=0.3, edgecolors="0.3", **colours)
            _axis_scale(ax, agg, x, "x")
            _axis_scale(ax, agg, y, "y")
            ax.set_xlabel(x, fontsize=8)
            ax.set_ylabel(y, fontsize=8)
            ax.set_title(label, fontsize=8)
        _colour_bar(fig, image, axes, "convergence rate")
        what = "Convergence rate of each sampled point"
        written.append(_save(fig, _title(agg.trials, agg.fixed(), what), file))
    return written


def write_figures(agg: Aggregate, out: str | Path, by: list[str] | None = None) -> list[Path]:
    """Every figure of ``agg`` into ``out`` (:func:`sweep.reporting.plots.write_plots`
    grouped ``by``); with sampled axes and no ``by``, the sampled-axis figures
    and the curves by bins of the first sampled axis."""
    out = Path(out)
    if by is not None or not agg.sampled:
        return write_plots(agg, out, by)
    out.mkdir(parents=True, exist_ok=True)
    paths = rate_by_axis(agg, out / "rate_by_sampled_axis.png")
    if len(agg.sampled) >= 2:
        paths += rate_by_pair(agg, out / "rate_by_sampled_pair.png")
    first = next(iter(agg.sampled))
    grouped = binned(agg, first, agg.sampled[first])
    return paths + write_plots(grouped, out, [first, *listed_keys(agg)], heatmaps=False)
