"""The general kernel: any shape, any recipe, many networks at once.

Networks are processed in blocks whose working set stays in cache; within a
block every inner loop runs over the network index ``j``, so LLVM vectorises
across networks. Every loop over ``j`` is a pass over memory, so the work is
fused into as few passes as the run-time sizes allow: loads and stores, not
arithmetic, bound a pass. The arithmetic is :mod:`kernels.step`'s, and
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

from . import model, optimizers
from .cache import source_stamp
from .numerics import JIT, madd
from .orders import draw_order
from .recipe import ADAM, BATCH, IRPROP, QUICKPROP, RPROP, SHUFFLED, Constants, Variant
from .step import (
    activate,
    adam,
    adam_scales,
    descend,
    hidden_delta,
    observe,
    optimizer_step,
    output_delta,
    quickprop,
    record,
    rprop,
)

#: Rows of ``events``: epochs solved, converged, diverged, MSE target (-1: never).
SOLVED, CONVERGED, DIVERGED, HIT = range(4)
_PIECE = {**JIT, "cache": False}
_offsets = njit(**_PIECE)(model.param_offsets)
_layers = njit(**_PIECE)(model.layer_offsets)
_weight_rows = njit(**_PIECE)(model.weight_rows)


@njit(**_PIECE)
def _nonzero_inputs(X):
    """(indices, counts): each sample's nonzero inputs, in ascending order."""
    n_samples, n_in = X.shape
    nz = np.zeros((n_samples, n_in), dtype=np.int64)
    nnz = np.zeros(n_samples, dtype=np.int64)
    for p in range(n_samples):
        for i in range(n_in):
            if X[p, i] != 0:
                nz[p, nnz[p]] = i
                nnz[p] += 1
    return nz, nnz


@njit(**_PIECE)
def _forward(act, fast, X, p, nz, c, th, hid, oacc, acc, ws):
    """Hidden outputs of sample ``p`` (into ``hid``), fused with their terms of
    the output sums (``oacc``, from +0.0: the reference's order), then the
    shortcuts' terms (rows from ``ws``; none if ``ws`` < 0)."""
    n_out, nb = oacc.shape
    width = hid.shape[0]
    bh_, wo_, _, _ = _offsets(X.shape[1], width, n_out)
    dt = th.dtype.type
    zero = dt(0.0)
    for o in range(n_out):
        for j in range(nb):
            oacc[o, j] = zero
    for h in range(width):
        bh, wo = bh_ + h, wo_ + h * n_out
        if c == 0:
            for j in range(nb):
                s = activate(act, zero + th[bh, j], fast)
                hid[h, j] = s
                oacc[0, j] = madd(s, th[wo, j], oacc[0, j], fast)
        elif c == 1:
            i = nz[p, 0]
            x = dt(X[p, i])
            w = i * width + h
            for j in range(nb):
                s = activate(act, madd(x, th[w, j], th[bh, j], fast), fast)
                hid[h, j] = s
                oacc[0, j] = madd(s, th[wo, j], oacc[0, j], fast)
        else:
            i = nz[p, 0]
            x = dt(X[p, i])
            w = i * width + h
            for j in range(nb):
                acc[j] = x * th[w, j]
            for t in range(1, c - 1):
                i = nz[p, t]
                x = dt(X[p, i])
                w = i * width + h
                for j in range(nb):
                    acc[j] = madd(x, th[w, j], acc[j], fast)
            i = nz[p, c - 1]
            x = dt(X[p, i])
            w = i * width + h
            for j in range(nb):
                s = activate(act, madd(x, th[w, j], acc[j], fast) + th[bh, j], fast)
                hid[h, j] = s
                oacc[0, j] = madd(s, th[wo, j], oacc[0, j], fast)
        for o in range(1, n_out):
            for j in range(nb):
                oacc[o, j] = madd(hid[h, j], th[wo + o, j], oacc[o, j], fast)
    if ws >= 0:
        for t in range(c):
            i = nz[p, t]
            x = dt(X[p, i])
            for o in range(n_out):
                w = ws + i * n_out + o
                for j in range(nb):
                    oacc[o, j] = madd(x, th[w, j], oacc[o, j], fast)


@njit(**_PIECE)
def _backward(act, prime, po, fast, X, p, nz, c, th, hid, dout, grad, acc, ws):
    """Add sample ``p``'s gradient terms (minus the gradient) to ``grad``, one
    hidden unit at a time: its output weights', then its delta's (the error
    it receives, sum_o dout_o * w_out[h, o], times its slope); then the
    shortcuts' (rows from ``ws``; none if ``ws`` < 0)."""
    n_out, nb = dout.shape
    width = hid.shape[0]
    bh_, wo_, _, _ = _offsets(X.shape[1], width, n_out)
    dt = th.dtype.type
    zero = dt(0.0)
    first = n_out == 1
    o = n_out - 1
    for h in range(width):
        bh, wo = bh_ + h, wo_ + h * n_out
        for q in range(n_out - 1):
            for j in range(nb):
                d = dout[q, j]
                acc[j] = madd(d, th[wo + q, j], acc[j] if q > 0 else zero, fast)
                grad[wo + q, j] = madd(hid[h, j], d, grad[wo + q, j], fast)
        if c == 1:
            i = nz[p, 0]
            x = dt(X[p, i])
            w = i * width + h
            for j in range(nb):
                d = dout[o, j]
                hv = hid[h, j]
                grad[wo + o, j] = madd(hv, d, grad[wo + o, j], fast)
                e = d * th[wo + o, j] if first else madd(d, th[wo + o, j], acc[j], fast)
                delta = hidden_delta(act, e, hv, prime, po, fast)
                grad[bh, j] = grad[bh, j] + delta
                grad[w, j] = madd(x, delta, grad[w, j], fast)
        elif c == 2:
            i0, i1 = nz[p, 0], nz[p, 1]
            x0, x1 = dt(X[p, i0]), dt(X[p, i1])
            w0, w1 = i0 * width + h, i1 * width + h
            for j in range(nb):
                d = dout[o, j]
                hv = hid[h, j]
                grad[wo + o, j] = madd(hv, d, grad[wo + o, j], fast)
                e = d * th[wo + o, j] if first else madd(d, th[wo + o, j], acc[j], fast)
                delta = hidden_delta(act, e, hv, prime, po, fast)
                grad[bh, j] = grad[bh, j] + delta
                grad[w0, j] = madd(x0, delta, grad[w0, j], fast)
                grad[w1, j] = madd(x1, delta, grad[w1, j], fast)
        else:
            for j in range(nb):
                d = dout[o, j]
                hv = hid[h, j]
                grad[wo + o, j] = madd(hv, d, grad[wo + o, j], fast)
                e = d * th[wo + o, j] if first else madd(d, th[wo + o, j], acc[j], fast)
                delta = hidden_delta(act, e, hv, prime, po, fast)
                acc[j] = delta
                grad[bh, j] = grad[bh, j] + delta
            for t in range(c):
                i = nz[p, t]
                x = dt(X[p, i])
                w = i * width + h
                for j in range(nb):
                    grad[w, j] = madd(x, acc[j], grad[w, j], fast)
    if ws >= 0:
        for t in range(c):
            i = nz[p, t]
            x = dt(X[p, i])
            for o in range(n_out):
                w = ws + i * n_out + o
                for j in range(nb):
                    grad[w, j] = madd(x, dout[o, j], grad[w, j], fast)


@njit(**_PIECE)
def _shortcut_terms(fast, xg, th, oacc, ws):
    """Add the shortcuts' terms (rows from ``ws``; none if ``ws`` < 0) to the output
    sums ``oacc``, each network on its own inputs ``xg``, zeros skipped."""
    n_in, nb = xg.shape
    n_out = oacc.shape[0]
    if ws >= 0:
        for i in range(n_in):
            for o in range(n_out):
                w = ws + i * n_out + o
                for j in range(nb):
                    x = xg[i, j]
                    oacc[o, j] = madd(x, th[w, j], oacc[o, j], fast) if x != 0 else oacc[o, j]


@njit(**_PIECE)
def _lane_forward(act, fast, xg, th, hid, oacc, acc, ws):
    """:func:`_forward` where each network sees its own sample (``xg``: inputs
    by network): zero inputs are skipped by selection, sums start at +0.0."""
    n_in, nb = xg.shape
    n_out = oacc.shape[0]
    width = hid.shape[0]
    bh_, wo_, _, _ = _offsets(n_in, width, n_out)
    zero = th.dtype.type(0.0)
    for o in range(n_out):
        for j in range(nb):
            oacc[o, j] = zero
    for h in range(width):
        for j in range(nb):
            acc[j] = zero
        for i in range(n_in):
            w = i * width + h
            for j in range(nb):
                x = xg[i, j]
                acc[j] = madd(x, th[w, j], acc[j], fast) if x != 0 else acc[j]
        for j in range(nb):
            hid[h, j] = activate(act, acc[j] + th[bh_ + h, j], fast)
        for o in range(n_out):
            for j in range(nb):
                oacc[o, j] = madd(hid[h, j], th[wo_ + h * n_out + o, j], oacc[o, j], fast)
    _shortcut_terms(fast, xg, th, oacc, ws)


@njit(**_PIECE)
def _lane_backward(act, prime, po, fast, xg, th, hid, dout, grad, acc, ws, add):
    """:func:`_backward` for one sample per network (``xg``): into a cleared ``grad``,
    or (``add``: a mini-batch's later samples) added to it."""
    n_in, nb = xg.shape
    n_out = dout.shape[0]
    width = hid.shape[0]
    bh_, wo_, _, _ = _offsets(n_in, width, n_out)
    zero = th.dtype.type(0.0)
    for h in range(width):
        wo = wo_ + h * n_out
        for j in range(nb):
            acc[j] = zero
        for o in range(n_out):
            for j in range(nb):
                d = dout[o, j]
                g = grad[wo + o, j]
                grad[wo + o, j] = madd(hid[h, j], d, g, fast) if add else hid[h, j] * d
                acc[j] = d * th[wo + o, j] if o == 0 else madd(d, th[wo + o, j], acc[j], fast)
        for j in range(nb):
            acc[j] = hidden_delta(act, acc[j], hid[h, j], prime, po, fast)
            grad[bh_ + h, j] = grad[bh_ + h, j] + acc[j] if add else acc[j]
        for i in range(n_in):
            w = i * width + h
            for j in range(nb):
                grad[w, j] = _term(xg[i, j], acc[j], grad[w, j], add, fast)
    if ws >= 0:
        for i in range(n_in):
            for o in range(n_out):
                w = ws + i * n_out + o
                for j in range(nb):
                    grad[w, j] = _term(xg[i, j], dout[o, j], grad[w, j], add, fast)


@njit(**_PIECE)
def _term(x, d, g, add, fast):
    """An input's gradient term x d: ``g`` plus it (``add``), or it alone (``g`` is
    then the cleared 0); an input of 0 adds nothing."""
    if x == 0:
        return g
    return madd(x, d, g, fast) if add else x * d


@njit(**_PIECE)
def _deep_forward(act, fast, xg, th, hid, hid2, oacc, acc, w2, b2, wo, ws):
    """The forward pass of a network with two hidden layers, each network on its
    own inputs (``xg``, zeros skipped as the first layer's inputs always are):
    the first layer's outputs into ``hid``, the second's into ``hid2``, the
    output sums (before the bias) into ``oacc``; rows from :func:`_layers`."""
    n_in, nb = xg.shape
    width, width2, n_out = hid.shape[0], hid2.shape[0], oacc.shape[0]
    zero = th.dtype.type(0.0)
    for h in range(width):
        for j in range(nb):
            acc[j] = zero
        for i in range(n_in):
            w = i * width + h
            for j in range(nb):
                x = xg[i, j]
                acc[j] = madd(x, th[w, j], acc[j], fast) if x != 0 else acc[j]
        for j in range(nb):
            hid[h, j] = activate(act, acc[j] + th[n_in * width + h, j], fast)
    for k in range(width2):
        for j in range(nb):
            acc[j] = hid[0, j] * th[w2 + k, j]
        for h in range(1, width):
            for j in range(nb):
                acc[j] = madd(hid[h, j], th[w2 + h * width2 + k, j], acc[j], fast)
        for j in range(nb):
            hid2[k, j] = activate(act, acc[j] + th[b2 + k, j], fast)
    for o in range(n_out):
        for j in range(nb):
            oacc[o, j] = hid2[0, j] * th[wo + o, j]
        for k in range(1, width2):
            for j in range(nb):
                oacc[o, j] = madd(hid2[k, j], th[wo + k * n_out + o, j], oacc[o, j], fast)
    _shortcut_terms(fast, xg, th, oacc, ws)


@njit(**_PIECE)
def _deep_backward(act, prime, po, fast, xg, th, hid, hid2, dout, grad, acc, d2, w2, b2, wo, ws):
    """Add one sample's gradient terms (minus the gradient) of a network with two
    hidden layers to ``grad``: the output weights', the second layer's (its
    deltas into ``d2``), the first layer's, then the shortcuts'. The output
    biases' are the caller's, as in :func:`_backward`."""
    n_in, nb = xg.shape
    width, width2, n_out = hid.shape[0], hid2.shape[0], dout.shape[0]
    for k in range(width2):
        row = wo + k * n_out
        for j in range(nb):
            acc[j] = dout[0, j] * th[row, j]
        for o in range(n_out):
            for j in range(nb):
                grad[row + o, j] = madd(hid2[k, j], dout[o, j], grad[row + o, j], fast)
                if o > 0:
                    acc[j] = madd(dout[o, j], th[row + o, j], acc[j], fast)
        for j in range(nb):
            d2[k, j] = hidden_delta(act, acc[j], hid2[k, j], prime, po, fast)
            grad[b2 + k, j] = grad[b2 + k, j] + d2[k, j]
    for h in range(width):
        row = w2 + h * width2
        for j in range(nb):
            acc[j] = d2[0, j] * th[row, j]
        for k in range(width2):
            for j in range(nb):
                grad[row + k, j] = madd(hid[h, j], d2[k, j], grad[row + k, j], fast)
                if k > 0:
                    acc[j] = madd(d2[k, j], th[row + k, j], acc[j], fast)
        for j in range(nb):
            acc[j] = hidden_delta(act, acc[j], hid[h, j], prime, po, fast)
            grad[n_in * width + h, j] = grad[n_in * width + h, j] + acc[j]
        for i in range(n_in):
            w = i * width + h
            for j in range(nb):
                x = xg[i, j]
                grad[w, j] = madd(x, acc[j], grad[w, j], fast) if x != 0 else grad[w, j]
    if ws >= 0:
        for i in range(n_in):
            for o in range(n_out):
                w = ws + i * n_out + o
                for j in range(nb):
                    x = xg[i, j]
                    grad[w, j] = madd(x, dout[o, j], grad[w, j], fast) if x != 0 else grad[w, j]


@njit(**_PIECE)
def _sample_inputs(X, p, xg):
    """Every network's inputs: sample ``p``'s."""
    n_in, nb = xg.shape
    dt = xg.dtype.type
    for i in range(n_in):
        x = dt(X[p, i])
        for j in range(nb):
            xg[i, j] = x


@njit(**_PIECE)
def _gather(X, Y, order, t, xg, yg):
    """Each network's ``t``-th sample in its own order: inputs into ``xg``,
    targets into ``yg``."""
    n_in, nb = xg.shape
    dt = xg.dtype.type
    for j in range(nb):
        p = order[t, j]
        for i in range(n_in):
            xg[i, j] = dt(X[p, i])
        for o in range(yg.shape[0]):
            yg[o, j] = dt(Y[p, o])


@njit(**_PIECE)
def _observe_outputs(
    out, loss, prime, po, fast, Y, sgn, p, th, bo, oacc, train, dout, grad, worst, miss, sse, yhats
):
    """Sample ``p``'s outputs (from the sums in ``oacc``) into the epoch's
    statistics and ``yhats``; when ``train``, their deltas into ``dout`` and the
    output biases' gradient."""
    n_out, nb = oacc.shape
    dt = th.dtype.type
    for o in range(n_out):
        y = dt(Y[p, o])
        sign = dt(sgn[p, o])
        for j in range(nb):
            yhat = activate(out, oacc[o, j] + th[bo + o, j], fast)
            e = y - yhat
            worst[j], miss[j], sse[j] = observe(e, sign, worst[j], miss[j], sse[j], fast)
            yhats[p, o, j] = yhat  # what stays is the last epoch's
            if train:
                d = output_delta(loss, out, e, yhat, prime, po, fast)
                dout[o, j] = d
                grad[bo + o, j] = grad[bo + o, j] + d


@njit(**_PIECE)
def _sample_outputs(out, loss, prime, po, fast, shuffle, Y, yg, t, first, th, bo, oacc, dout, grad):
    """An online step's output deltas (targets: sample ``t``'s, or each network's
    own in ``yg`` when ``shuffle``) into ``dout``, and the output biases'
    gradient, which a mini-batch's ``first`` sample starts."""
    n_out, nb = oacc.shape
    dt = th.dtype.type
    for o in range(n_out):
        y = dt(Y[t, o])
        for j in range(nb):
            yhat = activate(out, oacc[o, j] + th[bo + o, j], fast)
            e = (yg[o, j] if shuffle else y) - yhat
            d = output_delta(loss, out, e, yhat, prime, po, fast)
            dout[o, j] = d
            grad[bo + o, j] = d if first else grad[bo + o, j] + d


@njit(**_PIECE)
def _restart_statistics(worst, miss, sse):
    """An epoch's statistics start from zero (``miss``: with a margin too)."""
    zero = sse.dtype.type(0.0)
    for j in range(sse.shape[0]):
        worst[j] = zero
        miss[j] = zero
        sse[j] = zero


@njit(**_PIECE)
def _draw_orders(shuffle, states, order):
    """Each network's next sample order (column ``j`` of ``order``), from its own
    stream, if ``shuffle``."""
    if not shuffle:
        return
    for j in range(states.shape[0]):
        states[j] = draw_order(states[j], order, j)


@njit(**_PIECE)
def _update(
    momentum,
    decay,
    optimizer,
    fast,
    th,
    grad,
    vel,
    lr,
    consts,
    own,
    pair,
    pw,
    scale,
    live,
    check,
    weights,
):
    """theta <- theta + step for every row (weight decay on the rows
    ``weights`` marks, :func:`kernels.model.weight_rows`), clearing ``grad``;
    frozen networks keep their state. ``vel`` holds the optimiser's state, a block
    of rows per quantity (momentum: velocities; Adam: first, then second
    moments; Rprop: step sizes, kept gradients, last changes; Quickprop: kept
    gradients, last changes). ``consts``:
    (mu, lambda, beta1, beta2, eps, eta+, eta-, delta max, delta min, Quickprop's
    mu); ``own``: the settings of an optimiser with a table step, in its
    order, and ``pair`` whether it keeps two state blocks; ``pw``: each
    network's beta1^t and beta2^t, Adam's bias corrections
    (advanced here to this update's t), and ``scale`` their factors
    (:func:`~kernels.step.adam_scales`, written here). ``check`` collects new * 0, NaN
    exactly when a new parameter is not finite."""
    rows, nb = th.shape
    zero = th.dtype.type(0.0)
    mu_t, lam_t, beta1, beta2, eps, up, down, most, least, qmu = consts
    if optimizer == ADAM:
        for j in range(nb):
            pw[0, j], pw[1, j] = pw[0, j] * beta1, pw[1, j] * beta2
            scale[0, j], scale[1, j] = adam_scales(lr[j], pw[0, j], pw[1, j])
    for r in range(rows):
        weight = weights[r]
        for j in range(nb):
            if optimizer >= optimizers.FIRST_STEPPED:
                s0 = vel[r, j]
                s1 = vel[rows + r, j] if pair else zero
                g = madd(-lam_t, th[r, j], grad[r, j], fast) if decay and weight else grad[r, j]
                w, s0, s1 = optimizer_step(
                    optimizer, th[r, j], g, s0, s1, lr[j], own[0], own[1], own[2], fast
                )
                vel[r, j] = s0 if live[j] else vel[r, j]
                if pair:
                    vel[rows + r, j] = s1 if live[j] else vel[rows + r, j]
            elif optimizer == QUICKPROP:
                gp, dw = vel[r, j], vel[rows + r, j]
                if weight:
                    w, gp, dw = quickprop(
                        decay, th[r, j], grad[r, j], gp, dw, lr[j], lam_t, qmu, fast
                    )
                else:
                    w, gp, dw = quickprop(
                        False, th[r, j], grad[r, j], gp, dw, lr[j], lam_t, qmu, fast
                    )
                vel[r, j] = gp if live[j] else vel[r, j]
                vel[rows + r, j] = dw if live[j] else vel[rows + r, j]
            elif optimizer in (RPROP, IRPROP):
                step, gp = vel[r, j], vel[rows + r, j]
                dw = vel[2 * rows + r, j] if optimizer == RPROP else zero
                if weight:
                    w, step, gp, dw = rprop(
                        optimizer,
                        decay,
                        th[r, j],
                        grad[r, j],
                        step,
                        gp,
                        dw,
                        lam_t,
                        up,
                        down,
                        most,
                        least,
                        fast,
                    )
                else:
                    w, step, gp, dw = rprop(
                        optimizer,
                        False,
                        th[r, j],
                        grad[r, j],
                        step,
                        gp,
                        dw,
                        lam_t,
                        up,
                        down,
                        most,
                        least,
                        fast,
                    )
                vel[r, j] = step if live[j] else vel[r, j]
                vel[rows + r, j] = gp if live[j] else vel[rows + r, j]
                if optimizer == RPROP:
                    vel[2 * rows + r, j] = dw if live[j] else vel[2 * rows + r, j]
            elif optimizer == ADAM:
                m, s = vel[r, j], vel[rows + r, j]
                if weight:
                    w, m, s = adam(
                        decay,
                        th[r, j],
                        grad[r, j],
                        m,
                        s,
                        scale[0, j],
                        scale[1, j],
                        lam_t,
                        beta1,
                        beta2,
                        eps,
                        fast,
                    )
                else:
                    w, m, s = adam(
                        False,
                        th[r, j],
                        grad[r, j],
                        m,
                        s,
                        scale[0, j],
                        scale[1, j],
                        lam_t,
                        beta1,
                        beta2,
                        eps,
                        fast,
                    )
                vel[r, j] = m if live[j] else vel[r, j]
                vel[rows + r, j] = s if live[j] else vel[rows + r, j]
            else:
                v = vel[r, j] if momentum else zero
                if weight:
                    w, v = descend(
                        momentum, decay, th[r, j], grad[r, j], v, lr[j], mu_t, lam_t, fast
                    )
                else:
                    w, v = descend(
                        momentum, False, th[r, j], grad[r, j], v, lr[j], mu_t, lam_t, fast
                    )
                if momentum:
                    vel[r, j] = v if live[j] else vel[r, j]
            grad[r, j] = zero
            check[j] = madd(w, zero, check[j], fast)
            th[r, j] = w if live[j] else th[r, j]


@njit(**_PIECE)
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


@njit(**_PIECE)
def _mark_diverged(k, live, check, events):
    """Freeze the live networks whose update made a non-finite weight (``check``
    is NaN), recording the epoch after ``k``."""
    for j in range(live.shape[0]):
        if live[j] and check[j] != check[j]:
            events[DIVERGED, j] = k + 1
            live[j] = False


@functools.cache
def block_kernel(variant: Variant, fast: bool, shortcuts: bool = False, deep: bool = False):
    """The compiled kernel that trains one block of networks in place
    (``shortcuts``: networks with direct input -> output weights; ``deep``: with
    a second hidden layer)."""
    ACT, OUT, LOSS, UPDATE, MOMENTUM, DECAY, OPTIMIZER, PRIME = variant
    FAST = fast
    SHORTCUTS = shortcuts
    DEEP = deep
    ONLINE = UPDATE != BATCH
    SHUFFLE = UPDATE == SHUFFLED
    STAMP = source_stamp()  # in the closure: part of Numba's cache key
    entry = optimizers.TABLE[OPTIMIZER]
    OWN0, OWN1, OWN2 = map(Constants._fields.index, optimizers.step_settings(entry.name))
    PAIR = len(entry.state) > 1

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
        nz, nnz = _nonzero_inputs(X)
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

        mu_t, lam_t = dt(hyper.momentum), dt(hyper.weight_decay)
        b1, b2, eps = dt(hyper.beta1), dt(hyper.beta2), dt(hyper.adam_eps)
        up, down = dt(hyper.eta_plus), dt(hyper.eta_minus)
        most, least = dt(hyper.delta_max), dt(hyper.delta_min)
        consts = (mu_t, lam_t, b1, b2, eps, up, down, most, least, dt(hyper.max_factor))
        po = dt(hyper.prime_offset)
        own = (dt(hyper[OWN0]), dt(hyper[OWN1]), dt(hyper[OWN2]))

        # Numba inlines inner functions: one text, the same code at each call.
        def update():
            _update(
                MOMENTUM,
                DECAY,
                OPTIMIZER,
                FAST,
                th,
                grad,
                vel,
                lr,
                consts,
                own,
                PAIR,
                pw,
                scale,
                live,
                check,
                weights,
            )

        def deep_backward():
            _deep_backward(
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
                    _sample_inputs(X, p, xg)
                    _deep_forward(ACT, FAST, xg, th, hid, hid2, oacc, acc, w2_, b2_, wo_, wsf)
                else:
                    _forward(ACT, FAST, X, p, nz, nnz[p], th, hid, oacc, acc, wsf)
                _observe_outputs(
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
                    _backward(ACT, PRIME, po, FAST, X, p, nz, nnz[p], th, hid, dout, grad, acc, wsf)

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
                        _gather(X, Y, order, t, xg, yg)
                    elif DEEP:
                        _sample_inputs(X, t, xg)
                    if DEEP:
                        _deep_forward(ACT, FAST, xg, th, hid, hid2, oacc, acc, w2_, b2_, wo_, wsf)
                    elif SHUFFLE:
                        _lane_forward(ACT, FAST, xg, th, hid, oacc, acc, wsf)
                    else:
                        _forward(ACT, FAST, X, t, nz, nnz[t], th, hid, oacc, acc, wsf)
                    first = t % batch == 0  # a mini-batch's first sample
                    _sample_outputs(
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
                        _lane_backward(
                            ACT, PRIME, po, FAST, xg, th, hid, dout, grad, acc, wsf, not first
                        )
                    else:
                        _backward(
                            ACT, PRIME, po, FAST, X, t, nz, nnz[t], th, hid, dout, grad, acc, wsf
                        )
                    if (t + 1) % batch and t + 1 < n_samples:
                        continue  # the mini-batch goes on
                    update()
            _mark_diverged(k, live, check, events)

    return train_block
