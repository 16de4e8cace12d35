"""Train one chunk, and turn the kernel's arrays into result rows (an Arrow table).

:func:`run_chunk` is what a worker runs; the driver turns what it returns into
rows (:func:`to_table`).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pyarrow as pa

import kernels
from kernels import DTYPES, BatchResult, init_batch
from kernels.evaluate import held_out
from kernels.stop import FLAG, clear, request_stop

from ..config.axes import SHAPE_AXES
from ..config.grid import curve_of, is_regression, recipe_of, task_of
from ..config.schema import ARRAY_COLUMNS, SCHEMA, SUMMARY_SCHEMA

if TYPE_CHECKING:
    from .plan import Chunk


def _lists(batched: np.ndarray) -> pa.ListArray:
    """A network-last array (..., B) as one list per network, row-major."""
    n = batched.shape[-1]
    per_row = int(np.prod(batched.shape[:-1]))
    values = np.moveaxis(batched, -1, 0).astype(np.float64).reshape(-1)
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(per_row)
    return pa.ListArray.from_arrays(offsets, values)


_F64_LIST = pa.list_(pa.float64())


def _epochs(values: np.ndarray) -> pa.Array:
    return pa.array(values, mask=values < 0, type=pa.int64())


def _held_out(shape: Any, result: BatchResult, n: int) -> dict[str, pa.Array]:
    """``test_loss`` and ``test_accuracy`` of a chunk's networks (null: no test
    set; accuracy null for regression too)."""
    task = shape.task_data
    if task is None or task.X_test is None:
        return {"test_loss": pa.nulls(n, pa.float64()), "test_accuracy": pa.nulls(n, pa.float64())}
    loss, accuracy = held_out(
        task.X_test, task.Y_test, result, recipe_of(shape), shape.exp, task.classes
    )
    return {
        "test_loss": pa.array(loss.astype(np.float64)),
        "test_accuracy": pa.nulls(n, pa.float64()) if accuracy is None else pa.array(accuracy),
    }


def to_table(chunk: Chunk, result: BatchResult) -> pa.Table:
    """The rows of a trained chunk, in :data:`sweep.config.schema.SCHEMA` (without the
    array columns if the chunk's ``store`` is ``summary``)."""
    shape, n = chunk.shape, chunk.size

    def const(value, type_):
        if value is None:
            return pa.nulls(n, type=type_)
        return pa.repeat(pa.scalar(value, type=type_), n) if n else pa.array([], type=type_)

    columns = {
        "trial_id": chunk.id_array(),
        "seed": pa.array(chunk.seeds, type=pa.int64()),
        "lr": pa.array(chunk.lrs, type=pa.float64()),
    }
    for axis in SHAPE_AXES:
        columns[axis.column] = const(getattr(shape, axis.name), axis.arrow)
    columns.update(
        {
            "converged": pa.array(result.converged),
            "epoch_converged": _epochs(result.epoch_converged),
            "epoch_solved": (
                pa.nulls(n, pa.int64()) if is_regression(shape) else _epochs(result.epoch_solved)
            ),
            "diverged": pa.array(result.diverged),
            "epoch_diverged": _epochs(result.epoch_diverged),
            "epoch_mse_target": _epochs(result.epoch_mse_target),
            "final_loss": pa.array(result.final_loss.astype(np.float64)),
            **_held_out(shape, result, n),
            "restarts": pa.array(result.restarts, type=pa.int64()),
            "curve_every": const(shape.curve_every, pa.int64()),
            "curve": const(shape.curve, pa.string()),
        }
    )
    if chunk.store == "summary":
        return pa.table([columns[name] for name in SUMMARY_SCHEMA.names], schema=SUMMARY_SCHEMA)
    for name in ARRAY_COLUMNS:
        value = getattr(result, name)  # None where the topology has none: a null list
        columns[name] = pa.nulls(n, _F64_LIST) if value is None else _lists(value)
    return pa.table([columns[name] for name in SCHEMA.names], schema=SCHEMA)


def train_chunk(chunk: Chunk) -> BatchResult:
    """Initialise and train a chunk's networks with the kernel."""
    shape = chunk.shape
    X, Y = task_of(shape)
    seeds = chunk.seeds
    run = dict(
        curve_points=curve_of(shape),
        exp=shape.exp,
        early_stop=shape.early_stop,
        kernel=chunk.kernel,
        recipe=recipe_of(shape),
        mse_target=shape.mse_target,
        stop=FLAG,
    )
    if shape.restart_after or shape.shortcuts or shape.width2:
        return kernels.train_restarting(
            X,
            Y,
            seeds,
            chunk.lrs,
            shape.epochs,
            shape.restart_after,
            shape.width,
            (shape.init_low, shape.init_high),
            DTYPES[shape.dtype],
            shape.tol,
            shortcuts=shape.shortcuts,
            width2=shape.width2,
            scheme=shape.init,
            **run,
        )
    if np.all(seeds[1:] > seeds[:-1]):  # one trial a seed (one lr, say): draw them as they are
        params = init_batch(
            seeds,
            X.shape[1],
            shape.width,
            Y.shape[1],
            shape.init_low,
            shape.init_high,
            DTYPES[shape.dtype],
            scheme=shape.init,
        )
    else:  # trials of one seed share their initial weights: draw each seed once
        unique_seeds, index = np.unique(seeds, return_inverse=True)
        init = init_batch(
            unique_seeds,
            X.shape[1],
            shape.width,
            Y.shape[1],
            shape.init_low,
            shape.init_high,
            DTYPES[shape.dtype],
            scheme=shape.init,
        )
        params = {k: np.ascontiguousarray(v[..., index]) for k, v in init.items()}
    # kernels.train_batch loads Numba on first use: in workers, not in a driver
    # that only writes what they return.
    return kernels.train_batch(X, Y, params, chunk.lrs, shape.epochs, shape.tol, seeds=seeds, **run)


#: Set by the driver for the worker processes it starts (see :func:`run_chunk`).
DRIVER_PID = "SWEEP_DRIVER_PID"


def chunk_rows(chunk: Chunk) -> tuple[pa.Table, float]:
    """Train a chunk in this process: its rows, and the seconds training took."""
    started = time.perf_counter()
    result = train_chunk(chunk)
    return to_table(chunk, result), time.perf_counter() - started


#: Seconds between a worker's checks that its driver is alive.
WATCH_INTERVAL = 0.25
_watching = threading.Event()


def driver_alive(pid: int) -> bool:
    """Whether process ``pid`` runs: not gone, and not a zombie (a killed driver
    whose caller has not yet reaped it still answers ``kill(pid, 0)``)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: the signal test alone
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # a pid of another user's: not ours, but taken
            return True
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def watch_driver() -> None:
    """Make this process a worker of the driver named in the environment, if any:
    ignore Ctrl-C, and exit soon after the driver dies, however it died.

    Worker processes call it as they start (loky's initializer, a Dask worker
    plugin) and again with each chunk: a worker started just before its driver
    was killed must not outlive it, nor hold its caller's pipes open.
    """
    driver = os.environ.get(DRIVER_PID)
    if not driver or driver == str(os.getpid()) or _watching.is_set():
        return
    _watching.set()
    driver_pid = int(driver)
    if threading.current_thread() is threading.main_thread():  # Dask runs tasks in threads
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == driver_pid and driver_alive(driver_pid):
            time.sleep(WATCH_INTERVAL)
        os._exit(1)

    if os.getppid() != driver_pid:  # the driver died while this worker started
        os._exit(1)
    threading.Thread(target=watch, name="sweep-driver-watch", daemon=True).start()


def stop_worker() -> int:
    """Stop this worker process's kernels (run on every Dask worker); its pid."""
    request_stop()
    return os.getpid()


def run_chunk(chunk: Chunk, index: int) -> tuple[int, BatchResult, float]:
    """Train a chunk: the task each worker runs. Returns ``index`` with the result
    and the seconds training took (a chunk that compiled its kernel included).

    Rows are built by the driver: the first Arrow array a process builds
    imports pandas (through pyarrow), a large part of a worker's start. A worker
    process ignores Ctrl-C: a terminal sends SIGINT to the whole process
    group, and the driver, not the workers, decides what happens (it stops
    them and keeps what finished).
    """
    if os.environ.get(DRIVER_PID, str(os.getpid())) != str(os.getpid()):
        watch_driver()
        clear()  # a worker outlives runs (Dask): an earlier run's stop is not this one's
    started = time.perf_counter()
    result = train_chunk(chunk)
    return index, result, time.perf_counter() - started


class Finished(NamedTuple):
    """A trained chunk: its rows (or what ``execute``'s ``encode`` made of them),
    and the seconds training took (in its worker)."""

    chunk: Chunk
    table: Any
    seconds: float
