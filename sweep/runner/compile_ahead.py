"""Compile the kernels a run on threads lacks side by side, in worker processes,
before it trains.

Numba compiles one function at a time in a process (a global lock): the
chunks of a first run that needs six new kernels compile them one after
another in the driver's threads, however many cores wait. Here the driver
first tries one trial of each kernel it needs (:func:`kernels.cache.runs_cached`):
a kernel the caches hold trains it at once; the others compile at the same
time, one per worker process, into the caches every process reads, and
load in the threads that train their chunks. (loky's workers compile where
they train: a driver that probed would load Numba and every kernel on
every run, which a loky driver otherwise never does.)
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from concurrent.futures import wait

from kernels.cache import cache_dir, runs_cached, writable_cache_dir
from kernels.choose import code_key
from kernels.stop import clear

from ..config.grid import recipe_of, task_of
from .plan import Chunk
from .pool import abandon, loky_executor
from .rows import chunk_rows


def _code(chunk: Chunk) -> tuple:
    """What tells apart the compiled code a chunk runs (:func:`kernels.choose.code_key`)."""
    shape = chunk.shape
    X, Y = task_of(shape)
    topology = (bool(shape.restart_after), bool(shape.shortcuts), shape.width2 > 0, shape.init)
    recipe = recipe_of(shape)
    code = code_key(X, Y, shape.width, recipe, shape.exp, shape.dtype, chunk.kernel, topology)
    return (code, chunk.compiled_ids)


def missing(chunks: Sequence[Chunk]) -> list[Chunk]:
    """One trial of each kernel ``chunks`` need that the caches do not hold (the
    ones they hold are loaded, by one trial trained and dropped)."""
    firsts: dict = {}
    for chunk in chunks:
        firsts.setdefault(chunk.shape, chunk)
    kernels: dict = {}
    for chunk in firsts.values():
        kernels.setdefault(_code(chunk), dataclasses.replace(chunk, stop=chunk.start + 1))
    return [trial for trial in kernels.values() if not runs_cached(lambda t=trial: chunk_rows(t))]


def _compile(trial: Chunk) -> None:
    clear()  # a worker outlives runs: an earlier run's stop is not this one's
    chunk_rows(trial)


def compile_ahead(
    chunks: Sequence[Chunk], jobs: int, announce: Callable[[int], None] | None = None
) -> int:
    """Compile the kernels ``chunks`` need that no cache holds, up to ``jobs`` at
    once in worker processes, when two or more are missing (one compiles as
    soon where it trains). ``announce``: told how many kernels compile, before
    they do. Returns how many kernels were compiled so. A failure here is left
    to the chunk that meets it again, where it trains. The workers watch the
    driver named by :data:`sweep.runner.rows.DRIVER_PID`, as the chunks' do."""
    if jobs < 2 or writable_cache_dir() != cache_dir():  # no cache the workers share
        return 0
    trials = missing(chunks)
    if len(trials) < 2:
        return 0
    if announce is not None:
        announce(len(trials))
    # More compiling processes than cores (--force) would add memory, not speed.
    executor = loky_executor(min(jobs, len(trials), os.cpu_count() or 1))
    try:
        done, _ = wait([executor.submit(_compile, trial) for trial in trials])
    except BaseException:
        abandon(executor)
        raise
    executor.shutdown(wait=True, kill_workers=True)  # threads train next
    return sum(1 for future in done if future.exception() is None)
