"""Which files of a results folder are the sweep's parts, and whether they are intact.

A part vouches for itself: its name carries the first 32 hex digits of its
SHA-256 digest, its pages carry CRC checksums, its rows carry the sweep's
stamp, and its trial ids are hashes of its own parameter columns. The
manifest (:mod:`sweep.store.manifest`) lists every part a run committed; a
run appends (and syncs) a part's line *before* it renames the part into
place, so a crash between the two leaves a line without a file, which
readers ignore, never a part without a line. Hence:

- a listed part whose size or digest differs from its line is damaged;
- with an intact manifest, a ``part-*.parquet`` file it does not list is
  foreign (another sweep's part, a copy) and is never read as data;
- with no manifest, or one with damaged lines, a part not listed by a sound
  line is adopted only if its own content checks out (digest in its name,
  page checksums, ids, the sweep's stamp); a run then writes the manifest
  again, whole;
- a part holding a trial an earlier part holds is redundant: never read as
  data, so a folder always holds one row per trial;
- anything that is not a regular file is never opened.

Every read goes through :func:`scan`, which hands each intact part's bytes to
its caller: a part is read from disk once, for its digest and its rows.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..config.axes import SHAPE_AXES, shape_key_of
from ..config.grid import key_numbers
from ..errors import SweepError
from . import files
from .coverage import Stored, Trials
from .layout import MANIFEST, PART_PATTERN, QUARANTINE
from .manifest import Entry, Manifest, digest, identity, named_digest, read_manifest, sweep_stamp


@dataclass(frozen=True)
class Problem:
    """A file that is not read as data: its name, why, and the trials it held
    (when known)."""

    file: str
    reason: str
    rows: int | None = None

    def __str__(self) -> str:
        held = f" ({self.rows:,} trials)" if self.rows is not None else ""
        return f"{self.file}{held}: {self.reason}"


def _shape_columns(table: pa.Table) -> dict:
    """The part's shape axes' values (one shape a part); ValueError if several."""
    values = {}
    for axis in SHAPE_AXES:
        if axis.name not in table.column_names:
            continue
        column = table.column(axis.name)
        unique = column.unique()
        if len(unique) != 1:
            raise ValueError("holds several shapes of trials" if len(unique) else "is empty")
        values[axis.name] = unique[0].as_py()
    return values


def trials_of_table(table: pa.Table, check_ids: bool) -> Trials:
    """The trials of a part's decoded columns (seed, lr, the shape axes; and
    ``trial_id`` if ``check_ids``); ValueError naming what is wrong, e.g.
    ids that are not the hashes of the rows' own parameters."""
    if table.num_rows == 0:
        raise ValueError("holds no trial")
    key = shape_key_of(_shape_columns(table))
    seeds = table.column("seed").to_numpy()
    lrs = table.column("lr").to_numpy()
    trials = Trials.from_columns(key, seeds, lrs)
    if check_ids:
        from ..config.ids import from_arrow  # Numba: only where ids are checked

        if not np.array_equal(from_arrow(table.column("trial_id")), key_numbers(key, seeds, lrs)):
            raise ValueError("its trial ids are not those of its own parameters")
    return trials


def _footer_stats(metadata: pq.FileMetaData) -> dict[str, list]:
    """Each top-level column's statistics, one per row group (None where absent)."""
    if not metadata.num_row_groups:
        return {}
    groups = [metadata.row_group(g) for g in range(metadata.num_row_groups)]
    return {
        groups[0].column(i).path_in_schema: [g.column(i).statistics for g in groups]
        for i in range(metadata.num_columns)
    }


def _span(stats: list) -> tuple:
    """A column's least and greatest value by its statistics (LookupError if they do
    not say, or it holds a null)."""
    if any(s is None or not s.has_min_max or s.null_count for s in stats):
        raise LookupError("no statistics")
    return min(s.min for s in stats), max(s.max for s in stats)


def _single(stats: list, rows: int):
    """A column's one value by its statistics (None: all null); LookupError if they
    do not show a single value."""
    if any(s is None for s in stats):
        raise LookupError("no statistics")
    if sum(s.null_count or 0 for s in stats) == rows:
        return None
    low, high = _span(stats)
    if low != high:  # (floats: a zero's min is written as -0.0, its max as 0.0)
        raise LookupError("several values")
    return high


def _covers_agree(metadata: pq.FileMetaData, trials: Trials) -> bool:
    """Whether a part's footer statistics agree with the trials its line records."""
    ((lo, hi, lrs),) = trials.rectangles
    rows = metadata.num_rows
    if rows != (hi - lo) * len(lrs) or rows != trials.rows:
        return False
    stats = _footer_stats(metadata)
    try:
        values = {a.name: _single(stats[a.name], rows) for a in SHAPE_AXES if a.name in stats}
        seeds, rates = _span(stats["seed"]), _span(stats["lr"])
    except (LookupError, KeyError):
        return False
    return (
        shape_key_of(values) == trials.key
        and seeds == (lo, hi - 1)
        and rates == (min(lrs), max(lrs))
    )


#: Parts read and hashed ahead of their use, in threads (hashing and reading
#: release the GIL): the checks overlap the caller's reading of rows.
READ_AHEAD = 4

#: Columns a part's trials are read from when its line does not record them.
_TRIAL_COLUMNS = ("trial_id", "seed", "lr", *(a.name for a in SHAPE_AXES))


def _read_checked(path: Path, listed: Entry | None) -> tuple[bytes | None, str | None]:
    """A part's bytes, and why it is damaged (None: its bytes are what its line, or
    its name, says)."""
    try:
        data = files.read_regular(path)
    except files.NotRegular as e:
        return None, f"{e.kind}, not a part"
    except OSError as e:
        return None, f"unreadable ({e.strerror})"
    named = named_digest(path.name)
    if listed is not None:
        if len(data) != listed.bytes:
            return None, f"damaged: {len(data):,} bytes where {listed.bytes:,} were written"
        if named is not None and not listed.sha256.startswith(named):
            return None, "damaged: its name and its manifest line name different contents"
    sha = digest(data) if (listed is not None or named is not None) else None
    if listed is not None and sha != listed.sha256:
        return None, "damaged: its checksum differs from the one recorded when written"
    if named is not None and not sha.startswith(named):
        return None, "damaged: its checksum differs from the one in its name"
    return data, None


def decode(data: bytes, columns: list[str] | None = None) -> pa.Table:
    """A part's rows (``columns`` of them), every page's checksum verified (in this
    thread: see :func:`sweep.config.query.select`)."""
    part = pq.ParquetFile(pa.BufferReader(data), page_checksum_verification=True)
    return part.read(columns=columns, use_threads=False)


def _adopted(
    name: str, data: bytes, sweep: str | None, names: list[str]
) -> tuple[Entry | None, Trials | None, str | None, str | None]:
    """A part without a sound manifest line, if its own content vouches for it:
    (entry, trials, its sweep, None) or (None, None, None, why not)."""
    try:
        table = decode(data)
    except (OSError, pa.ArrowException) as e:
        return None, None, None, f"unreadable ({str(e).splitlines()[0][:120]})"
    if not set(table.schema.names) <= set(names) or "trial_id" not in table.schema.names:
        return None, None, None, "not a part of a sweep (its columns differ)"
    stamp = sweep_stamp(table.schema.metadata)
    if stamp is None:
        return None, None, None, "not a part of a sweep (no sweep in its metadata)"
    if sweep is not None and identity(stamp) != sweep:
        return None, None, None, f"a part of another sweep ({identity(stamp)})"
    try:
        trials = trials_of_table(
            table.select([c for c in _TRIAL_COLUMNS if c in table.schema.names]), check_ids=True
        )
    except ValueError as e:
        return None, None, None, f"damaged: {e}"
    ids = table.column("trial_id").combine_chunks()
    return Entry.of(name, data, ids, trials.covers), trials, identity(stamp), None


def _listed_trials(entry: Entry, data: bytes, thorough: bool) -> Trials:
    """The trials of a listed part: its line's record where the part's footer agrees
    (or ``thorough``: where its decoded rows do, ids included), else its rows'."""
    recorded = Trials.of(entry.covers, entry.rows) if entry.covers is not None else None
    if recorded is not None and not thorough:
        metadata = pq.read_metadata(pa.BufferReader(data))
        if _covers_agree(metadata, recorded):
            return recorded
    names = pq.read_schema(pa.BufferReader(data)).names
    return trials_of_table(decode(data, [c for c in _TRIAL_COLUMNS if c in names]), thorough)


@dataclass
class Scan:
    """What :func:`scan` found: the intact parts' entries (in order), the problems,
    the entries the manifest lacks (``adopted``), the manifest as read, and the
    intact parts' trials (``stored``)."""

    good: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    adopted: list[Entry] = field(default_factory=list)
    manifest: Manifest = field(default_factory=Manifest)
    stored: Stored = field(default_factory=Stored)

    @property
    def rows(self) -> int:
        return sum(e.rows for e in self.good)

    @property
    def manifest_damaged(self) -> bool:
        return not self.manifest.intact


def scan(
    folder: Path,
    sweep: str | None,
    names: list[str],
    use: Callable[[Entry, bytes], None] | None = None,
    thorough: bool = False,
) -> Scan:
    """Check every part in ``folder``, handing each intact one to ``use(entry, bytes)``
    (in the parts' order).

    ``sweep``: the sweep's :func:`identity`, which parts adopted without a
    manifest line must carry (None: any one sweep's). ``names``: the columns
    a part may have. ``thorough`` (``sweep verify``): decode every part and
    check its ids, not only its digest.
    """
    paths = sorted(folder.glob(PART_PATTERN))  # before the manifest: every part is listed
    manifest = read_manifest(folder)
    result = Scan(manifest=manifest)
    todo: list[tuple[Path, Entry | None]] = []
    reread = False
    for path in paths:
        listed = manifest.entries.get(path.name)
        if listed is None and manifest.trusted and not reread:
            # A reader may race a run: a part renamed in after the manifest was read
            # is listed by now.
            manifest = result.manifest = read_manifest(folder)
            listed, reread = manifest.entries.get(path.name), True
        if listed is None and manifest.trusted:
            reason = f"not listed in {MANIFEST} (a file copied in, or another sweep's part)"
            result.problems.append(Problem(path.name, reason))
        else:
            todo.append((path, listed))
    with ThreadPoolExecutor(2, thread_name_prefix="sweep-check") as pool:
        ahead: deque = deque()
        for path, listed in todo[:READ_AHEAD]:
            ahead.append(pool.submit(_read_checked, path, listed))
        for i, (path, listed) in enumerate(todo):
            data, reason = ahead.popleft().result()
            if i + READ_AHEAD < len(todo):
                ahead.append(pool.submit(_read_checked, *todo[i + READ_AHEAD]))
            entry, trials = listed, None
            if reason is None and listed is None:
                entry, trials, stamp, reason = _adopted(path.name, data, sweep, names)
                sweep = sweep or stamp  # the first adopted part names the sweep
            elif reason is None:
                try:
                    trials = _listed_trials(listed, data, thorough)
                except (ValueError, OSError, pa.ArrowException) as e:
                    reason = f"damaged: {str(e).splitlines()[0][:120]}"
                if trials is not None and trials.covers != listed.covers:
                    entry = replace(listed, covers=trials.covers)  # the line said otherwise
            if reason is None:
                held = result.stored.overlap(trials)
                if held is not None:
                    reason = f"holds trials that {held} holds (a copy?); one row per trial is kept"
            if reason is not None:
                result.problems.append(Problem(path.name, reason, listed.rows if listed else None))
                continue
            result.stored.add_part(path.name, trials)
            if listed is None or entry != listed:
                result.adopted.append(entry)
            result.good.append(entry)
            if use is not None:
                use(entry, data)
    return result


def quarantine(folder: Path, problems: Iterable[Problem]) -> list[str]:
    """Move the files of ``problems`` to ``folder/_quarantine/``; one line for each.
    A file is moved, never followed: a link moves as a link."""
    lines = []
    target = folder / QUARANTINE
    for problem in problems:
        source = folder / problem.file
        if not (source.exists() or source.is_symlink()):
            continue
        files.make_folder(target)
        dest = target / problem.file
        n = 1
        while dest.exists() or dest.is_symlink():
            dest = target / f"{problem.file}.{n}"
            n += 1
        try:
            source.rename(dest)
        except OSError as e:
            raise SweepError(f"cannot move {source} to {target}: {e.strerror}") from None
        lines.append(
            f"moved {problem.file} to {QUARANTINE}/: {problem.reason}; its trials are trained again"
        )
    return lines
