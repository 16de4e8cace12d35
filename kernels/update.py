"""The general kernel's update: every parameter of a block of networks one step on.

Plain gradient descent (with momentum or Nesterov's), Adam, Rprop and
iRprop-, Quickprop, and the optimisers with a table step
(:data:`kernels.step.optimizer_step`), each with weight decay on the weights;
frozen networks keep their state.
"""

from __future__ import annotations

from numba import njit

from . import optimizers
from .numerics import madd
from .parts import PIECE
from .recipe import ADAM, IRPROP, QUICKPROP, RPROP
from .step import adam, adam_scales, descend, optimizer_step, quickprop, rprop


@njit(**PIECE)
def update_block(
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
