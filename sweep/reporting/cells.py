"""One part's rows summed per *cell* (a combination of every parameter but the
seed): trials, converged, diverged, solved, the final losses, a histogram of
the epochs to converge, failure modes, and the first loss curves. The sums of
many parts merge by addition; :mod:`sweep.reporting.aggregate` rolls them up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..config.axes import PARAM_COLUMNS
from ..config.query import parse as parse_query
from ..config.query import select
from ..config.schema import SCHEMA
from .analysis import FAILURE_MODES, MEANS, plateaued

#: The parameters that make a cell: every one but the seed.
CELL = tuple(c for c in PARAM_COLUMNS if c != "seed")
#: The outcome columns every statistic reads.
NEEDED = ("converged", "diverged", "epoch_solved", "epoch_converged", *MEANS)
#: What a cell adds up (the means' part as :func:`sweep.reporting.analysis.mean_sums`).
SUMS = (
    "trials",
    "converged",
    "diverged",
    "solved",
    *(f"{name}_{k}" for name in MEANS for k in ("sum", "sq", "n")),
)
#: Loss curves kept per cell for the curve figures (the first trials' of each).
CURVES_PER_CELL = 2_000
#: Failure modes, in order.
MODES = FAILURE_MODES
#: Parts summed before their sums are merged (bounds the pending sums).
MERGE_EVERY = 64


def _sums(frames: list[pd.DataFrame], by: list[str]) -> pd.DataFrame:
    """Frames of counts, added up per ``by`` (missing values a group of their own)."""
    whole = pd.concat(frames, ignore_index=True)
    return whole.groupby(by, dropna=False, sort=False, observed=True).sum().reset_index()


class CellSums:
    """Sums each part it is handed into cells (see the module docstring)."""

    def __init__(self, where: str | None, curves: bool, failures: bool):
        self.expression = parse_query(where, SCHEMA)[0] if where else None
        self.want_curves, self.want_failures = curves, failures
        self.cells: list[pd.DataFrame] = []
        self.epochs: list[pd.DataFrame] = []
        self.failures: list[pd.DataFrame] = []
        self.curves: list[pd.DataFrame] = []
        self.kept: dict[tuple, int] = {}
        self.parts = 0

    def __call__(self, table: pa.Table) -> None:
        if self.expression is not None:
            table = select(table, self.expression)
        if table.num_rows == 0:
            return
        cell = list(CELL)
        work = pa.table(
            {
                **{c: table.column(c) for c in cell},
                "trials": pa.array(np.ones(table.num_rows, dtype=np.int64)),
                "converged": pc.cast(table.column("converged"), pa.int64()),
                "diverged": pc.cast(table.column("diverged"), pa.int64()),
                "solved": pc.cast(pc.is_valid(table.column("epoch_solved")), pa.int64()),
                **_mean_terms(table),
            }
        )
        sums = list(SUMS)
        # A part holds one shape: grouped by the columns that vary in it (its lrs),
        # the constant ones added after (grouping by all took most of a report).
        constant = _constant(table, cell)
        moving = [c for c in cell if c not in constant]
        self.cells.append(_with(_grouped(work, moving, sums), constant))
        converged = table.filter(table.column("converged"))
        if converged.num_rows:
            hist = _grouped(converged, [*moving, "epoch_converged"], ["converged"], "count")
            self.epochs.append(_with(hist.rename(columns={"converged": "count"}), constant))
        if self.want_failures:
            self.failures.append(_failures(table, cell))
        if (
            self.want_curves
            and "loss_curve" in table.column_names
            and "curve" in table.column_names
        ):
            self._keep_curves(table, cell)
        self.parts += 1
        if self.parts % MERGE_EVERY == 0:
            self._merge()

    def _keep_curves(self, table: pa.Table, cell: list[str]) -> None:
        """The first :data:`CURVES_PER_CELL` curves of each cell (a part holds one
        shape: its cells are its learning rates)."""
        table = table.filter(pc.is_valid(table.column("loss_curve")))
        if table.num_rows == 0:
            return
        shape = tuple(
            table.slice(0, 1).select([c for c in cell if c != "lr"]).to_pylist()[0].values()
        )
        lrs = table.column("lr")
        for lr in pc.unique(lrs).to_pylist():
            room = CURVES_PER_CELL - self.kept.get((shape, lr), 0)
            if room <= 0:
                continue
            rows = table.filter(pc.equal(lrs, lr)).slice(0, room)
            rows = rows.select([*cell, "curve_every", "curve", "loss_curve"])
            self.curves.append(_plain(rows).to_pandas(use_threads=False))
            self.kept[(shape, lr)] = self.kept.get((shape, lr), 0) + rows.num_rows

    def _merge(self) -> None:
        cell = list(CELL)
        if self.cells:
            self.cells = [_sums(self.cells, cell)]
        if self.epochs:
            self.epochs = [_sums(self.epochs, [*cell, "epoch_converged"])]
        if self.failures:
            self.failures = [_sums(self.failures, cell)]

    def result(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
        """The cells' sums, the epochs' histograms, the failure counts and the curves."""
        self._merge()
        columns = [*CELL, *SUMS]
        cells = self.cells[0] if self.cells else pd.DataFrame(columns=columns)
        epochs = (
            self.epochs[0]
            if self.epochs
            else pd.DataFrame(columns=[*CELL, "epoch_converged", "count"])
        )
        failures = self.failures[0] if self.failures else None
        curves = pd.concat(self.curves, ignore_index=True) if self.curves else None
        return cells, epochs, failures, curves


def _mean_terms(table: pa.Table) -> dict[str, pa.Array]:
    """Each row's part of the means' sums (:data:`SUMS`): value, square, count."""
    out = {}
    for name in MEANS:
        if name in table.column_names:
            v = pc.cast(table.column(name), pa.float64())
        else:  # a part written before the column existed
            v = pa.nulls(table.num_rows, pa.float64())
        ok = pc.fill_null(pc.is_finite(v), False)
        out[f"{name}_sum"] = pc.if_else(ok, v, 0.0)
        out[f"{name}_sq"] = pc.if_else(ok, pc.multiply(v, v), 0.0)
        out[f"{name}_n"] = pc.cast(ok, pa.int64())
    return out


def _grouped(table: pa.Table, by: list[str], columns: list[str], how: str = "sum") -> pd.DataFrame:
    """``columns`` summed (or counted) per ``by`` (all rows together if ``by`` is empty);
    text keys as text, whether or not they were read dictionary-encoded."""
    grouped = table.group_by(by, use_threads=False).aggregate([(c, how) for c in columns])
    frame = _plain(grouped).to_pandas(use_threads=False)
    return frame.rename(columns={f"{c}_{how}": c for c in columns})


def _plain(table: pa.Table) -> pa.Table:
    """``table`` with its dictionary-encoded columns decoded."""
    columns = [
        pc.cast(column, column.type.value_type) if pa.types.is_dictionary(column.type) else column
        for column in table.columns
    ]
    return pa.table(columns, names=table.column_names)


def _with(frame: pd.DataFrame, constant: dict) -> pd.DataFrame:
    """``frame`` with the constant columns of its part added back (in one step:
    pandas inserts a column at a time slowly, and a part has dozens)."""
    if not constant:
        return frame
    n = len(frame)
    extra = pd.DataFrame({name: [value] * n for name, value in constant.items()}, index=frame.index)
    return pd.concat([frame, extra], axis=1)


def _constant(table: pa.Table, columns: list[str]) -> dict:
    """The columns that hold one value in ``table``, and that value (all null: None).

    A dictionary-encoded column (text, as :func:`sweep.store.reader.each_part`
    reads it for statistics) is constant when each chunk's dictionary is one
    and the same value; any other column when it equals its first value."""
    out = {}
    for c in columns:
        column = table.column(c)
        nulls = column.null_count
        if nulls == len(column):
            out[c] = None
        elif nulls:
            continue
        elif pa.types.is_dictionary(column.type):
            words = {tuple(chunk.dictionary.to_pylist()) for chunk in column.chunks}
            if len(words) == 1 and len(next(iter(words))) == 1:
                out[c] = next(iter(words))[0]
        elif pc.all(pc.equal(column, column[0])).as_py():
            out[c] = column[0].as_py()
    return out


def _failures(table: pa.Table, cell: list[str]) -> pd.DataFrame:
    """Each cell's trials per failure mode (:func:`sweep.reporting.analysis.failure_modes`)."""
    n = table.num_rows
    conv = table.column("converged").to_numpy(zero_copy_only=False)
    div = table.column("diverged").to_numpy(zero_copy_only=False)
    solved = pc.is_valid(table.column("epoch_solved")).to_numpy(zero_copy_only=False)
    mode = np.full(n, 1)  # slow
    open_ = ~(conv | div | solved)
    if "loss_curve" in table.column_names and table.column("loss_curve").null_count < n:
        stuck = plateaued(table.column("loss_curve").combine_chunks())
    else:
        stuck = np.ones(n, dtype=bool)  # no curve: judged on the final outputs
    mode[open_ & stuck] = 2
    mode[pc.equal(table.column("epochs"), 0).to_numpy(zero_copy_only=False)] = 4  # untrained
    mode[conv] = 0
    mode[div] = 3
    constant = _constant(table, cell)
    moving = [c for c in cell if c not in constant]
    counts = table.select(moving)
    for i, name in enumerate(MODES):
        counts = counts.append_column(name, pa.array((mode == i).astype(np.int64)))
    return _with(_grouped(counts, moving, list(MODES)), constant)
