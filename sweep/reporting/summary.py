"""The end-of-run summary of ``sweep run``: compact, one screen for a grid."""

from __future__ import annotations

from ..intervals import wilson_interval
from .aggregate import Aggregate
from .sampled import format_sampled
from .text import grid_text, rate_text, value_text


def summary(agg: Aggregate) -> str:
    """The compact end-of-run view of a folder's statistics: the overall rate, then
    convergence rate and median epochs (a regression task: mean final MSE),
    lr x width, one grid for each combination of the other parameters that
    vary (for sampled axes, their bins: :mod:`sweep.reporting.sampled`)."""
    n, k = agg.trials, int(agg.cells["converged"].sum()) if len(agg.cells) else 0
    low, high = wilson_interval(k, n)
    head = f"{n:,} trials, {k:,} converged ({rate_text(k / max(n, 1), float(low), float(high))})."
    if agg.sampled:
        return f"{head}\n\n{format_sampled(agg, compact=True)}"
    others = [k for k in agg.varying() if k not in ("lr", "width")]
    table = agg.table([*others, "lr", "width"])
    tasks = set(agg.cells["task"]) if "task" in agg.cells else set()
    if tasks and tasks <= agg.regression:
        cells = "convergence rate, mean final MSE."
    elif tasks & agg.regression:
        cells = "convergence rate, median epochs to converge (a regression task: mean final MSE)."
    else:
        cells = "convergence rate, median epochs to converge."
    parts = [f"{head} Cells: {cells}"]
    groups = table.groupby(others, sort=True, dropna=False) if others else [((), table)]
    for values, sub in groups:
        values = values if isinstance(values, tuple) else (values,)
        if others:
            fixed = zip(others, values, strict=True)
            parts.append("\n" + ", ".join(f"{k} = {value_text(v)}" for k, v in fixed))
        group_tasks = set(sub["task"]) if "task" in sub else tasks
        parts.append(grid_text(sub, regression=bool(group_tasks) and group_tasks <= agg.regression))
    return "\n".join(parts)
