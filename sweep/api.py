"""The Python API: ``sweep.run`` trains a sweep into a folder, ``sweep.load`` reads one.

The CLI is a thin shell over these two functions.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import calibration
from .config import (
    RUN_KEYS,
    RunOptions,
    Study,
    SweepConfig,
    default_jobs,
    make_run_options,
    make_study,
    read_toml,
)
from .errors import ConfigError, SweepError, Terminated
from .execute import check_backend, execute, start_here
from .grid import blocks, grid_frame, recipe_of, shapes
from .plan import plan, values_per_trial
from .schema import part_schema
from .store import Store, load

if TYPE_CHECKING:  # pandas loads when results are read, not before training starts
    import pandas as pd

__all__ = ["run", "train", "dry_run", "load", "resolve", "check_size", "RunOptions"]

#: Sweeps above these estimates are refused unless ``force=True`` (``--force``).
MAX_TRIALS = 10_000_000
MAX_BYTES = 16 * 2**30
#: Estimated bytes of one row besides its float lists (ids, parameters, stats).
ROW_OVERHEAD = 160


def resolve(
    config: SweepConfig | Mapping[str, Any] | str | Path | None = None,
    *, name: str | None = None, out: str | Path | None = None, jobs: int | str | None = None,
    backend: str | None = None, store: str | None = None, chunk_size: int | str | None = None,
    **settings: Any,
) -> tuple[SweepConfig | Study, RunOptions]:  # fmt: skip
    """Turn any accepted form of input into a config and run options, or ConfigError.

    ``config`` is a :class:`SweepConfig`, a mapping of settings, or the path
    of a TOML file; ``settings`` (config keys) and the keyword options
    override what it says. ``None`` means "not given".
    """
    values: dict[str, Any] = {}
    if isinstance(config, (SweepConfig, Study)):
        values = config.to_dict()
    elif isinstance(config, (str, Path)):
        values = read_toml(config)
    elif isinstance(config, Mapping):
        values = dict(config)
    elif config is not None:
        raise ConfigError("config", f"expected a SweepConfig, mapping or TOML path, got {config!r}")
    given = {"name": name, "out": out, "jobs": jobs, "backend": backend, "store": store}
    chosen = {k: given[k] if given[k] is not None else values.get(k) for k in RUN_KEYS}
    cfg = make_study({k: v for k, v in values.items() if k not in RUN_KEYS}, **settings)
    return cfg, make_run_options(**chosen, chunk_size=chunk_size)


def estimate(config: SweepConfig | Study, store: str = "full") -> tuple[int, int]:
    """(rows, bytes) the results of ``config`` will take, before compression."""
    rows = total = 0
    for block in blocks(config):
        rows += len(block)
        total += len(block) * (ROW_OVERHEAD + 8 * values_per_trial(block.shape, store))
    return rows, total


def check_size(config: SweepConfig, force: bool = False, store: str = "full") -> None:
    """Refuse sweeps above :data:`MAX_TRIALS` or :data:`MAX_BYTES` unless forced."""
    rows, size = estimate(config, store)
    if not force and (rows > MAX_TRIALS or size > MAX_BYTES):
        raise ConfigError(
            "grid", f"{rows:,} trials, about {size / 2**30:.1f} GiB of results, exceeds the "
            f"limit of {MAX_TRIALS:,} trials or {MAX_BYTES / 2**30:.0f} GiB; use --force "
            "(force=True) to run it anyway",
        )  # fmt: skip


def train(
    config: SweepConfig | Mapping[str, Any] | str | Path | None = None,
    *, out: str | Path | None = None, name: str | None = None, jobs: int | None = None,
    backend: str | None = None, scheduler: str | None = None, progress: bool | None = None,
    overwrite: bool = False, extend: bool = False, force: bool = False,
    chunk_size: int | None = None, store: str | None = None, **settings: Any,
) -> Trained:  # fmt: skip
    """Train every trial of a sweep not yet stored in ``out``; see :func:`run`."""
    cfg, options = resolve(config, name=name, out=out, jobs=jobs, backend=backend, store=store,
                           chunk_size=chunk_size, **settings)  # fmt: skip
    check_size(cfg, force, options.store)
    check_backend(options.backend)
    out_dir = options.out
    show = sys.stderr.isatty() if progress is None else progress
    with Store.open(out_dir, cfg, overwrite=overwrite, extend=extend) as store:
        for note in store.notes:  # files moved aside, a sidecar rebuilt: always said
            print(note, file=sys.stderr)
        done = store.done
        chunks = plan(cfg, done, options.jobs, options.chunk_size, options.store)
        todo = sum(c.size for c in chunks)
        jobs, note = worker_count(options.jobs, options.backend, len(chunks), force)
        if note:
            print(note, file=sys.stderr)
        if chunks:
            start_here(options.jobs, options.backend)
        # Off the path to the first result: the part schema needs pandas.
        threading.Thread(target=part_schema, daemon=True).start()
        bar = None
        if show:  # tqdm loads only for a bar that shows (50 ms of start-up)
            from tqdm.auto import tqdm

            bar = tqdm(total=todo, unit="trial", dynamic_ncols=True, desc=f"{out_dir}",
                       leave=True)  # fmt: skip
            if done.count:
                # With the bar, on stderr: stdout carries results (the summary).
                bar.write(f"resuming: {done.count:,} trials already stored in {out_dir}",
                          file=sys.stderr)  # fmt: skip
        timings = []
        # Small parts are encoded where the threads train (see Store.encode).
        encode = store.encode if options.store == "summary" else None
        try:
            with bar if bar is not None else nullcontext():
                for done_chunk in execute(chunks, jobs=jobs, backend=options.backend,
                                          scheduler=scheduler, encode=encode):  # fmt: skip
                    store.write(done_chunk.table, done_chunk.chunk.covers)
                    done_chunk.chunk.release()
                    timings.append((done_chunk.chunk.est_seconds, done_chunk.seconds))
                    if bar is not None:
                        bar.update(done_chunk.table.num_rows)
            calibration.record_chunks(timings)
            store.finish()
        except KeyboardInterrupt as e:
            terminated = isinstance(e, Terminated)
            raise Interrupted(
                f"{'terminated' if terminated else 'interrupted'}: {store.stored:,} trials are "
                f"stored in {out_dir}; run the same command again to resume",
                terminated,
            ) from None
    return Trained(cfg, out_dir, len(store.sidecar["specs"]) == 1, todo, done.count)


def worker_count(jobs: int, backend: str, n_chunks: int, force: bool) -> tuple[int, str | None]:
    """Workers to start, and a note if fewer than asked.

    Worker processes (loky, a local Dask cluster) each take ~200 MB and a
    Numba start-up: never more than there are chunks, nor (unless
    ``force``) than there are cores.
    """
    if backend not in ("loky", "dask"):
        return jobs, None
    cores = default_jobs()
    wanted = jobs if force else min(jobs, cores)
    note = None
    if wanted < jobs:
        note = (f"jobs: {jobs} worker processes on {cores} cores would only compete; starting "
                f"{wanted} (--force starts {jobs})")  # fmt: skip
    return max(1, min(wanted, n_chunks)), note


def estimated_seconds(chunks: list, jobs: int) -> float:
    """The planner's estimate of training ``chunks`` on ``jobs`` workers."""
    if not chunks:
        return 0.0
    total = sum(c.est_seconds for c in chunks)
    return max(total / min(jobs, len(chunks)), max(c.est_seconds for c in chunks))


def dry_run(
    config: SweepConfig | Mapping[str, Any] | str | Path | None = None,
    *, out: str | Path | None = None, name: str | None = None, jobs: int | None = None,
    backend: str | None = None, chunk_size: int | None = None, store: str | None = None,
    **settings: Any,
) -> str:  # fmt: skip
    """What :func:`run` would do, as text: trials, shapes, time, disk and memory.

    Writes nothing (reads ``out``, if it exists, for what is stored). The time
    is the planner's cost model scaled by what earlier runs on this machine
    measured against it (:mod:`sweep.calibration`).
    """
    from kernels import codegen

    cfg, options = resolve(config, name=name, out=out, jobs=jobs, backend=backend, store=store,
                           chunk_size=chunk_size, **settings)  # fmt: skip
    from .coverage import Stored
    from .store import stored_trials

    folder = options.out
    done, damaged = stored_trials(folder) if folder.is_dir() else (Stored(), [])
    chunks = plan(cfg, done, options.jobs, options.chunk_size, options.store)
    n_shapes = sum(1 for _ in shapes(cfg))
    rows, size = estimate(cfg, options.store)
    scale, runs = calibration.factor()
    seconds = estimated_seconds(chunks, options.jobs) * scale
    basis = (f"the planner's cost model x {scale:.2f}, from {runs} earlier run"
             f"{'s' * (runs != 1)} on this machine") if runs else (
             "the planner's cost model; not yet calibrated on this machine")  # fmt: skip
    tiled = {(c.shape.task, c.shape.width, recipe_of(c.shape)) for c in chunks
             if c.kernel == "tiled"}  # fmt: skip
    cached = {p.stem for p in codegen.writable_cache_dir().glob("tinynet_tiled_*.py")}
    new_tiled = sum(1 for task, width, recipe in tiled
                    if _tiled_module_name(task, width, recipe) not in cached)  # fmt: skip
    window = 2 * options.jobs * max((c.size * (ROW_OVERHEAD + 8 * values_per_trial(c.shape,
                                                                                   c.store))
                                     for c in chunks), default=0)  # fmt: skip
    lines = [
        "dry run: nothing trained or written",
        f"trials: {rows:,} in {n_shapes:,} shape{'s' * (n_shapes != 1)}; "
        f"{done.count:,} already stored in {folder}, {sum(c.size for c in chunks):,} to train "
        f"in {len(chunks):,} chunks",
        f"time: {_duration(seconds)} on {options.jobs} worker{'s' * (options.jobs != 1)} ({basis})",
        f"disk: about {_bytes(size)} of Parquet",
        f"memory: about {_bytes(300e6 + window)} at peak (the driver, and up to two chunks "
        "per worker in flight)",
    ]
    if damaged:
        lines.append(f"damaged or foreign: {len(damaged):,} file{'s' * (len(damaged) != 1)} "
                     f"({damaged[0].file}, ...) to move to _quarantine/; their trials are "
                     "among those to train")  # fmt: skip
    if new_tiled:
        lines.append(f"first use: {new_tiled} generated kernel{'s' * (new_tiled != 1)} to "
                     "compile (2-10 s each, once per machine)")  # fmt: skip
    return "\n".join(lines)


def _tiled_module_name(task: str, width: int, recipe) -> str:
    import hashlib

    from kernels import get_task, tiled

    X, Y = get_task(task)
    text = tiled._fitting_plan(X, Y, width, recipe)[1]
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
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n:.0f} bytes"


@dataclass(frozen=True)
class Trained:
    """What :func:`train` did: the config, the folder, whether the folder holds this
    sweep only (False once extended with another), trials trained now and stored
    before."""

    config: SweepConfig
    out: Path
    whole: bool
    trained: int
    stored_before: int

    @property
    def line(self) -> str:
        """One line saying where the results are and what this run did."""
        total = self.trained + self.stored_before
        return (f"results in {self.out}: {total:,} trials ({self.trained:,} trained now, "
                f"{self.stored_before:,} already stored)")  # fmt: skip


def run(
    config: SweepConfig | Mapping[str, Any] | str | Path | None = None,
    *, columns: list[str] | None = None, **options: Any,
) -> pd.DataFrame:  # fmt: skip
    """Train every trial of a sweep not yet stored in ``out`` and return the sweep's rows.

    ``config``: a :class:`SweepConfig`, a mapping or a TOML path; keyword
    settings (``seeds=``, ``lr=``, ``width=``, ...) override it. Options:
    ``out`` (default ``results/<name>``), ``name``, ``jobs`` (default: all
    cores), ``backend`` (threading, loky, sequential, dask), ``scheduler``
    (a Dask scheduler address), ``progress`` (None: a bar on a terminal),
    ``overwrite``, ``extend``, ``force`` (above the size limit),
    ``chunk_size`` (see :mod:`sweep.plan`), ``store`` (``full``, or
    ``summary``: no weights, outputs or loss curves). Results stream to Parquet parts
    as chunks finish; running again resumes. ``columns`` limits the
    returned columns.
    """
    done = train(config, **options)
    frame = load(done.out, columns)
    if not done.whole:  # the folder also holds other sweeps' trials
        frame = frame[frame["trial_id"].isin(set(grid_frame(done.config)["trial_id"]))]
        frame = frame.reset_index(drop=True)
    return frame


class Interrupted(SweepError):
    """The run was stopped (Ctrl-C, or SIGTERM if ``terminated``); what finished is stored."""

    def __init__(self, message: str, terminated: bool = False):
        super().__init__(message)
        self.terminated = terminated
