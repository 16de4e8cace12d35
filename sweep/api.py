"""The Python API: ``sweep.run`` trains a sweep into a folder, ``sweep.load`` reads one.

The CLI is a thin shell over these functions.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kernels import codegen

from .config.grid import grid_frame, recipe_of, shapes
from .config.options import RUN_KEYS, RunOptions, make_run_options
from .config.schema import part_schema
from .config.study import Study, SweepConfig, make_study
from .config.toml import read_toml
from .errors import ConfigError, SweepError, Terminated
from .runner import calibration
from .runner.estimate import (
    ROW_OVERHEAD,
    _bytes,
    _duration,
    _tiled_module_name,
    check_size,
    estimate,
    estimated_seconds,
)
from .runner.execute import check_backend, execute, start_here
from .runner.plan import pieces, plan, values_per_trial
from .store.coverage import Stored
from .store.reader import load, stored_trials
from .store.writer import Store

if TYPE_CHECKING:  # pandas loads when results are read, not before training starts
    import pandas as pd


__all__ = ["run", "train", "dry_run", "load", "resolve", "check_size", "RunOptions"]


def resolve(
    config: SweepConfig | Mapping[str, Any] | str | Path | None = None,
    *,
    name: str | None = None,
    out: str | Path | None = None,
    jobs: int | str | None = None,
    backend: str | None = None,
    store: str | None = None,
    chunk_size: int | str | None = None,
    scheduler: str | None = None,
    force: bool = False,
    **settings: Any,
) -> tuple[SweepConfig | Study, RunOptions]:
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
    return cfg, make_run_options(**chosen, chunk_size=chunk_size, scheduler=scheduler, force=force)


def train(
    config: SweepConfig | Mapping[str, Any] | str | Path | None = None,
    *,
    out: str | Path | None = None,
    name: str | None = None,
    jobs: int | None = None,
    backend: str | None = None,
    scheduler: str | None = None,
    progress: bool | None = None,
    overwrite: bool = False,
    extend: bool = False,
    force: bool = False,
    chunk_size: int | None = None,
    store: str | None = None,
    **settings: Any,
) -> Trained:
    """Train every trial of a sweep not yet stored in ``out``; see :func:`run`."""
    cfg, options = resolve(
        config,
        name=name,
        out=out,
        jobs=jobs,
        backend=backend,
        store=store,
        chunk_size=chunk_size,
        scheduler=scheduler,
        force=force,
        **settings,
    )
    check_size(cfg, force, options.store, options.out)
    check_backend(options.backend)
    out_dir = options.out
    show = sys.stderr.isatty() if progress is None else progress
    with Store.open(out_dir, cfg, overwrite=overwrite, extend=extend) as store:
        if progress is not False:  # where the results go, first (a TOML's out may be far away)
            print(f"training into {out_dir.absolute()}", file=sys.stderr)
        for note in store.notes:  # files moved aside, a sidecar rebuilt: always said
            print(note, file=sys.stderr)
        done = store.done
        chunks = plan(cfg, done, options.jobs, options.chunk_size, options.store)
        todo = sum(c.size for c in chunks)
        jobs = worker_count(options.jobs, options.backend, len(chunks))
        if chunks:
            start_here(options.jobs, options.backend)
        # Off the path to the first result: the part schema needs pandas.
        threading.Thread(target=part_schema, daemon=True).start()
        bar = None
        if show:  # tqdm loads only for a bar that shows
            from tqdm.auto import tqdm

            bar = tqdm(total=todo, unit="trial", dynamic_ncols=True, desc=f"{out_dir}", leave=True)
            if done.count:
                # With the bar, on stderr: stdout carries results (the summary).
                bar.write(
                    f"resuming: {done.count:,} trials already stored in {out_dir}", file=sys.stderr
                )
        timings = []
        # Small parts are encoded where the threads train (see Store.encode).
        encode = store.encode if options.store == "summary" else None
        try:
            with bar if bar is not None else nullcontext():
                for done_chunk in execute(
                    chunks,
                    jobs=jobs,
                    backend=options.backend,
                    scheduler=options.scheduler,
                    encode=encode,
                ):
                    store.write(done_chunk.table, done_chunk.chunk.covers)
                    done_chunk.chunk.release()
                    timings.append((done_chunk.chunk.est_seconds, done_chunk.seconds))
                    if bar is not None:
                        bar.update(done_chunk.table.num_rows)
            calibration.record_chunks(timings)
            store.finish()
        except KeyboardInterrupt as e:
            signum = e.signum if isinstance(e, Terminated) else signal.SIGINT
            raise Interrupted(
                f"{'interrupted' if signum == signal.SIGINT else 'terminated'}: "
                f"{store.stored:,} trials are stored in {out_dir}; run the same command again "
                "to resume",
                signum,
            ) from None
    return Trained(cfg, out_dir, len(store.sidecar["specs"]) == 1, todo, done.count)


def worker_count(jobs: int, backend: str, n_chunks: int) -> int:
    """Workers to start: worker processes (loky, a local Dask cluster) each take
    their own memory and Numba start-up, so never more than there are chunks."""
    if backend not in ("loky", "dask"):
        return jobs
    return max(1, min(jobs, n_chunks))


def dry_run(
    config: SweepConfig | Mapping[str, Any] | str | Path | None = None,
    *,
    out: str | Path | None = None,
    name: str | None = None,
    jobs: int | None = None,
    backend: str | None = None,
    chunk_size: int | None = None,
    store: str | None = None,
    scheduler: str | None = None,
    force: bool = False,
    **settings: Any,
) -> str:
    """What :func:`run` would do, as text: trials, shapes, time, disk and memory.

    Writes nothing (reads ``out``, if it exists, for what is stored). The time
    is the planner's cost model scaled by what earlier runs on this machine
    measured against it (:mod:`sweep.runner.calibration`).
    """

    cfg, options = resolve(
        config,
        name=name,
        out=out,
        jobs=jobs,
        backend=backend,
        store=store,
        chunk_size=chunk_size,
        scheduler=scheduler,
        force=force,
        **settings,
    )
    check_size(cfg, force=True, store=options.store, out=options.out)  # what no run could store
    folder = options.out
    done, damaged = stored_trials(folder) if folder.is_dir() else (Stored(), [])
    todo = pieces(cfg, done, options.jobs, options.chunk_size)
    n_shapes = sum(1 for _ in shapes(cfg))
    rows, size = estimate(cfg, options.store)
    scale, runs = calibration.factor()
    seconds = estimated_seconds(todo, options.jobs) * scale
    basis = (
        (
            f"the planner's cost model x {scale:.2f}, from {runs} earlier run"
            f"{'s' * (runs != 1)} on this machine"
        )
        if runs
        else ("the planner's cost model; not yet calibrated on this machine")
    )
    tiled = {
        (p.block.shape.task, p.block.shape.width, recipe_of(p.block.shape))
        for p in todo
        if p.kernel == "tiled"
    }
    cached = {p.stem for p in codegen.writable_cache_dir().glob("tinynet_tiled_*.py")}
    new_tiled = sum(
        1 for task, width, recipe in tiled if _tiled_module_name(task, width, recipe) not in cached
    )
    window = (
        2
        * options.jobs
        * max(
            (
                p.size * (ROW_OVERHEAD + 8 * values_per_trial(p.block.shape, options.store))
                for p in todo
            ),
            default=0,
        )
    )
    lines = [
        "dry run: nothing trained or written",
        f"trials: {rows:,} in {n_shapes:,} shape{'s' * (n_shapes != 1)}; "
        f"{done.count:,} already stored in {folder}, {sum(len(p.block) for p in todo):,} to "
        f"train in {sum(p.chunks for p in todo):,} chunks",
        f"time: {_duration(seconds)} on {options.jobs} worker{'s' * (options.jobs != 1)} ({basis})",
        f"disk: about {_bytes(size)} of Parquet",
        f"memory: about {_bytes(300e6 + window)} at peak (the driver, and up to two chunks "
        "per worker in flight)",
    ]
    if damaged:
        lines.append(
            f"damaged or foreign: {len(damaged):,} file{'s' * (len(damaged) != 1)} "
            f"({damaged[0].file}, ...) to move to _quarantine/; their trials are "
            "among those to train"
        )
    if new_tiled:
        lines.append(
            f"first use: {new_tiled} generated kernel{'s' * (new_tiled != 1)} to "
            "compile (2-10 s each, once per machine)"
        )
    return "\n".join(lines)


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
        return (
            f"results in {self.out.absolute()}: {total:,} trials ({self.trained:,} trained "
            f"now, {self.stored_before:,} already stored)"
        )


def run(
    config: SweepConfig | Mapping[str, Any] | str | Path | None = None,
    *,
    columns: list[str] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Train every trial of a sweep not yet stored in ``out`` and return the sweep's rows.

    ``config``: a :class:`SweepConfig`, a mapping or a TOML path; keyword
    settings (``seeds=``, ``lr=``, ``width=``, ...) override it. Options:
    ``out`` (default ``results/<name>``), ``name``, ``jobs`` (default: all
    cores), ``backend`` (threading, loky, sequential, dask), ``scheduler``
    (a Dask scheduler address), ``progress`` (None: a bar on a terminal),
    ``overwrite``, ``extend``, ``force`` (above the size limit),
    ``chunk_size`` (see :mod:`sweep.runner.plan`), ``store`` (``full``, or
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
    """The run was stopped (Ctrl-C, SIGTERM or SIGHUP: ``signum``); what finished is stored."""

    def __init__(self, message: str, signum: int = signal.SIGINT):
        super().__init__(message)
        self.signum = signum
