"""The general kernel's update: every parameter of a block of networks one step on.

Plain gradient descent (with momentum or Nesterov's), Adam, Rprop and
iRprop-, Quickprop, and the optimisers with a table step
(:data:`kernels.step.optimizer_step`), each with weight decay on the weights;
frozen networks keep their state.
"""

from __future__ import annotations

from . import optimizers
from .numerics import madd
from .parts import piece
from .recipe import ADAM, IRPROP, QUICKPROP, RPROP, Constants
from .step import adam, adam_scales, descend, optimizer_step, quickprop, rprop


def own_fields(optimizer: str) -> tuple[int, int, int]:
    """Where the settings of ``optimizer``'s table step lie in
    :class:`~kernels.recipe.Constants` (``own`` of :func:`update_rates`)."""
    a, b, c = (Constants._fields.index(name) for name in optimizers.step_settings(optimizer))
    return a, b, c


@piece
def update_rates(hyper, own, like):
    """``(consts, own)`` of :func:`update_block`'s ``rates``, in ``like``'s
    precision, from the recipe's numbers ``hyper`` (a
    :class:`~kernels.recipe.Constants`); ``own``: :func:`own_fields`."""
    dt = like.dtype.type
    consts = (
        dt(hyper.momentum),
        dt(hyper.weight_decay),
        dt(hyper.beta1),
        dt(hyper.beta2),
        dt(hyper.adam_eps),
        dt(hyper.eta_plus),
        dt(hyper.eta_minus),
        dt(hyper.delta_max),
        dt(hyper.delta_min),
        dt(hyper.max_factor),
    )
    return consts, (dt(hyper[own[0]]), dt(hyper[own[1]]), dt(hyper[own[2]]))


@piece
def _rule(optimizer, momentum, decay, arguments, consts, own, fast):
    """One parameter's update by ``optimizer``: ``arguments`` are (w, g, its state
    s0-s2, lr, Adam's two scales); returns (new w, new s0-s2). ``decay``: weight
    decay on this parameter (a literal, so a bias's update holds none)."""
    w, g, s0, s1, s2, lr, step, root = arguments
    mu_t, lam_t, beta1, beta2, eps, up, down, most, least, qmu = consts
    if optimizer >= optimizers.FIRST_STEPPED:
        g = madd(-lam_t, w, g, fast) if decay else g
        w, s0, s1 = optimizer_step(optimizer, w, g, s0, s1, lr, own[0], own[1], own[2], fast)
    elif optimizer == QUICKPROP:
        w, s0, s1 = quickprop(decay, w, g, s0, s1, lr, lam_t, qmu, fast)
    elif optimizer in (RPROP, IRPROP):
        w, s0, s1, s2 = rprop(
            optimizer, decay, w, g, s0, s1, s2, lam_t, up, down, most, least, fast
        )
    elif optimizer == ADAM:
        w, s0, s1 = adam(decay, w, g, s0, s1, step, root, lam_t, beta1, beta2, eps, fast)
    else:
        w, s0 = descend(momentum, decay, w, g, s0, lr, mu_t, lam_t, fast)
    return w, s0, s1, s2


@piece
def update_block(
    momentum, decay, optimizer, fast, slots, th, grad, state, rates, live, weights, check
):
    """theta <- theta + step for every row (weight decay on the rows
    ``weights`` marks, :func:`kernels.model.weight_rows`), clearing ``grad``;
    frozen networks keep their state. The codes (``momentum`` to ``slots``)
    must be constants of the compiled caller, as a kernel's are: the branches
    on them then fold away, and the loops vectorise.

    ``state`` is ``(vel, pw, scale)``: ``vel`` holds the optimiser's state,
    ``slots`` blocks of rows, one per quantity (momentum: velocities; Adam:
    first, then second moments; Rprop: step sizes, kept gradients, last
    changes; Quickprop: kept gradients, last changes; a table step: its
    entry's); ``pw`` each network's beta1^t and beta2^t, Adam's bias
    corrections (advanced here to this update's t), and ``scale`` their
    factors (:func:`~kernels.step.adam_scales`, written here). ``rates`` is
    ``(lr, consts, own)``: each network's rate, then :func:`update_rates`.
    ``check`` collects new * 0,
    NaN exactly when a new parameter is not finite."""
    vel, pw, scale = state
    lr, consts, own = rates
    rows, nb = th.shape
    zero = th.dtype.type(0.0)
    beta1, beta2 = consts[2], consts[3]
    if optimizer == ADAM:
        for j in range(nb):
            pw[0, j], pw[1, j] = pw[0, j] * beta1, pw[1, j] * beta2
            scale[0, j], scale[1, j] = adam_scales(lr[j], pw[0, j], pw[1, j])
    for r in range(rows):
        weight = weights[r]
        for j in range(nb):
            s0 = vel[r, j] if slots > 0 else zero
            s1 = vel[rows + r, j] if slots > 1 else zero
            s2 = vel[2 * rows + r, j] if slots > 2 else zero
            arguments = (th[r, j], grad[r, j], s0, s1, s2, lr[j], scale[0, j], scale[1, j])
            if weight:
                w, s0, s1, s2 = _rule(optimizer, momentum, decay, arguments, consts, own, fast)
            else:
                w, s0, s1, s2 = _rule(optimizer, momentum, False, arguments, consts, own, fast)
            if slots > 0:
                vel[r, j] = s0 if live[j] else vel[r, j]
            if slots > 1:
                vel[rows + r, j] = s1 if live[j] else vel[rows + r, j]
            if slots > 2:
                vel[2 * rows + r, j] = s2 if live[j] else vel[2 * rows + r, j]
            grad[r, j] = zero
            check[j] = madd(w, zero, check[j], fast)
            th[r, j] = w if live[j] else th[r, j]
