"""Statistics of a results folder computed part by part: memory holds one part and
the sums of its cells (:mod:`sweep.reporting.cells`), whatever the folder's
size. Any grouping is then a roll-up of the cells, exact (the quantiles of
epochs come from the histograms), so a report of 10^8 trials reads its
columns once and holds kilobytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from ..config.sampling import Distribution
from ..config.study import make_study
from ..errors import ConfigError
from ..intervals import wilson_interval
from ..store.reader import each_part
from ..store.sidecar import described
from .analysis import converged_by, epoch_grid, mean_columns, pooled_text, varying
from .cells import CELL, MODES, NEEDED, SUMS, CellSums


def _quantile(values: np.ndarray, counts: np.ndarray, q: float) -> float:
    """The q-quantile of values repeated ``counts`` times (values ascending), with
    numpy's linear interpolation between order statistics."""
    total = int(counts.sum())
    if total == 0:
        return np.nan
    position = q * (total - 1)
    ends = np.cumsum(counts)
    low = values[np.searchsorted(ends, np.floor(position), side="right")]
    high = values[np.searchsorted(ends, np.ceil(position), side="right")]
    return float(low + (position - np.floor(position)) * (high - low))


@dataclass
class Aggregate:
    """A folder's cells and their sums (see the module docstring)."""

    cells: pd.DataFrame
    epochs: pd.DataFrame
    failures: pd.DataFrame | None = None
    curves: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    #: The sampled axes (random search) and their distributions: none for a grid.
    sampled: dict[str, Distribution] = field(default_factory=dict)
    #: The regression tasks: nothing is solved on them (their solved rate is blank).
    regression: frozenset[str] = frozenset()

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> Aggregate:
        """The statistics of rows already in memory (:func:`sweep.load`'s frame, or any
        frame with the outcome columns and some parameters)."""
        summer = CellSums(None, curves="loss_curve" in df, failures=False)
        table = pa.Table.from_pandas(df, preserve_index=False)
        missing = [c for c in CELL if c not in table.column_names]
        for c in missing:  # parameters the frame lacks: one value, null
            table = table.append_column(c, pa.nulls(table.num_rows))
        summer(table)
        result = cls(*summer.result())
        result.cells = result.cells.drop(columns=missing)
        result.epochs = result.epochs.drop(columns=missing)
        return result

    @property
    def trials(self) -> int:
        return int(self.cells["trials"].sum()) if len(self.cells) else 0

    @property
    def parameters(self) -> list[str]:
        """The cells' parameters (those the rows had), in axis order."""
        return [c for c in CELL if c in self.cells]

    def varying(self) -> list[str]:
        """The parameters (but the seed) that take more than one value
        (:func:`sweep.reporting.analysis.varying`)."""
        return varying(self.cells)

    def fixed(self) -> dict:
        """The parameters with one value, and that value."""
        return {
            c: self.cells[c].iloc[0]
            for c in self.parameters
            if self.cells[c].nunique(dropna=False) == 1
        }

    def values(self, column: str) -> int:
        return int(self.cells[column].nunique(dropna=False))

    def mean_sums(self, keys: Sequence[str], name: str = "final_loss") -> pd.DataFrame:
        """Each group's sum, sum of squares and count of the finite values of
        ``name`` (one of :data:`~sweep.reporting.analysis.MEANS`), by ``keys``."""
        return self._groups(list(keys))[[f"{name}_{k}" for k in ("sum", "sq", "n")]].sum()

    def pooled_note(self, keys: Sequence[str]) -> str | None:
        """``pooled over: task (3 values), init_low (2)``, or None if nothing is."""
        return pooled_text([(c, self.values(c)) for c in self.varying() if c not in keys])

    def _groups(self, keys: list[str]) -> pd.core.groupby.DataFrameGroupBy:
        return self.cells.groupby(keys, sort=True, observed=True, dropna=False)

    def table(self, keys: Sequence[str]) -> pd.DataFrame:
        """:func:`sweep.reporting.analysis.convergence_table`, from the cells' sums."""
        keys = list(keys)
        sums = self._groups(keys)[list(SUMS)].sum()
        table = pd.DataFrame(
            {
                "trials": sums["trials"].astype(int),
                "converged": sums["converged"].astype(int),
                "diverged_rate": sums["diverged"] / sums["trials"],
                "solved_rate": sums["solved"] / sums["trials"],
            }
        )
        table = table.join(self._quantiles(keys))
        if self.regression and "task" in keys:
            unsolvable = table.index.get_level_values("task").isin(self.regression)
            table.loc[unsolvable, "solved_rate"] = np.nan
        elif self.regression and set(self.cells["task"]) <= self.regression:
            table["solved_rate"] = np.nan
        table.insert(2, "rate", table["converged"] / table["trials"])
        low, high = wilson_interval(table["converged"], table["trials"])
        table.insert(3, "rate_low", low)
        table.insert(4, "rate_high", high)
        return table.join(mean_columns(sums)).reset_index()

    def _histograms(self, keys: list[str]) -> pd.DataFrame:
        """The converged trials' epochs per group: keys, ``epoch_converged``, ``count``."""
        hist = self.epochs.groupby([*keys, "epoch_converged"], dropna=False, observed=True)
        return hist["count"].sum().reset_index()

    def _quantiles(self, keys: list[str]) -> pd.DataFrame:
        """Each group's 10th, 50th and 90th percentile of the epochs to converge."""
        names = ("epochs_p10", "epochs_median", "epochs_p90")
        hist = self._histograms(keys)
        if hist.empty:
            index = self._groups(keys).size().index
            return pd.DataFrame({n: np.nan for n in names}, index=index)

        def quantiles(rows: pd.DataFrame) -> pd.Series:
            rows = rows.sort_values("epoch_converged")
            values = rows["epoch_converged"].to_numpy(float)
            counts = rows["count"].to_numpy()
            return pd.Series([_quantile(values, counts, q) for q in (0.1, 0.5, 0.9)], names)

        grouped = hist.groupby(keys, sort=True, dropna=False, observed=True)
        return grouped[["epoch_converged", "count"]].apply(quantiles)

    def time_to_converge(self, keys: Sequence[str], points: int | None = None) -> pd.DataFrame:
        """:func:`sweep.reporting.analysis.time_to_converge`, from the cells' sums."""
        keys = list(keys)
        sums = self._groups(keys)[["trials", "epochs"]].agg({"trials": "sum", "epochs": "max"})
        hist = self._histograms(keys).set_index(keys)
        rows = []
        for group, (n, budget) in sums.iterrows():
            mine = hist.loc[[group]] if group in hist.index else hist.iloc[0:0]
            mine = mine.sort_values("epoch_converged")
            values = mine["epoch_converged"].to_numpy(float)
            counts = mine["count"].to_numpy()
            grid = epoch_grid(budget, points, values)
            reached = np.concatenate([[0], np.cumsum(counts)])[
                np.searchsorted(values, grid, side="right")
            ]
            group = group if isinstance(group, tuple) else (group,)
            rows += [(*group, int(e), int(r), int(n)) for e, r in zip(grid, reached, strict=True)]
        out = converged_by(rows, keys)
        return out.astype({k: self.cells[k].dtype for k in keys})  # bins stay in order

    def failure_table(self, keys: Sequence[str]) -> pd.DataFrame:
        """Trials per failure mode in each group (:func:`sweep.reporting.text.failure_table`)."""
        keys = list(keys)
        counts = self.failures.groupby(keys, sort=True, observed=True, dropna=False)
        counts = counts[list(MODES)].sum().astype(int)
        counts.insert(0, "trials", counts.sum(axis=1))
        return counts.reset_index()


def aggregate(
    path: str | Path,
    where: str | None = None,
    skip_damaged: bool = False,
    curves: bool = False,
    failures: bool = False,
) -> Aggregate:
    """A folder's cells and their sums, read part by part (``where``: only the rows
    for which the query holds; ``curves``: keep the first loss curves of each
    cell; ``failures``: count failure modes, which reads the loss curves)."""
    result = aggregates(path, [where], skip_damaged, curves, failures)[0]
    if where and result.trials == 0:
        raise ConfigError("where", f"{where!r} selects no trial")
    return result


def aggregates(
    path: str | Path,
    wheres: Sequence[str | None],
    skip_damaged: bool = False,
    curves: bool = False,
    failures: bool = False,
) -> list[Aggregate]:
    """:func:`aggregate` for several selections of one folder, in one pass over it."""
    columns = [*NEEDED]
    if curves or failures:
        columns += ["loss_curve", "curve_every", "curve"]
    summers = [CellSums(where, curves, failures) for where in wheres]

    def each(table: pa.Table) -> None:
        for summer in summers:
            summer(table)

    _, notes = each_part(path, each, columns, skip_damaged, ids=False, dictionaries=True)
    sampled = sampled_axes(path)
    tasks = (described(Path(path)) or {}).get("tasks", {})
    regression = frozenset(name for name, t in tasks.items() if t.get("kind") == "regression")
    return [
        Aggregate(*summer.result(), notes=notes, sampled=sampled, regression=regression)
        for summer in summers
    ]


def sampled_axes(path: str | Path) -> dict[str, Distribution]:
    """The axes the sweep in ``path`` samples, and their distributions (none for a
    grid, or a folder whose description this version cannot read)."""
    out: dict[str, Distribution] = {}
    for spec in (described(Path(path)) or {}).get("specs", []):
        try:
            study = make_study(spec)
        except ConfigError:
            continue
        for grid in study.grids:
            for name, distribution in grid.distributions.items():
                out.setdefault(name, distribution)
    return out
