"""A kernel generated for one shape and recipe: the hidden layer in tiles.

The general kernel (:mod:`kernels.general`) takes the shape at run time, so
its loops over samples and hidden units sit outside the vectorised loop over
networks, and every pass stores its intermediates (hidden outputs, deltas,
gradient sums) to memory. This kernel is generated for one shape: each epoch
is a few passes over a block of networks (:data:`kernels.tile_layout.NB`),
each pass a straight-line body for a *tile* of a few hidden units, the same
source for every tile.
(One body for a whole epoch vectorises only for few parameters and
compiles ever longer with the width.)

Batch update, per epoch:

1. forward, per tile: hidden outputs (kept in ``work``) and their terms of
   the output sums;
2. outputs: predictions, statistics, output deltas and the output bias update;
3. backward, per tile: the tile's gradient sums, in registers, and at once its
   update (a hidden unit's gradient needs only its own parameters, its
   outputs and the output deltas);
4. end of epoch: divergence.

Online update: 1 and the statistics of 2 at theta_k, then for each sample in
order its own 1 (the first sample's is the one at theta_k), 2 and 3. The
shuffled update (a different sample order in each network) runs on the
general kernel only.

A task of up to :data:`MAX_SAMPLES` samples is written into the source, each
sample's arithmetic spelled out. A larger one runs through a kernel written
for its shape alone (:mod:`kernels.tile_loop`), whose samples are
arguments, in a loop over chunks of :data:`CHUNK`.

Each parameter is loaded twice and stored once per update, against about ten
memory passes per parameter in the general kernel. The arithmetic is the
pieces of :mod:`kernels.step`, called in the general kernel's order (see
:mod:`kernels.codegen`), so results equal the general kernel's bit for bit.

This module chooses the tiles (the tile policy) and runs the kernel; the
source is emitted by :mod:`kernels.tile_passes` (a tile's passes) and
:mod:`kernels.tile_epoch` (the epoch around them), on the rows that
:mod:`kernels.tile_layout` places.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

from . import blocks, cache, codegen, tile_layout, tile_loop
from .codegen import CONVERGED, DIVERGED, HIT, SOLVED
from .model import BatchResult, unflatten
from .recipe import BATCH, DEFAULT, ONLINE, Recipe, Variant
from .tile_layout import STATEFUL, Layout
from .tile_passes import source, source_for

__all__ = ["choose_tile", "fits", "load", "planned_source", "source", "tile_for", "train"]

#: Limits of a tile (in float64 LLVM's vectorised code falls off a cliff on
#: larger bodies): hidden units; parameters; hidden outputs (units x samples);
#: samples written out in a body (a task of more runs them in a loop)
#: (docs/performance.md, "Generated kernels").
MAX_TILE = 4
#: The same for the optimisers with state of their own, whose update triples
#: a parameter's loads and stores (benchmarks/optimizers.py).
MAX_TILE_STATEFUL = 2
MAX_TILE_PARAMS = 18
MAX_TILE_OUTPUTS = 16
MAX_SAMPLES = 8
#: Samples per chunk of a task of more than :data:`MAX_SAMPLES`, whose samples
#: run in a loop (:mod:`kernels.tile_loop`; benchmarks/block.py).
CHUNK = 4
#: Update modes a generated kernel implements, with every optimiser.
UPDATES = (BATCH, ONLINE)


def choose_tile(width: int, per_unit: int, n_samples: int, most: int = MAX_TILE) -> int:
    """Hidden units per tile for ``per_unit`` parameters per unit and ``n_samples``
    samples in a body (0: none fits).

    At most ``most`` units and the ``MAX_TILE_*`` limits. From two full tiles
    on, a divisor of the width: a smaller last tile after a loop over tiles
    slows the whole kernel down (docs/performance.md, "Generated kernels").
    """
    if n_samples > MAX_SAMPLES:
        return 0
    most = min(most, MAX_TILE_PARAMS // per_unit, MAX_TILE_OUTPUTS // n_samples, width)
    if most < 1 or width < 2 * most:
        return max(most, 0)
    return max(t for t in range(1, most + 1) if width % t == 0)


Plan = tuple[int, str, Layout]  # (tile, source, layout)


def _shortest(
    width: int,
    per_unit: int,
    variant: Variant,
    chunks: tuple[int, ...],
    make: Callable[[int, int], tuple[Layout, str]],
) -> Plan | None:
    """The first plan, over ``chunks`` (samples in a body) and ever smaller tiles,
    whose source (``make(chunk, tile)`` -> (layout, source)) is short enough (a
    smaller last tile doubles the tile code, so a smaller tile can make a
    shorter source)."""
    for chunk in chunks:
        for most in range(MAX_TILE_STATEFUL if variant.optimizer in STATEFUL else MAX_TILE, 0, -1):
            tile = choose_tile(width, per_unit, chunk, most)
            if tile < 1:
                break
            lay, text = make(chunk, tile)
            if text.count("\n") <= codegen.MAX_LINES:
                return tile, text, lay
    return None


@functools.lru_cache(maxsize=256)
def _plan_unrolled(
    x_bytes: bytes,
    y_bytes: bytes,
    x_shape: tuple,
    y_shape: tuple,
    width: int,
    variant: Variant,
    signs: tuple,
    nb: int,
) -> Plan | None:
    X = np.frombuffer(x_bytes).reshape(x_shape)
    Y = np.frombuffer(y_bytes).reshape(y_shape)
    sign_array = np.array(signs).reshape(y_shape)

    def make(chunk: int, tile: int) -> tuple[Layout, str]:
        lay = Layout(chunk, X.shape[1], width, Y.shape[1], variant, nb)
        return lay, source_for(X, Y, sign_array, width, tile, variant, nb)

    return _shortest(width, X.shape[1] + 1 + Y.shape[1], variant, (X.shape[0],), make)


@functools.lru_cache(maxsize=256)
def _plan_looped(
    n_in: int, n_out: int, width: int, variant: Variant, dense: bool, nb: int, most_chunk: int
) -> Plan | None:
    def make(chunk: int, tile: int) -> tuple[Layout, str]:
        lay = tile_layout.LoopLayout(chunk, n_in, width, n_out, variant, nb, dense)
        return lay, tile_loop.source(lay, tile)

    chunks = tuple(sorted({most_chunk, min(2, most_chunk), 1}, reverse=True))
    return _shortest(width, n_in + 1 + n_out, variant, chunks, make)


def _plan(X: np.ndarray, Y: np.ndarray, width: int, recipe: Recipe) -> Plan | None:
    """(tile, source, layout) for a shape (the task's 0/1 patterns, coded by
    ``recipe``), or None if no tile fits. A task of more than MAX_SAMPLES
    samples is planned by its shape alone (and whether an input is 0)."""
    variant = recipe.variant
    if variant.update not in UPDATES:
        return None
    signs = recipe.signs(Y)
    X, Y = recipe.code(X, Y)
    # NB and CHUNK are read when called (benchmarks/block.py sets them): part of the key.
    if X.shape[0] > MAX_SAMPLES:
        dense = bool((X.astype(np.float32) != 0).all())  # no input 0, in either precision
        return _plan_looped(
            X.shape[1], Y.shape[1], int(width), variant, dense, tile_layout.NB, CHUNK
        )
    shapes = (X.shape, Y.shape, int(width), variant, tuple(signs.ravel().tolist()))
    return _plan_unrolled(X.tobytes(), Y.tobytes(), *shapes, tile_layout.NB)


def fits(X: np.ndarray, Y: np.ndarray, width: int, recipe: Recipe = DEFAULT) -> bool:
    """Whether a tile of this shape vectorises and compiles in a few seconds
    (:data:`MAX_TILE_PARAMS`, :data:`codegen.MAX_LINES`) for a recipe the
    generated kernels implement (:data:`UPDATES`); any width then fits."""
    return width >= 1 and _plan(X, Y, width, recipe) is not None


def _fitting_plan(X: np.ndarray, Y: np.ndarray, width: int, recipe: Recipe) -> Plan:
    found = _plan(X, Y, width, recipe)
    if found is None:
        raise ValueError(
            f"no tiled kernel for a {X.shape[1]}-{width}-{Y.shape[1]} network "
            f"with {recipe.update} updates and the {recipe.optimizer} "
            "optimizer"
        )
    return found


def tile_for(X: np.ndarray, Y: np.ndarray, width: int, recipe: Recipe = DEFAULT) -> int:
    """Hidden units per tile for this shape (ValueError if it does not fit)."""
    return _fitting_plan(X, Y, width, recipe)[0]


def planned_source(X: np.ndarray, Y: np.ndarray, width: int, recipe: Recipe = DEFAULT) -> str:
    """The source of the generated kernel module that trains a shape (ValueError
    if none fits): :func:`load` imports it."""
    return _fitting_plan(X, Y, width, recipe)[1]


def load(X: np.ndarray, Y: np.ndarray, width: int, recipe: Recipe = DEFAULT):
    """Import (writing it first if needed) the generated kernel module for a shape."""
    return cache.load("tiled", planned_source(X, Y, width, recipe))


def train(
    X: np.ndarray,
    Y: np.ndarray,
    recipe: Recipe,
    theta: np.ndarray,
    state: Sequence[np.ndarray],
    lr: np.ndarray,
    fast: bool,
    **run,
) -> BatchResult:
    """Train with the generated kernel; arguments as prepared by :func:`kernels.train_batch`
    (``X``, ``Y``: the task's 0/1 patterns; ``theta``: the flat parameters;
    ``state``: the optimiser's row arrays, e.g. its state then Adam's powers,
    updated in place)."""
    n_in, n_out = X.shape[1], Y.shape[1]
    width = (theta.shape[0] - n_out) // (n_in + 1 + n_out)
    _, text, lay = _fitting_plan(X, Y, width, recipe)
    module = cache.load("tiled", text)
    Xc, Yc = recipe.code(X, Y)
    if isinstance(lay, tile_layout.LoopLayout):  # the samples are arguments
        run["data"] = tile_loop.sample_data(Xc, Yc, recipe.signs(Y), theta.dtype)
    kernel = (module, lay.nb, lay.work_rows)
    theta, events, final_loss, outputs, curve = blocks.run(
        *kernel, Xc, Yc, theta, state, lr, fast, constants=recipe.constants, **run
    )
    return BatchResult(
        **unflatten(theta, n_in, width, n_out),
        epoch_solved=events[SOLVED],
        epoch_converged=events[CONVERGED],
        epoch_diverged=events[DIVERGED],
        epoch_mse_target=events[HIT],
        final_loss=final_loss,
        outputs=outputs,
        loss_curve=curve,
    )
