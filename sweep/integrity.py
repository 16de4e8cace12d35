"""Which files of a results folder are the sweep's parts, and whether they are intact.

``DIR/_manifest.jsonl`` lists every part a run committed, one JSON object a
line: its name, size, row count, SHA-256 digest and first and last trial
id. A run appends (and syncs) a part's line *before* it renames the part
into place, so a crash between the two leaves a line without a file, which
readers ignore, never a part without a line. Hence:

- a listed part whose size or digest differs from its line is damaged;
- a ``part-*.parquet`` file the manifest does not list is foreign (another
  sweep's part, or any Parquet file copied in) and is never read as data;
- a folder written before manifests existed (or whose manifest is damaged)
  has its parts adopted: each must parse, hold the part schema and carry the
  sweep's creation stamp in its metadata.

Every read goes through :func:`scan`, which hands each intact part's bytes to
its caller: a part is read from disk once, for its digest and its rows.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import SweepError

MANIFEST = "_manifest.jsonl"
QUARANTINE = "_quarantine"
PART_PATTERN = "part-*.parquet"


def new_digest():
    """A running :func:`digest` (``update(bytes)``, then ``hexdigest()``)."""
    return hashlib.sha256()


def digest(data: bytes) -> str:
    """The SHA-256 digest (hex) a part is recorded with.

    SHA-256 rather than BLAKE2b: x86 CPUs with SHA extensions (every Zen)
    hash it at ~1.3 GB/s, BLAKE2b at ~0.5 GB/s (measured on a Zen 3), and a
    run hashes every part it writes and every part it resumes from.
    """
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Entry:
    """A committed part, as its manifest line records it."""

    part: str
    bytes: int
    rows: int
    sha256: str
    first_id: str
    last_id: str
    #: The trials it holds as a rectangle (:func:`sweep.coverage.covers`), if they are one.
    covers: dict | None = None

    @classmethod
    def of(cls, name: str, data: bytes, ids: pa.Array) -> Entry:
        first, last = (ids[0].as_py(), ids[-1].as_py()) if len(ids) else ("", "")
        return cls(name, len(data), len(ids), digest(data), first, last)


@dataclass(frozen=True)
class Problem:
    """A file that is not read as data: its name, why, and the trials it held
    (when the manifest knows)."""

    file: str
    reason: str
    rows: int | None = None

    def __str__(self) -> str:
        held = f" ({self.rows:,} trials)" if self.rows is not None else ""
        return f"{self.file}{held}: {self.reason}"


@dataclass
class Scan:
    """What :func:`scan` found: the intact parts' entries, the problems, and
    whether the manifest had to be rebuilt (``adopted``: entries not yet in it)."""

    good: list[Entry] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    adopted: list[Entry] = field(default_factory=list)
    manifest_damaged: bool = False

    @property
    def rows(self) -> int:
        return sum(e.rows for e in self.good)


def read_manifest(folder: Path) -> tuple[dict[str, Entry] | None, bool]:
    """The manifest's entries by part name (None: no manifest) and whether it is intact.

    A torn last line (a run killed while appending it) is not an entry and
    not damage: its part was never renamed into place.
    """
    file = folder / MANIFEST
    try:
        text = file.read_bytes()
    except FileNotFoundError:
        return None, True
    except OSError as e:
        raise SweepError(f"cannot read {file}: {e.strerror}") from None
    entries: dict[str, Entry] = {}
    lines = text.split(b"\n")
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            entry = Entry(**json.loads(line))
        except (ValueError, TypeError):
            if number == len(lines) - 1:  # no newline yet: the append was cut short
                continue
            return entries, False
        entries[entry.part] = entry
    return entries, True


def _line(entry: Entry) -> bytes:
    fields = {k: v for k, v in asdict(entry).items() if not (k == "covers" and v is None)}
    return (json.dumps(fields, separators=(",", ":")) + "\n").encode()


def append_entry(folder: Path, entry: Entry) -> None:
    """Add a part's line to the manifest, durably, before the part is renamed in."""
    line = _line(entry)
    fd = os.open(folder / MANIFEST, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def manifest_text(entries: Iterable[Entry]) -> bytes:
    """A whole manifest (see :func:`sweep.store.write_atomic` to replace one)."""
    return b"".join(_line(e) for e in entries)


def sweep_stamp(metadata: dict[bytes, bytes] | None) -> dict | None:
    """The ``sweep`` entry a part's metadata carries (format, created, spec), or None."""
    try:
        return json.loads((metadata or {})[b"sweep"])
    except (KeyError, ValueError):
        return None


def identity(stamp: dict) -> str:
    """Which sweep a sidecar or a part's stamp belongs to: its creation time and
    its random id (sweeps created in the same second differ; sweeps written
    before ids existed have none)."""
    return f"{stamp.get('created')} {stamp.get('id') or ''}".strip()


def _adoptable(data: bytes, sweep: str | None, names: list[str]) -> str | None:
    """Why a part without a manifest line may not be adopted (None: it may)."""
    try:
        table = pq.read_table(pa.BufferReader(data))  # every page decoded
    except (OSError, pa.ArrowException) as e:
        return f"unreadable ({str(e).splitlines()[0][:120]})"
    if not set(table.schema.names) <= set(names) or "trial_id" not in table.schema.names:
        return "not a part of a sweep (its columns differ)"
    stamp = sweep_stamp(table.schema.metadata)
    if stamp is None:
        return "not a part of a sweep (no sweep in its metadata)"
    if sweep is not None and identity(stamp) != sweep:
        return f"a part of another sweep ({identity(stamp)})"
    return None


#: Parts read and hashed ahead of their use, in threads (hashing and reading
#: release the GIL): the checks overlap the caller's reading of rows.
READ_AHEAD = 4


def _read_checked(path: Path, listed: Entry | None) -> tuple[bytes | None, str | None]:
    """A part's bytes, and why it is damaged (None: intact, or not listed)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        return None, f"unreadable ({e.strerror})"
    if listed is None:
        return data, None
    if len(data) != listed.bytes:
        return None, f"damaged: {len(data):,} bytes where {listed.bytes:,} were written"
    if digest(data) != listed.sha256:
        return None, "damaged: its checksum differs from the one recorded when written"
    return data, None


def scan(
    folder: Path, sweep: str | None, names: list[str],
    use: Callable[[Entry, bytes], None] | None = None,
) -> Scan:  # fmt: skip
    """Check every part in ``folder``, handing each intact one to ``use(entry, bytes)``
    (in the parts' order).

    ``sweep``: the sweep's :func:`identity`, which parts adopted without a
    manifest must carry (None: any one sweep's). ``names``: the columns a
    part may have.
    """
    entries, intact = read_manifest(folder)
    result = Scan(manifest_damaged=not intact)
    trusted = entries if (entries is not None and intact) else None
    todo: list[tuple[Path, Entry | None]] = []
    for path in sorted(folder.glob(PART_PATTERN)):
        listed = trusted.get(path.name) if trusted is not None else None
        if trusted is not None and listed is None:
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
            name = path.name
            if reason is None and listed is None:
                reason = _adoptable(data, sweep, names)
            if reason is not None:
                result.problems.append(Problem(name, reason, listed.rows if listed else None))
                continue
            if listed is None:
                if sweep is None:  # the first adopted part names the sweep
                    sweep = identity(sweep_stamp(pq.read_schema(pa.BufferReader(data)).metadata))
                ids = pq.read_table(pa.BufferReader(data), columns=["trial_id"]).column("trial_id")
                listed = Entry.of(name, data, ids.combine_chunks())
                result.adopted.append(listed)
            result.good.append(listed)
            if use is not None:
                use(listed, data)
    return result


def quarantine(folder: Path, problems: Iterable[Problem]) -> list[str]:
    """Move the files of ``problems`` to ``folder/_quarantine/``; one line for each."""
    lines = []
    target = folder / QUARANTINE
    for problem in problems:
        source = folder / problem.file
        if not source.exists():
            continue
        target.mkdir(exist_ok=True)
        dest = target / problem.file
        n = 1
        while dest.exists():
            dest = target / f"{problem.file}.{n}"
            n += 1
        try:
            os.replace(source, dest)
        except OSError as e:
            raise SweepError(f"cannot move {source} to {target}: {e.strerror}") from None
        lines.append(f"moved {problem.file} to {QUARANTINE}/: {problem.reason}; its trials "
                     "are trained again")  # fmt: skip
    return lines
