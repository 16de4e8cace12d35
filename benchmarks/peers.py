"""Other ways to train the same networks, for speed comparisons only.

Each function trains B networks of shape 2-H-1 on XOR for ``epochs`` epochs
from the same initial weights as the kernel and returns the final output
weights (network-last), so the benchmark can check they agree.
"""

from __future__ import annotations

import numpy as np


def notebook_loop(X, Y, params, lr, epochs, networks):
    """The notebook's cell, one network at a time (BLAS matmuls)."""

    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    outs = []
    for j in range(networks):
        wh = params["w_hidden"][..., j].copy()
        bh = params["b_hidden"][None, :, j].copy()
        wo = params["w_out"][..., j].copy()
        bo = params["b_out"][None, :, j].copy()
        for _ in range(epochs):
            hidden = sigmoid(X @ wh + bh)
            out = sigmoid(hidden @ wo + bo)
            d_out = (Y - out) * (out * (1 - out))
            d_hidden = (d_out @ wo.T) * (hidden * (1 - hidden))
            wo += lr * (hidden.T @ d_out)
            bo += np.sum(d_out, axis=0, keepdims=True) * lr
            wh += lr * (X.T @ d_hidden)
            bh += np.sum(d_hidden, axis=0, keepdims=True) * lr
        outs.append(wo)
    return np.stack(outs, axis=-1)


def numpy_batched(X, Y, params, lr, epochs):
    """numpy vectorised over networks: parameters as [..., B] arrays."""
    wh = params["w_hidden"].copy()  # (I, H, B)
    bh = params["b_hidden"].copy()  # (H, B)
    wo = params["w_out"].copy()  # (H, O, B)
    bo = params["b_out"].copy()  # (O, B)
    for _ in range(epochs):
        hidden = 1 / (1 + np.exp(-(np.einsum("pi,ihb->phb", X, wh) + bh)))  # (P, H, B)
        out = 1 / (1 + np.exp(-(np.einsum("phb,hob->pob", hidden, wo) + bo)))  # (P, O, B)
        d_out = (Y[:, :, None] - out) * (out * (1 - out))
        d_hidden = np.einsum("pob,hob->phb", d_out, wo) * (hidden * (1 - hidden))
        wo += lr * np.einsum("phb,pob->hob", hidden, d_out)
        bo += d_out.sum(axis=0) * lr
        wh += lr * np.einsum("pi,phb->ihb", X, d_hidden)
        bh += d_hidden.sum(axis=0) * lr
    return wo
