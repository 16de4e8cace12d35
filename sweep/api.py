"""The Python API: ``sweep.run`` trains a sweep into a folder, ``sweep.load`` reads one.

The CLI is a thin shell over these two functions.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import RUN_KEYS, RunOptions, SweepConfig, make_config, make_run_options, read_toml
from .errors import ConfigError, SweepError
from .execute import check_backend, execute, start_here
from .grid import grid_frame, shapes
from .plan import plan, values_per_trial
from .schema import part_schema
from .store import Store, load

if TYPE_CHECKING:  # pandas loads when results are read, not before training starts
    import pandas as pd

__all__ = ["run", "train", "load", "resolve", "check_size", "RunOptions"]

#: Sweeps above these estimates are refused unless ``force=True`` (``--force``).
MAX_TRIALS = 10_000_000
MAX_BYTES = 16 * 2**30
#: Estimated bytes of one row besides its float lists (ids, parameters, stats).
ROW_OVERHEAD = 160


def resolve(
    config: SweepConfig | Mapping[str, Any] | str | Path | None = None,
    *, name: str | None = None, out: str | Path | None = None, jobs: int | str | None = None,
    backend: str | None = None, chunk_size: int | str | None = None, **settings: Any,
) -> tuple[SweepConfig, RunOptions]:  # fmt: skip
    """Turn any accepted form of input into a config and run options, or ConfigError.

    ``config`` is a :class:`SweepConfig`, a mapping of settings, or the path
    of a TOML file; ``settings`` (config keys) and the keyword options
    override what it says. ``None`` means "not given".
    """
    values: dict[str, Any] = {}
    if isinstance(config, SweepConfig):
        values = config.to_dict()
    elif isinstance(config, (str, Path)):
        values = read_toml(config)
    elif isinstance(config, Mapping):
        values = dict(config)
    elif config is not None:
        raise ConfigError("config", f"expected a SweepConfig, mapping or TOML path, got {config!r}")
    given = {"name": name, "out": out, "jobs": jobs, "backend": backend}
    chosen = {k: given[k] if given[k] is not None else values.get(k) for k in RUN_KEYS}
    cfg = make_config({k: v for k, v in values.items() if k not in RUN_KEYS}, **settings)
    return cfg, make_run_options(**chosen, chunk_size=chunk_size)


def estimate(config: SweepConfig) -> tuple[int, int]:
    """(rows, bytes) the results of ``config`` will take, before compression."""
    per_shape = len(config.seeds) * len(config.lr)
    rows = total = 0
    for shape in shapes(config):
        rows += per_shape
        total += per_shape * (ROW_OVERHEAD + 8 * values_per_trial(shape))
    return rows, total


def check_size(config: SweepConfig, force: bool = False) -> None:
    """Refuse sweeps above :data:`MAX_TRIALS` or :data:`MAX_BYTES` unless forced."""
    rows, size = estimate(config)
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
    chunk_size: int | None = None, **settings: Any,
) -> tuple[SweepConfig, Path, bool]:  # fmt: skip
    """Train every trial of a sweep not yet stored in ``out``; see :func:`run`.

    Returns the config, the output folder, and whether the folder holds
    only this sweep (False once extended with another).
    """
    cfg, options = resolve(config, name=name, out=out, jobs=jobs, backend=backend,
                           chunk_size=chunk_size, **settings)  # fmt: skip
    check_size(cfg, force)
    check_backend(options.backend)
    out_dir = options.out
    show = sys.stderr.isatty() if progress is None else progress
    with Store.open(out_dir, cfg, overwrite=overwrite, extend=extend) as store:
        done = store.done_ids()
        chunks = plan(cfg, done, options.jobs, options.chunk_size)
        todo = sum(c.size for c in chunks)
        if chunks:
            start_here(options.jobs, options.backend)
        # Off the path to the first result: the part schema needs pandas.
        threading.Thread(target=part_schema, daemon=True).start()
        bar = None
        if show:  # tqdm loads only for a bar that shows (50 ms of start-up)
            from tqdm.auto import tqdm

            bar = tqdm(total=todo, unit="trial", dynamic_ncols=True, desc=f"{out_dir}",
                       leave=True)  # fmt: skip
            if done:
                # With the bar, on stderr: stdout carries results (the summary).
                bar.write(f"resuming: {len(done):,} trials already stored in {out_dir}",
                          file=sys.stderr)  # fmt: skip
        try:
            with bar if bar is not None else nullcontext():
                for table in execute(chunks, jobs=options.jobs, backend=options.backend,
                                     scheduler=scheduler):  # fmt: skip
                    store.write(table)
                    if bar is not None:
                        bar.update(table.num_rows)
        except KeyboardInterrupt:
            stored = len(store.done_ids())
            raise Interrupted(
                f"interrupted: {stored:,} trials are stored in {out_dir}; run the same "
                "command again to resume"
            ) from None
    return cfg, out_dir, len(store.sidecar["specs"]) == 1


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
    ``chunk_size`` (see :mod:`sweep.plan`). Results stream to Parquet parts
    as chunks finish; running again resumes. ``columns`` limits the
    returned columns.
    """
    cfg, out_dir, whole = train(config, **options)
    frame = load(out_dir, columns)
    if not whole:  # the folder also holds other sweeps' trials
        frame = frame[frame["trial_id"].isin(set(grid_frame(cfg)["trial_id"]))]
        frame = frame.reset_index(drop=True)
    return frame


class Interrupted(SweepError):
    """The run was stopped by the user (Ctrl-C); what finished is stored."""
