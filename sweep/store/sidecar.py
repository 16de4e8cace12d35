"""A sweep folder's sidecar (``_sweep.json``): the sweep's spec(s), package
versions, creation time and identity; rebuilt from the parts' stamps when
it is missing or damaged."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import SweepError
from . import files
from .layout import PART_PATTERN, SIDECAR
from .manifest import identity, read_manifest, sweep_stamp
from .provenance import package_versions

FORMAT = "sweep-results/1"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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
    rebuilt = {
        "format": FORMAT,
        "created": stamps[0]["created"],
        "specs": specs,
        "versions": package_versions(),
        "runs": [],
        "rebuilt": _now(),
    }
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
    return rebuilt, [
        f"{path / SIDECAR} {'is missing' if problem == 'missing' else 'is invalid'}: "
        "the sweep's description was read from its parts; run the sweep again "
        "to repair it"
    ]


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
