"""The manifest of a results folder, and the names and digests of its parts.

``DIR/_manifest.jsonl`` lists every part a run committed, one JSON object a
line: its name, size, row count, SHA-256 digest, first and last trial id,
the rectangle of trials it holds (``covers``), and a checksum of the line
itself. A part's name carries the start of its digest
(``part-<n>-<digest>.parquet``), so a part vouches for itself without the
manifest too. Each part's metadata carries its sweep's stamp.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa

from ..errors import SweepError
from . import files
from .layout import MANIFEST

#: Hex digits of a part's SHA-256 digest in its name.
NAME_DIGITS = 32

_DIGEST_NAME = re.compile(rf"part-\d+-([0-9a-f]{{{NAME_DIGITS}}})\.parquet")

#: Hex digits of a manifest line's checksum of itself.
LINE_DIGITS = 16


def new_digest():
    """A running :func:`digest` (``update(bytes)``, then ``hexdigest()``)."""
    return hashlib.sha256()


def digest(data: bytes) -> str:
    """The SHA-256 digest (hex) a part is recorded with: x86 CPUs with SHA
    extensions hash it at a higher rate than BLAKE2b, and a run hashes every part it
    writes and every part it resumes from."""
    return hashlib.sha256(data).hexdigest()


def part_name(number: int, sha256: str) -> str:
    """The name of a part: its number, then the start of its digest."""
    return f"part-{number:06d}-{sha256[:NAME_DIGITS]}.parquet"


def named_digest(name: str) -> str | None:
    """The digest a part's name carries (None: a name from before names carried one)."""
    match = _DIGEST_NAME.fullmatch(name)
    return match.group(1) if match else None


@dataclass(frozen=True)
class Entry:
    """A committed part, as its manifest line records it."""

    part: str
    bytes: int
    rows: int
    sha256: str
    first_id: str
    last_id: str
    #: The trials it holds as a rectangle (:func:`sweep.store.coverage.covers`), if they are one.
    covers: dict | None = None

    @classmethod
    def of(cls, name: str, data: bytes, ids: pa.Array, covers: dict | None = None) -> Entry:
        first, last = (ids[0].as_py(), ids[-1].as_py()) if len(ids) else ("", "")
        return cls(name, len(data), len(ids), digest(data), first, last, covers)


@dataclass
class Manifest:
    """A manifest as read: the entries of its sound lines by part name, and what is
    wrong with the rest."""

    entries: dict[str, Entry] = field(default_factory=dict)
    exists: bool = False
    #: Lines that are not a sound entry (bad JSON, or a checksum that differs).
    damaged: int = 0
    #: The last line was cut short (a run killed while appending it: its part was
    #: never renamed into place).
    torn: bool = False

    @property
    def intact(self) -> bool:
        return not self.damaged

    @property
    def trusted(self) -> bool:
        """Whether it lists every part: a part it does not list is foreign."""
        return self.exists and not self.damaged


def _line(entry: Entry) -> bytes:
    fields = {k: v for k, v in asdict(entry).items() if not (k == "covers" and v is None)}
    body = json.dumps(fields, separators=(",", ":"))
    check = hashlib.sha256(body.encode()).hexdigest()[:LINE_DIGITS]
    return (body[:-1] + f',"check":"{check}"}}\n').encode()


def _entry(line: bytes) -> Entry:
    """The entry of a manifest line; ValueError if it is not a sound one. Lines
    written before lines carried their checksum are taken as they read."""
    fields = json.loads(line)
    if not isinstance(fields, dict):
        raise ValueError("not an entry")
    check = fields.pop("check", None)
    entry = Entry(**fields)
    if check is not None and _line(entry) != line.strip() + b"\n":
        raise ValueError("its checksum differs")
    return entry


def read_manifest(folder: Path) -> Manifest:
    """The manifest of ``folder`` (``exists`` False: there is none)."""
    file = folder / MANIFEST
    try:
        text = files.read_regular(file)
    except FileNotFoundError:
        return Manifest()
    except files.NotRegular as e:
        raise SweepError(
            f"{file} is {e.kind}, not a manifest; remove it (a run rebuilds "
            "the manifest from the parts)"
        ) from None
    except OSError as e:
        raise SweepError(f"cannot read {file}: {e.strerror}") from None
    manifest = Manifest(exists=True)
    lines = text.split(b"\n")
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            entry = _entry(line)
        except (ValueError, TypeError):
            if number == len(lines) - 1:  # no newline yet: the append was cut short
                manifest.torn = True
                continue
            manifest.damaged += 1
            continue
        manifest.entries[entry.part] = entry
    return manifest


def append_entry(folder: Path, entry: Entry) -> None:
    """Add a part's line to the manifest, durably, before the part is renamed in
    (a failure leaves the manifest as it was)."""
    files.append(folder / MANIFEST, _line(entry))


def manifest_text(entries: Iterable[Entry]) -> bytes:
    """A whole manifest (see :func:`sweep.store.files.write_atomic` to replace one)."""
    return b"".join(_line(e) for e in entries)


def sweep_stamp(metadata: dict[bytes, bytes] | None) -> dict | None:
    """The ``sweep`` entry a part's metadata carries (format, created, spec), or None."""
    try:
        stamp = json.loads((metadata or {})[b"sweep"])
    except (KeyError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) else None


def identity(stamp: dict) -> str:
    """Which sweep a sidecar or a part's stamp belongs to: its creation time and
    its random id (sweeps created in the same second differ; sweeps written
    before ids existed have none)."""
    return f"{stamp.get('created')} {stamp.get('id') or ''}".strip()
