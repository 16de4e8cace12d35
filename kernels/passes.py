"""One sample through a network of one hidden layer, for every network of a block.

The general kernel's (:mod:`kernels.general`) passes: each sample's inputs,
the forward pass with its terms of the output sums, the output stage (the
epoch's statistics, or an online step's deltas) and the backward pass into
the gradient. Ordered passes show every network the same sample and skip its
zero inputs; lane passes (shuffled updates) give each network its own sample.
Every inner loop runs over the network index ``j``; the arithmetic is
:mod:`kernels.step`'s.
"""

from __future__ import annotations

import numpy as np

from . import model
from .numerics import madd
from .parts import piece
from .step import activate, hidden_delta, observe, output_delta

offsets = piece(model.param_offsets)
entry_row = piece(model.entry_row)


@piece
def nonzero_inputs(X):
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


@piece
def forward(act, fast, X, p, nz, c, th, hid, oacc, acc, ws):
    """Hidden outputs of sample ``p`` (into ``hid``), fused with their terms of
    the output sums (``oacc``, from +0.0: the reference's order), then the
    shortcuts' terms (rows from ``ws``; none if ``ws`` < 0)."""
    n_out, nb = oacc.shape
    width = hid.shape[0]
    bh_, wo_, _, _ = offsets(X.shape[1], width, n_out)
    dt = th.dtype.type
    zero = dt(0.0)
    for o in range(n_out):
        for j in range(nb):
            oacc[o, j] = zero
    for h in range(width):
        bh, wo = bh_ + h, entry_row(wo_, h, 0, n_out)
        if c == 0:
            for j in range(nb):
                s = activate(act, zero + th[bh, j], fast)
                hid[h, j] = s
                oacc[0, j] = madd(s, th[wo, j], oacc[0, j], fast)
        elif c == 1:
            i = nz[p, 0]
            x = dt(X[p, i])
            w = entry_row(0, i, h, width)
            for j in range(nb):
                s = activate(act, madd(x, th[w, j], th[bh, j], fast), fast)
                hid[h, j] = s
                oacc[0, j] = madd(s, th[wo, j], oacc[0, j], fast)
        else:
            i = nz[p, 0]
            x = dt(X[p, i])
            w = entry_row(0, i, h, width)
            for j in range(nb):
                acc[j] = x * th[w, j]
            for t in range(1, c - 1):
                i = nz[p, t]
                x = dt(X[p, i])
                w = entry_row(0, i, h, width)
                for j in range(nb):
                    acc[j] = madd(x, th[w, j], acc[j], fast)
            i = nz[p, c - 1]
            x = dt(X[p, i])
            w = entry_row(0, i, h, width)
            for j in range(nb):
                s = activate(act, madd(x, th[w, j], acc[j], fast) + th[bh, j], fast)
                hid[h, j] = s
                oacc[0, j] = madd(s, th[wo, j], oacc[0, j], fast)
        for o in range(1, n_out):
            for j in range(nb):
                oacc[o, j] = madd(hid[h, j], th[wo + o, j], oacc[o, j], fast)
    _shortcuts(fast, False, X, p, nz, c, th, oacc, oacc, ws)


@piece
def backward(act, prime, po, fast, X, p, nz, c, th, hid, dout, grad, acc, ws):
    """Add sample ``p``'s gradient terms (minus the gradient) to ``grad``, one
    hidden unit at a time: its output weights', then its delta's (the error
    it receives, sum_o dout_o * w_out[h, o], times its slope); then the
    shortcuts' (rows from ``ws``; none if ``ws`` < 0)."""
    n_out, nb = dout.shape
    width = hid.shape[0]
    bh_, wo_, _, _ = offsets(X.shape[1], width, n_out)
    dt = th.dtype.type
    zero = dt(0.0)
    first = n_out == 1
    o = n_out - 1
    for h in range(width):
        bh, wo = bh_ + h, entry_row(wo_, h, 0, n_out)
        last = wo + o
        for q in range(n_out - 1):
            for j in range(nb):
                d = dout[q, j]
                acc[j] = madd(d, th[wo + q, j], acc[j] if q > 0 else zero, fast)
                grad[wo + q, j] = madd(hid[h, j], d, grad[wo + q, j], fast)
        if c == 1:
            i = nz[p, 0]
            x = dt(X[p, i])
            w = entry_row(0, i, h, width)
            for j in range(nb):
                delta = _delta(act, prime, po, fast, first, last, h, j, th, hid, dout, grad, acc)
                grad[bh, j] = grad[bh, j] + delta
                grad[w, j] = madd(x, delta, grad[w, j], fast)
        elif c == 2:
            i0, i1 = nz[p, 0], nz[p, 1]
            x0, x1 = dt(X[p, i0]), dt(X[p, i1])
            w0, w1 = entry_row(0, i0, h, width), entry_row(0, i1, h, width)
            for j in range(nb):
                delta = _delta(act, prime, po, fast, first, last, h, j, th, hid, dout, grad, acc)
                grad[bh, j] = grad[bh, j] + delta
                grad[w0, j] = madd(x0, delta, grad[w0, j], fast)
                grad[w1, j] = madd(x1, delta, grad[w1, j], fast)
        else:
            for j in range(nb):
                delta = _delta(act, prime, po, fast, first, last, h, j, th, hid, dout, grad, acc)
                acc[j] = delta
                grad[bh, j] = grad[bh, j] + delta
            for t in range(c):
                i = nz[p, t]
                x = dt(X[p, i])
                w = entry_row(0, i, h, width)
                for j in range(nb):
                    grad[w, j] = madd(x, acc[j], grad[w, j], fast)
    _shortcuts(fast, True, X, p, nz, c, th, dout, grad, ws)


@piece
def _shortcuts(fast, backward, X, p, nz, c, th, sums, grad, ws):
    """Sample ``p``'s shortcut terms (rows from ``ws``; none if ``ws`` < 0), its
    zero inputs skipped: into the output sums ``sums``, or (``backward``) into
    ``grad`` from the output deltas ``sums``."""
    n_out, nb = sums.shape
    dt = th.dtype.type
    if ws >= 0:
        for t in range(c):
            i = nz[p, t]
            x = dt(X[p, i])
            for o in range(n_out):
                w = entry_row(ws, i, o, n_out)
                if backward:  # outside the network loop, which then vectorises either way
                    for j in range(nb):
                        grad[w, j] = madd(x, sums[o, j], grad[w, j], fast)
                else:
                    for j in range(nb):
                        sums[o, j] = madd(x, th[w, j], sums[o, j], fast)


@piece
def _delta(act, prime, po, fast, first, row, h, j, th, hid, dout, grad, acc):
    """Network ``j``'s hidden unit ``h`` and the last output: the gradient term
    of the weight between them (``row``; into ``grad``), and the unit's delta,
    returned (the error it receives, the last output's term added to the
    others' in ``acc`` unless it is the ``first``, times its slope)."""
    d = dout[dout.shape[0] - 1, j]
    hv = hid[h, j]
    grad[row, j] = madd(hv, d, grad[row, j], fast)
    e = d * th[row, j] if first else madd(d, th[row, j], acc[j], fast)
    return hidden_delta(act, e, hv, prime, po, fast)


@piece
def lane_shortcuts(fast, backward, add, xg, th, sums, grad, ws):
    """The shortcuts' terms (rows from ``ws``; none if ``ws`` < 0), each network
    on its own inputs ``xg``, zeros skipped: into the output sums ``sums``, or
    (``backward``) into ``grad`` from the output deltas ``sums``, added to it
    (``add``) or into a cleared one."""
    n_in, nb = xg.shape
    n_out = sums.shape[0]
    if ws >= 0:
        for i in range(n_in):
            for o in range(n_out):
                w = entry_row(ws, i, o, n_out)
                if backward:  # outside the network loop, which then vectorises either way
                    for j in range(nb):
                        grad[w, j] = _term(xg[i, j], sums[o, j], grad[w, j], add, fast)
                else:
                    for j in range(nb):
                        x = xg[i, j]
                        sums[o, j] = madd(x, th[w, j], sums[o, j], fast) if x != 0 else sums[o, j]


@piece
def lane_hidden(act, fast, xg, th, hid, acc, h, bias):
    """Unit ``h`` of the first hidden layer (its bias in row ``bias``), each
    network on its own inputs ``xg`` (zeros skipped): its outputs into ``hid``."""
    n_in, nb = xg.shape
    width = hid.shape[0]
    zero = th.dtype.type(0.0)
    for j in range(nb):
        acc[j] = zero
    for i in range(n_in):
        w = entry_row(0, i, h, width)
        for j in range(nb):
            x = xg[i, j]
            acc[j] = madd(x, th[w, j], acc[j], fast) if x != 0 else acc[j]
    for j in range(nb):
        hid[h, j] = activate(act, acc[j] + th[bias, j], fast)


@piece
def lane_forward(act, fast, xg, th, hid, oacc, acc, ws):
    """:func:`forward` where each network sees its own sample (``xg``: inputs
    by network): zero inputs are skipped by selection, sums start at +0.0."""
    n_in, nb = xg.shape
    n_out = oacc.shape[0]
    width = hid.shape[0]
    bh_, wo_, _, _ = offsets(n_in, width, n_out)
    zero = th.dtype.type(0.0)
    for o in range(n_out):
        for j in range(nb):
            oacc[o, j] = zero
    for h in range(width):
        lane_hidden(act, fast, xg, th, hid, acc, h, bh_ + h)
        for o in range(n_out):
            for j in range(nb):
                oacc[o, j] = madd(hid[h, j], th[entry_row(wo_, h, o, n_out), j], oacc[o, j], fast)
    lane_shortcuts(fast, False, False, xg, th, oacc, oacc, ws)


@piece
def lane_backward(act, prime, po, fast, xg, th, hid, dout, grad, acc, ws, add):
    """:func:`backward` for one sample per network (``xg``): into a cleared ``grad``,
    or (``add``: a mini-batch's later samples) added to it."""
    n_in, nb = xg.shape
    n_out = dout.shape[0]
    width = hid.shape[0]
    bh_, wo_, _, _ = offsets(n_in, width, n_out)
    for h in range(width):
        wo = entry_row(wo_, h, 0, n_out)
        for o in range(n_out):  # the first output's term starts acc
            for j in range(nb):
                d = dout[o, j]
                g = grad[wo + o, j]
                grad[wo + o, j] = madd(hid[h, j], d, g, fast) if add else hid[h, j] * d
                acc[j] = d * th[wo + o, j] if o == 0 else madd(d, th[wo + o, j], acc[j], fast)
        for j in range(nb):
            acc[j] = hidden_delta(act, acc[j], hid[h, j], prime, po, fast)
            grad[bh_ + h, j] = grad[bh_ + h, j] + acc[j] if add else acc[j]
        for i in range(n_in):
            w = entry_row(0, i, h, width)
            for j in range(nb):
                grad[w, j] = _term(xg[i, j], acc[j], grad[w, j], add, fast)
    lane_shortcuts(fast, True, add, xg, th, dout, grad, ws)


@piece
def _term(x, d, g, add, fast):
    """An input's gradient term x d: ``g`` plus it (``add``), or it alone (``g`` is
    then the cleared 0); an input of 0 adds nothing."""
    if x == 0:
        return g
    return madd(x, d, g, fast) if add else x * d


@piece
def sample_inputs(X, p, xg):
    """Every network's inputs: sample ``p``'s."""
    n_in, nb = xg.shape
    dt = xg.dtype.type
    for i in range(n_in):
        x = dt(X[p, i])
        for j in range(nb):
            xg[i, j] = x


@piece
def gather(X, Y, order, t, xg, yg):
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


@piece
def observe_outputs(
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


@piece
def sample_outputs(out, loss, prime, po, fast, shuffle, Y, yg, t, first, th, bo, oacc, dout, grad):
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
