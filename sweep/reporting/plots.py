"""Figures of a sweep: convergence heatmaps, time-to-converge and loss curves (PNG).

Every figure states the settings it fixes (the parameters with one value) and
draws one panel for each combination of the grouping parameters it does not
put on an axis or a colour, so nothing is pooled without a word. Lines are
coloured by the first grouping parameter (a colour bar when it is numeric),
panels titled by the others.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, never a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import LogNorm, Normalize  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

from kernels.model import curve_epochs

from .aggregate import Aggregate
from .cells import CURVES_PER_CELL
from .heatmaps import Heatmap, heatmaps_of
from .text import value_text
from .titles import title as _title

DPI = 130
#: Panels per figure; more make another page (``name_2.png``, ...).
MAX_PANELS = 24
#: Columns of panels.
COLUMNS = 4
_LABELS = {
    "lr": "learning rate",
    "width": "hidden width (units)",
    "epochs": "epochs",
    "tol": "tol",
    "momentum": "momentum",
    "weight_decay": "weight decay",
}


def _panels(df: pd.DataFrame, keys: Sequence[str]) -> list[tuple[str, pd.DataFrame]]:
    """(title, rows) for each combination of ``keys`` (one untitled panel if none)."""
    keys = list(keys)
    if not keys:
        return [("", df)]
    out = []
    for values, sub in df.groupby(keys, sort=True, observed=True, dropna=False):
        values = values if isinstance(values, tuple) else (values,)
        named = zip(keys, values, strict=True)
        out.append(("\n".join(f"{k} = {value_text(v)}" for k, v in named), sub))
    return out


def _pages(panels: list, path: Path) -> list[tuple[list, Path]]:
    pages = [panels[i : i + MAX_PANELS] for i in range(0, len(panels), MAX_PANELS)]
    return [
        (page, path if i == 0 else path.with_name(f"{path.stem}_{i + 1}{path.suffix}"))
        for i, page in enumerate(pages)
    ]


def _grid(n: int, width: float, height: float, title_lines: int, **kw):
    """A figure of ``n`` panels (constrained layout: titles, bars and labels never
    overlap), each ``width`` x ``height`` inches plus its title's lines."""
    # As few rows as COLUMNS allow, filled evenly (9 panels: 3 x 3, not 4 + 4 + 1).
    nrows = math.ceil(n / COLUMNS)
    ncols = math.ceil(n / nrows)
    size = (width * ncols + 1.8, (height + 0.18 * title_lines) * nrows + 1.2)
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, layout="constrained", **kw)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes


def _save(fig, title: str, file: Path) -> Path:
    """Title ``fig``, write it to ``file`` as PNG and let it go; return ``file``."""
    fig.suptitle(title, fontsize=9)
    fig.savefig(file, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return file


def _colour_bar(fig, mappable, axes, label: str):
    """A colour bar beside ``axes``, lettered at the size of the panels' labels."""
    bar = fig.colorbar(mappable, ax=axes.ravel().tolist(), shrink=0.9)
    bar.set_label(label, fontsize=8)
    bar.ax.tick_params(labelsize=7)
    return bar


def _outer_labels(axes, n: int, xlabel: str, ylabel: str) -> None:
    """Axis labels on the bottom panel of each column and the first of each row."""
    ncols = axes.shape[1]
    for i, ax in enumerate(axes.flat[:n]):
        if i + ncols >= n:
            ax.set_xlabel(xlabel, fontsize=8)
        if i % ncols == 0:
            ax.set_ylabel(ylabel, fontsize=8)


def _heatmaps(agg: Aggregate, keys: Sequence[str], spec: Heatmap, path: Path) -> list[Path]:
    """lr (rows) x width (columns) heatmaps of ``spec``, one panel per combination
    of the other grouping keys."""
    others = [k for k in keys if k not in ("lr", "width")]
    full = agg.table([*others, "lr", "width"])
    norm = spec.norm()
    written = []
    for page, file in _pages(_panels(full, others), path):
        grids, trials = [], []
        for _, table in page:
            for values, into in ((spec.column, grids), ("trials", trials)):
                grid = table.pivot(index="lr", columns="width", values=values)
                into.append(grid.sort_index(ascending=False))
        rows = max(g.shape[0] for g in grids)
        cols = max(g.shape[1] for g in grids)
        if isinstance(norm, LogNorm):  # one scale for every panel of the figure
            finite = np.concatenate([g.to_numpy(dtype=float).ravel() for g in grids])
            finite = finite[np.isfinite(finite) & (finite > 0)]
            lo, hi = (finite.min(), finite.max()) if finite.size else (1.0, 10.0)
            norm = LogNorm(lo, hi if hi > lo else lo * 10)
        fig, axes = _grid(len(page), 0.6 * cols + 1.0, 0.36 * rows + 0.8, len(others))
        image = None
        for ax, (title, _), grid, counts in zip(axes.flat, page, grids, trials, strict=False):
            values = grid.to_numpy(dtype=float)
            image = ax.imshow(values, cmap=spec.cmap, norm=norm, aspect="auto")
            ax.set_xticks(range(grid.shape[1]), [str(w) for w in grid.columns], fontsize=8)
            ax.set_yticks(range(grid.shape[0]), [f"{v:.3g}" for v in grid.index], fontsize=8)
            ax.set_title(title, fontsize=8)
            for (i, j), v in np.ndenumerate(values):
                if np.isnan(v):  # a cell with trials but no value, or no cell at all
                    blank = spec.blank if counts.iat[i, j] > 0 else "n/a"
                    ax.text(j, i, blank, ha="center", va="center", fontsize=7, color="0.4")
                    continue
                r, g, b = np.ravel(image.cmap(image.norm(v)))[:3]
                dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5  # readable on any cell
                ax.text(
                    j,
                    i,
                    spec.text(v),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "black",
                )
        _outer_labels(axes, len(page), _LABELS["width"], _LABELS["lr"])
        bar = _colour_bar(fig, image, axes, spec.label)
        if isinstance(norm, LogNorm):  # plain numbers at 1, 2, 5 x 10^k, not 2x10^2
            bar.ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: spec.text(v)))
            bar.ax.yaxis.set_minor_formatter(NullFormatter())
        pooled = agg.pooled_note([*keys, "lr", "width"])
        written.append(_save(fig, _title(agg.trials, agg.fixed(), spec.what, pooled), file))
    return written


#: Most lines that get a legend; a numeric key with more gets a colour bar.
MAX_LEGEND = 8


def _colours(values: Sequence, key: str, ordered: bool = False):
    """(colour of each value, a ScalarMappable for a colour bar or None for a legend);
    ``ordered``: values in order (bins), coloured in order."""
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) for v in values)
    if numeric and len(values) > MAX_LEGEND:
        lo, hi = min(values), max(values)
        norm = LogNorm(lo, hi) if key == "lr" and lo > 0 else Normalize(lo, hi)
        cmap = plt.cm.viridis
        mappable = plt.cm.ScalarMappable(norm=norm, cmap=cmap)
        return {v: cmap(0.9 * norm(v)) for v in values}, mappable
    if (numeric or ordered) and len(values) > 1:  # ordered values, ordered colours
        return {v: plt.cm.viridis(0.9 * i / (len(values) - 1)) for i, v in enumerate(values)}, None
    palette = plt.cm.tab10 if len(values) <= 10 else plt.cm.tab20
    return {v: palette(i % palette.N) for i, v in enumerate(values)}, None


def _lines(
    df: pd.DataFrame,
    keys: Sequence[str],
    draw: Callable,
    ylabel: str,
    xlabel: str,
    what: str,
    path: Path,
    title: str,
    log_epochs: bool,
) -> list[Path]:
    """One line per learning rate (or the first key), one panel per combination of
    the other keys; every line in one legend (or a colour bar)."""
    keys = list(keys)
    line_key = "lr" if "lr" in keys else (keys[0] if keys else None)
    panel_keys = [k for k in keys if k != line_key]
    ordered = line_key is not None and isinstance(df[line_key].dtype, pd.CategoricalDtype)
    values = list(pd.Series(df[line_key].unique()).sort_values()) if line_key else [None]
    colour, mappable = _colours(values, line_key or "", ordered)
    written = []
    for page, file in _pages(_panels(df, panel_keys), path):
        fig, axes = _grid(len(page), 3.2, 2.4, len(panel_keys), sharex=True, sharey=True)
        labels: dict = {}
        for ax, (panel, sub) in zip(axes.flat, page, strict=False):
            groups = sub.groupby(line_key, sort=True, observed=True) if line_key else [(None, sub)]
            for value, rows in groups:
                label = value_text(value) if line_key else "all trials"
                labels[label] = draw(ax, rows, colour[value], label)
            ax.set_title(panel, fontsize=8)
            if log_epochs:  # epoch 0 on the axis, then log
                ax.set_xscale("symlog", linthresh=10)
            ax.grid(alpha=0.3)
        _outer_labels(axes, len(page), xlabel, ylabel)
        if mappable is not None:
            _colour_bar(fig, mappable, axes, _LABELS.get(line_key, line_key))
        else:
            fig.legend(
                list(labels.values()),
                list(labels),
                loc="center left",
                bbox_to_anchor=(1.0, 0.5),
                fontsize=8,
                title=line_key,
            )
        written.append(_save(fig, title.replace("{what}", what), file))
    return written


def recorded_epochs(row: pd.Series) -> np.ndarray:
    """The epochs at which a trial's loss curve was recorded."""
    curve = row.get("curve", "linear")
    scale = "linear" if not isinstance(curve, str) else curve
    return curve_epochs(int(row["epochs"]), int(row["curve_every"]), scale)


def write_plots(
    agg: Aggregate, out: str | Path, by: Sequence[str] | None = None, heatmaps: bool = True
) -> list[Path]:
    """Write the figures of a folder's statistics (:class:`Aggregate`) into ``out`` and
    return their paths.

    ``by``: the grouping parameters (default: every parameter that varies).
    Heatmaps put lr and width on their axes and panel the rest; the curve
    figures colour by the first key and panel the rest. Epochs run on a log
    axis where the loss curves were recorded on one (``--curve log``).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    keys = list(by) if by is not None else (agg.varying() or ["lr", "width"])
    paths = []
    if heatmaps:  # lr x width grids: pointless where an axis is binned or sampled
        for spec in heatmaps_of(agg):
            paths += _heatmaps(agg, keys, spec, out / spec.file)
    title = _title(agg.trials, agg.fixed(), "{what}", agg.pooled_note(keys))
    curves = agg.curves
    log_scale = curves is not None and (curves["curve"] == "log").any()
    ttc = agg.time_to_converge(keys, points=200)

    def draw_ttc(ax, lines, color, label):
        (line,) = ax.step(
            lines["epoch"],
            lines["fraction_converged"],
            where="post",
            color=color,
            label=label,
            lw=1.5,
        )
        ax.fill_between(
            lines["epoch"],
            lines["fraction_low"],
            lines["fraction_high"],
            step="post",
            color=color,
            alpha=0.2,
            lw=0,
        )
        ax.set_ylim(-0.02, 1.02)
        return line

    paths += _lines(
        ttc,
        keys,
        draw_ttc,
        "fraction of trials converged",
        "epoch",
        "Time to converge, with pointwise 95% bands (never-converged trials censored at "
        "the epoch budget)",
        out / "time_to_converge.png",
        title,
        log_scale,
    )
    if curves is not None and len(curves):
        curves = curves[curves["loss_curve"].map(lambda c: c is not None and len(c) > 1)]
        same = (
            curves.groupby(keys, observed=True, dropna=False)[["epochs", "curve_every"]]
            .transform("nunique")
            .eq(1)
            .all(axis=1)
        )
        if len(curves):

            def draw_loss(ax, lines, color, label):
                x = recorded_epochs(lines.iloc[0])
                stack = np.stack(lines["loss_curve"].to_numpy())
                q25, q50, q75 = np.nanpercentile(stack, [25, 50, 75], axis=0)
                (line,) = ax.plot(x, q50, color=color, label=label, lw=1.5)
                ax.fill_between(x, q25, q75, color=color, alpha=0.2, lw=0)
                return line

            paths += _lines(
                curves[same],
                keys,
                draw_loss,
                "mean squared error",
                "epoch",
                f"Loss curves: median and interquartile band (the first {CURVES_PER_CELL:,} "
                "trials of each cell)",
                out / "loss_curves.png",
                title,
                log_scale,
            )
    return paths
