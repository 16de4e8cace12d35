"""A run's training loop: chunks trained on a backend and written to an open store
as they finish, with a progress bar and the timings the planner learns from."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from ..config.options import RunOptions
from ..config.schema import part_schema
from ..errors import Interrupted, Terminated
from ..store.writer import Store
from . import calibration
from .execute import execute, start_here
from .plan import Block, plan


def worker_count(jobs: int, backend: str, n_chunks: int) -> int:
    """Workers to start: worker processes (loky, a local Dask cluster) each take
    their own memory and Numba start-up, so never more than there are chunks."""
    if backend not in ("loky", "dask"):
        return jobs
    return max(1, min(jobs, n_chunks))


class Trainer:
    """Trains chunks into ``store`` (a bar on stderr if ``show``); :meth:`close` records
    the timings. ``trained`` counts the trials this run trained."""

    def __init__(self, store: Store, options: RunOptions, show: bool):
        self.store, self.options = store, options
        self.trained = 0
        self._timings: list[tuple[float, float]] = []
        self._bar = None
        self._started = False
        if show:  # tqdm loads only for a bar that shows
            from tqdm.auto import tqdm

            self._bar = tqdm(total=0, unit="trial", dynamic_ncols=True, desc=f"{options.out}")

    def say(self, line: str) -> None:
        """A line on stderr, above the bar if there is one (stdout carries results)."""
        if self._bar is not None:
            self._bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr)

    def train(self, todo: list[Block] | object, description: str | None = None) -> int:
        """Train every trial of ``todo`` (a config, or blocks) not stored when the
        run began; how many were trained."""
        options, store = self.options, self.store
        chunks = plan(todo, store.done, options.jobs, options.chunk_size, options.store)
        total = sum(c.size for c in chunks)
        if not chunks:
            return 0
        if not self._started:
            start_here(options.jobs, options.backend)
            # Off the path to the first result: the part schema needs pandas.
            threading.Thread(target=part_schema, daemon=True).start()
            self._started = True
        if self._bar is not None:
            self._bar.total += total
            if description:
                self._bar.set_description(description)
            self._bar.refresh()
        # Small parts are encoded where the threads train (see Store.encode).
        encode = store.encode if options.store == "summary" else None
        jobs = worker_count(options.jobs, options.backend, len(chunks))
        announce = self._compiling if self._bar is not None else None
        try:
            for finished in execute(
                chunks, jobs=jobs, backend=options.backend, scheduler=options.scheduler,
                encode=encode, announce=announce,
            ):  # fmt: skip
                store.write(finished.table, finished.chunk.covers)
                finished.chunk.release()
                self._timings.append((finished.chunk.est_seconds, finished.seconds))
                self.trained += finished.table.num_rows
                if self._bar is not None:
                    self._bar.update(finished.table.num_rows)
        except KeyboardInterrupt as e:
            signum = e.signum if isinstance(e, Terminated) else signal.SIGINT
            self.close(record=False)
            raise Interrupted(
                f"{'interrupted' if signum == signal.SIGINT else 'terminated'}: "
                f"{store.stored:,} trials are stored in {options.out}; run the same command "
                "again to resume",
                signum,
            ) from None
        return total

    def _compiling(self, kernels: int) -> None:
        """Why the bar waits: the kernels a first run compiles, before it trains."""
        self.say(
            f"compiling {kernels} kernels new to this machine, side by side (once per machine)"
        )

    def close(self, record: bool = True) -> None:
        """Close the bar and (``record``) remember how fast this machine trained."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if record:
            calibration.record_chunks(self._timings)


def progress_wanted() -> bool:
    """Whether a run shows a progress bar by default: on a terminal, and in a
    notebook (an IPython kernel, whose stderr is no terminal; tqdm.auto then
    draws a widget)."""
    if sys.stderr.isatty():
        return True
    shell = sys.modules.get("IPython")
    ipython = getattr(shell, "get_ipython", lambda: None)() if shell else None
    return ipython is not None and "IPKernelApp" in getattr(ipython, "config", {})


def first_line(out: Path) -> str:
    """The run's first line: where the results go (a TOML's out may be far away)."""
    return f"training into {out.absolute()}"
