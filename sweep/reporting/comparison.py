"""Comparisons of two results folders, or two selections of one: :func:`compare_report`
is ``sweep compare``. Where the two differ in one axis and share their seeds,
the trials pair up by seed (:mod:`sweep.reporting.paired`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..config.axes import DERIVED_FROM, PARAM_COLUMNS
from ..errors import ConfigError
from ..intervals import mean_difference
from ..store.reader import read
from .aggregate import Aggregate, aggregates
from .analysis import compare_tables, pooled_note
from .cells import CELL
from .paired import compare_paired, paired_losses
from .reports import Report, check_by, headed
from .text import FORMATS, _as_text, readable_difference, value_text
from .titles import fixed_settings


def compare_report(
    a: str | Path,
    b: str | Path | None = None,
    by: str | Sequence[str] | None = None,
    where_a: str | None = None,
    where_b: str | None = None,
    format: str = "table",
) -> Report:
    """Differences in convergence rate, ``b`` minus ``a``, with 95% intervals (and,
    for a regression task, in mean final MSE).

    ``a`` and ``b`` are results folders (``b`` None: ``a`` again), each
    filtered by its ``where``; within one folder, a selection given alone is
    compared with the rest of the folder, and selections that share a trial
    are refused. Where the two differ in one axis and share their seeds,
    the comparison is paired by seed (:mod:`sweep.reporting.paired`).
    ``by`` defaults to every parameter that varies within both selections
    (but the compared one).
    """
    if format not in FORMATS:
        raise ConfigError("format", f"must be one of {', '.join(FORMATS)}, got {format!r}")
    keys = check_by(by)
    said: list[str] = []  # what A and B are, above what the table pools
    one_folder = b is None
    if one_folder:
        if not (where_a or where_b):
            raise ConfigError(
                "b", "give a second folder, or --where-a/--where-b to compare two selections of one"
            )
        if not where_b:
            where_b = f"not ({where_a})"
            said.append(f"B: the rest of the folder (not {where_a})")
        elif not where_a:
            where_a = f"not ({where_b})"
            said.append(f"A: the rest of the folder (not {where_b})")
        # One pass: A, B, and the trials they share (which a comparison refuses).
        agg_a, agg_b, both = aggregates(a, [where_a, where_b, f"({where_a}) and ({where_b})"])
        if both.trials:
            raise ConfigError(
                "where_b",
                f"A and B share {both.trials:,} trials; a comparison needs "
                "two selections with no trial in common",
            )
    else:
        agg_a, agg_b = aggregates(a, [where_a])[0], aggregates(b, [where_b])[0]
    for where, agg, field in ((where_a, agg_a, "where_a"), (where_b, agg_b, "where_b")):
        if where and agg.trials == 0:
            raise ConfigError(field, f"{where!r} selects no trial")
    axis = _compared_axis(agg_a, agg_b) if one_folder else None
    if keys is None:
        keys = [k for k in agg_a.varying() if k in agg_b.varying() and k != axis] or (
            ["lr"] if axis != "lr" else ["width"]
        )
    table = None
    pairs = _pairs(Path(a), where_a, where_b, axis) if axis is not None else None
    tasks = {*agg_a.cells["task"], *agg_b.cells["task"]}
    regression = tasks & (agg_a.regression | agg_b.regression)  # then the final MSEs too
    if pairs is not None and len(pairs):
        table = compare_paired(pairs, keys)
        for prefix in LOSSES.values() if regression else ():
            if np.isfinite(pairs[[f"{prefix}_a", f"{prefix}_b"]]).any(axis=None):  # test sets
                table = table.merge(paired_losses(pairs, keys, prefix), on=keys, how="left")
        paired, *pooled = _paired_notes(pairs, axis, keys, [*agg_a.varying(), *agg_b.varying()])
        said.append(paired)
    else:
        table_a, table_b = agg_a.table(keys), agg_b.table(keys)
        table = compare_tables(table_a, table_b, keys)
        for name, prefix in LOSSES.items() if regression else ():
            if any(agg.cells[f"{name}_n"].any() for agg in (agg_a, agg_b)):  # test sets
                losses = _loss_difference(agg_a, agg_b, keys, name, prefix)
                table = table.merge(losses, on=keys, how="left")
        apart = _apart_note(agg_a, agg_b, keys) if axis is None else None
        said += [apart] if apart else []
        said += _unmatched_notes(table_a, table_b, keys)
        pooled = [agg.pooled_note([*keys, axis]) for agg in (agg_a, agg_b)]
    if table.empty:
        raise ConfigError("by", f"the two selections share no group of {', '.join(keys)}")
    shown = readable_difference(table, keys) if format in ("table", "markdown") else table
    fixed_b = agg_b.fixed()
    shared = {c: v for c, v in agg_a.fixed().items() if c in fixed_b and v == fixed_b[c]}
    said.append(f"fixed in both: {fixed_settings(shared)}")
    header = list(dict.fromkeys([*said, *(p for p in pooled if p)]))
    notes = agg_a.notes + ([] if one_folder else agg_b.notes)
    text = headed(header, _as_text(shown, table, format), format, notes)
    return Report(text, table, keys, list(dict.fromkeys(notes)), header=header)


def _apart_note(a: Aggregate, b: Aggregate, keys: Sequence[str]) -> str | None:
    """``A and B differ in epochs (300 against 200)``: the settings, outside the
    groups, whose values A and B do not share (a column set from another only
    where that one does not differ); None if there is none."""

    def values(agg: Aggregate, column: str) -> str:
        n = agg.values(column)
        return value_text(agg.cells[column].iloc[0]) if n == 1 else f"{n} values"

    columns = [
        c
        for c in CELL
        if c not in keys
        and c in a.cells
        and c in b.cells
        and set(a.cells[c].astype(str)) != set(b.cells[c].astype(str))
    ]
    apart = [
        f"{c} ({values(a, c)} against {values(b, c)})"
        for c in columns
        if DERIVED_FROM.get(c) not in columns
    ]
    return f"A and B differ in {', '.join(apart)}" if apart else None


#: The MSEs a comparison of regression tasks gives (a result column: its prefix
#: in the comparison's columns): the final training MSE, and the test set's.
LOSSES = {"final_loss": "loss", "test_loss": "test_loss"}


def _loss_difference(
    a: Aggregate, b: Aggregate, keys: Sequence[str], name: str, prefix: str
) -> pd.DataFrame:
    """Per group: A's and B's mean of ``name`` (networks that did not diverge) and
    B's minus A's, with its 95% interval, in columns named from ``prefix``."""
    sums = a.mean_sums(keys, name).merge(
        b.mean_sums(keys, name), left_index=True, right_index=True, suffixes=("_a", "_b")
    )
    a_side, b_side = (tuple(sums[f"{name}_{k}_{s}"] for k in ("sum", "sq", "n")) for s in "ab")
    difference, low, high = mean_difference(a_side, b_side)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = {f"{prefix}_{s}": side[0] / side[2] for s, side in (("a", a_side), ("b", b_side))}
    columns = {f"{prefix}_difference": difference, f"{prefix}_difference_low": low}
    columns[f"{prefix}_difference_high"] = high
    return pd.DataFrame({**means, **columns}, index=sums.index).reset_index()


def _unmatched_notes(a: pd.DataFrame, b: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    """``not compared: lr 100 (in A only)``: the groups of one selection the
    other lacks, which the table leaves out."""
    groups = [set(t[list(keys)].itertuples(index=False, name=None)) for t in (a, b)]
    notes = []
    for only, side in ((groups[0] - groups[1], "A"), (groups[1] - groups[0], "B")):
        named = [
            " ".join(f"{k} {value_text(v)}" for k, v in zip(keys, group, strict=True))
            for group in sorted(only, key=str)
        ]
        more = f" and {len(named) - 4:,} more" if len(named) > 4 else ""
        if named:
            notes.append(f"not compared, in {side} only: {', '.join(named[:4])}{more}")
    return notes


def _paired_notes(
    pairs: pd.DataFrame, axis: str, keys: Sequence[str], varying: Sequence[str]
) -> list[str]:
    """What the pairs are (``all at lr 2`` where the pairs hold one value of a
    parameter A or B varies in) and what they pool over: from the pairs, not
    from A's and B's whole selections, which may hold unpaired trials."""
    fixed = [
        f"{c} {value_text(pairs[c].iloc[0])}"
        for c in dict.fromkeys(varying)
        if c not in keys and c in pairs and pairs[c].nunique(dropna=False) == 1
    ]
    at = f", all at {', '.join(fixed)}" if fixed else ""
    head = f"paired by seed: A and B differ in {axis} alone and share {len(pairs):,} seeds"
    head += f"-and-settings{at}"
    pooled = pooled_note(pairs, keys)
    return [head] + ([pooled] if pooled else [])


def _compared_axis(a: Aggregate, b: Aggregate) -> str | None:
    """The one parameter whose values A and B do not share, if there is exactly one
    and each holds one value of it (then trial s of A and of B are a pair)."""
    apart = [c for c in CELL if not set(a.cells[c].astype(str)) & set(b.cells[c].astype(str))]
    if len(apart) != 1 or a.values(apart[0]) != 1 or b.values(apart[0]) != 1:
        return None
    return apart[0]


def _pairs(path: Path, where_a: str, where_b: str, axis: str) -> pd.DataFrame:
    """A's and B's trials matched on seed and every parameter but ``axis``."""
    columns = ["converged", "epoch_converged", *LOSSES]
    key = [c for c in PARAM_COLUMNS if c != axis]
    frames = []
    for where in (where_a, where_b):
        table = read(path, columns, where=where).table
        frame = table.select([*key, *columns]).to_pandas(use_threads=False)
        frame["epoch_converged"] = frame["epoch_converged"].astype("Float64").astype(float)
        short = {"converged": "converged", "epoch_converged": "epochs", **LOSSES}
        frames.append(frame.rename(columns={c: f"{name}_" for c, name in short.items()}))
    return frames[0].merge(frames[1], on=key, suffixes=("a", "b"))
