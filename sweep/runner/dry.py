"""What a run would do, without doing it: trials, shapes, time, disk and memory,
by arithmetic (nothing is allocated, trained or written), and for a study to
a precision the trials it is likely to run."""

from __future__ import annotations

import pyarrow as pa

from kernels import cache

from ..config.grid import shapes
from ..config.options import RunOptions
from ..config.study import Study, SweepConfig
from ..store.coverage import Stored
from ..store.reader import stored_trials
from ..store.writer import Store
from . import calibration
from .estimate import (
    COMPILE_SECONDS,
    PART_ON_DISK,
    PART_SECONDS,
    ROW_OVERHEAD,
    SHAPE_SECONDS,
    STARTUP_SECONDS,
    _bytes,
    _duration,
    _tiled_module_name,
    check_size,
    estimate,
    estimated_seconds,
)
from .execute import execute
from .plan import Block, pieces, plan, values_per_trial
from .precision import forecast, stored_outcomes


def describe_dry_run(
    cfg: SweepConfig | Study, options: RunOptions, overwrite: bool = False, extend: bool = False
) -> str:
    """What :func:`sweep.api.run` would do with ``cfg`` and ``options``, as text.

    Reads ``options.out``, if it exists, for what is stored. The time is the
    planner's cost model scaled by what earlier runs on this machine measured
    against it (:mod:`sweep.runner.calibration`).
    """
    check_size(cfg, force=True, store=options.store, out=options.out)  # what no run could store
    folder = options.out
    done, damaged = stored_trials(folder) if folder.is_dir() else (Stored(), [])
    n_shapes = sum(1 for _ in shapes(cfg))
    rows, size = estimate(cfg, options.store, on_disk=True)
    ahead = None
    if getattr(cfg, "precision", None) is not None:
        stored = stored_outcomes(folder) if done.count else None
        ahead = forecast(cfg, stored, lambda blocks: _pilot(blocks, options))
        size = size * ahead.expected // max(rows, 1)
        rows = ahead.expected
    todo = pieces(ahead.todo if ahead else cfg, done, options.jobs, options.chunk_size)
    scale, runs = calibration.factor()
    training = estimated_seconds(todo, options.jobs, options.store) * scale
    basis = (
        (
            f"the planner's cost model x {scale:.2f}, from {runs} earlier run"
            f"{'s' * (runs != 1)} on this machine"
        )
        if runs
        else ("the planner's cost model; not yet calibrated on this machine")
    )
    tiled = {_tiled_module_name(p.block.shape) for p in todo if p.kernel == "tiled"}
    cached = {p.stem for p in cache.writable_cache_dir().glob("tinynet_tiled_*.py")}
    new_tiled = len(tiled - cached)
    chunks = sum(p.chunks for p in todo)
    seconds = (
        STARTUP_SECONDS
        + new_tiled * COMPILE_SECONDS
        + len({p.block.shape for p in todo}) * SHAPE_SECONDS
        + chunks * PART_SECONDS
        + training
    )
    size += chunks * PART_ON_DISK  # a part per chunk
    window = (
        2
        * options.jobs
        * max(
            (
                min(p.size, len(p.block))  # a chunk holds at most its block's trials
                * (ROW_OVERHEAD + 8 * values_per_trial(p.block.shape, options.store))
                for p in todo
            ),
            default=0,
        )
    )
    refused = Store.refusal(folder, cfg, overwrite, extend) if folder.is_dir() else None
    lines = [
        "dry run: nothing trained or written"
        + (f"; the run would be refused: {refused}" if refused else ""),
        f"trials: {'about ' * (ahead is not None)}{rows:,} in {n_shapes:,} "
        f"shape{'s' * (n_shapes != 1)}; "
        f"{done.count:,} already stored in {folder}, {sum(len(p.block) for p in todo):,} to "
        f"train in {sum(p.chunks for p in todo):,} chunks",
        f"time: {_duration(seconds)} on {options.jobs} worker{'s' * (options.jobs != 1)} ({basis})",
        f"disk: about {_bytes(size)} of Parquet",
        f"memory: about {_bytes(300e6 + window)} at peak (the driver, and up to two chunks "
        "per worker in flight)",
    ]
    if ahead is not None:
        lines.insert(2, f"precision: the trials each cell is likely to need, {ahead.basis}")
    if damaged:
        lines.append(
            f"damaged or foreign: {len(damaged):,} file{'s' * (len(damaged) != 1)} "
            f"({damaged[0].file}, ...) to move to _quarantine/; their trials are "
            "among those to train"
        )
    if new_tiled:
        lines.append(
            f"first use: {new_tiled} generated kernel{'s' * (new_tiled != 1)} to "
            f"compile (about {COMPILE_SECONDS:.0f} s each, once per machine; in the time)"
        )
    return "\n".join(lines)


def _pilot(blocks: list[Block], options: RunOptions) -> pa.Table:
    """The rows of ``blocks``' trials, trained here and not stored."""
    chunks = plan(blocks, jobs=options.jobs, chunk_size=options.chunk_size, store="summary")
    tables = [
        finished.table for finished in execute(chunks, jobs=options.jobs, backend="threading")
    ]
    return pa.concat_tables(tables)
