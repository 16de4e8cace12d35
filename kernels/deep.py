"""One sample through a network of two hidden layers, for every network of a block
(the general kernel's passes for ``--width2``; see :mod:`kernels.passes`)."""

from __future__ import annotations

from .numerics import madd
from .parts import piece
from .passes import entry_row, lane_hidden, lane_shortcuts, offsets
from .step import activate, hidden_delta


@piece
def forward(act, fast, xg, th, hid, hid2, oacc, acc, w2, b2, wo, ws):
    """The forward pass of a network with two hidden layers, each network on its
    own inputs (``xg``, zeros skipped as the first layer's inputs always are):
    the first layer's outputs into ``hid``, the second's into ``hid2``, the
    output sums (before the bias) into ``oacc``; rows from :func:`kernels.model.layer_offsets`."""
    n_in, nb = xg.shape
    width, width2, n_out = hid.shape[0], hid2.shape[0], oacc.shape[0]
    bh = offsets(n_in, width, n_out)[0]
    for h in range(width):
        lane_hidden(act, fast, xg, th, hid, acc, h, bh + h)
    for k in range(width2):
        for j in range(nb):
            acc[j] = hid[0, j] * th[w2 + k, j]
        for h in range(1, width):
            for j in range(nb):
                acc[j] = madd(hid[h, j], th[entry_row(w2, h, k, width2), j], acc[j], fast)
        for j in range(nb):
            hid2[k, j] = activate(act, acc[j] + th[b2 + k, j], fast)
    for o in range(n_out):
        for j in range(nb):
            oacc[o, j] = hid2[0, j] * th[wo + o, j]
        for k in range(1, width2):
            for j in range(nb):
                oacc[o, j] = madd(hid2[k, j], th[entry_row(wo, k, o, n_out), j], oacc[o, j], fast)
    lane_shortcuts(fast, False, False, xg, th, oacc, oacc, ws)


@piece
def _unit_delta(act, prime, po, fast, th, grad, acc, row, deltas, outs, u):
    """Unit ``u`` of a hidden layer (outputs ``outs``), its weights to the next
    layer from row ``row``, that layer's deltas ``deltas``: those weights'
    gradient terms into ``grad``, and the unit's delta into ``acc``."""
    n_next, nb = deltas.shape
    for j in range(nb):
        acc[j] = deltas[0, j] * th[row, j]
    for q in range(n_next):
        for j in range(nb):
            grad[row + q, j] = madd(outs[u, j], deltas[q, j], grad[row + q, j], fast)
            if q > 0:
                acc[j] = madd(deltas[q, j], th[row + q, j], acc[j], fast)
    for j in range(nb):
        acc[j] = hidden_delta(act, acc[j], outs[u, j], prime, po, fast)


@piece
def backward(act, prime, po, fast, xg, th, hid, hid2, dout, grad, acc, d2, w2, b2, wo, ws):
    """Add one sample's gradient terms (minus the gradient) of a network with two
    hidden layers to ``grad``: the output weights', the second layer's (its
    deltas into ``d2``), the first layer's, then the shortcuts'. The output
    biases' are the caller's, as in :func:`kernels.passes.backward`."""
    n_in, nb = xg.shape
    width, width2, n_out = hid.shape[0], hid2.shape[0], dout.shape[0]
    bh = offsets(n_in, width, n_out)[0]
    for k in range(width2):
        _unit_delta(act, prime, po, fast, th, grad, acc, entry_row(wo, k, 0, n_out), dout, hid2, k)
        for j in range(nb):
            d2[k, j] = acc[j]
            grad[b2 + k, j] = grad[b2 + k, j] + acc[j]
    for h in range(width):
        _unit_delta(act, prime, po, fast, th, grad, acc, entry_row(w2, h, 0, width2), d2, hid, h)
        for j in range(nb):
            grad[bh + h, j] = grad[bh + h, j] + acc[j]
        for i in range(n_in):
            w = entry_row(0, i, h, width)
            for j in range(nb):
                x = xg[i, j]
                grad[w, j] = madd(x, acc[j], grad[w, j], fast) if x != 0 else grad[w, j]
    lane_shortcuts(fast, True, True, xg, th, dout, grad, ws)
