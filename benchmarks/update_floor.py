"""What an optimiser's update costs on its own, against GD's epoch.

An epoch is the forward and backward passes plus the update of every
parameter; optimisers differ only in the update. This module times the
general kernel's update pass (:func:`kernels.update.update_block`, made of the
:mod:`kernels.step` pieces every kernel calls) by itself, over ordinary
gradients (no subnormals), with its data in L1. :func:`floor` adds the
difference to GD's update to GD's epoch: the ratio to GD an optimiser
reaches when nothing of its update overlaps the rest of the epoch (the
passes depend on each other: every gradient before the update, every new
weight before the next forward pass).

Adam's update takes a square root and a division per parameter, and both
run on the divider, a unit of a few results per cycle at most: wherever
parameters outnumber a network's other work, that sets Adam's speed.
"""

from __future__ import annotations

import functools
import statistics
import time

import numpy as np
from numba import njit

from kernels.model import layer_offsets, weight_rows
from kernels.numerics import JIT
from kernels.recipe import Recipe
from kernels.train import TrainState
from kernels.update import own_fields, update_block, update_rates


@functools.cache
def _loop(momentum: int, optimizer: int, slots: int):
    """The update pass compiled for one optimiser (its codes as constants, as
    in the kernels), repeated ``reps`` times on the same gradients."""
    MOMENTUM, OPTIMIZER, SLOTS = momentum, optimizer, slots  # constants, as in the kernels

    @njit(**{**JIT, "cache": False})
    def run(th, g0, grad, state, lr, hyper, own_at, live, rows, check, reps):
        consts, own = update_rates(hyper, own_at, th)  # a piece: compiled callers only
        rates = (lr, consts, own)
        for _ in range(reps):
            for r in range(g0.shape[0]):  # update_block clears grad; both pay this copy
                for j in range(g0.shape[1]):
                    grad[r, j] = g0[r, j]
            update_block(
                MOMENTUM, False, OPTIMIZER, True, SLOTS, th, grad, state, rates, live, rows, check
            )

    return run


def update_ns(
    recipe: Recipe,
    width: int,
    n_in: int = 2,
    n_out: int = 1,
    batch: int = 256,
    reps: int = 200,
    repeat: int = 7,
) -> float:
    """Median ns per network for one update of every parameter of an
    ``n_in``-``width``-``n_out`` network (float64, fast arithmetic)."""
    layers = layer_offsets(n_in, width, 0, n_out)
    rows = layers[-1]
    weights = weight_rows(layers, rows)
    rng = np.random.default_rng(0)
    th = rng.uniform(-1.0, 1.0, (rows, batch))
    g0 = rng.normal(0.0, 1e-2, (rows, batch))
    lr = np.full(batch, 0.1)
    state = TrainState.initial(recipe, rows, lr, None)
    variant = recipe.variant
    run = _loop(variant.momentum, variant.optimizer, recipe.state_slots)
    grad, scale = np.zeros_like(th), np.empty((2, batch))
    live, check = np.ones(batch, dtype=np.bool_), np.zeros(batch)

    def once(n: int) -> None:
        state_rows = (state.velocity, state.powers, scale)
        hyper, own = recipe.constants, own_fields(recipe.optimizer)
        run(th, g0, grad, state_rows, lr, hyper, own, live, weights, check, n)

    once(1)  # compiles
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        once(reps)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) / (reps * batch) * 1e9


def floor(epoch_gd_ns: float, update_gd_ns: float, update_ns_: float) -> float:
    """The ratio to GD's epoch of GD's epoch with GD's update swapped for the
    optimiser's (all in ns per network)."""
    return (epoch_gd_ns - update_gd_ns + update_ns_) / epoch_gd_ns
