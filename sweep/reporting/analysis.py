"""Convergence statistics over a results DataFrame: plain functions, no training.

Every function takes a frame as returned by :func:`sweep.load` (or any
filtered subset of it) and never modifies it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..config.axes import DERIVED_FROM, PARAM_COLUMNS
from ..intervals import Z95, mean_interval, wilson_interval

#: The failure modes :func:`failure_modes` tells apart, in order.
FAILURE_MODES = ("converged", "slow", "stuck", "diverged", "untrained")
#: failure_modes thresholds (documented in its docstring).
STUCK_WINDOW = 0.25
STUCK_REL_DROP = 0.01


def varying(df: pd.DataFrame, exclude: Sequence[str] = ("seed",)) -> list[str]:
    """Parameter columns (in axis order) that take more than one value in ``df``:
    what a summary must group by, or say it pooled over. A column set from
    another (a task's digest, from its name) varies only where one value of
    that other has several of its own: grouping by the other separates the rest."""
    return [c for c in PARAM_COLUMNS if c in df and c not in exclude and _varies(df, c)]


def _varies(df: pd.DataFrame, column: str) -> bool:
    source = DERIVED_FROM.get(column)
    if source in df:
        return bool((df.groupby(source, dropna=False)[column].nunique(dropna=False) > 1).any())
    return df[column].nunique(dropna=False) > 1


def pooled(df: pd.DataFrame, by: Sequence[str]) -> list[tuple[str, int]]:
    """The parameters that vary in ``df`` but are not in ``by``: (column, values)."""
    return [(c, int(df[c].nunique(dropna=False))) for c in varying(df) if c not in by]


def pooled_note(df: pd.DataFrame, by: Sequence[str]) -> str | None:
    """``pooled over: task (3 values), init_low (2)``, or None if nothing is."""
    return pooled_text(pooled(df, by))


def pooled_text(over: Sequence[tuple[str, int]]) -> str | None:
    """``pooled over: ...`` for (column, values) pairs, or None if there is none."""
    if not over:
        return None
    parts = [f"{c} ({n} values)" if i == 0 else f"{c} ({n})" for i, (c, n) in enumerate(over)]
    return "pooled over: " + ", ".join(parts)


def _keys(by: str | Sequence[str]) -> list[str]:
    return [by] if isinstance(by, str) else list(by)


#: The outcomes a table gives the mean of (with its 95% interval): each one's column
#: in the table, its range, and whether the column is there only where a trial had
#: a value (the held-out ones: only where there was a test set).
MEANS = {
    "final_loss": ("mean_final_loss", (0.0, np.inf), False),
    "test_loss": ("test_loss", (0.0, np.inf), True),
    "test_accuracy": ("test_accuracy", (0.0, 1.0), True),
}


def mean_sums(values: pd.DataFrame) -> pd.DataFrame:
    """Per row, what :func:`mean_columns` adds up: ``<column>_sum``, ``_sq`` and
    ``_n`` of each column of :data:`MEANS` (nulls and non-finite values count
    nowhere: a diverged network has no final loss to average)."""
    out = {}
    for name in MEANS:
        v = values[name].astype(float) if name in values else pd.Series(np.nan, values.index)
        ok = np.isfinite(v)
        out |= {f"{name}_sum": v.where(ok, 0.0), f"{name}_sq": (v * v).where(ok, 0.0)}
        out[f"{name}_n"] = ok.astype(np.int64)
    return pd.DataFrame(out, index=values.index)


def mean_columns(sums: pd.DataFrame) -> pd.DataFrame:
    """Each group's means of :data:`MEANS` with their 95% intervals (``_low``,
    ``_high``), from its sums (:func:`mean_sums`)."""
    out = {}
    for name, (column, (low, high), optional) in MEANS.items():
        if optional and not sums[f"{name}_n"].any():
            continue
        parts = (sums[f"{name}_{k}"] for k in ("sum", "sq", "n"))
        mean, lo, hi = mean_interval(*parts, low=low, high=high)
        out |= {column: mean, f"{column}_low": lo, f"{column}_high": hi}
    return pd.DataFrame(out, index=sums.index)


def convergence_table(df: pd.DataFrame, by: str | Sequence[str] = ("lr", "width")) -> pd.DataFrame:
    """One row per group: how often and how fast its trials converged.

    Columns: ``trials``, ``converged``, ``rate`` with its 95% Wilson interval
    (``rate_low``, ``rate_high``), ``diverged_rate``, ``solved_rate``,
    ``epochs_p10``/``epochs_median``/``epochs_p90`` of ``epoch_converged``
    among converged trials (NaN if none converged), ``mean_final_loss`` (of
    the networks that did not diverge) and, where trials had a test set,
    ``test_loss`` and ``test_accuracy``, each mean with its 95% interval
    (``_low``, ``_high``). Groups and their order come from the data (sorted by
    the keys).
    """
    keys = _keys(by)
    missing = [k for k in keys if k not in df.columns]
    if missing:
        raise KeyError(f"no column {missing[0]!r} to group by")
    epochs = df["epoch_converged"].astype("Float64").astype(float)
    work = df[keys].assign(
        _conv=df["converged"].astype(bool),
        _div=df["diverged"].astype(bool),
        _solved=df["epoch_solved"].notna(),
        _epochs=epochs.where(df["converged"].astype(bool)),
    )
    grouped = work.groupby(keys, sort=True, observed=True, dropna=False)
    by = [df[k] for k in keys]
    sums = mean_sums(df).groupby(by, sort=True, observed=True, dropna=False).sum()
    table = pd.DataFrame(
        {
            "trials": grouped.size(),
            "converged": grouped["_conv"].sum().astype(int),
            "diverged_rate": grouped["_div"].mean(),
            "solved_rate": grouped["_solved"].mean(),
            "epochs_p10": grouped["_epochs"].quantile(0.1),
            "epochs_median": grouped["_epochs"].median(),
            "epochs_p90": grouped["_epochs"].quantile(0.9),
        }
    )
    table.insert(2, "rate", table["converged"] / table["trials"])
    low, high = wilson_interval(table["converged"], table["trials"])
    table.insert(3, "rate_low", low)
    table.insert(4, "rate_high", high)
    return table.join(mean_columns(sums)).reset_index()


def epoch_grid(budget: int, points: int | None, converged: np.ndarray) -> np.ndarray:
    """The epochs at which a time-to-converge curve is reported, 0 to ``budget``:
    every epoch in ``converged`` (``points`` None), or ``points`` log-spaced and
    as many evenly spaced, so that it is fine on either axis."""
    if points is None:
        return np.unique(np.concatenate([[0], converged, [budget]]))
    top = max(int(budget), 1)
    spaced = [np.geomspace(1, top, points).round(), np.linspace(0, top, points).round()]
    return np.unique(np.concatenate([[0], *spaced, [budget]]).astype(int))


def time_to_converge(
    df: pd.DataFrame, by: str | Sequence[str] = ("lr", "width"), points: int | None = None
) -> pd.DataFrame:
    """Fraction of trials converged by epoch k, per group (an empirical CDF).

    Trials that never converged are censored at their epoch budget: they
    count in the denominator at every k and never in the numerator, so the
    curve ends at the group's convergence rate instead of pretending the
    slow trials do not exist. Returns long form: keys, ``epoch``,
    ``fraction_converged`` with its pointwise 95% Wilson interval
    (``fraction_low``, ``fraction_high``), ``trials``. ``points`` limits the
    epochs reported per group (:func:`epoch_grid`) for large groups; None
    keeps every distinct convergence epoch.
    """
    keys = _keys(by)
    rows = []
    for group, sub in df.groupby(keys, sort=True, observed=True, dropna=False):
        group = group if isinstance(group, tuple) else (group,)
        n = len(sub)
        conv = np.sort(sub.loc[sub["converged"].astype(bool), "epoch_converged"].astype(int))
        budget = int(sub["epochs"].max())
        grid = epoch_grid(budget, points, conv)
        reached = np.searchsorted(conv, grid, side="right")
        rows += [(*group, int(e), int(r), n) for e, r in zip(grid, reached, strict=True)]
    return converged_by(rows, keys)


def converged_by(rows: list[tuple], keys: Sequence[str]) -> pd.DataFrame:
    """:func:`time_to_converge`'s frame from rows of (keys..., epoch, trials
    converged by then, trials)."""
    frame = pd.DataFrame(rows, columns=[*keys, "epoch", "reached", "trials"])
    reached, n = frame.pop("reached").to_numpy(), frame["trials"].to_numpy()
    low, high = wilson_interval(reached, n)
    frame.insert(len(keys) + 1, "fraction_converged", reached / n)
    frame.insert(len(keys) + 2, "fraction_low", low)
    frame.insert(len(keys) + 3, "fraction_high", high)
    return frame


def failure_modes(
    df: pd.DataFrame, window: float = STUCK_WINDOW, rel_drop: float = STUCK_REL_DROP
) -> pd.DataFrame:
    """A copy of ``df`` with a ``failure`` column classifying every trial.

    - ``converged``: the trial converged;
    - ``diverged``: a parameter became non-finite;
    - ``stuck``: over the last ``window`` (25%) of its loss curve the loss fell
      by less than ``rel_drop`` (1%) of its value, and the final outputs do
      not solve the task: a plateau or a local minimum;
    - ``slow``: not converged, still improving (or already solved but not
      within tol): more epochs would likely converge.

    - ``untrained``: not converged in a run of 0 epochs (statistics of the
      initial weights: nothing to improve on or to be stuck in).

    Trials without a loss curve (or results stored without curves) are judged
    on the final outputs alone: ``stuck`` if unsolved, else ``slow``.
    """
    out = df.copy()
    failure = np.full(len(df), "slow", dtype=object)
    conv = df["converged"].astype(bool).to_numpy()
    div = df["diverged"].astype(bool).to_numpy()
    solved = df["epoch_solved"].notna().to_numpy()
    if "loss_curve" in df:
        curves = pa.array(list(df["loss_curve"]), type=pa.list_(pa.float64()))
    else:
        curves = pa.nulls(len(df), pa.list_(pa.float64()))
    failure[~(conv | div | solved) & plateaued(curves, window, rel_drop)] = "stuck"
    if "epochs" in df:
        failure[(df["epochs"] == 0).to_numpy()] = "untrained"
    failure[conv] = "converged"
    failure[div] = "diverged"
    out["failure"] = pd.Categorical(failure, categories=list(FAILURE_MODES))
    return out


def plateaued(
    curves: pa.ListArray | pa.ChunkedArray,
    window: float = STUCK_WINDOW,
    rel_drop: float = STUCK_REL_DROP,
) -> np.ndarray:
    """Whether each loss curve fell by less than ``rel_drop`` of its value over its
    last ``window`` (a curve of fewer than two points, or none, counts as plateaued)."""
    if isinstance(curves, pa.ChunkedArray):
        curves = curves.combine_chunks()
    lengths = pc.list_value_length(curves).fill_null(0).to_numpy(zero_copy_only=False)
    starts = curves.offsets.to_numpy()[:-1]
    values = curves.values.to_numpy(zero_copy_only=False)
    out = np.ones(len(curves), dtype=bool)
    long = lengths >= 2
    first = starts[long] + np.minimum(
        lengths[long] - 1, np.floor((1 - window) * (lengths[long] - 1)).astype(np.int64)
    )
    start, last = values[first], values[starts[long] + lengths[long] - 1]
    out[long] = (start - last) <= rel_drop * np.maximum(start, 1e-300)
    return out


def compare(
    a: pd.DataFrame,
    b: pd.DataFrame,
    by: str | Sequence[str] = ("lr", "width"),
    z: float = Z95,
) -> pd.DataFrame:
    """Difference in convergence rate (b - a) per group, with a 95% interval, for
    two independent samples (:func:`compare_tables` of their convergence tables)."""
    keys = _keys(by)
    return compare_tables(convergence_table(a, keys), convergence_table(b, keys), keys, z)


def compare_tables(
    ta: pd.DataFrame, tb: pd.DataFrame, keys: Sequence[str], z: float = Z95
) -> pd.DataFrame:
    """Difference in convergence rate (b - a) per group of two convergence tables.

    The interval is Newcombe's hybrid score interval (method 10), built from
    the two Wilson intervals: reliable near 0 and 1 where the Wald interval
    fails. Groups present in only one table are dropped.
    """
    keys = list(keys)
    m = ta.merge(tb, on=keys, suffixes=("_a", "_b"))
    p1, p2 = m["rate_a"], m["rate_b"]
    l1, u1 = wilson_interval(m["converged_a"], m["trials_a"], z)
    l2, u2 = wilson_interval(m["converged_b"], m["trials_b"], z)
    diff = p2 - p1
    low = diff - np.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = diff + np.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return pd.DataFrame(
        {
            **{k: m[k] for k in keys},
            "trials_a": m["trials_a"],
            "rate_a": p1,
            "trials_b": m["trials_b"],
            "rate_b": p2,
            "difference": diff,
            "difference_low": np.maximum(low, -1.0),
            "difference_high": np.minimum(high, 1.0),
        }
    )
