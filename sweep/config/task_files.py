"""Tasks read from files: CSV (a header row; columns named ``y...`` are targets,
all others inputs; also a file without a suffix) and ``.npz`` (arrays ``X``,
``Y``, optionally ``X_test`` and ``Y_test``). A fault is a ValueError naming
the file, and the row and column where there is one. Files are data: an
``.npz`` is read without unpickling.
"""

from __future__ import annotations

import csv
import functools
import math
import zipfile
from pathlib import Path

import numpy as np

from .task_data import MAX_SAMPLES, Task

#: The suffixes read as task files.
SUFFIXES = (".csv", ".npz")


def read_task(path: Path, shown: str) -> Task:
    """The task in the file ``path`` (``shown``: the path as the user gave it), named
    after the file's stem."""
    if not path.is_file():
        raise ValueError(f"{shown}: no such file")
    suffix = path.suffix.lower()
    if suffix not in ("", *SUFFIXES):
        raise ValueError(f"{shown}: a task file is .csv or .npz, got {path.name!r}")
    try:
        arrays = _read_npz(path, shown) if suffix == ".npz" else _read_csv(path, shown)
    except OSError as e:
        raise ValueError(f"{shown}: unreadable ({e.strerror or e})") from None
    try:
        return Task(path.stem, **arrays, source=f"file {path.resolve()}")
    except ValueError as e:  # the arrays' faults, named by the file
        raise ValueError(str(e).replace(f"task {path.stem!r}", shown, 1)) from None


def _number(text: str, shown: str, line: int, column: str) -> float:
    where = f"{shown}: row {line}, column {column!r}"
    if not text.strip():
        raise ValueError(f"{where} is empty")
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{where}: {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{where}: {text.strip()!r} is not a finite number")
    return value


def _read_csv(path: Path, shown: str) -> dict[str, np.ndarray]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{shown}: not a text file (UTF-8)") from None
    return {name: array.copy() for name, array in _parse_csv(text, shown).items()}


# A run checks its input in the CLI, then again in the API: one parse of a
# file's text serves both (a copy each).
@functools.lru_cache(maxsize=2)
def _parse_csv(text: str, shown: str) -> dict[str, np.ndarray]:
    reader = csv.reader(text.splitlines())
    header = [name.strip() for name in next(reader, [])]
    if not header or not any(header):
        raise ValueError(f"{shown}: no header row")
    targets = [i for i, name in enumerate(header) if name.lower().startswith("y")]
    inputs = [i for i in range(len(header)) if i not in targets]
    if not targets:
        raise ValueError(f"{shown}: no target column (targets are the columns named y...)")
    if not inputs:
        raise ValueError(f"{shown}: no input column (every column is named y...)")
    rows = []
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise ValueError(f"{shown}: row {line} has {len(row)} cells, the header {len(header)}")
        if len(rows) == MAX_SAMPLES:
            raise ValueError(f"{shown}: more than {MAX_SAMPLES:,} rows")
        rows.append([_number(cell, shown, line, header[i]) for i, cell in enumerate(row)])
    if not rows:
        raise ValueError(f"{shown}: no rows of data")
    data = np.array(rows, dtype=np.float64)
    return {"X": data[:, inputs], "Y": data[:, targets]}


def _read_npz(path: Path, shown: str) -> dict[str, np.ndarray]:
    if not zipfile.is_zipfile(path):  # numpy would take other bytes for a pickle
        raise ValueError(f"{shown}: not an .npz archive")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, EOFError):
        raise ValueError(f"{shown}: not an .npz archive") from None
    except ValueError:  # an object array, which only unpickling would read
        raise ValueError(f"{shown}: holds arrays of Python objects; numbers only") from None
    missing = [name for name in ("X", "Y") if name not in arrays]
    if missing:
        held = ", ".join(arrays) or "none"
        raise ValueError(f"{shown}: no array {missing[0]!r} (it holds {held})")
    known = ("X", "Y", "X_test", "Y_test")
    for name, array in arrays.items():
        if name in known and array.dtype.kind not in "biuf":
            raise ValueError(f"{shown}: array {name!r} holds {array.dtype}, not numbers")
    return {name: arrays[name] for name in known if name in arrays}
