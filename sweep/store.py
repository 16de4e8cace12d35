"""A sweep's folder on disk: Parquet parts, a sidecar describing the sweep, a lock.

Layout of ``DIR``::

    part-<n>-<uuid>.parquet   rows of finished chunks, each written atomically
    _sweep.json               the sweep's spec(s), package versions, creation time
    _manifest.jsonl           each committed part's size, rows and checksum
    _quarantine/              damaged or foreign files a run moved aside
    .lock                     held while a run writes here

Readers (pandas, pyarrow, DuckDB's ``DIR/*.parquet``) see only complete
parts: a part is written to a dot-file that does not end in ``.parquet``,
synced, then renamed into place. The lock is an OS file lock (``flock``)
that the kernel releases when its process dies, so a crashed run never
leaves a stale lock behind. What is read as data, and how damage is found
and healed, is :mod:`sweep.integrity`'s job.
"""

from __future__ import annotations

import functools
import json
import os
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from . import files
from .config import SweepConfig
from .errors import ConfigError, SweepError
from .integrity import (
    MANIFEST,
    PART_PATTERN,
    QUARANTINE,
    Entry,
    Problem,
    Scan,
    append_entry,
    digest,
    identity,
    manifest_text,
    new_digest,
    part_name,
    quarantine,
    read_manifest,
    scan,
    sweep_stamp,
)
from .schema import ADDED_COLUMN_DEFAULTS, PARAM_COLUMNS, part_schema

if TYPE_CHECKING:
    import pandas as pd

    from .coverage import Stored

SIDECAR = "_sweep.json"
LOCK = ".lock"
FORMAT = "sweep-results/1"
#: Columns worth a Parquet dictionary (few distinct values). Trying one on
#: float lists and unique ids made writes 3.5x slower and parts 20% larger.
DICTIONARY_COLUMNS = ["task", "dtype", "exp"]
#: Columns written without statistics: ids are random hex, whose min and max
#: tell a reader nothing (and cost a tenth of a summary part's write time).
RAW_COLUMNS = ("trial_id",)
#: Columns delta-coded: seeds ascend within a chunk, so they take almost nothing.
DELTA_COLUMNS = ("seed",)
_OURS = (SIDECAR, LOCK, MANIFEST, QUARANTINE)
#: Where report files go inside a results folder: readers of the results skip
#: names that start with "_" (pyarrow, pandas) or do not end in .parquet (DuckDB).
REPORT_FOLDER = "_report"


@functools.cache
def package_versions() -> dict[str, str]:
    """Versions of the packages that produce the numbers.

    Read from the modules where they are loaded anyway: asking package
    metadata costs ~40 ms a package, on the way to the first result.
    """
    import joblib
    import llvmlite
    import numba
    import numpy

    out = {"numba": numba.__version__, "llvmlite": llvmlite.__version__,
           "numpy": numpy.__version__, "pyarrow": pa.__version__,
           "joblib": joblib.__version__}  # fmt: skip
    for name in ("tinynet-sweep", "pandas"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Hashing:
    """A binary file that hashes what is written through it (for pyarrow's writer):
    a part's digest without a second pass or an in-memory copy."""

    def __init__(self, f):
        self._f = f
        self.hash = new_digest()
        self.size = 0

    def write(self, data) -> int:
        self.hash.update(data)
        self.size += len(data)
        return self._f.write(data)

    def flush(self) -> None:
        self._f.flush()

    def tell(self) -> int:
        return self.size

    @property
    def closed(self) -> bool:
        return self._f.closed


@dataclass(frozen=True)
class Encoded:
    """A chunk's rows as a part's bytes, ready to store (:meth:`Store.encode`), or
    what was recorded of a part streamed to disk (``data`` None)."""

    data: pa.Buffer | None
    size: int
    num_rows: int
    sha256: str
    first_id: str
    last_id: str


def _grows(sidecar: dict, config: SweepConfig) -> bool:
    """Whether ``config`` contains every sweep stored in ``sidecar``: more seeds,
    or more values on an axis, with nothing changed or dropped."""
    from .config import make_study

    try:
        stored = [make_study(spec) for spec in sidecar["specs"]]
    except ConfigError:
        return False  # a spec this version cannot read: not a plain extension
    return all(config.contains(old) for old in stored)


def _spec_difference(old: dict, new: dict) -> str:
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return ", ".join(keys)


def _names() -> list[str]:
    return part_schema().names


def sidecar_state(path: Path) -> tuple[dict | None, str | None]:
    """The sidecar of ``path`` and what is wrong with it: (sidecar, None), or
    (None, "missing") or (None, "invalid")."""
    if not (path / SIDECAR).exists():
        return None, "missing"
    try:
        return read_sidecar(path), None
    except SweepError:
        return None, "invalid"


def rebuilt_sidecar(path: Path) -> dict | None:
    """A sidecar made from the parts' metadata (None: no part carries any).

    The manifest's parts are the sweep's if there is an intact manifest;
    otherwise every part's stamp must name the same sweep.
    """
    manifest = read_manifest(path)
    names = sorted(p.name for p in path.glob(PART_PATTERN))
    if manifest.trusted:
        names = [n for n in names if n in manifest.entries]
    stamps = []
    for name in names:
        try:
            with files.open_regular(path / name) as f:
                stamp = sweep_stamp(pq.read_schema(f).metadata)
        except (OSError, pa.ArrowException):
            continue  # unreadable, or not a file: the scan deals with it
        if stamp and stamp.get("format") == FORMAT and "spec" in stamp:
            stamps.append(stamp)
    if not stamps:
        return None
    sweeps = sorted({identity(s) for s in stamps})
    if len(sweeps) > 1:
        raise SweepError(
            f"{path / SIDECAR} is missing or invalid and the parts in {path} come from "
            f"{len(sweeps)} different sweeps ({', '.join(sweeps)}), so it cannot be "
            "rebuilt: move the other sweeps' parts out, or rerun with --overwrite"
        )
    specs: list[dict] = []
    for stamp in stamps:
        if stamp["spec"] not in specs:
            specs.append(stamp["spec"])
    rebuilt = {"format": FORMAT, "created": stamps[0]["created"], "specs": specs,
               "versions": package_versions(), "runs": [], "rebuilt": _now()}  # fmt: skip
    if "id" in stamps[0]:
        rebuilt["id"] = stamps[0]["id"]
    return rebuilt


def described(path: Path) -> dict | None:
    """The sweep's sidecar, or one rebuilt from its parts (None: neither)."""
    return sidecar_state(path)[0] or rebuilt_sidecar(path)


def _sidecar_for_reading(path: Path) -> tuple[dict, list[str]]:
    """The sweep's sidecar (rebuilt if need be) and a note if it was."""
    sidecar, problem = sidecar_state(path)
    if sidecar is not None:
        return sidecar, []
    rebuilt = rebuilt_sidecar(path)
    if rebuilt is None:
        detail = "is missing" if problem == "missing" else "is invalid"
        raise SweepError(f"{path} holds no sweep ({SIDECAR} {detail}, and no part describes one)")
    return rebuilt, [f"{path / SIDECAR} {'is missing' if problem == 'missing' else 'is invalid'}: "
                     "the sweep's description was read from its parts; run the sweep again "
                     "to repair it"]  # fmt: skip


class Store:
    """An open sweep folder; create it with :meth:`Store.open`.

    Opening checks every part (:func:`sweep.integrity.scan`): damaged and
    foreign files go to ``_quarantine/`` (``notes`` says which), and the
    trials of the intact parts are :attr:`done`.
    """

    def __init__(self, path: Path, sidecar: dict[str, Any], notes: list[str]):
        self.path = path
        self.sidecar = sidecar
        self.notes = notes
        from .coverage import Stored

        #: The trials stored when the run started (intact parts only).
        self.done = Stored()
        self._written = 0
        self._parts = 0

    @classmethod
    @contextmanager
    def open(
        cls, path: str | Path, config: SweepConfig, *, overwrite: bool = False,
        extend: bool = False,
    ) -> Iterator[Store]:  # fmt: skip
        """Lock ``path`` for writing ``config``'s trials, checking what it holds.

        Refused (nothing written) if ``path`` is a file, is in use by another
        run, holds files that are not a sweep, or holds a different sweep
        (unless ``overwrite``, which deletes its parts first, or ``extend``,
        which adds this sweep's trials to it).
        """
        path = Path(path)
        if path.is_symlink() and not path.exists():
            raise ConfigError("out", f"{path} is a symbolic link to {os.readlink(path)}, which "
                              "does not exist")  # fmt: skip
        if path.exists() and not path.is_dir():
            raise ConfigError("out", f"{path} is a file, not a folder")
        # Refusals first, before the folder or its lock is written: a refused
        # run leaves nothing behind. (They are checked again under the lock.)
        if path.is_dir():
            cls._refusal(path, config, overwrite, extend)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError("out", f"cannot create {path}: {e.strerror}") from None
        with files.locked(path / LOCK):
            yield cls._prepare(path, config, overwrite, extend)

    @staticmethod
    def _refusal(path: Path, config: SweepConfig, overwrite: bool, extend: bool) -> None:
        """ConfigError if ``path`` may not take ``config``'s trials (reads only)."""
        for name in (*_OURS, REPORT_FOLDER):
            files.refuse_link(path / name)
        sidecar, _ = sidecar_state(path)
        if sidecar is None:
            try:
                sidecar = rebuilt_sidecar(path)
            except SweepError:
                if overwrite:  # parts of several sweeps: --overwrite replaces them all
                    return
                raise
        if sidecar is None:
            ours = read_manifest(path).exists
            foreign = [p.name for p in sorted(path.iterdir()) if p.name not in _OURS
                       and not (ours and p.match(PART_PATTERN))]  # fmt: skip
            if foreign:
                raise ConfigError("out", f"{path} is not empty and holds no sweep "
                                  f"(found {foreign[0]}); choose another folder")  # fmt: skip
        elif config.to_dict() not in sidecar["specs"] and not (overwrite or extend):
            if _grows(sidecar, config):
                return
            diff = _spec_difference(sidecar["specs"][-1], config.to_dict())
            raise ConfigError(
                "out", f"{path} holds a different sweep (differs in {diff}) that this one "
                "does not contain; use --extend to add to it, --overwrite to replace it, "
                "or another --out",
            )  # fmt: skip

    @classmethod
    def _prepare(cls, path: Path, config: SweepConfig, overwrite: bool, extend: bool) -> Store:
        for tmp in path.glob(f"{files.TMP_PREFIX}*"):  # left by a killed run; never data
            tmp.unlink(missing_ok=True)
        cls._refusal(path, config, overwrite, extend)
        notes: list[str] = []
        spec = config.to_dict()
        sidecar, problem = sidecar_state(path)
        if sidecar is None:
            try:
                sidecar = rebuilt_sidecar(path)
            except SweepError:  # parts of several sweeps, and (as refusal checked) overwrite
                sidecar = {"specs": []}
            else:
                if sidecar is not None:
                    notes.append(f"{SIDECAR} was {problem}: rebuilt it from the parts' metadata")
        grew_from = None
        if sidecar is not None and spec not in sidecar["specs"]:
            if overwrite:
                for part in path.glob(PART_PATTERN):
                    part.unlink()
                (path / MANIFEST).unlink(missing_ok=True)
                sidecar = None
            elif _grows(sidecar, config):  # every stored trial is one of this sweep's
                grew_from, sidecar["specs"] = sidecar["specs"], []
        if sidecar is None:
            sidecar = {"format": FORMAT, "created": _now(), "id": uuid.uuid4().hex,
                       "specs": [], "versions": package_versions(), "runs": []}  # fmt: skip
        if spec not in sidecar["specs"]:
            sidecar["specs"].append(spec)
        sidecar["run"] = {"started": _now(), "spec": len(sidecar["specs"]) - 1,
                          "versions": package_versions()}  # fmt: skip
        if grew_from is not None:
            sidecar["run"]["grew_from"] = grew_from
        store = cls(path, sidecar, notes)
        store._save_sidecar()
        store._check_parts()
        return store

    def _save_sidecar(self) -> None:
        """Write the sidecar; the current run (``run``) is recorded only once it ends well."""
        saved = {k: v for k, v in self.sidecar.items() if k != "run"}
        files.write_atomic(self.path / SIDECAR, json.dumps(saved, indent=1).encode())

    def _check_parts(self) -> None:
        """Scan the parts: count the intact ones' trials, quarantine the rest, and
        write the manifest again, whole, unless it lists exactly the intact parts
        in sound lines."""
        found = scan(self.path, identity(self.sidecar), _names())
        self.done = found.stored
        self.notes += quarantine(self.path, found.problems)
        self._parts = len(self.parts())
        text = manifest_text(found.good)
        try:
            current = files.read_regular(self.path / MANIFEST)
        except OSError:
            current = None
        if current != text and (found.good or current is not None):
            files.write_atomic(self.path / MANIFEST, text)

    def finish(self) -> None:
        """Record the run in the sidecar: it ended without error."""
        run = self.sidecar.pop("run", None)
        if run is not None:
            run["ended"] = _now()
            self.sidecar.setdefault("runs", []).append(run)
            self._save_sidecar()

    def parts(self) -> list[Path]:
        return sorted(self.path.glob(PART_PATTERN))

    @property
    def stored(self) -> int:
        """Trials stored now: before the run, and written by it."""
        return self.done.count + self._written

    def _stamped(self, table: pa.Table) -> pa.Table:
        """A chunk's rows in the part schema, with the sweep's stamp in their metadata."""
        schema = part_schema("full" if "outputs" in table.schema.names else "summary")
        meta = dict(schema.metadata)
        stamp = {k: self.sidecar[k] for k in ("format", "created", "id") if k in self.sidecar}
        meta[b"sweep"] = json.dumps({**stamp, "spec": self.sidecar["specs"][-1]}).encode()
        return table.cast(schema).replace_schema_metadata(meta)

    def encode(self, table: pa.Table) -> Encoded:
        """A chunk's rows as a part: Parquet bytes in memory, and their checksum.

        For small parts, in worker threads (the threads backend encodes there,
        beside the training, leaving the writer only the disk's work): a
        summary sweep of 10^7 trials ran 15% faster. Big parts are better
        streamed to disk by :meth:`write`, hashed as they go, without a copy.
        """
        table = self._stamped(table)
        sink = pa.BufferOutputStream()
        _write_parquet(table, sink)
        data = sink.getvalue()
        return Encoded(data, data.size, table.num_rows, digest(data), *_ends(table))

    def write(self, rows: pa.Table | Encoded, covers: dict | None = None) -> Path:
        """Store a chunk's rows (or their :meth:`encode` d part) as a new part: the
        file, synced; its manifest line (with ``covers``, the rectangle of
        trials it holds, if they are one), synced; then the rename that makes
        it visible, under a name that carries its digest."""
        with files.temporary(self.path, f"a part in {self.path}") as f:
            if isinstance(rows, Encoded):
                part = rows
                f.write(part.data)
            else:  # encoded straight to the file, hashed on the way
                table = self._stamped(rows)
                out = _Hashing(f)
                _write_parquet(table, out)
                part = Encoded(None, out.size, table.num_rows, out.hash.hexdigest(),
                               *_ends(table))  # fmt: skip
            name = part_name(self._parts, part.sha256)
            append_entry(self.path, Entry(name, part.size, part.num_rows, part.sha256,
                                          part.first_id, part.last_id, covers))  # fmt: skip
            f.commit(self.path / name)
        self._written += part.num_rows
        self._parts += 1
        return self.path / name


def _write_parquet(table: pa.Table, sink) -> None:
    names = table.schema.names
    pq.write_table(table, sink, use_dictionary=DICTIONARY_COLUMNS,
                   compression="lz4",
                   write_statistics=[n for n in names if n not in RAW_COLUMNS],
                   column_encoding=dict.fromkeys(DELTA_COLUMNS, "DELTA_BINARY_PACKED"),
                   write_page_checksum=True)  # fmt: skip


def _ends(table: pa.Table) -> tuple[str, str]:
    """The first and last trial ids of a part's rows."""
    ids = table.column("trial_id")
    return (ids[0].as_py(), ids[-1].as_py()) if len(ids) else ("", "")


def stored_trials(path: Path) -> tuple[Stored, list[Problem]]:
    """The trials in the intact parts of a results folder (:class:`sweep.coverage.Stored`),
    and the files a run would quarantine (reads only)."""
    from .coverage import Stored

    sidecar = described(path)
    if sidecar is None:
        return Stored(), []
    found = scan(path, identity(sidecar), _names())
    return found.stored, found.problems


def read_sidecar(path: Path) -> dict | None:
    """The sidecar of a sweep folder, None if there is none."""
    file = path / SIDECAR
    if not (file.exists() or file.is_symlink()):
        return None
    try:
        sidecar = json.loads(files.read_regular(file))
        if sidecar.get("format") != FORMAT or not isinstance(sidecar.get("specs"), list):
            raise ValueError("unknown format")
    except files.NotRegular as e:
        raise SweepError(f"{file} is {e.kind}; it does not describe a sweep") from None
    except (OSError, ValueError, AttributeError) as e:
        raise SweepError(f"{file} is unreadable ({e}); it does not describe a sweep") from None
    return sidecar


def _conformed(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` in ``schema``: columns it lacks (parts written before they existed)
    are null, then filled by :func:`load` with their defaults."""
    columns = [table.column(f.name).cast(f.type) if f.name in table.schema.names
               else pa.nulls(table.num_rows, f.type) for f in schema]  # fmt: skip
    return pa.table(columns, schema=schema)


def expected_trials(sidecar: dict) -> int | None:
    """How many trials the sweep of ``sidecar`` has (None: a spec this version cannot read)."""
    from .config import make_study
    from .grid import count_trials, grid_frame

    try:
        studies = [make_study(spec) for spec in sidecar["specs"]]
    except ConfigError:
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


def read(path: str | Path, columns: list[str] | None = None,
         skip_damaged: bool = False) -> Contents:  # fmt: skip
    """Read the intact parts of a results folder, checked against its manifest.

    Damaged or foreign files refuse the read (one line naming the first,
    with the way out) unless ``skip_damaged``, which leaves them out and says
    how many trials that drops. An incomplete sweep is said too.
    """
    path = Path(path)
    if not path.is_dir():
        raise SweepError(f"{path} is not a sweep folder")
    sidecar, notes = _sidecar_for_reading(path)
    schema = part_schema()
    if columns is not None:
        unknown = [c for c in columns if c not in schema.names]
        if unknown:
            raise SweepError(f"no column {unknown[0]!r} in the results")
        keep = {"trial_id", *PARAM_COLUMNS, *columns}
        schema = pa.schema([f for f in schema if f.name in keep])
    tables: list[pa.Table] = []

    def rows(entry: Entry, data: bytes) -> None:
        reader = pq.ParquetFile(pa.BufferReader(data), page_checksum_verification=True)
        present = set(reader.schema_arrow.names)
        wanted = [n for n in schema.names if n in present]
        tables.append(_conformed(reader.read(columns=wanted), schema))

    try:
        found = scan(path, identity(sidecar), _names(), use=rows)
    except (OSError, pa.ArrowException) as e:
        raise SweepError(f"cannot read results in {path}: {e}") from None
    if found.problems:
        lost = sum(p.rows or 0 for p in found.problems)
        if not skip_damaged:
            first = found.problems[0]
            more = f" (and {len(found.problems) - 1} more)" if len(found.problems) > 1 else ""
            raise SweepError(f"{path / first.file}: {first.reason}{more}; run the sweep again "
                             "to repair it, or pass --skip-damaged (skip_damaged=True) to read "
                             "the rest")  # fmt: skip
        notes.append(f"left out {len(found.problems):,} damaged or foreign file"
                     f"{'s' * (len(found.problems) != 1)}"
                     + (f" ({lost:,} trials)" if lost else "")
                     + f"; run the sweep again to repair {path}")  # fmt: skip
    expected = expected_trials(sidecar)
    if expected is not None and found.rows < expected:
        notes.append(f"incomplete: {found.rows:,} of the sweep's {expected:,} trials are stored "
                     f"in {path}; run the sweep again to finish it")  # fmt: skip
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    return Contents(table.replace_schema_metadata(part_schema().metadata), found, notes)


def load(path: str | Path, columns: list[str] | None = None, skip_damaged: bool = False,
         notes: list[str] | None = None) -> pd.DataFrame:  # fmt: skip
    """All rows stored in a sweep folder as one DataFrame, ordered by trial parameters.

    ``columns`` reads only those columns (plus ``trial_id`` and the trial
    parameters, which order the rows): faster for summaries. Every part is
    checked against the folder's manifest first; see :func:`read` for
    ``skip_damaged``. What a reader should know (an incomplete sweep,
    trials left out) is appended to ``notes`` if given, else warned.
    """
    contents = read(path, columns, skip_damaged)
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
        raise SweepError(f"{path} is not a sweep folder")
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
        lines.append(f"{MANIFEST}: {found.manifest.damaged:,} damaged line"
                     f"{'s' * (found.manifest.damaged != 1)}; parts are checked on their own "
                     "(digest, pages, ids)")  # fmt: skip
        sound = False
    elif found.adopted:
        lines.append(f"{MANIFEST}: {len(found.adopted):,} line"
                     f"{'s' * (len(found.adopted) != 1)} disagree with their parts")  # fmt: skip
        sound = False
    for p in found.problems:
        lines.append(str(p))
        sound = False
    expected = expected_trials(sidecar)
    of = f" of the sweep's {expected:,}" if expected is not None else ""
    verdict = "ok" if sound else "damaged"
    lines.append(f"{verdict}: {len(found.good):,} intact parts holding {found.rows:,}{of} trials"
                 + ("" if sound else "; run the sweep again to repair it"))  # fmt: skip
    return lines, sound
