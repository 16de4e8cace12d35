"""A run's side of a results folder: open it under its lock, check what it holds,
and store each chunk's rows as a new part.

Readers (pandas, pyarrow, DuckDB's ``DIR/*.parquet``) see only complete
parts: a part is written to a dot-file that does not end in ``.parquet``,
synced, listed in the manifest, then renamed into place. The lock is an OS
file lock (``flock``) that the kernel releases when its process dies, so a
crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..config.schema import part_schema
from ..config.study import SweepConfig
from ..errors import ConfigError, SweepError
from . import files
from .admission import grows, refuse
from .coverage import Stored
from .integrity import quarantine, scan
from .layout import LOCK, MANIFEST, PART_PATTERN, SIDECAR
from .manifest import (
    Entry,
    append_entry,
    digest,
    identity,
    manifest_text,
    new_digest,
    part_name,
)
from .provenance import package_versions
from .sidecar import FORMAT, _now, rebuilt_sidecar, sidecar_state

#: Columns worth a Parquet dictionary (few distinct values); on float lists and
#: unique ids one makes writes slower and parts larger.
DICTIONARY_COLUMNS = ["task", "dtype", "exp"]

#: Columns written without statistics: ids are random hex, whose min and max
#: tell a reader nothing (and cost a tenth of a summary part's write time).
RAW_COLUMNS = ("trial_id",)

#: Columns delta-coded: seeds ascend within a chunk, so they take almost nothing.
DELTA_COLUMNS = ("seed",)


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


def _names() -> list[str]:
    return part_schema().names


class Store:
    """An open sweep folder; create it with :meth:`Store.open`.

    Opening checks every part (:func:`sweep.store.integrity.scan`): damaged and
    foreign files go to ``_quarantine/`` (``notes`` says which), and the
    trials of the intact parts are :attr:`done`.
    """

    def __init__(self, path: Path, sidecar: dict[str, Any], notes: list[str]):
        self.path = path
        self.sidecar = sidecar
        self.notes = notes

        #: The trials stored when the run started (intact parts only).
        self.done = Stored()
        self._written = 0
        self._parts = 0

    @classmethod
    @contextmanager
    def open(
        cls,
        path: str | Path,
        config: SweepConfig,
        *,
        overwrite: bool = False,
        extend: bool = False,
    ) -> Iterator[Store]:
        """Lock ``path`` for writing ``config``'s trials, checking what it holds.

        Refused (nothing written) if ``path`` is a file, is in use by another
        run, holds files that are not a sweep, or holds a different sweep
        (unless ``overwrite``, which deletes its parts first, or ``extend``,
        which adds this sweep's trials to it).
        """
        path = Path(path)
        if path.is_symlink() and not path.exists():
            raise ConfigError(
                "out", f"{path} is a symbolic link to {os.readlink(path)}, which does not exist"
            )
        if path.exists() and not path.is_dir():
            raise ConfigError("out", f"{path} is a file, not a folder")
        # Refusals first, before the folder or its lock is written: a refused
        # run leaves nothing behind. (They are checked again under the lock.)
        if path.is_dir():
            refuse(path, config, overwrite, extend)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError("out", f"cannot create {path}: {e.strerror}") from None
        with files.locked(path / LOCK):
            yield cls._prepare(path, config, overwrite, extend)

    @classmethod
    def refusal(cls, path: Path, config: SweepConfig, overwrite: bool, extend: bool) -> str | None:
        """Why a run of ``config`` into ``path`` would be refused (None: it would not),
        read only (what a dry run says)."""
        try:
            refuse(path, config, overwrite, extend)
        except SweepError as e:
            return str(e)
        return None

    @classmethod
    def _prepare(cls, path: Path, config: SweepConfig, overwrite: bool, extend: bool) -> Store:
        for tmp in path.glob(f"{files.TMP_PREFIX}*"):  # left by a killed run; never data
            tmp.unlink(missing_ok=True)
        refuse(path, config, overwrite, extend)
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
            elif grows(sidecar, config):  # every stored trial is one of this sweep's
                grew_from, sidecar["specs"] = sidecar["specs"], []
        if sidecar is None:
            sidecar = {
                "format": FORMAT,
                "created": _now(),
                "id": uuid.uuid4().hex,
                "specs": [],
                "versions": package_versions(),
                "runs": [],
            }
        if spec not in sidecar["specs"]:
            sidecar["specs"].append(spec)
        for grid in config.grids:  # where each task's data came from
            sidecar.setdefault("tasks", {}).update(
                {name: task.describe() for name, task in grid.task_data.items()}
            )
        sidecar["run"] = {
            "started": _now(),
            "spec": len(sidecar["specs"]) - 1,
            "versions": package_versions(),
        }
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
        beside the training, leaving the writer only the disk's work). Big
        parts are better
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
                part = Encoded(None, out.size, table.num_rows, out.hash.hexdigest(), *_ends(table))
            name = part_name(self._parts, part.sha256)
            append_entry(
                self.path,
                Entry(
                    name, part.size, part.num_rows, part.sha256, part.first_id, part.last_id, covers
                ),
            )
            f.commit(self.path / name)
        self._written += part.num_rows
        self._parts += 1
        return self.path / name


def _write_parquet(table: pa.Table, sink) -> None:
    names = table.schema.names
    pq.write_table(
        table,
        sink,
        use_dictionary=DICTIONARY_COLUMNS,
        compression="lz4",
        write_statistics=[n for n in names if n not in RAW_COLUMNS],
        column_encoding=dict.fromkeys(DELTA_COLUMNS, "DELTA_BINARY_PACKED"),
        write_page_checksum=True,
    )


def _ends(table: pa.Table) -> tuple[str, str]:
    """The first and last trial ids of a part's rows."""
    ids = table.column("trial_id")
    return (ids[0].as_py(), ids[-1].as_py()) if len(ids) else ("", "")
