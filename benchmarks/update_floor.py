"""What an optimiser's update costs on its own, against GD's epoch.

An epoch is the forward and backward passes plus the update of every
parameter; optimisers differ only in the update. This module times the
generated kernels' own update code by itself: every parameter's lines as
:func:`kernels.tile_epoch.update` emits them for the kernel, tile by tile, in
loops over a block of networks (:data:`kernels.tile_layout.NB`) repeated on
the same block, with the gradients read from memory (two sets in turn,
ordinary numbers, no subnormals) and the data in L1, on cache lines
(:mod:`kernels.memory`), as an epoch's are. :func:`floor` adds the
difference to GD's update to GD's epoch: the ratio to GD an optimiser
reaches when nothing of its update overlaps the rest of the epoch (the
passes depend on each other: every gradient before the update, every new
weight before the next forward pass).

The update is timed in generated code, not as the general kernel's update
pass called by itself: called so, with its arrays as arguments, that pass
vectorises only behind run-time checks that they do not overlap and runs
partly scalar, and its times are no kernel's.

Adam's update takes a square root and a division per parameter, and both
run on the divider, a unit of a few results per cycle at most: wherever
parameters outnumber a network's other work, that sets Adam's speed.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from kernels import blocks, cache, codegen, get_task, memory, tile_epoch, tiled
from kernels.codegen import LIVE, N_EVENTS, SIGNATURE, Arithmetic, Writer
from kernels.recipe import ADAM, Recipe
from kernels.tile_layout import NB, Layout
from kernels.tile_passes import tiles
from kernels.train import TrainState


def _loop(w: Writer, lay: Layout, rows: list[tuple[str, str, str, bool]], adam: bool) -> None:
    """Emit the loop over a block's networks updating ``rows`` (name, offset
    less ``j`` in ``theta``, in ``grads``, is a weight)."""
    w(f"for j in range({lay.nb}):")
    w.depth += 1
    w(f"ok = events[ev + {LIVE * lay.nb} + j] != 0")
    w("lr_j = lr[net + j]")
    if adam:
        tile_epoch.advance_powers(w, lay)
    w(f"check = work[{lay.check * lay.nb} + j]")
    for name, offset, at, _ in rows:
        w(f"{name} = theta[{offset} + j]")
        w(f"g{name} = grads[{at} + j]")
    updates = [(name, f"g{name}", offset, weight) for name, offset, _, weight in rows]
    tile_epoch.update(w, Arithmetic(True), lay, lay.variant.momentum, updates, check=True)
    w(f"work[{lay.check * lay.nb} + j] = check")
    w.depth -= 1


def _tile(w: Writer, lay: Layout, size: int, first: str) -> None:
    """Emit the update of the tile of ``size`` units from ``first``."""
    lay.param_bases(w, first, ("tb", "tw"), "th")
    lay.param_bases(w, first, ("gb", "gw"), "gq")
    rows = [
        (name, offset, at, weight)
        for u in range(size)
        for (name, offset, weight), (_, at, _) in zip(
            lay.unit_params(u), lay.unit_params(u, "gb", "gw"), strict=True
        )
    ]
    _loop(w, lay, rows, False)


def _source(lay: Layout, tile: int) -> str:
    """A module whose ``train_fast`` updates every parameter of every block
    ``reps`` times, from the gradients ``grads`` (two blocks of rows, used in
    turn), with the kernels' update lines, in their order: the output biases
    (with Adam's powers), then each tile of ``tile`` hidden units."""
    w = Writer(lay.nb)
    tile_epoch.prologue(w, True, lay, 1, f"{SIGNATURE}, grads, reps")
    w("for r in range(reps):")
    w.depth = 3
    w(f"gq = (r % 2) * {lay.n_params * lay.nb}")
    biases = [
        (f"bo{o}", f"th + {(lay.bo + o) * lay.nb}", f"gq + {(lay.bo + o) * lay.nb}", False)
        for o in range(lay.n_out)
    ]
    _loop(w, lay, biases, lay.optimizer == ADAM)
    tiles(w, lay.width, tile, lambda size, first: _tile(w, lay, size, first))
    shape = np.zeros((0, lay.n_in)), np.zeros((0, lay.n_out))
    generator = f"tile_epoch (the update alone, tiles of {tile}: benchmarks/update_floor.py)"
    lines = [w.lines]
    return codegen.module_source(generator, *shape, lay.width, lay.variant, lines, lay.nb, False)


def update_source(recipe: Recipe, width: int) -> tuple[Layout, str]:
    """The layout and module source of the update alone for an XOR 2-``width``-1
    network, in the tiles of its generated kernel."""
    X, Y = get_task("xor")
    lay = Layout(1, X.shape[1], width, Y.shape[1], recipe.variant, NB)
    return lay, _source(lay, tiled.tile_for(X, Y, width, recipe))


def update_timer(
    recipe: Recipe, width: int, batch: int = 256, reps: int = 200
) -> Callable[[], float]:
    """A function that times ``reps`` updates of every parameter of an XOR
    2-``width``-1 network (float64, fast arithmetic), in the tiles of its
    generated kernel and blocks of :data:`~kernels.tile_layout.NB` networks
    (``batch`` is rounded up), and returns ns per network and update.
    Compiled before it returns."""
    lay, text = update_source(recipe, width)
    module = cache.load("update_floor", text)
    n_blocks = -(-batch // NB)
    n = n_blocks * NB
    rng = np.random.default_rng(0)
    theta = rng.uniform(-1.0, 1.0, (lay.n_params, n))
    grads = memory.aligned_copy(rng.normal(0.0, 1e-2, 2 * lay.n_params * NB))
    lr = np.full(n, 0.1)
    state = TrainState.initial(recipe, lay.n_params, lr, None)
    own = [state.velocity, state.powers] if recipe.optimizer == "adam" else [state.velocity]
    start = blocks.blocked([theta, *own], n_blocks, NB)
    events = blocks.blocked(np.ones((N_EVENTS, n), dtype=np.int64), n_blocks, NB)
    work = memory.line_aligned(lay.work_rows * NB, np.float64, 0.0)
    unused = np.zeros(n_blocks * 2 * NB)
    points, stop = np.zeros(0, dtype=np.int64), np.zeros(1, dtype=np.bool_)
    lr_blocks = blocks.blocked(lr[None, :], n_blocks, NB)
    flat = memory.aligned_copy(start)  # on a cache line, as the kernels' arrays

    def once(k: int) -> float:
        flat[:] = start
        arrays = (flat, lr_blocks, events, unused, unused, unused, work)
        t0 = time.perf_counter()
        settings = (0, 0.0, 0.0, 0.0, *recipe.constants, points, False, stop)
        module.train_fast(*arrays, *settings, grads, k)
        return (time.perf_counter() - t0) / (k * n) * 1e9

    once(1)  # compiles
    return lambda: once(reps)


def update_ns(
    recipe: Recipe, width: int, batch: int = 256, reps: int = 200, repeat: int = 7
) -> float:
    """The median of ``repeat`` timings by :func:`update_timer`, in ns per network."""
    timer = update_timer(recipe, width, batch, reps)
    return statistics.median(timer() for _ in range(repeat))


def floor(epoch_gd_ns: float, update_gd_ns: float, update_ns_: float) -> float:
    """The ratio to GD's epoch of GD's epoch with GD's update swapped for the
    optimiser's (all in ns per network)."""
    return (epoch_gd_ns - update_gd_ns + update_ns_) / epoch_gd_ns
