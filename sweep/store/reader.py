"""Reading a results folder: every part checked (:func:`sweep.store.integrity.scan`),
damage refused or left out, and the rows as Arrow or pandas; ``verify``."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from ..config.grid import count_trials, grid_frame
from ..config.query import parse as parse_query
from ..config.query import select
from ..config.schema import ADDED_COLUMN_DEFAULTS, PARAM_COLUMNS, SCHEMA, part_schema
from ..config.study import make_study
from ..errors import ConfigError, SweepError
from .coverage import Stored
from .integrity import Problem, Scan, scan
from .layout import MANIFEST, SIDECAR
from .manifest import Entry, identity
from .sidecar import _sidecar_for_reading, described, rebuilt_sidecar, sidecar_state
from .writer import _names

if TYPE_CHECKING:
    import pandas as pd


def stored_trials(path: Path) -> tuple[Stored, list[Problem]]:
    """The trials in the intact parts of a results folder (:class:`sweep.store.coverage.Stored`),
    and the files a run would quarantine (reads only)."""
    sidecar = described(path)
    if sidecar is None:
        return Stored(), []
    found = scan(path, identity(sidecar), _names())
    return found.stored, found.problems


def _conformed(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` in ``schema``: columns it lacks (parts written before they existed)
    are null, then filled by :func:`load` with their defaults."""
    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.schema.names
        else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.table(columns, schema=schema)


def expected_trials(sidecar: dict) -> int | None:
    """How many trials the sweep of ``sidecar`` has (None: a spec this version cannot
    read, or a study run to a precision, whose count its outcomes decide)."""
    try:
        studies = [make_study(spec) for spec in sidecar["specs"]]
    except ConfigError:
        return None
    if any(getattr(s, "precision", None) is not None for s in studies):
        return None
    if len(studies) == 1:
        return count_trials(studies[0])
    return len(set().union(*(set(grid_frame(s)["trial_id"]) for s in studies)))


@dataclass
class Contents:
    """What :func:`read` found: the rows, the problems, and notes for the reader."""

    table: pa.Table
    scan: Scan
    notes: list[str]


def each_part(
    path: str | Path,
    use: Callable[[pa.Table], None],
    columns: list[str] | None = None,
    skip_damaged: bool = False,
    params: bool = True,
    ids: bool = True,
    dictionaries: bool = False,
) -> tuple[Scan, list[str]]:
    """Hand each intact part of a results folder to ``use`` as an Arrow table
    (``columns``, all if None, with the trial parameters if ``params`` and
    ``trial_id`` if ``ids``), one part at a time: memory holds one part, whatever the
    folder's size; ``dictionaries``: text columns dictionary-encoded, as stored
    (several times faster to read, for statistics). Returns what the scan found
    and notes for the reader.

    Damaged or foreign files refuse the read (one line naming the first,
    with the way out) unless ``skip_damaged``, which leaves them out and says
    how many trials that drops. An incomplete sweep is said too.
    """
    path = Path(path)
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is a file, not a sweep folder"
        raise SweepError(f"{path} {what}")
    sidecar, notes = _sidecar_for_reading(path)
    schema = part_schema()
    if columns is not None:
        unknown = [c for c in columns if c not in schema.names]
        if unknown:
            raise SweepError(f"no column {unknown[0]!r} in the results")
        keep = {*(PARAM_COLUMNS if params else ()), *columns}
        keep |= {"trial_id"} if ids else set()
        schema = pa.schema([f for f in schema if f.name in keep])
    text = [f.name for f in schema if pa.types.is_string(f.type)] if dictionaries else []
    schema = pa.schema(
        [f.with_type(pa.dictionary(pa.int32(), f.type)) if f.name in text else f for f in schema]
    )

    def decode(data: bytes) -> pa.Table:
        present = set(pq.read_schema(pa.BufferReader(data)).names)  # older parts lack some
        reader = pq.ParquetFile(
            pa.BufferReader(data),
            page_checksum_verification=True,
            read_dictionary=[n for n in text if n in present],
        )
        wanted = [n for n in schema.names if n in present]
        return _conformed(reader.read(columns=wanted, use_threads=False), schema)

    # One part decodes in a second thread while the last is used and the next
    # checked: two cores kept busy, two parts in memory, parts used in order.
    # (A Python thread, not Arrow's pool: that one can abort the process at
    # exit, apache/arrow#34314.)
    pending: list[Future] = []

    def rows(entry: Entry, data: bytes) -> None:
        pending.append(decoder.submit(decode, data))
        if len(pending) > 1:
            use(pending.pop(0).result())

    try:
        with ThreadPoolExecutor(1, thread_name_prefix="sweep-decode") as decoder:
            found = scan(path, identity(sidecar), _names(), use=rows)
            for part in pending:
                use(part.result())
    except (OSError, pa.ArrowException) as e:
        raise SweepError(f"cannot read results in {path}: {e}") from None
    if found.problems:
        lost = sum(p.rows or 0 for p in found.problems)
        if not skip_damaged:
            first = found.problems[0]
            more = f" (and {len(found.problems) - 1} more)" if len(found.problems) > 1 else ""
            raise SweepError(
                f"{path / first.file}: {first.reason}{more}; run the sweep again "
                "to repair it, or pass --skip-damaged (skip_damaged=True) to read "
                "the rest"
            )
        notes.append(
            f"left out {len(found.problems):,} damaged or foreign file"
            f"{'s' * (len(found.problems) != 1)}"
            + (f" ({lost:,} trials)" if lost else "")
            + f"; run the sweep again to repair {path}"
        )
    expected = expected_trials(sidecar)
    if expected is not None and found.rows < expected:
        notes.append(
            f"incomplete: {found.rows:,} of the sweep's {expected:,} trials are stored "
            f"in {path}; run the sweep again to finish it"
        )
    return found, notes


def read(
    path: str | Path,
    columns: list[str] | None = None,
    skip_damaged: bool = False,
    params: bool = True,
    where: str | None = None,
) -> Contents:
    """The intact parts of a results folder as one Arrow table (see :func:`each_part`),
    only the rows for which the query ``where`` holds (:mod:`sweep.config.query`)."""
    tables: list[pa.Table] = []
    schema = part_schema()
    if where:
        expression, used = parse_query(where, SCHEMA)
        columns = None if columns is None else [*columns, *sorted(used - {"trial_id"})]

    def keep(table: pa.Table) -> None:
        tables.append(select(table, expression) if where else table)

    found, notes = each_part(path, keep, columns, skip_damaged, params)
    if columns is not None:
        wanted = {"trial_id", *(PARAM_COLUMNS if params else ()), *columns}
        schema = pa.schema([f for f in schema if f.name in wanted])
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    return Contents(table.replace_schema_metadata(part_schema().metadata), found, notes)


def load(
    path: str | Path,
    columns: list[str] | None = None,
    skip_damaged: bool = False,
    notes: list[str] | None = None,
    where: str | None = None,
) -> pd.DataFrame:
    """The rows stored in a sweep folder as one DataFrame, ordered by trial parameters.

    ``columns`` reads only those columns (plus ``trial_id`` and the trial
    parameters, which order the rows); ``where`` only the rows for which
    the query holds (``"lr > 1 and width == 2"``, :mod:`sweep.config.query`),
    filtered part by part, so a selection of a huge folder loads only
    itself. Every part is checked against the folder's manifest first; see
    :func:`each_part` for ``skip_damaged``. What a reader should know (an
    incomplete sweep, trials left out) is appended to ``notes`` if given,
    else warned.
    """
    contents = read(path, columns, skip_damaged, where=where)
    if notes is not None:
        notes += contents.notes
    else:
        for note in contents.notes:
            warnings.warn(note, UserWarning, stacklevel=2)
    frame = contents.table.to_pandas()
    # Parts written before a column existed hold none: their trials ran at its default.
    for name, default in ADDED_COLUMN_DEFAULTS.items():
        if name in frame and frame[name].isna().any():
            frame[name] = frame[name].where(frame[name].notna(), default)
            kind = part_schema().field(name).type  # read as float or object for its nulls
            if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
                frame[name] = frame[name].astype(kind.to_pandas_dtype())
    return frame.sort_values(list(PARAM_COLUMNS), kind="stable", ignore_index=True)


def verify(path: str | Path) -> tuple[list[str], bool]:
    """Check everything in a results folder: lines to print, and whether it is sound."""
    path = Path(path)
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is a file, not a sweep folder"
        raise SweepError(f"{path} {what}")
    lines: list[str] = []
    sidecar, problem = sidecar_state(path)
    sound = problem is None
    if problem:
        lines.append(f"{SIDECAR}: {problem}")
        sidecar = rebuilt_sidecar(path)
        if sidecar is None:
            return lines + ["no part describes a sweep: nothing to verify"], False
    found = scan(path, identity(sidecar), _names(), thorough=True)
    if not found.manifest.exists:
        lines.append(
            f"{MANIFEST}: missing (written before manifests existed, or lost): parts are "
            "checked on their own (digest, pages, ids); a run records them"
        )
    elif not found.manifest.intact:
        lines.append(
            f"{MANIFEST}: {found.manifest.damaged:,} damaged line"
            f"{'s' * (found.manifest.damaged != 1)}; parts are checked on their own "
            "(digest, pages, ids)"
        )
        sound = False
    elif found.adopted:
        lines.append(
            f"{MANIFEST}: {len(found.adopted):,} line"
            f"{'s' * (len(found.adopted) != 1)} disagree with their parts"
        )
        sound = False
    for p in found.problems:
        lines.append(str(p))
        sound = False
    expected = expected_trials(sidecar)
    of = f" of the sweep's {expected:,}" if expected is not None else ""
    verdict = "ok" if sound else "damaged"
    lines.append(
        f"{verdict}: {len(found.good):,} intact part{'s' * (len(found.good) != 1)} holding "
        f"{found.rows:,}{of} trials" + ("" if sound else "; run the sweep again to repair it")
    )
    return lines, sound
