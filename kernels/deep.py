"""One sample through a network of two hidden layers, for every network of a block
(the general kernel's passes for ``--width2``; see :mod:`kernels.passes`)."""

from __future__ import annotations

from numba import njit

from .numerics import madd
from .parts import PIECE
from .passes import shortcut_terms
from .step import activate, hidden_delta


@njit(**PIECE)
def forward(act, fast, xg, th, hid, hid2, oacc, acc, w2, b2, wo, ws):
    """The forward pass of a network with two hidden layers, each network on its
    own inputs (``xg``, zeros skipped as the first layer's inputs always are):
    the first layer's outputs into ``hid``, the second's into ``hid2``, the
    output sums (before the bias) into ``oacc``; rows from :func:`kernels.model.layer_offsets`."""
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
    shortcut_terms(fast, xg, th, oacc, ws)


@njit(**PIECE)
def backward(act, prime, po, fast, xg, th, hid, hid2, dout, grad, acc, d2, w2, b2, wo, ws):
    """Add one sample's gradient terms (minus the gradient) of a network with two
    hidden layers to ``grad``: the output weights', the second layer's (its
    deltas into ``d2``), the first layer's, then the shortcuts'. The output
    biases' are the caller's, as in :func:`kernels.passes.backward`."""
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
