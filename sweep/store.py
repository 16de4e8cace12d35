"""A sweep's folder on disk: Parquet parts, a sidecar describing the sweep, a lock.

Layout of ``DIR``::

    part-<n>-<uuid>.parquet   rows of finished chunks, each written atomically
    _sweep.json               the sweep's spec(s), package versions, creation time
    .lock                     held while a run writes here

Readers (pandas, pyarrow, DuckDB's ``DIR/*.parquet``) see only complete
parts: a part is written to a dot-file that does not end in ``.parquet``,
synced, then renamed into place. The lock is an OS file lock (``flock``)
that the kernel releases when its process dies, so a crashed run never
leaves a stale lock behind.
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import filelock
import pyarrow as pa
import pyarrow.parquet as pq

from .config import SweepConfig
from .errors import ConfigError, SweepError
from .schema import ADDED_COLUMN_DEFAULTS, PARAM_COLUMNS, part_schema

if TYPE_CHECKING:
    import pandas as pd

SIDECAR = "_sweep.json"
LOCK = ".lock"
PART_PATTERN = "part-*.parquet"
TMP_PREFIX = ".tmp-"
FORMAT = "sweep-results/1"
#: Columns worth a Parquet dictionary (few distinct values). Trying one on
#: float lists and unique ids made writes 3.5x slower and parts 20% larger.
DICTIONARY_COLUMNS = ["task", "dtype", "exp"]
_OURS = (SIDECAR, LOCK)


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


def _write_atomic(path: Path, write) -> None:
    """Write through ``write(fileobj)`` to a temporary dot-file, sync, rename."""
    tmp = path.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


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


class Store:
    """An open sweep folder; create it with :meth:`Store.open`."""

    def __init__(self, path: Path, sidecar: dict[str, Any]):
        self.path = path
        self.sidecar = sidecar

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
        lock = filelock.FileLock(path / LOCK)
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            raise SweepError(
                f"{path} is in use by another sweep run (it holds {path / LOCK}); "
                "wait for it to finish or stop it"
            ) from None
        except OSError as e:
            raise ConfigError("out", f"cannot write to {path}: {e.strerror}") from None
        try:
            yield cls(path, cls._prepare(path, config, overwrite, extend))
        finally:
            lock.release()

    @staticmethod
    def _refusal(path: Path, config: SweepConfig, overwrite: bool, extend: bool) -> None:
        """ConfigError if ``path`` may not take ``config``'s trials (reads only)."""
        sidecar = read_sidecar(path)
        if sidecar is None:
            foreign = [p.name for p in path.iterdir() if p.name not in _OURS]
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

    @staticmethod
    def _prepare(path: Path, config: SweepConfig, overwrite: bool, extend: bool) -> dict:
        for tmp in path.glob(f"{TMP_PREFIX}*"):  # left by a killed run; never data
            tmp.unlink(missing_ok=True)
        Store._refusal(path, config, overwrite, extend)
        spec = config.to_dict()
        sidecar = read_sidecar(path)
        grew_from = None
        if sidecar is not None and spec not in sidecar["specs"]:
            if overwrite:
                for part in path.glob(PART_PATTERN):
                    part.unlink()
                sidecar = None
            elif _grows(sidecar, config):  # every stored trial is one of this sweep's
                grew_from, sidecar["specs"] = sidecar["specs"], []
        if sidecar is None:
            sidecar = {"format": FORMAT, "created": _now(), "specs": [],
                       "versions": package_versions(), "runs": []}  # fmt: skip
        if spec not in sidecar["specs"]:
            sidecar["specs"].append(spec)
        run = {"started": _now(), "spec": len(sidecar["specs"]) - 1,
               "versions": package_versions()}  # fmt: skip
        if grew_from is not None:
            run["grew_from"] = grew_from
        sidecar["runs"].append(run)
        _write_atomic(path / SIDECAR, lambda f: f.write(json.dumps(sidecar, indent=1).encode()))
        return sidecar

    def parts(self) -> list[Path]:
        return sorted(self.path.glob(PART_PATTERN))

    def done_ids(self) -> set[str]:
        """Ids of the trials already stored."""
        return stored_ids(self.path)

    def write(self, table: pa.Table) -> Path:
        """Store a chunk's rows as a new part, atomically."""
        meta = dict(part_schema().metadata)
        meta[b"sweep"] = json.dumps(
            {
                "format": FORMAT,
                "created": self.sidecar["created"],
                "spec": self.sidecar["specs"][-1],
            }
        ).encode()
        table = table.cast(part_schema()).replace_schema_metadata(meta)
        name = f"part-{len(self.parts()):06d}-{uuid.uuid4().hex[:8]}.parquet"
        target = self.path / name
        try:
            _write_atomic(
                target,
                lambda f: pq.write_table(
                    table, f, compression="lz4", use_dictionary=DICTIONARY_COLUMNS
                ),
            )
        except OSError as e:
            raise SweepError(f"cannot write results to {self.path}: {e.strerror or e}") from None
        return target


def stored_ids(path: Path) -> set[str]:
    """Ids of the trials stored in a results folder (reads only)."""
    done: set[str] = set()
    for part in sorted(path.glob(PART_PATTERN)):
        done.update(_read(part, columns=["trial_id"]).column("trial_id").to_pylist())
    return done


def read_sidecar(path: Path) -> dict | None:
    """The sidecar of a sweep folder, None if there is none."""
    file = path / SIDECAR
    if not file.exists():
        return None
    try:
        sidecar = json.loads(file.read_text())
        if sidecar.get("format") != FORMAT or not isinstance(sidecar.get("specs"), list):
            raise ValueError("unknown format")
    except (OSError, ValueError) as e:
        raise SweepError(f"{file} is unreadable ({e}); it does not describe a sweep") from None
    return sidecar


def _read(part: Path, columns: list[str] | None = None) -> pa.Table:
    try:
        return pq.read_table(part, columns=columns)
    except (OSError, pa.ArrowException) as e:
        raise SweepError(f"cannot read {part}: {e}") from None


def load(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """All rows stored in a sweep folder as one DataFrame, ordered by trial parameters.

    ``columns`` reads only those columns (plus ``trial_id`` and the trial
    parameters, which order the rows): faster for summaries.
    """
    path = Path(path)
    if not path.is_dir():
        raise SweepError(f"{path} is not a sweep folder")
    if read_sidecar(path) is None:
        raise SweepError(f"{path} holds no sweep ({SIDECAR} is missing)")
    import pyarrow.dataset as ds  # loads pandas: only when results are read

    parts = [str(p) for p in sorted(path.glob(PART_PATTERN))]
    try:
        wanted = None
        if columns is not None:
            unknown = [c for c in columns if c not in part_schema().names]
            if unknown:
                raise SweepError(f"no column {unknown[0]!r} in the results")
            keep = {"trial_id", *PARAM_COLUMNS, *columns}
            wanted = [c for c in part_schema().names if c in keep]
        dataset = ds.dataset(parts, schema=part_schema(), format="parquet")
        table = dataset.to_table(columns=wanted)
    except (OSError, pa.ArrowException) as e:
        raise SweepError(f"cannot read results in {path}: {e}") from None
    frame = table.replace_schema_metadata(part_schema().metadata).to_pandas()
    # Parts written before a column existed hold none: their trials ran at its default.
    for name, default in ADDED_COLUMN_DEFAULTS.items():
        if name in frame and frame[name].isna().any():
            frame[name] = frame[name].where(frame[name].notna(), default)
    return frame.sort_values(list(PARAM_COLUMNS), kind="stable", ignore_index=True)
