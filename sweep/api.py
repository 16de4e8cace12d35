"""The Python API: ``sweep.run`` trains a sweep into a folder, ``sweep.load`` reads one.

The CLI is a thin shell over these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config.grid import grid_frame
from .config.options import RunOptions
from .config.resolve import resolve
from .config.study import SweepConfig
from .errors import Interrupted
from .runner.dry import describe_dry_run
from .runner.estimate import (
    check_size,
)
from .runner.execute import check_backend
from .runner.precision import Target, describe, run_rounds
from .runner.training import Trainer, first_line, progress_wanted
from .store.reader import load
from .store.writer import Store

if TYPE_CHECKING:  # pandas loads when results are read, not before training starts
    import pandas as pd


__all__ = [
    "run",
    "train",
    "dry_run",
    "load",
    "resolve",
    "check_size",
    "RunOptions",
    "Interrupted",
]


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
    show = progress_wanted() if progress is None else progress
    notes = []
    with Store.open(options.out, cfg, overwrite=overwrite, extend=extend) as store:
        trainer = Trainer(store, options, show)
        if progress is not False:
            trainer.say(first_line(options.out))
        for note in (*cfg.notes, *store.notes):  # always said: a file taken for a task, ...
            trainer.say(note)
        if show and store.done.count:
            trainer.say(f"resuming: {store.done.count:,} trials already stored in {options.out}")
        if getattr(cfg, "precision", None) is not None:
            cells = run_rounds(trainer, cfg)
            notes.append(describe(cells, Target.of_config(cfg)))
        else:
            trainer.train(cfg)
        trainer.close()
        store.finish()
    whole = len(store.sidecar["specs"]) == 1
    return Trained(cfg, options.out, whole, trainer.trained, store.done.count, notes)


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
    overwrite: bool = False,
    extend: bool = False,
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
    return describe_dry_run(cfg, options, overwrite, extend)


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
    #: What a reader should know of the run (a study to a precision: what it reached).
    notes: list[str] = field(default_factory=list)

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
