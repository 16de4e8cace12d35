"""Columns of a sweep's results table: names, Arrow types, meaning. Defined once.

One row per trial. Parameters first (the axes, :mod:`sweep.config.axes`), then the
statistics defined in :mod:`kernels.model` (``-1`` epochs become nulls
here), then arrays as lists.
Values of float32 trials are stored as float64 so every part has one schema.
"""

from __future__ import annotations

import functools

import pyarrow as pa

from .axes import AXES, PARAM_COLUMNS

__all__ = ["ARRAY_COLUMNS", "COLUMNS", "EPOCH_COLUMNS", "PARAM_COLUMNS", "SCHEMA", "part_schema"]

_F64_LIST = pa.list_(pa.float64())

#: Columns of what a trial produced (after its parameters, see :mod:`sweep.config.axes`).
OUTCOMES = (
    ("converged", pa.bool_()),
    ("epoch_converged", pa.int64()),
    ("epoch_solved", pa.int64()),
    ("diverged", pa.bool_()),
    ("epoch_diverged", pa.int64()),
    ("epoch_mse_target", pa.int64()),
    ("final_loss", pa.float64()),
    ("test_loss", pa.float64()),
    ("test_accuracy", pa.float64()),
    ("restarts", pa.int64()),
    ("curve_every", pa.int64()),
    ("curve", pa.string()),
    ("outputs", _F64_LIST),
    ("loss_curve", _F64_LIST),
    ("w_hidden", _F64_LIST),
    ("b_hidden", _F64_LIST),
    ("w_out", _F64_LIST),
    ("b_out", _F64_LIST),
    ("w_shortcut", _F64_LIST),
    ("w_hidden2", _F64_LIST),
    ("b_hidden2", _F64_LIST),
)

SCHEMA = pa.schema(
    [("trial_id", pa.string())] + [(axis.column, axis.arrow) for axis in AXES] + list(OUTCOMES)
)

COLUMNS = tuple(SCHEMA.names)
#: The columns ``--store summary`` leaves out (see sweep.config.STORES).
ARRAY_COLUMNS = (
    "outputs",
    "loss_curve",
    "w_hidden",
    "b_hidden",
    "w_out",
    "b_out",
    "w_shortcut",
    "w_hidden2",
    "b_hidden2",
)
SUMMARY_SCHEMA = pa.schema([f for f in SCHEMA if f.name not in ARRAY_COLUMNS])
#: What a column added after release 0.1.0 held for trials stored before it.
ADDED_COLUMN_DEFAULTS = {"curve": "linear", "restarts": 0} | {
    axis.column: axis.id_default
    for axis in AXES
    if not axis.classic and axis.id_default is not None
}
#: Nullable epoch columns (null = never happened).
EPOCH_COLUMNS = ("epoch_converged", "epoch_solved", "epoch_diverged", "epoch_mse_target")


def _with_pandas_metadata(schema: pa.Schema) -> pa.Schema:
    """Add pandas metadata so readers restore nullable Int64 epoch columns.

    It describes those columns only: pandas converts the others by their Arrow
    types, as it would with a full description, and every part's footer (and
    the copy of its schema there) stays short.
    """
    import pandas as pd

    epochs = pa.schema([schema.field(name) for name in EPOCH_COLUMNS if name in schema.names])
    frame = pd.DataFrame({field.name: pd.array([], dtype="Int64") for field in epochs})
    described = pa.Table.from_pandas(frame, schema=epochs, preserve_index=False).schema
    return schema.with_metadata({b"pandas": described.metadata[b"pandas"]})


@functools.cache
def part_schema(store: str = "full") -> pa.Schema:
    """The schema a part is written with (pandas metadata included); ``store``
    ``summary``: without the array columns. Readers see every column: a
    summary part's arrays read as nulls."""
    return _with_pandas_metadata(SCHEMA if store == "full" else SUMMARY_SCHEMA)
