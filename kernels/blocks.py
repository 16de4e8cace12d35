"""The block-major arrays a generated kernel takes, and a run of one.

A generated kernel (:mod:`kernels.codegen`) reads every per-network row
(parameters, optimiser state, events, loss curve, outputs) from one flat
array of blocks of ``nb`` networks: (block, row, network in the block). The
caller's arrays are network-last, (row, network). Going between the two is
one strided copy each way, straight from and into the caller's arrays: a
full-size temporary is memory the system may hand over afresh, page by page,
and in a run of few epochs that costs more than the epochs.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import numpy as np

from . import memory
from .codegen import LIVE, N_EVENTS


def blocked(
    parts: np.ndarray | Sequence[np.ndarray], n_blocks: int, nb: int, kept: bool = False
) -> np.ndarray:
    """(r, n) network-last rows (or several such arrays, their rows one after
    another) as a flat block-major array (b, r, nb), zero-padded, starting on
    a cache line (:mod:`kernels.memory`; ``kept``: in the thread's kept buffer,
    :func:`kernels.memory.kept`)."""
    parts = [parts] if isinstance(parts, np.ndarray) else list(parts)
    n = parts[0].shape[1]
    rows = sum(part.shape[0] for part in parts)
    allocate = memory.kept if kept else memory.line_aligned
    out = allocate(rows * n_blocks * nb, parts[0].dtype)
    blocks = out.reshape(n_blocks, rows, nb)
    full = n // nb
    blocks[full:] = 0
    first = 0
    for part in parts:
        k = part.shape[0]
        blocks[:full, first : first + k] = part[:, : full * nb].reshape(k, full, nb).swapaxes(0, 1)
        if full < n_blocks:
            blocks[full, first : first + k, : n - full * nb] = part[:, full * nb :]
        first += k
    return out


def unblock_into(flat: np.ndarray, parts: Sequence[np.ndarray], nb: int) -> None:
    """Inverse of :func:`blocked`: write the rows of ``flat`` into ``parts``,
    (r, n) arrays with a contiguous last axis, in order."""
    n = parts[0].shape[1]
    rows = sum(part.shape[0] for part in parts)
    blocks = flat.reshape(-1, rows, nb)
    full = n // nb
    first = 0
    for part in parts:
        k = part.shape[0]
        if part.size and part.strides[1] != part.itemsize:
            raise ValueError("unblock_into writes into arrays with a contiguous last axis")
        # Splitting a contiguous last axis is a view: the copy lands in ``part``.
        part[:, : full * nb].reshape(k, full, nb)[...] = blocks[:full, first : first + k].swapaxes(
            0, 1
        )
        if full * nb < n:
            part[:, full * nb :] = blocks[full, first : first + k, : n - full * nb]
        first += k


def unblocked(flat: np.ndarray, n_rows: int, n: int, nb: int) -> np.ndarray:
    """Inverse of :func:`blocked`: (r, n) rows from a flat block-major array."""
    out = np.empty((n_rows, n), dtype=flat.dtype)
    unblock_into(flat, [out], nb)
    return out


def run(
    module: ModuleType,
    nb: int,
    work_rows: int,
    X: np.ndarray,
    Y: np.ndarray,
    theta: np.ndarray,
    state: Sequence[np.ndarray],
    lr: np.ndarray,
    fast: bool,
    *,
    epochs: int,
    tol: float,
    margin: float,
    mse_target: float,
    constants: tuple,
    points: np.ndarray,
    early_stop: bool,
    stop: np.ndarray,
    data: tuple = (),
):
    """Train with a generated kernel (blocks of ``nb`` networks, ``work_rows`` rows
    of scratch per block); ``theta`` is the (rows, n) flat parameters,
    ``state`` the optimiser's row arrays that follow them (updated in place;
    none without), ``constants`` the recipe's numbers
    (:class:`kernels.recipe.Constants`), ``data`` the task's arrays for a
    kernel that takes them as arguments.

    Returns ``(theta, events, final_loss, outputs, curve)``, network-last.
    """
    n = theta.shape[1]
    n_samples, n_out = Y.shape
    dtype = theta.dtype
    n_blocks = -(-n // nb)
    flat = blocked([theta, *state], n_blocks, nb, kept=True)  # copied out below
    lr_b = blocked(lr[None, :], n_blocks, nb)
    # Event epochs as wide as the floats: int64 lanes would halve float32's width.
    int_type = np.int32 if dtype == np.float32 and epochs < 2**31 - 1 else np.int64
    events = np.full((N_EVENTS, n_blocks * nb), -1, dtype=int_type)  # every event: "never"
    events[LIVE] = 0  # padding networks are never live
    events[LIVE, :n] = 1
    events = blocked(events, n_blocks, nb)
    n_points = points.size
    curve = memory.line_aligned(n_blocks * (n_points + 1) * nb, dtype, 0.0)
    outputs = memory.line_aligned(n_blocks * n_samples * n_out * nb, dtype)
    final_loss = memory.line_aligned(n_blocks * nb, dtype)
    work = memory.line_aligned(work_rows * nb, dtype, 0.0)
    kernel = module.train_fast if fast else module.train_exact
    arrays = (flat, lr_b, events, curve, outputs, final_loss, work)
    kernel(*arrays, epochs, tol, margin, mse_target, *constants, points, early_stop, stop, *data)
    trained = np.empty_like(theta)
    unblock_into(flat, [trained, *state], nb)
    return (
        trained,
        unblocked(events, N_EVENTS, n, nb).astype(np.int64, copy=False),
        final_loss[:n],
        unblocked(outputs, n_samples * n_out, n, nb).reshape(n_samples, n_out, n),
        unblocked(curve, n_points + 1, n, nb)[:n_points],
    )
