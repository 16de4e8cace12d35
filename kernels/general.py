"""The general kernel: any shape, any recipe, many networks at once.

Networks are processed in blocks whose working set stays in cache; within a
block every inner loop runs over the network index ``j``, so LLVM vectorises
across networks. Every loop over ``j`` is a pass over memory, so the work is
fused into as few passes as the run-time sizes allow: loads and stores, not
arithmetic, bound a pass. A sample's passes are :mod:`kernels.passes`' (one
hidden layer) and :mod:`kernels.deep`'s (two), the update
:mod:`kernels.update`'s; this module holds the epoch loop that calls them.
The arithmetic is :mod:`kernels.step`'s, and
:mod:`kernels.tiled` performs the same operations in the same order, so the
two kernels agree bit for bit.

A kernel is compiled for one :class:`~kernels.recipe.Variant` and one
arithmetic (``fast``): :func:`block_kernel` closes over them as constants, so
each compiled kernel holds only its recipe's code, and Numba's on-disk cache
keys each one on them and on a stamp of every source compiled into it.

Parameters are one (rows, networks) array in init order
(:func:`kernels.model.param_offsets`). Inputs equal to 0 contribute nothing
and are skipped (the reference does the same).
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from . import deep, model, optimizers, passes
from .cache import source_stamp
from .numerics import JIT
from .orders import draw_order
from .parts import piece
from .recipe import BATCH, SHUFFLED, Variant
from .step import record
from .update import own_fields, update_block, update_rates

#: Rows of ``events``: epochs solved, converged, diverged, MSE target (-1: never).
SOLVED, CONVERGED, DIVERGED, HIT = range(4)
_layers = piece(model.layer_offsets)
_weight_rows = piece(model.weight_rows)


@piece
def _restart_statistics(worst, miss, sse):
    """An epoch's statistics start from zero (``miss``: with a margin too)."""
    zero = sse.dtype.type(0.0)
    for j in range(sse.shape[0]):
        worst[j] = zero
        miss[j] = zero
        sse[j] = zero


@piece
def _draw_orders(shuffle, states, order):
    """Each network's next sample order (column ``j`` of ``order``), from its own
    stream, if ``shuffle``."""
    if not shuffle:
        return
    for j in range(states.shape[0]):
        states[j] = draw_order(states[j], order, j)


@piece
def _close_epoch(
    k, last, early_stop, n_terms, limits, worst, miss, sse, live, events, points, nxt, curve, final
):
    """Epoch ``k``'s events (``limits``: margin, tol, MSE target), its loss-curve
    point if it has one and, on the ``last`` epoch, the final losses; then, with
    ``early_stop``, freeze the networks solved and converged. Returns the next
    curve point and whether every network is frozen. Shared by every variant
    (no part's code among its arguments): compiled once per dtype."""
    margin, tol, target = limits
    nb = live.shape[0]
    for j in range(nb):
        events[SOLVED, j], events[CONVERGED, j], events[HIT, j] = record(
            k,
            live[j],
            events[SOLVED, j],
            events[CONVERGED, j],
            events[HIT, j],
            worst[j],
            miss[j],
            sse[j] / n_terms,
            margin,
            tol,
            target,
        )
    if nxt < points.size and points[nxt] == k:
        for j in range(nb):
            curve[nxt, j] = sse[j] / n_terms
        nxt += 1
    if last:
        for j in range(nb):
            final[j] = sse[j] / n_terms
        for row in range(nxt, points.size):  # stopped early: the frozen loss stays flat
            for j in range(nb):
                curve[row, j] = final[j]
        return nxt, True
    if not early_stop:
        return nxt, False
    n_live = 0
    for j in range(nb):
        if live[j] and events[SOLVED, j] >= 0 and events[CONVERGED, j] >= 0:
            live[j] = False
        n_live += live[j]
    return nxt, n_live == 0


@piece
def _mark_diverged(k, live, check, events):
    """Freeze the live networks whose update made a non-finite weight (``check``
    is NaN), recording the epoch after ``k``."""
    for j in range(live.shape[0]):
        if live[j] and check[j] != check[j]:
            events[DIVERGED, j] = k + 1
            live[j] = False


@functools.cache
def block_kernel(variant: Variant, fast: bool, shortcuts: bool = False, second_layer: bool = False):
    """The compiled kernel that trains one block of networks in place
    (``shortcuts``: networks with direct input -> output weights; ``second_layer``: with
    a second hidden layer)."""
    ACT, OUT, LOSS, UPDATE, MOMENTUM, DECAY, OPTIMIZER, PRIME = variant
    FAST = fast
    SHORTCUTS = shortcuts
    DEEP = second_layer
    ONLINE = UPDATE != BATCH
    SHUFFLE = UPDATE == SHUFFLED
    STAMP = source_stamp()  # in the closure: part of Numba's cache key
    entry = optimizers.TABLE[OPTIMIZER]
    OWN = own_fields(entry.name)
    SLOTS = len(entry.state) or int(MOMENTUM)

    @njit(**JIT)
    def train_block(
        X,
        Y,
        sgn,
        th,
        vel,
        pw,
        lr,
        hyper,
        width,
        width2,
        batch,
        epochs,
        tol,
        margin,
        mse_target,
        points,
        early_stop,
        states,
        events,
        curve,
        outputs,
        final_loss,
        stop,
    ):
        """Train the networks of one block (arrays are block-local; see block_kernel)."""
        STAMP  # noqa: B018 (a closure variable: Numba's cache key includes its value)
        n_samples, n_in = X.shape
        n_out = Y.shape[1]
        rows, nb = th.shape
        layers = _layers(n_in, width, width2, n_out)
        bh_, w2_, b2_, wo_, bo_, ws_ = layers
        wsf = ws_ if SHORTCUTS else -1  # where the shortcuts' rows start (-1: none)
        dt = th.dtype.type
        zero = dt(0.0)
        tol_t, margin_t, target_t = dt(tol), dt(margin), dt(mse_target)
        n_terms = dt(n_samples * n_out)
        nz, nnz = passes.nonzero_inputs(X)
        weights = _weight_rows(layers, rows)

        grad = np.zeros_like(th)
        hid = np.empty((width, nb), dtype=th.dtype)
        hid2 = np.empty((width2, nb), dtype=th.dtype)
        d2 = np.empty((width2, nb), dtype=th.dtype)
        dout = np.empty((n_out, nb), dtype=th.dtype)
        oacc = np.empty((n_out, nb), dtype=th.dtype)
        acc = np.empty(nb, dtype=th.dtype)
        worst = np.empty(nb, dtype=th.dtype)
        miss = np.empty(nb, dtype=th.dtype)
        sse = np.empty(nb, dtype=th.dtype)
        check = np.empty(nb, dtype=th.dtype)
        live = np.ones(nb, dtype=np.bool_)
        scale = np.empty((2, nb), dtype=th.dtype)
        order = np.empty((n_samples, nb), dtype=np.int64)
        xg = np.empty((n_in, nb), dtype=th.dtype)
        yg = np.empty((n_out, nb), dtype=th.dtype)

        consts, own = update_rates(hyper, OWN, th)
        po = dt(hyper.prime_offset)

        # Numba inlines inner functions: one text, the same code at each call.
        def update():
            state, rates = (vel, pw, scale), (lr, consts, own)
            update_block(
                MOMENTUM,
                DECAY,
                OPTIMIZER,
                FAST,
                SLOTS,
                th,
                grad,
                state,
                rates,
                live,
                weights,
                check,
            )

        def deep_backward():
            deep.backward(
                ACT, PRIME, po, FAST, xg, th, hid, hid2, dout, grad, acc, d2, w2_, b2_, wo_, wsf
            )

        stopping = False
        nxt = 0  # the next loss-curve point to record (points: its epochs, ascending)
        for k in range(epochs + 1):
            if stop[0]:  # asked to stop (kernels.stop): the caller discards this block
                return
            last = k == epochs or stopping
            train_here = not (ONLINE or last)  # batch: this pass also backpropagates
            _restart_statistics(worst, miss, sse)
            # theta_k on every sample: statistics (and, batch, the gradient sums).
            for p in range(n_samples):
                if DEEP:
                    passes.sample_inputs(X, p, xg)
                    deep.forward(ACT, FAST, xg, th, hid, hid2, oacc, acc, w2_, b2_, wo_, wsf)
                else:
                    passes.forward(ACT, FAST, X, p, nz, nnz[p], th, hid, oacc, acc, wsf)
                passes.observe_outputs(
                    OUT,
                    LOSS,
                    PRIME,
                    po,
                    FAST,
                    Y,
                    sgn,
                    p,
                    th,
                    bo_,
                    oacc,
                    train_here,
                    dout,
                    grad,
                    worst,
                    miss,
                    sse,
                    outputs,
                )
                if train_here and DEEP:
                    deep_backward()
                elif train_here:
                    passes.backward(
                        ACT, PRIME, po, FAST, X, p, nz, nnz[p], th, hid, dout, grad, acc, wsf
                    )

            nxt, stopping = _close_epoch(
                k,
                last,
                early_stop,
                n_terms,
                (margin_t, tol_t, target_t),
                worst,
                miss,
                sse,
                live,
                events,
                points,
                nxt,
                curve,
                final_loss,
            )
            if last:
                break

            # theta_k -> theta_{k+1}.
            check[:] = zero
            if not ONLINE:
                update()
            else:
                _draw_orders(SHUFFLE, states, order)
                for t in range(n_samples):
                    # Shuffled: each network its own sample (inputs and targets into
                    # xg and yg); ordered: sample t for all, its zero inputs skipped.
                    if SHUFFLE:
                        passes.gather(X, Y, order, t, xg, yg)
                    elif DEEP:
                        passes.sample_inputs(X, t, xg)
                    if DEEP:
                        deep.forward(ACT, FAST, xg, th, hid, hid2, oacc, acc, w2_, b2_, wo_, wsf)
                    elif SHUFFLE:
                        passes.lane_forward(ACT, FAST, xg, th, hid, oacc, acc, wsf)
                    else:
                        passes.forward(ACT, FAST, X, t, nz, nnz[t], th, hid, oacc, acc, wsf)
                    first = t % batch == 0  # a mini-batch's first sample
                    passes.sample_outputs(
                        OUT,
                        LOSS,
                        PRIME,
                        po,
                        FAST,
                        SHUFFLE,
                        Y,
                        yg,
                        t,
                        first,
                        th,
                        bo_,
                        oacc,
                        dout,
                        grad,
                    )
                    if DEEP:
                        deep_backward()
                    elif SHUFFLE:
                        passes.lane_backward(
                            ACT, PRIME, po, FAST, xg, th, hid, dout, grad, acc, wsf, not first
                        )
                    else:
                        passes.backward(
                            ACT, PRIME, po, FAST, X, t, nz, nnz[t], th, hid, dout, grad, acc, wsf
                        )
                    if (t + 1) % batch and t + 1 < n_samples:
                        continue  # the mini-batch goes on
                    update()
            _mark_diverged(k, live, check, events)

    return train_block
