"""What a sweep will cost before it runs: rows, bytes and seconds, by arithmetic
(nothing is allocated or trained), and the limits a run is held to."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from kernels import tiled
from kernels.model import curve_length

from ..config.grid import Shape, blocks, recipe_of, task_of
from ..config.options import MAX_BYTES, MAX_TRIALS
from ..config.study import Study, SweepConfig
from ..errors import ConfigError
from .plan import MAX_CHUNK_VALUES, Piece, row_seconds, values_per_trial

#: Estimated bytes of one row besides its float lists (ids, parameters, stats),
#: in memory; and on disk, where Parquet's encodings shrink those columns (the
#: floats stay about 8 bytes each). benchmarks/estimates.py holds both to what
#: runs write.
ROW_OVERHEAD = 160
ROW_ON_DISK = 27
#: Bytes of a part file besides its rows: Parquet's footer (the schema and
#: every column chunk's metadata), which counts in sweeps of many small parts.
PART_ON_DISK = 30_000
#: Seconds a run takes besides training and storing: starting up (imports,
#: workers), and compiling each generated kernel a machine has not compiled
#: before (one at a time). benchmarks/estimates.py derives both.
STARTUP_SECONDS = 1.3
COMPILE_SECONDS = 3.7
#: Seconds for each shape to train (its recipe built, its kernel loaded) and for
#: each part to write (encoded, synced, recorded): what sweeps of many small
#: shapes or parts add. benchmarks/estimates.py derives both.
SHAPE_SECONDS = 0.015
PART_SECONDS = 0.005


def estimate(
    config: SweepConfig | Study, store: str = "full", on_disk: bool = False
) -> tuple[int, int]:
    """(rows, bytes) the results of ``config`` will take in memory, or as Parquet."""
    per_row = ROW_ON_DISK if on_disk else ROW_OVERHEAD
    rows = total = 0
    for block in blocks(config):
        rows += len(block)
        total += len(block) * (per_row + 8 * values_per_trial(block.shape, store))
    return rows, total


def check_size(
    config: SweepConfig, force: bool = False, store: str = "full", out: Path | None = None
) -> None:
    """Refuse sweeps above :data:`MAX_TRIALS` or :data:`MAX_BYTES` unless forced, and,
    forced or not, trials whose row could not be stored at all and results that
    would not fit on the disk of ``out``."""
    largest = max(blocks(config), key=lambda b: values_per_trial(b.shape, store)).shape
    values = values_per_trial(largest, store)
    if values > MAX_CHUNK_VALUES:
        curve = curve_length(largest.epochs, largest.curve_every, largest.curve)
        field, way = (
            ("curve_every", "record fewer loss-curve points (--curve-every)")
            if (2 * curve > values)
            else ("width", "train narrower networks")
        )
        raise ConfigError(
            field,
            f"a trial would store {values:,} values (loss curve, weights, outputs), more "
            f"than a row holds ({MAX_CHUNK_VALUES:,}); {way}",
        )
    rows, size = estimate(config, store)
    free = _free_bytes(out) if out is not None else None
    if free is not None and size > 2 * free:  # the estimate is good to a factor of two
        raise ConfigError(
            "grid",
            f"{rows:,} trials, about {_bytes(size)} of results, far more than the "
            f"{_bytes(free)} free where {out} is",
        )
    if not force and (rows > MAX_TRIALS or size > MAX_BYTES):
        raise ConfigError(
            "grid",
            f"{rows:,} trials, about {size / 2**30:.1f} GiB of results, exceeds the "
            f"limit of {MAX_TRIALS:,} trials or {MAX_BYTES / 2**30:.0f} GiB; use --force "
            "(force=True) to run it anyway",
        )


def _free_bytes(out: Path) -> int | None:
    """Bytes free on the file system that holds (or would hold) ``out``."""
    folder = out.absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        usage = shutil.disk_usage(folder)
    except OSError:
        return None
    return usage.free if usage.total else None  # (a pseudo file system: no figure)


def estimated_seconds(todo: list[Piece], jobs: int, store: str = "full") -> float:
    """The planner's estimate of training ``todo`` on ``jobs`` workers and storing
    its rows."""
    chunks = sum(p.chunks for p in todo)
    if not chunks:
        return 0.0
    per_trial = [p.seconds_per_trial + row_seconds(p.block.shape, store) for p in todo]
    total = sum(len(p.block) * s for p, s in zip(todo, per_trial, strict=True))
    longest = max(min(p.size, len(p.block)) * s for p, s in zip(todo, per_trial, strict=True))
    return max(total / min(jobs, chunks), longest)


def _tiled_module_name(shape: Shape) -> str:
    X, Y = task_of(shape)
    text = tiled._fitting_plan(X, Y, shape.width, recipe_of(shape))[1]
    return "tinynet_tiled_" + hashlib.sha256(text.encode()).hexdigest()[:20]


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 5400:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


def _bytes(n: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} bytes"
