"""The training step, defined once: the compiled pieces every kernel is made of.

Forward (:func:`activate`), the loss gradient at the outputs
(:func:`output_delta`), backpropagation (:func:`hidden_delta`), the update
(:func:`descend`) and the statistics of an epoch (:func:`observe`,
:func:`record`). The general kernel (:mod:`kernels.general`) loops over these
pieces; the generated kernels (:mod:`kernels.tiled`) call them from straight-
line code. The equations are in :mod:`kernels.model`; the numpy oracle that
every kernel is tested against is :mod:`kernels.reference`.

Each piece takes the recipe's codes (:class:`kernels.recipe.Variant`) and
``fast`` as compile-time constants: Numba compiles a piece once per literal
value, so a kernel holds only the arithmetic of its own recipe. Signs follow
the notebook: ``e = y - yhat`` and the deltas are minus the gradient, so an
update adds ``lr`` times them.

The activations, losses and optimisers are tables of parts
(:mod:`kernels.activations`, :mod:`kernels.losses`, :mod:`kernels.optimizers`):
:func:`activate`, :func:`slope`, :func:`output_delta` and
:data:`optimizer_step` (the optimisers with a table step) call the recipe's
entry by its code; the first six optimisers' rules are the pieces below.
"""

from __future__ import annotations

import numpy as np

from . import activations, losses, optimizers
from .numerics import like, madd
from .parts import by_code, piece
from .recipe import NESTEROV, RPROP

#: ``activate(code, a, fast)``: a unit's output from its pre-activation ``a``.
activate = by_code("activate", [entry.forward for entry in activations.TABLE], "a, fast")
#: ``slope(code, y, fast)``: the activation's derivative, from its output ``y``.
slope = by_code("slope", [entry.slope for entry in activations.TABLE], "y, fast")
_loss_delta = by_code("loss_delta", [entry.delta for entry in losses.TABLE], "e, d, fast")


def _own_rule(w, g, s0, s1, lr, c0, c1, c2, fast):
    return w, s0, s1  # never called: these optimisers' rules are the pieces below


#: ``optimizer_step(code, w, g, s0, s1, lr, c0, c1, c2, fast)``: one update of a
#: parameter by an optimiser with a table ``step`` (see :mod:`kernels.optimizers`).
optimizer_step = by_code(
    "optimizer_step",
    [entry.step or _own_rule for entry in optimizers.TABLE],
    "w, g, s0, s1, lr, c0, c1, c2, fast",
)


@piece
def backprop_slope(kind, y, prime, offset, fast):
    """The slope backpropagation uses: :func:`slope`, plus ``offset`` when
    ``prime`` is set (Fahlman's sigmoid-prime offset against flat spots: a
    saturated unit keeps passing on a part of its error)."""
    d = slope(kind, y, fast)
    if prime:
        return d + offset
    return d


@piece
def output_delta(loss, kind, e, yhat, prime, offset, fast):
    """Minus the loss gradient at an output's pre-activation, from its error
    ``e = y - yhat``: the ``loss`` entry's delta from ``e`` and the slope of the
    output activation ``kind`` at ``yhat`` (:func:`backprop_slope`)."""
    return _loss_delta(loss, e, backprop_slope(kind, yhat, prime, offset, fast), fast)


@piece
def hidden_delta(kind, err, s, prime, offset, fast):
    """Backpropagation through a hidden unit of output ``s``: the error it
    receives (sum of output deltas times its output weights) times its slope
    (:func:`backprop_slope`)."""
    return err * backprop_slope(kind, s, prime, offset, fast)


@piece
def descend(momentum, decay, w, g, v, lr, mu, lam, fast):
    """One update of a parameter ``w`` from ``g``, minus its loss gradient.

    Weight decay (``decay``; weights only, not biases) takes ``lam * w`` off
    ``g``. Plain gradient descent: ``w + lr * g``. Heavy-ball momentum
    (``momentum`` 1): ``v <- mu * v + lr * g``, then ``w + v``. Nesterov
    (``momentum`` 2, as ``torch.optim.SGD(nesterov=True)``): the same ``v``,
    then ``w + lr * g + mu * v``, a step to where the momentum leads. Returns
    ``(w, v)`` (``v`` untouched without momentum).
    """
    if decay:
        g = madd(-lam, w, g, fast)
    if momentum:
        v = madd(lr, g, mu * v, fast)
        if momentum == NESTEROV:
            return madd(mu, v, madd(lr, g, w, fast), fast), v
        return w + v, v
    return madd(lr, g, w, fast), v


@piece
def adam_scales(lr, p1, p2):
    """Adam's per-network factors for update t, from ``p1 = b1^t`` and ``p2 = b2^t``:
    the step ``lr / c1`` and ``sqrt(c2)``, with the bias corrections ``c1 = 1 - b1^t``,
    ``c2 = 1 - b2^t``. Every parameter of a network shares them: computed once per
    update, not once per parameter (a square root and a division each)."""
    one = like(p1, 1.0)
    return lr / (one - p1), np.sqrt(one - p2)


@piece
def adam(decay, w, g, m, s, step, root, lam, b1, b2, eps, fast):
    """One Adam update (Kingma & Ba 2015) of ``w`` from ``g``, minus its loss
    gradient, in ``torch.optim.Adam``'s arithmetic: moments ``m <- b1 m + (1 -
    b1) g`` (of minus the gradient) and ``s <- b2 s + (1 - b2) g^2``, then
    ``w + (lr / c1) m / (sqrt(s) / sqrt(c2) + eps)``; ``step = lr / c1`` and
    ``root = sqrt(c2)`` come from :func:`adam_scales`. Weight decay as in
    :func:`descend` (torch's ``weight_decay``, not AdamW's). ``fast`` divides once,
    ``m root / (sqrt(s) + eps root)``, the same value to rounding: the divider
    (division and square root) bounds Adam's speed. Returns ``(w, m, s)``."""
    one = like(w, 1.0)
    if decay:
        g = madd(-lam, w, g, fast)
    m = madd(one - b1, g, b1 * m, fast)
    s = madd((one - b2) * g, g, b2 * s, fast)
    if fast:
        return madd(step, (m * root) / madd(eps, root, np.sqrt(s), fast), w, fast), m, s
    return madd(step, m / (np.sqrt(s) / root + eps), w, fast), m, s


@piece
def rprop(kind, decay, w, g, step, gp, dw, lam, up, down, most, least, fast):
    """One Rprop update of ``w`` from ``g``, minus its loss gradient over the whole
    task: only signs count. ``step`` is the weight's own step size, ``gp`` the
    ``g`` it kept from the last update, ``dw`` its last change.

    Same sign as before: the step grows (``up``, at most ``most``); opposite:
    it shrinks (``down``, at least ``least``) and, for ``kind`` RPROP
    (Riedmiller & Braun 1993, with weight-backtracking), the last change is
    undone and ``g`` forgotten, so the next update only steps; for iRprop-
    (Igel & Hüsken 2000; ``torch.optim.Rprop``) ``g`` is forgotten and the
    weight does not move. Otherwise the weight moves by ``step`` along ``g``'s
    sign. Returns ``(w, step, gp, dw)``."""
    zero = like(w, 0.0)
    if decay:
        g = madd(-lam, w, g, fast)
    same = gp * g
    if same > zero:
        step = min(step * up, most)
    elif same < zero:
        step = max(step * down, least)
    move = step if g > zero else (-step if g < zero else zero)
    if same < zero:
        if kind == RPROP:
            return w - dw, step, zero, -dw
        return w + zero, step, zero, zero
    return w + move, step, g, move


@piece
def quickprop(decay, w, g, gp, dw, lr, lam, mu, fast):
    """One Quickprop update (Fahlman 1988, his Quickprop 1 code) of ``w`` from
    ``g``, minus its loss gradient over the whole task; ``gp`` is last epoch's
    ``g``, ``dw`` the last change.

    After a step up (``dw > 0``): add ``lr * g`` if ``g`` still points up,
    then jump to the minimum of the parabola through the two slopes,
    ``g / (gp - g) * dw``, or ``mu * dw`` if that would be more than ``mu``
    times the last step (``g > mu / (1 + mu) * gp``). A step down likewise.
    No last step: gradient descent, ``lr * g``. Returns ``(w, g, step)``."""
    zero, one = like(w, 0.0), like(w, 1.0)
    if decay:
        g = madd(-lam, w, g, fast)
    shrink = mu / (one + mu)
    step = zero
    if dw != zero:
        up = dw > zero
        if (g > zero) if up else (g < zero):  # the slope still points the last step's way
            step = madd(lr, g, step, fast)
        big = (g > shrink * gp) if up else (g < shrink * gp)
        step = madd(mu if big else g / (gp - g), dw, step, fast)
    else:
        step = madd(lr, g, step, fast)
    return w + step, g, step


@piece
def observe(e, sign, worst, miss, sse, fast):
    """Fold one output's error ``e`` into its network's epoch statistics:
    ``worst`` max |e| (converged), ``miss`` max of ``sign * e`` (solved; sign is
    +1 for a HIGH target, -1 for a LOW one), ``sse`` the sum of e^2."""
    ae = abs(e)
    worst = ae if ae > worst else worst
    m = sign * e
    miss = m if m > miss else miss
    return worst, miss, madd(e, e, sse, fast)


@piece
def record(k, live, solved, converged, hit, worst, miss, mse, margin, tol, mse_target):
    """The events of epoch ``k`` for one network (branch-free, so it vectorises):
    solved when every output is on its target's side (``miss < margin``),
    converged when ``worst < tol``, ``hit`` when the MSE is below
    ``mse_target``; each keeps its first epoch. Frozen networks record nothing."""
    solved = k if live & (solved < 0) & (miss < margin) else solved
    converged = k if live & (converged < 0) & (worst < tol) else converged
    hit = k if live & (hit < 0) & (mse < mse_target) else hit
    return solved, converged, hit
