"""A generated kernel for tasks of many samples: the samples in a loop, in chunks.

The unrolled kernels (:mod:`kernels.tile_passes`) write out every sample's
arithmetic with its inputs as constants, which a task of more than a few
samples makes too long to vectorise and compile. This kernel is written for
a shape alone (inputs, width, outputs, recipe): the samples are arguments,
read at run time, and any number of them runs through one compiled kernel.
They go in chunks of ``chunk``: a chunk's forward pass per tile, its outputs,
and its backward pass per tile are straight-line code over the block's
networks, as in the unrolled kernels, and what carries from chunk to chunk
(the epoch's statistics and gradient sums) waits in ``work``. Samples left
over after the whole chunks go one at a time. A batch update follows the
epoch's last chunk, one pass per tile; online updates follow the epoch's
statistics, one sample at a time, each tile's backward pass and update in
one loop, as in the unrolled kernels.

Zero inputs are skipped by selection, and each sample's pre-activations are
summed as the general kernel sums them for its count of nonzero inputs
(:func:`sample_data`); every sum runs in the general kernel's order from the
same start, so results equal the general kernel's bit for bit.
"""

from __future__ import annotations

import numpy as np

from . import codegen, tile_epoch
from .codegen import LIVE, SIGNATURE, Arithmetic, Writer
from .recipe import ADAM, BATCH
from .tile_layout import LoopLayout
from .tile_passes import tiles

#: The arguments after :data:`kernels.codegen.SIGNATURE` (see :func:`sample_data`).
DATA = "xs, ys, signs, single, start"


def sample_data(X: np.ndarray, Y: np.ndarray, signs: np.ndarray, dtype: np.dtype) -> tuple:
    """The kernel's :data:`DATA` for coded patterns ``X``, ``Y`` and their ``signs``:
    the three in ``dtype``, then per sample whether it has exactly one nonzero
    input (its pre-activation is then ``x w + b`` in one :func:`madd`) and the
    start of its sum otherwise: +0.0 without nonzero inputs (``0 + b``), -0.0
    with several (adding -0.0 to the first product leaves it as it is)."""
    xs, ys, sg = (np.ascontiguousarray(a, dtype=dtype) for a in (X, Y, signs))
    count = (xs != 0).sum(axis=1)
    start = np.where(count == 0, 0.0, -0.0).astype(dtype)
    return xs, ys, sg, count == 1, start


def _chunk_scalars(w: Writer, lay: LoopLayout, size: int, inputs: bool, outputs: bool) -> None:
    """Emit the chunk's samples as scalars, outside the loop over networks."""

    def line(names: list[str], values: list[str]) -> None:
        w(f"{', '.join(names)} = {', '.join(values)}")

    for q in range(size):
        p = f"p0 + {q}"
        if inputs:
            ins = range(lay.n_in)
            line([f"x{q}_{i}" for i in ins], [f"xs[{p}, {i}]" for i in ins])
            if not lay.dense:
                w(f"one{q}, z{q} = single[{p}], start[{p}]")
        if outputs:
            outs = range(lay.n_out)
            line([f"y{q}_{o}" for o in outs], [f"ys[{p}, {o}]" for o in outs])
            line([f"g{q}_{o}" for o in outs], [f"signs[{p}, {o}]" for o in outs])


def _forward(w: Writer, ar: Arithmetic, lay: LoopLayout, size: int, tile: int, first: str) -> None:
    """A tile's hidden outputs on the chunk's samples, and their terms of the output sums."""
    lay.bases(w, first)
    _chunk_scalars(w, lay, size, inputs=True, outputs=False)
    w(f"for j in range({w.nb}):")
    w.depth += 1
    for u in range(tile):
        for name, offset, _ in lay.unit_params(u):
            w(f"{name} = theta[{offset} + j]")
    for q in range(size):
        for u in range(tile):
            if lay.dense:  # every input nonzero: the sum of the unrolled kernels
                terms = [(f"x{q}_{i}", f"wh{i}_{u}") for i in range(lay.n_in)]
                pre = ar.chain(terms, f"bh{u}") if lay.n_in == 1 else f"{ar.chain(terms)} + bh{u}"
            else:
                w(f"a = select(one{q}, bh{u}, z{q})")
                for i in range(lay.n_in):
                    w(f"a = select(x{q}_{i} != zero, {ar.madd(f'x{q}_{i}', f'wh{i}_{u}', 'a')}, a)")
                pre = f"select(one{q}, a, a + bh{u})"
            w(f"s{u} = {ar.activate('ACT', pre)}")
            w(f"work[wb + {lay.hidden(q, u) * w.nb} + j] = s{u}")
        for o in range(lay.n_out):
            slot = f"work[{lay.out(q, o) * w.nb} + j]"  # from +0.0 (see _chunk)
            w(f"{slot} = {ar.chain([(f's{u}', f'wo{u}_{o}') for u in range(tile)], slot)}")
    w.depth -= 1


def _outputs(
    w: Writer, ar: Arithmetic, lay: LoopLayout, size: int, then: str, stats: bool = True
) -> None:
    """The chunk's outputs into the epoch's statistics (``stats``), then into
    ``outputs`` (``then`` "outputs"), or their deltas (in place of the sums)
    and the output biases' gradient sums ("deltas"; "step": an online step's,
    each the delta itself, as the general kernel sets it), or nothing more ("").
    (A loop that also wrote ``outputs``, at a base known only at run time,
    would not vectorise: ``work`` might overlap it.)"""
    _chunk_scalars(w, lay, size, inputs=False, outputs=True)
    if then == "outputs":
        w(f"ob = out + p0 * {lay.n_out * w.nb}")
    w(f"for j in range({w.nb}):")
    w.depth += 1
    if stats:
        w(f"worst, miss, sse = {lay.stat(0)}, {lay.stat(1)}, {lay.stat(2)}")
    gbo = [f"work[{(lay.grads + lay.bo + o) * w.nb} + j]" for o in range(lay.n_out)]
    if then == "deltas":
        for o in range(lay.n_out):
            w(f"gbo{o} = {gbo[o]}")
    sums = then in ("deltas", "step")
    for q in range(size):
        for o in range(lay.n_out):
            slot = f"work[{lay.out(q, o) * w.nb} + j]"
            w(f"yhat = {ar.activate('OUT', f'{slot} + theta[th + {(lay.bo + o) * w.nb} + j]')}")
            w(f"e = y{q}_{o} - yhat")
            if stats:
                w(f"worst, miss, sse = observe(e, g{q}_{o}, worst, miss, sse, {ar.fast})")
            if then == "outputs":
                w(f"outputs[ob + {(q * lay.n_out + o) * w.nb} + j] = yhat")
            elif sums:
                w(f"d = {ar.output_delta('e', 'yhat')}")
                w(f"{slot} = d")
                w(f"gbo{o} = gbo{o} + d" if then == "deltas" else f"gbo{o} = d")
    if stats:
        w(f"{lay.stat(0)}, {lay.stat(1)}, {lay.stat(2)} = worst, miss, sse")
    if sums:
        for o in range(lay.n_out):
            w(f"{gbo[o]} = gbo{o}")
    w.depth -= 1


def _backward(
    w: Writer,
    ar: Arithmetic,
    lay: LoopLayout,
    size: int,
    tile: int,
    first: str,
    step: int | None = None,
) -> None:
    """A tile's terms of the gradient sums on the chunk's samples, in sample order;
    or (``step``: momentum, not None) an online step's gradient, from +0.0 as
    the general kernel's cleared sums, and at once the tile's update."""
    lay.bases(w, first)
    lay.grad_bases(w, first)
    _chunk_scalars(w, lay, size, inputs=True, outputs=False)
    w(f"for j in range({w.nb}):")
    w.depth += 1
    sums = [
        (f"g{name}", f"work[{offset} + j]")
        for u in range(tile)
        for name, offset, _ in lay.unit_params(u, "gb", "gw")
    ]
    for u in range(tile):
        for name, offset, _ in lay.unit_params(u)[lay.n_in + 1 :]:  # its output weights
            w(f"{name} = theta[{offset} + j]")
    for name, place in sums:
        w(f"{name} = {'zero' if step is not None else place}")
    for q in range(size):
        for o in range(lay.n_out):
            w(f"d{o} = work[{lay.out(q, o) * w.nb} + j]")
        for u in range(tile):
            w(f"s = work[wb + {lay.hidden(q, u) * w.nb} + j]")
            for o in range(lay.n_out):
                w(f"gwo{u}_{o} = {ar.madd('s', f'd{o}', f'gwo{u}_{o}')}")
            terms = [(f"d{o}", f"wo{u}_{o}") for o in range(lay.n_out)]
            # The general kernel's error sum: a product alone, else from +0.0.
            w(f"err = {ar.chain(terms, None if lay.n_out == 1 else 'zero')}")
            w(f"delta = {ar.hidden_delta('err', 's')}")
            w(f"gbh{u} = gbh{u} + delta")
            for i in range(lay.n_in):
                gw = f"gwh{i}_{u}"
                grown = ar.madd(f"x{q}_{i}", "delta", gw)
                w(f"{gw} = {grown if lay.dense else f'select(x{q}_{i} != zero, {grown}, {gw})'}")
    if step is None:
        for name, place in sums:
            w(f"{place} = {name}")
    else:
        rows, loads = [], []
        for u in range(tile):
            params = lay.unit_params(u)
            # Its input weights and bias; the output weights are loaded already.
            loads += [f"{name} = theta[{offset} + j]" for name, offset, _ in params[: lay.n_in + 1]]
            rows += [(name, f"g{name}", offset, weight) for name, offset, weight in params]
        _apply(w, ar, lay, step, rows, loads)
    w.depth -= 1


def _apply(
    w: Writer, ar: Arithmetic, lay: LoopLayout, momentum: int, rows: list, loads: list[str]
) -> None:
    """Emit network ``j``'s update of a tile's ``rows`` (see
    :func:`kernels.tile_epoch.update`) after the lines ``loads`` (its
    parameters and gradients), with the divergence check kept in ``work``."""
    w(f"ok = events[ev + {LIVE * w.nb} + j] != 0")
    w("lr_j = lr[net + j]")
    for line in loads:
        w(line)
    w(f"check = work[{lay.check * w.nb} + j]")
    tile_epoch.update(w, ar, lay, momentum, rows, check=True)
    w(f"work[{lay.check * w.nb} + j] = check")


def _update(
    w: Writer, ar: Arithmetic, lay: LoopLayout, momentum: bool, tile: int, first: str
) -> None:
    """A tile's update from its gradient sums, which it clears."""
    lay.bases(w, first)
    lay.grad_bases(w, first)
    w(f"for j in range({w.nb}):")
    w.depth += 1
    rows, loads = [], []
    for u in range(tile):
        grads = lay.unit_params(u, "gb", "gw")
        for (name, offset, weight), (_, grad, _) in zip(lay.unit_params(u), grads, strict=True):
            loads += [f"{name} = theta[{offset} + j]", f"g{name} = work[{grad} + j]"]
            loads.append(f"work[{grad} + j] = zero")
            rows.append((name, f"g{name}", offset, weight))
    _apply(w, ar, lay, momentum, rows, loads)
    w.depth -= 1


def _update_output_biases(w: Writer, ar: Arithmetic, lay: LoopLayout, momentum: bool) -> None:
    """Emit (inside the loop over networks) the output biases' update from their
    gradient sums, which it clears; Adam's powers advance first (an update's)."""
    w("lr_j = lr[net + j]")
    if lay.optimizer == ADAM:
        tile_epoch.advance_powers(w, lay)
    rows = []
    for o in range(lay.n_out):
        grad = f"work[{(lay.grads + lay.bo + o) * w.nb} + j]"
        w(f"bo{o} = theta[th + {(lay.bo + o) * w.nb} + j]")
        w(f"gbo{o} = {grad}")
        w(f"{grad} = zero")
        rows.append((f"bo{o}", f"gbo{o}", f"th + {(lay.bo + o) * w.nb}", False))
    tile_epoch.update(w, ar, lay, momentum, rows, check=True)


def _statistics(w: Writer, ar: Arithmetic, lay: LoopLayout, last: bool, momentum: bool) -> None:
    """The epoch's events and loss; then (``last``) the final loss, or the start
    of the updates' divergence check and, with batch updates, the output
    biases' update."""
    w(f"for j in range({w.nb}):")
    w.depth += 1
    w(f"worst, miss, sse = {lay.stat(0)}, {lay.stat(1)}, {lay.stat(2)}")
    tile_epoch.statistics(w)
    if last:
        w("final_loss[net + j] = mse")
    else:
        w(f"events[ev + {LIVE * w.nb} + j] = ok")
        w("check = zero")
        if lay.variant.update == BATCH:
            _update_output_biases(w, ar, lay, momentum)
        w(f"work[{lay.check * w.nb} + j] = check")
    w.depth -= 1


def _step(w: Writer, ar: Arithmetic, lay: LoopLayout, momentum: bool, tile: int) -> None:
    """Emit one online update, on sample ``p0`` (the general kernel's: its
    gradient alone, in the sums the batch update uses)."""
    _forward_all(w, ar, lay, 1, tile)
    _outputs(w, ar, lay, 1, "step", stats=False)
    w(f"for j in range({w.nb}):")
    w.depth += 1
    w(f"ok = events[ev + {LIVE * w.nb} + j] != 0")
    w(f"check = work[{lay.check * w.nb} + j]")
    _update_output_biases(w, ar, lay, momentum)
    w(f"work[{lay.check * w.nb} + j] = check")
    w.depth -= 1
    tiles(w, lay.width, tile, lambda n, first: _backward(w, ar, lay, 1, n, first, momentum))


def _forward_all(w: Writer, ar: Arithmetic, lay: LoopLayout, size: int, tile: int) -> None:
    """Emit the forward pass of ``size`` samples from ``p0`` through every tile. The
    output sums start at +0.0, as the general kernel's (a select on the
    first tile instead would slow every tile)."""
    w(f"for r in range({lay.acc * w.nb}, {lay.check * w.nb}):")
    w("    work[r] = zero")
    tiles(w, lay.width, tile, lambda n, first: _forward(w, ar, lay, size, n, first))


def _chunk(w: Writer, ar: Arithmetic, lay: LoopLayout, size: int, tile: int) -> None:
    """Emit one chunk of ``size`` samples from ``p0`` at theta_k: forward and
    outputs; then, with batch updates and unless ``last``, backward."""
    _forward_all(w, ar, lay, size, tile)
    w("if last:")
    w.depth += 1
    _outputs(w, ar, lay, size, "outputs")
    w.depth -= 1
    w("else:")
    w.depth += 1
    if lay.variant.update == BATCH:
        _outputs(w, ar, lay, size, "deltas")
        tiles(w, lay.width, tile, lambda n, first: _backward(w, ar, lay, size, n, first))
    else:  # online: each sample's step follows the statistics
        _outputs(w, ar, lay, size, "")
    w.depth -= 1


def _kernel(lay: LoopLayout, tile: int, fast: bool) -> list[str]:
    """Source lines of ``train_fast`` or ``train_exact``."""
    ar = Arithmetic(fast)
    w = Writer(lay.nb)
    mom = lay.variant.momentum
    tile_epoch.prologue(w, fast, lay, "xs.shape[0]", f"{SIGNATURE}, {DATA}")
    w("n_samples = xs.shape[0]")
    w(f"for r in range({lay.grads * w.nb}, {lay.stats * w.nb}):  # the block's sums start at 0")
    w("    work[r] = zero")
    tile_epoch.epochs_start(w)
    w(f"for r in range({lay.stats * w.nb}, {lay.work_rows * w.nb}):")
    w("    work[r] = zero")
    w(f"for c in range(n_samples // {lay.chunk}):")
    w.depth = 4
    w(f"p0 = c * {lay.chunk}")
    _chunk(w, ar, lay, lay.chunk, tile)
    w.depth = 3
    if lay.chunk > 1:
        w(f"for p0 in range(n_samples - n_samples % {lay.chunk}, n_samples):")
        w.depth = 4
        _chunk(w, ar, lay, 1, tile)
        w.depth = 3
    w("if last:")
    w.depth = 4
    _statistics(w, ar, lay, True, mom)
    w("break")
    w.depth = 3
    _statistics(w, ar, lay, False, mom)
    if lay.variant.update == BATCH:
        tiles(w, lay.width, tile, lambda n, first: _update(w, ar, lay, mom, n, first))
    else:
        w("for p0 in range(n_samples):")
        w.depth = 4
        _step(w, ar, lay, mom, tile)
        w.depth = 3
    tile_epoch.epochs_end(w, lay)
    return w.lines


def source(lay: LoopLayout, tile: int) -> str:
    """The module for ``lay``'s network and any number of samples, in tiles of
    ``tile`` hidden units."""
    variants = [_kernel(lay, tile, fast) for fast in (True, False)]
    shape = np.zeros((0, lay.n_in)), np.zeros((0, lay.n_out))
    dense = ", dense" if lay.dense else ""
    generator = f"tile_loop (tiles of {tile}, chunks of {lay.chunk}{dense})"
    return codegen.module_source(generator, *shape, lay.width, lay.variant, variants, lay.nb, False)
