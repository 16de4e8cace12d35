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


def _compiled(train, params, dtype):
    """``jit(vmap(train))`` over the networks, compiled now; a callable that runs
    it and returns the final output weights, network-last."""
    import jax
    import jax.numpy as jnp

    fn = jax.jit(jax.vmap(train))
    args = [
        jnp.asarray(np.moveaxis(params[k], -1, 0), dtype)
        for k in ("w_hidden", "b_hidden", "w_out", "b_out")
    ]
    jax.block_until_ready(fn(*args))  # compile outside the timing

    def run():
        return np.moveaxis(np.asarray(jax.block_until_ready(fn(*args))[2]), 0, -1)

    return run


def jax_vmap(X, Y, params, lr, epochs, dtype=np.float64, momentum=0.0, online=False, tanh=False):
    """JAX ``jit(vmap(fori_loop))``; returns a callable that runs it (compiled).

    The kernel's recipes, without its statistics: heavy-ball ``momentum``,
    ``online`` updates (one per sample, in order: a nested fori_loop), ``tanh``
    hidden units.
    """
    import jax

    jax.config.update("jax_enable_x64", True)  # float32 arrays stay float32
    import jax.numpy as jnp

    x, y = jnp.asarray(X, dtype), jnp.asarray(Y, dtype)
    act = jnp.tanh if tanh else jax.nn.sigmoid

    def slope(h):
        return 1 - h * h if tanh else h * (1 - h)

    def gradients(p, xs, ys):
        """Minus the gradient of 1/2 sum (y - yhat)^2 on the samples xs, ys."""
        wh, bh, wo, bo = p
        h = act(xs @ wh + bh)
        o = jax.nn.sigmoid(h @ wo + bo)
        d_o = (ys - o) * (o * (1 - o))
        d_h = (d_o @ wo.T) * slope(h)
        return (xs.T @ d_h, d_h.sum(0), h.T @ d_o, d_o.sum(0))

    def update(p, v, g):
        if momentum:
            v = tuple(momentum * vi + lr * gi for vi, gi in zip(v, g, strict=True))
            return tuple(pi + vi for pi, vi in zip(p, v, strict=True)), v
        return tuple(pi + lr * gi for pi, gi in zip(p, g, strict=True)), v

    def train(wh, bh, wo, bo):
        def epoch(_, state):
            p, v = state
            if not online:
                return update(p, v, gradients(p, x, y))

            def sample(i, state):
                p, v = state
                xs = jax.lax.dynamic_slice_in_dim(x, i, 1)
                ys = jax.lax.dynamic_slice_in_dim(y, i, 1)
                return update(p, v, gradients(p, xs, ys))

            return jax.lax.fori_loop(0, x.shape[0], sample, (p, v))

        p = (wh, bh, wo, bo)
        v = tuple(jnp.zeros_like(a) for a in p)
        return jax.lax.fori_loop(0, epochs, epoch, (p, v))[0]

    return _compiled(train, params, dtype)


def torch_batched(X, Y, params, lr, epochs, dtype=np.float64):
    """PyTorch CPU, batched over networks with bmm, no autograd; returns a callable."""
    import torch

    torch.set_num_threads(1)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    B = params["b_out"].shape[-1]
    x = torch.as_tensor(X, dtype=tdt).expand(B, *X.shape)
    y = torch.as_tensor(Y, dtype=tdt).expand(B, *Y.shape)

    def run():
        wh, bh, wo, bo = (
            torch.as_tensor(np.moveaxis(params[k], -1, 0).copy(), dtype=tdt)
            for k in ("w_hidden", "b_hidden", "w_out", "b_out")
        )
        bh, bo = bh[:, None, :], bo[:, None, :]
        with torch.no_grad():
            for _ in range(epochs):
                h = torch.sigmoid(torch.baddbmm(bh, x, wh))
                o = torch.sigmoid(torch.baddbmm(bo, h, wo))
                d_o = (y - o) * (o * (1 - o))
                d_h = torch.bmm(d_o, wo.transpose(1, 2)) * (h * (1 - h))
                wo += lr * torch.bmm(h.transpose(1, 2), d_o)
                bo += lr * d_o.sum(1, keepdim=True)
                wh += lr * torch.bmm(x.transpose(1, 2), d_h)
                bh += lr * d_h.sum(1, keepdim=True)
        return np.moveaxis(wo.numpy(), 0, -1)

    return run


def jax_optimizer(X, Y, params, lr, epochs, recipe, dtype=np.float64):
    """JAX ``jit(vmap(fori_loop))`` of full-batch training with ``recipe``'s
    optimiser (kernels.recipe.Recipe: gd with or without momentum, nesterov,
    adam, rprop, irprop-, quickprop, rmsprop, adagrad, delta-bar-delta;
    logistic units, squared error), the same
    update rules as kernels.step; returns a callable that runs it (compiled)."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    x, y = jnp.asarray(X, dtype), jnp.asarray(Y, dtype)
    name, mu = recipe.optimizer, recipe.momentum
    b1, b2, eps = recipe.beta1, recipe.beta2, recipe.adam_eps
    up, down, most, least = recipe.eta_plus, recipe.eta_minus, recipe.delta_max, recipe.delta_min
    qmu = recipe.max_factor
    kappa, phi, theta = recipe.dbd_kappa, recipe.dbd_phi, recipe.dbd_theta

    def minus_gradient(p):
        wh, bh, wo, bo = p
        h = jax.nn.sigmoid(x @ wh + bh)
        o = jax.nn.sigmoid(h @ wo + bo)
        d_o = (y - o) * (o * (1 - o))
        d_h = (d_o @ wo.T) * (h * (1 - h))
        return (x.T @ d_h, d_h.sum(0), h.T @ d_o, d_o.sum(0))

    def rule(w, g, s, t):
        """One parameter array's update; ``s`` its state (three arrays), ``t`` the step."""
        a, b, c = s
        if name == "adam":
            a = b1 * a + (1 - b1) * g
            b = b2 * b + (1 - b2) * g * g
            step = (lr / (1 - b1**t)) * (a / (jnp.sqrt(b) / jnp.sqrt(1 - b2**t) + eps))
            return w + step, (a, b, c)
        if name in ("rprop", "irprop-"):  # a: step sizes, b: kept g, c: last change
            same = b * g
            a = jnp.where(
                same > 0,
                jnp.minimum(a * up, most),
                jnp.where(same < 0, jnp.maximum(a * down, least), a),
            )
            g = jnp.where(same < 0, 0.0, g)
            change = jnp.sign(g) * a
            if name == "rprop":
                change = jnp.where(same < 0, -c, change)
            return w + change, (a, g, change)
        if name == "quickprop":  # b: last g, c: last change
            shrink = qmu / (1 + qmu)
            upward, downward = c > 0, c < 0
            grad_term = jnp.where((upward & (g > 0)) | (downward & (g < 0)), lr * g, 0.0)
            big = jnp.where(upward, g > shrink * b, g < shrink * b)
            jump = jnp.where(big, qmu * c, g / (b - g) * c)
            step = jnp.where(upward | downward, grad_term + jump, lr * g)
            return w + step, (a, g, step)
        if name == "rmsprop":  # a: the mean square
            a = recipe.rms_decay * a + (1 - recipe.rms_decay) * g * g
            return w + lr * g / (jnp.sqrt(a) + recipe.rms_eps), (a, b, c)
        if name == "adagrad":  # a: the sum of squares
            a = a + g * g
            return w + lr * g / (jnp.sqrt(a) + recipe.adagrad_eps), (a, b, c)
        if name == "delta-bar-delta":  # a: the rates, b: the average g
            agree = b * g
            a = jnp.where(agree > 0, a + kappa, jnp.where(agree < 0, a * (1 - phi), a))
            return w + a * g, (a, (1 - theta) * g + theta * b, c)
        if mu:  # heavy ball or nesterov: a is the velocity
            a = mu * a + lr * g
            return (w + lr * g + mu * a if name == "nesterov" else w + a), (a, b, c)
        return w + lr * g, s

    def train(wh, bh, wo, bo):
        def epoch(t, carry):
            p, s = carry
            out = [rule(w, g, si, t + 1) for w, g, si in zip(p, minus_gradient(p), s, strict=True)]
            return tuple(o[0] for o in out), tuple(o[1] for o in out)

        p = (wh, bh, wo, bo)
        first = jnp.full_like if name in ("rprop", "irprop-", "delta-bar-delta") else None
        s = tuple(
            (first(w, lr) if first else jnp.zeros_like(w), jnp.zeros_like(w), jnp.zeros_like(w))
            for w in p
        )
        return jax.lax.fori_loop(0, epochs, epoch, (p, s))[0]

    return _compiled(train, params, dtype)


def torch_vmap(X, Y, params, lr, epochs, dtype=np.float64):
    """PyTorch ``torch.func.vmap`` of one network's batch-GD step, one call an epoch;
    returns a callable that runs it."""
    import torch
    from torch.func import vmap

    torch.set_num_threads(1)
    tdt = torch.float64 if dtype == np.float64 else torch.float32
    x, y = torch.as_tensor(X, dtype=tdt), torch.as_tensor(Y, dtype=tdt)

    def step(wh, bh, wo, bo):
        h = torch.sigmoid(x @ wh + bh)
        o = torch.sigmoid(h @ wo + bo)
        d_o = (y - o) * (o * (1 - o))
        d_h = (d_o @ wo.T) * (h * (1 - h))
        return (
            wh + lr * (x.T @ d_h),
            bh + lr * d_h.sum(0),
            wo + lr * (h.T @ d_o),
            bo + lr * d_o.sum(0),
        )

    batched = vmap(step)

    def run():
        p = tuple(
            torch.as_tensor(np.moveaxis(params[k], -1, 0).copy(), dtype=tdt)
            for k in ("w_hidden", "b_hidden", "w_out", "b_out")
        )
        with torch.no_grad():
            for _ in range(epochs):
                p = batched(*p)
        return np.moveaxis(p[2].numpy(), 0, -1)

    return run
