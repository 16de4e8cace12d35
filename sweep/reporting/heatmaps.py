"""What each heatmap of a report shows (lr x width, one panel per combination
of the other keys; drawn by :mod:`sweep.reporting.plots`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from matplotlib.colors import LogNorm, Normalize

from .aggregate import Aggregate
from .text import percent


class Heatmap(NamedTuple):
    """What one heatmap figure shows: a column of the statistics' table, drawn so."""

    column: str
    label: str  # of the colour bar
    what: str  # the figure's title
    file: str
    text: Callable[[float], str]  # a cell's number
    cmap: str
    norm: Callable[[], Normalize]  # a new one for each figure
    blank: str  # a cell whose trials give no value


_RATE = Heatmap(
    "rate",
    "convergence rate",
    "Convergence rate (max |y − ŷ| < tol)",
    "convergence_rate.png",
    percent,
    "magma",
    lambda: Normalize(0, 1),
    "n/a",
)
_EPOCHS = Heatmap(
    "epochs_median",
    "median epochs to converge (log scale)",
    "Median epochs to converge (converged trials)",
    "median_epochs.png",
    lambda v: f"{v:,.0f}",
    "viridis_r",
    LogNorm,
    "none",
)
_MSE = Heatmap(
    "mean_final_loss",
    "mean final MSE (log scale)",
    "Mean final MSE (networks that did not diverge)",
    "mean_final_mse.png",
    lambda v: f"{v:.3g}",
    "viridis_r",
    LogNorm,
    "diverged",
)


def heatmaps_of(agg: Aggregate) -> list[Heatmap]:
    """The rate, then what the summary's cells show beside it: the median epochs
    to converge, or for regression tasks the mean final MSE (both for a mix)."""
    tasks = set(agg.cells["task"]) if "task" in agg.cells else set()
    regression = tasks & agg.regression
    return [
        _RATE,
        *([_EPOCHS] if tasks - regression or not tasks else []),
        *([_MSE] if regression else []),
    ]
