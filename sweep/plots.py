"""Figures of a sweep: convergence heatmaps, time-to-converge and loss curves (PNG)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import LogNorm, Normalize  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from .analysis import convergence_table, time_to_converge  # noqa: E402
from .report import percent  # noqa: E402

DPI = 130


def _fmt(value) -> str:
    return f"{value:.3g}" if isinstance(value, (float, np.floating)) else str(value)


def _title(df: pd.DataFrame, what: str) -> str:
    tasks = ", ".join(sorted(map(str, df["task"].unique())))
    epochs = ", ".join(f"{e:,}" for e in sorted(df["epochs"].unique()))
    return f"{what}\n{tasks}: {len(df):,} trials, {epochs} epochs"


def _heatmap(df: pd.DataFrame, value: str, label: str, title: str, path: Path, fmt, cmap: str,
             norm=None, missing: str = "n/a") -> Path:  # fmt: skip
    table = convergence_table(df, ["lr", "width"])
    grid = table.pivot(index="lr", columns="width", values=value).sort_index(ascending=False)
    fig, ax = plt.subplots(figsize=(1.1 * grid.shape[1] + 2.5, 0.55 * grid.shape[0] + 1.8))
    image = ax.imshow(grid.to_numpy(dtype=float), cmap=cmap, norm=norm, aspect="auto")
    ax.set_xticks(range(grid.shape[1]), [str(w) for w in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [f"{v:.3g}" for v in grid.index])
    ax.set_xlabel("hidden width (units)")
    ax.set_ylabel("learning rate")
    for (i, j), v in np.ndenumerate(grid.to_numpy(dtype=float)):
        if np.isnan(v):
            ax.text(j, i, missing, ha="center", va="center", fontsize=8, color="0.4")
            continue
        r, g, b, _ = image.cmap(image.norm(v))
        dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5  # text stays readable on any cell
        ax.text(j, i, fmt(v), ha="center", va="center", fontsize=8,
                color="white" if dark else "black")  # fmt: skip
    bar = fig.colorbar(image, ax=ax, label=label)
    if isinstance(norm, LogNorm):  # plain numbers, not 2x10^2
        bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        bar.ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def _panels(keys: Sequence[str]) -> tuple[str | None, list[str]]:
    """(key that splits panels, keys that name a line)."""
    keys = list(keys)
    if len(keys) >= 2:
        return keys[1], [keys[0], *keys[2:]]
    return None, keys


def _small_multiples(df, keys, draw, ylabel: str, title: str, path: Path, xlog: bool) -> Path:
    panel_key, line_keys = _panels(keys)
    panel_values = sorted(df[panel_key].unique()) if panel_key else [None]
    ncols = min(3, len(panel_values))
    nrows = math.ceil(len(panel_values) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows + 0.8),
                             sharex=True, sharey=True, squeeze=False)  # fmt: skip
    line_groups = [g for g, _ in df.groupby(line_keys, sort=True, observed=True)]
    colors = plt.cm.viridis(np.linspace(0, 0.9, max(len(line_groups), 1)))
    color_of = dict(zip(line_groups, colors, strict=True))
    for ax, pv in zip(axes.flat, panel_values, strict=False):
        sub = df if panel_key is None else df[df[panel_key] == pv]
        for group, lines in sub.groupby(line_keys, sort=True, observed=True):
            label = ", ".join(_fmt(v) for v in group)
            draw(ax, lines, color_of[group], label)
        if panel_key:
            ax.set_title(f"{panel_key} = {_fmt(pv)}", fontsize=9)
        if xlog:
            ax.set_xscale("log")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(panel_values) :]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("epoch (log scale)" if xlog else "epoch")
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8,
               title=", ".join(line_keys))  # fmt: skip
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def write_plots(
    df: pd.DataFrame, out: str | Path, by: Sequence[str] = ("lr", "width")
) -> list[Path]:
    """Write the sweep's figures into ``out`` and return their paths.

    Heatmaps need ``lr`` and ``width``; the curve figures draw one panel per
    value of the second ``by`` key and one line per value of the first.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    keys = list(by)
    paths = [
        _heatmap(df, "rate", "convergence rate", _title(df, "Convergence rate (max |y - ŷ| < tol)"),
                 out / "convergence_rate.png", percent, "magma",
                 Normalize(0, 1)),
        _heatmap(df, "epochs_median", "median epochs to converge (converged trials, log scale)",
                 _title(df, "Median epochs to converge"), out / "median_epochs.png",
                 lambda v: f"{v:,.0f}", "viridis_r", LogNorm(), missing="none"),
    ]  # fmt: skip

    ttc = time_to_converge(df, keys, points=200)
    ttc_keys = keys

    def draw_ttc(ax, lines, color, label):
        lines = lines[lines["epoch"] > 0]  # log axis; nothing converges at epoch 0 in practice
        ax.step(lines["epoch"], lines["fraction_converged"], where="post", color=color,
                label=label, lw=1.5)  # fmt: skip

    paths.append(_small_multiples(
        ttc, ttc_keys, draw_ttc, "fraction of trials converged",
        _title(df, "Time to converge (never-converged trials censored at the epoch budget)"),
        out / "time_to_converge.png", xlog=True,
    ))  # fmt: skip

    curves = df[df["loss_curve"].map(len) > 1]
    if len(curves):

        def draw_loss(ax, lines, color, label):
            stack = np.stack(lines["loss_curve"].to_numpy())
            every = int(lines["curve_every"].iloc[0])
            x = np.arange(stack.shape[1]) * every
            q25, q50, q75 = np.nanpercentile(stack, [25, 50, 75], axis=0)
            x, q25, q50, q75 = x[1:], q25[1:], q50[1:], q75[1:]  # log axis: from epoch r
            ax.plot(x, q50, color=color, label=label, lw=1.5)
            ax.fill_between(x, q25, q75, color=color, alpha=0.2, lw=0)

        one = curves.groupby(keys, observed=True)["curve_every"].transform("nunique").eq(1)
        paths.append(_small_multiples(
            curves[one], keys, draw_loss, "mean squared error",
            _title(df, "Loss curves: median and interquartile band"),
            out / "loss_curves.png", xlog=True,
        ))  # fmt: skip
    return paths
