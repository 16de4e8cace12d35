"""A generated kernel's tiles, emitted: the forward pass, the outputs and the
backward pass (with the update) of a tile of hidden units, and the whole
kernel module (:func:`source`)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import codegen, tile_epoch
from .codegen import LIVE, Arithmetic, Sums, Writer, constant
from .recipe import ADAM, BATCH, DEFAULT, Recipe, Variant
from .tile_layout import Layout


def tiles(w: Writer, width: int, tile: int, body: Callable[[int, str], None]) -> None:
    """Emit ``body(size, first)`` over the hidden layer: a loop over full tiles
    (``first`` = ``hb``, their first unit), then the rest as one smaller tile."""
    n_full, rest = divmod(width, tile)
    if n_full:
        w(f"for t in range({n_full}):")
        w.depth += 1
        w(f"hb = t * {tile}")
        body(tile, "hb")
        w.depth -= 1
    if rest:
        body(rest, str(n_full * tile))


def _load_tile(w: Writer, lay: Layout, size: int) -> None:
    for u in range(size):
        for name, offset, _ in lay.unit_params(u):
            w(f"{name} = theta[{offset} + j]")


def _forward_tile(
    w: Writer, ar: Arithmetic, X: np.ndarray, lay: Layout, samples: range, size: int, first: str
) -> None:
    """Hidden outputs of a tile on ``samples``, and their terms of the output sums
    (in unit order)."""
    lay.bases(w, first)
    w(f"for j in range({w.nb}):")
    w.depth += 1
    _load_tile(w, lay, size)
    for p in samples:
        for u in range(size):
            act = ar.preactivation(X, p, lambda i, u=u: f"wh{i}_{u}", f"bh{u}")
            w(f"s{u} = {ar.activate('ACT', act)}")
            w(f"work[wb + {lay.hidden(p, u) * w.nb} + j] = s{u}")
        for o in range(lay.n_out):
            slot = f"work[{lay.out(p, o) * w.nb} + j]"
            # The general kernel's sums start at +0.0: the first tile does too.
            w(f"a = select({first} == 0, zero, {slot})")
            w(f"{slot} = {ar.chain([(f's{u}', f'wo{u}_{o}') for u in range(size)], 'a')}")
    w.depth -= 1


def _update_output_bias(
    w: Writer, ar: Arithmetic, lay: Layout, momentum: bool, sums: Sums, check: bool
) -> None:
    for o in range(lay.n_out):
        w(f"bo{o} = theta[th + {(lay.bo + o) * w.nb} + j]")
    tile_epoch.update(
        w,
        ar,
        lay,
        momentum,
        [
            (f"bo{o}", sums.value(f"gbo{o}"), f"th + {(lay.bo + o) * w.nb}", False)
            for o in range(lay.n_out)
        ],
        check,
    )


def _outputs(
    w: Writer,
    ar: Arithmetic,
    Y: np.ndarray,
    signs: np.ndarray,
    lay: Layout,
    mode: str,
    momentum: bool,
) -> None:
    """Predictions and statistics at theta_k; then outputs (``last``), deltas and the
    output bias update (``batch``), or nothing more (``online``, which updates later)."""
    w(f"for j in range({w.nb}):")
    w.depth += 1
    w("worst = zero")
    w("miss = zero  # margin > 0: the test is the same")
    w("sse = zero")
    sums = Sums(w, ar)
    for p in range(Y.shape[0]):
        for o in range(lay.n_out):
            slot = f"work[{lay.out(p, o) * w.nb} + j]"
            tile_epoch.error_terms(
                w, ar, Y, signs, p, o, f"{slot} + theta[th + {(lay.bo + o) * w.nb} + j]"
            )
            if mode == "last":
                w(f"outputs[out + {(p * lay.n_out + o) * w.nb} + j] = yhat")
            elif mode == "batch":
                w(f"d = {ar.output_delta('e', 'yhat')}")
                w(f"{slot} = d")
                sums.add(f"gbo{o}", "one", "d")
    tile_epoch.statistics(w)
    if mode == "last":
        w("final_loss[net + j] = mse")
    else:
        # ``live`` holds ok (after early stop) until the end of the epoch.
        w(f"events[ev + {LIVE * w.nb} + j] = ok")
        w("check = zero")
        if mode == "batch":
            w("lr_j = lr[net + j]")
            if lay.optimizer == ADAM:
                tile_epoch.advance_powers(w, lay)
            _update_output_bias(w, ar, lay, momentum, sums, check=True)
        w(f"work[{lay.check * w.nb} + j] = check")
    w.depth -= 1


def _sample_outputs(
    w: Writer, ar: Arithmetic, Y: np.ndarray, lay: Layout, p: int, momentum: bool
) -> None:
    """Online: sample ``p``'s output deltas, and the output bias update (the
    sample's update is Adam's next: its powers advance here)."""
    w(f"for j in range({w.nb}):")
    w.depth += 1
    w(f"ok = events[ev + {LIVE * w.nb} + j] != 0")
    w("lr_j = lr[net + j]")
    if lay.optimizer == ADAM:
        tile_epoch.advance_powers(w, lay)
    sums = Sums(w, ar)
    for o in range(lay.n_out):
        slot = f"work[{lay.out(p, o) * w.nb} + j]"
        w(f"yhat = {ar.activate('OUT', f'{slot} + theta[th + {(lay.bo + o) * w.nb} + j]')}")
        w(f"d = {ar.output_delta(f'{constant(Y[p, o])} - yhat', 'yhat')}")
        w(f"{slot} = d")
        sums.add(f"gbo{o}", "one", "d")
    _update_output_bias(w, ar, lay, momentum, sums, check=False)
    w.depth -= 1


def _backward_tile(
    w: Writer,
    ar: Arithmetic,
    X: np.ndarray,
    lay: Layout,
    samples: range,
    momentum: bool,
    size: int,
    first: str,
    check: bool = True,
) -> None:
    """A tile's gradient sums over ``samples`` (in sample order), then its update."""
    lay.bases(w, first)
    w(f"for j in range({w.nb}):")
    w.depth += 1
    w(f"ok = events[ev + {LIVE * w.nb} + j] != 0")
    w("lr_j = lr[net + j]")
    _load_tile(w, lay, size)
    sums = Sums(w, ar)
    for p in samples:
        for o in range(lay.n_out):
            w(f"d{o} = work[{lay.out(p, o) * w.nb} + j]")
        for u in range(size):
            w(f"s = work[wb + {lay.hidden(p, u) * w.nb} + j]")
            for o in range(lay.n_out):
                sums.add(f"gwo{u}_{o}", "s", f"d{o}")
            err = ar.chain([(f"d{o}", f"wo{u}_{o}") for o in range(lay.n_out)])
            w(f"delta = {ar.hidden_delta(err, 's')}")
            sums.add(f"gbh{u}", "one", "delta")
            for x, i in codegen.active_inputs(X, p):
                sums.add(f"gwh{i}_{u}", x, "delta")
    params = [
        (name, sums.value(f"g{name}"), offset, weight)
        for u in range(size)
        for name, offset, weight in lay.unit_params(u)
    ]
    if check:
        w(f"check = work[{lay.check * w.nb} + j]")
    tile_epoch.update(w, ar, lay, momentum, params, check)
    if check:
        w(f"work[{lay.check * w.nb} + j] = check")
    w.depth -= 1


def _kernel(
    X: np.ndarray, Y: np.ndarray, signs: np.ndarray, lay: Layout, tile: int, fast: bool
) -> list[str]:
    """Source lines of ``train_fast`` or ``train_exact`` (see the module docstring)."""
    n_samples, width, variant = X.shape[0], lay.width, lay.variant
    ar = Arithmetic(fast)
    mom = variant.momentum
    every = range(n_samples)
    w = Writer(lay.nb)

    def forward(samples: range) -> None:
        tiles(
            w, width, tile, lambda size, first: _forward_tile(w, ar, X, lay, samples, size, first)
        )

    def backward(samples: range, check: bool) -> None:
        tiles(
            w,
            width,
            tile,
            lambda size, first: _backward_tile(w, ar, X, lay, samples, mom, size, first, check),
        )

    tile_epoch.prologue(w, fast, lay, n_samples)
    tile_epoch.epochs_start(w)
    forward(every)
    w("if last:")
    w.depth = 4
    _outputs(w, ar, Y, signs, lay, "last", mom)
    w("break")
    w.depth = 3
    if variant.update == BATCH:
        _outputs(w, ar, Y, signs, lay, "batch", mom)
        backward(every, check=True)
    else:
        _outputs(w, ar, Y, signs, lay, "online", mom)
        for p in every:
            if p > 0:  # the first sample's forward pass at theta_k is the one just done
                forward(range(p, p + 1))
            _sample_outputs(w, ar, Y, lay, p, mom)
            backward(range(p, p + 1), check=False)
        tile_epoch.check_parameters(w, ar, lay)
    tile_epoch.epochs_end(w, lay)
    return w.lines


def source_for(
    X: np.ndarray,
    Y: np.ndarray,
    signs: np.ndarray,
    width: int,
    tile: int,
    variant: Variant,
    nb: int = 0,
) -> str:
    """The module for coded patterns and their ``signs``, in blocks of ``nb``
    networks (0: :data:`kernels.tile_layout.NB`)."""
    lay = Layout(X.shape[0], X.shape[1], width, Y.shape[1], variant, nb)
    variants = [_kernel(X, Y, signs, lay, tile, fast) for fast in (True, False)]
    return codegen.module_source(f"tiled (tiles of {tile})", X, Y, width, variant, variants, lay.nb)


def source(X: np.ndarray, Y: np.ndarray, width: int, tile: int, recipe: Recipe = DEFAULT) -> str:
    """The generated kernel module for a task (its 0/1 patterns ``X``, ``Y``) and
    recipe, ``width`` hidden units in tiles of ``tile``."""
    Xc, Yc = recipe.code(X, Y)
    return source_for(Xc, Yc, recipe.signs(Y), width, tile, recipe.variant)
