"""The optimisers, one entry each: the table every other place reads.

An entry names the settings it gives a meaning to (each a :class:`Setting`:
default, valid range, help), the state it keeps per parameter (a block of
rows each, with its initial value) and whether it needs whole-task
gradients or momentum. The recipe's fields, checks and refusals
(:mod:`kernels.recipe`), the sweep's axes (:mod:`sweep.config.axes`) and the
kernels' constants come from here.

An entry with a ``step`` is one piece, plain Python over
:mod:`kernels.primitives`, that the general kernel calls for every
parameter: ``step(w, g, s0, s1, lr, c0, c1, c2, fast) -> (w, s0, s1)``, with
``g`` minus the gradient (weight decay already in), ``s0``, ``s1`` its state
and ``c0..c2`` its settings in order. The first six rules are the step's own
pieces (:mod:`kernels.step`), which the generated kernels also run. The
numpy oracle (:mod:`kernels.reference`) writes every rule again.

Adding an optimiser is one entry here (its settings too) and one in the oracle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .primitives import like, madd


@dataclass(frozen=True)
class Setting:
    """A run-time constant of some optimisers: a recipe field and a sweep axis."""

    name: str
    default: float
    ok: Callable[[float], bool]
    valid: str  # the range in words, for the one-line refusal
    help: str
    above: str = ""  # another setting this one must exceed


@dataclass(frozen=True)
class Optimizer:
    """One optimiser (see the module docstring)."""

    name: str
    settings: tuple[str, ...]
    equation: str
    source: str
    state: tuple[float | str, ...] = ()  # each state block's initial value ("lr": the rate)
    step: Callable | None = None
    batch_only: bool = False  # adapts to the whole task's gradient
    momentum: str = "optional"  # "optional", "needed" or "none"
    #: An epoch's cost relative to plain gradient descent on the same kernel, for
    #: the planner: benchmarks/optimizers.py (between the machines of
    #: docs/performance.md; the Rprops' is their subnormal arithmetic's, unless
    #: flushed: ``flushed_cost``).
    cost: float = 1.0
    flushed_cost: float | None = None


def _in_unit(v: float) -> bool:
    return 0 <= v < 1


def _positive(v: float) -> bool:
    return v > 0


def _rmsprop(w, g, s0, s1, lr, c0, c1, c2, fast):
    v = madd((like(g, 1.0) - c0) * g, g, c0 * s0, fast)
    return w + (lr * g) / (np.sqrt(v) + c1), v, s1


def _adagrad(w, g, s0, s1, lr, c0, c1, c2, fast):
    total = madd(g, g, s0, fast)
    return w + (lr * g) / (np.sqrt(total) + c0), total, s1


def _delta_bar_delta(w, g, s0, s1, lr, c0, c1, c2, fast):
    zero, one = like(g, 0.0), like(g, 1.0)
    agree = s1 * g  # this gradient against the average of the last ones
    rate = s0 + c0 if agree > zero else (s0 * (one - c1) if agree < zero else s0)
    return madd(rate, g, w, fast), rate, madd(one - c2, g, c2 * s1, fast)


#: Every setting, in the order of the recipe's fields (append only).
SETTINGS = (
    Setting("beta1", 0.9, _in_unit, "in [0, 1)", "Adam's decay of the first moment."),
    Setting("beta2", 0.999, _in_unit, "in [0, 1)", "Adam's decay of the second moment."),
    Setting(
        "adam_eps",
        1e-8,
        _positive,
        "positive",
        "Adam's epsilon, added to the root of the second moment.",
    ),
    Setting(
        "eta_plus",
        1.2,
        lambda v: v > 1,
        "above 1",
        "Rprop's growth of a step size while its gradient keeps its sign.",
    ),
    Setting(
        "eta_minus",
        0.5,
        lambda v: 0 < v < 1,
        "in (0, 1)",
        "Rprop's shrinking of a step size when its gradient changes sign.",
    ),
    Setting(
        "delta_max", 50.0, _positive, "above delta_min", "Rprop's largest step size.", "delta_min"
    ),
    Setting("delta_min", 1e-6, _positive, "positive", "Rprop's smallest step size."),
    Setting(
        "max_factor",
        1.75,
        _positive,
        "positive",
        "Quickprop's mu: no step more than mu times the last one.",
    ),
    Setting(
        "rms_decay",
        0.9,
        _in_unit,
        "in [0, 1)",
        "RMSprop's decay of the mean square (torch's alpha; Tieleman & Hinton's 0.9).",
    ),
    Setting("rms_eps", 1e-8, _positive, "positive", "RMSprop's epsilon, added to the root."),
    Setting("adagrad_eps", 1e-10, _positive, "positive", "AdaGrad's epsilon, added to the root."),
    Setting(
        "dbd_kappa",
        0.01,
        lambda v: v >= 0,
        "at least 0",
        "Delta-bar-delta's additive increase of a rate whose gradient keeps its sign.",
    ),
    Setting(
        "dbd_phi",
        0.1,
        lambda v: 0 <= v < 1,
        "in [0, 1)",
        "Delta-bar-delta's fraction taken off a rate whose gradient turns.",
    ),
    Setting(
        "dbd_theta",
        0.7,
        _in_unit,
        "in [0, 1)",
        "Delta-bar-delta's weight of the past in its average gradient.",
    ),
)
BY_SETTING = {setting.name: setting for setting in SETTINGS}

#: Every optimiser; an entry's position is its code in compiled kernels (append only).
TABLE = (
    Optimizer(
        "gd",
        (),
        "w <- w - lr g (with momentum mu: v <- mu v - lr g, w <- w + v)",
        "the notebook; Rumelhart, Hinton & Williams 1986",
    ),
    Optimizer(
        "nesterov",
        (),
        "v <- mu v - lr g, w <- w - lr g + mu v",
        "torch.optim.SGD(nesterov=True)",
        state=(0.0,),
        momentum="needed",
    ),
    Optimizer(
        "adam",
        ("beta1", "beta2", "adam_eps"),
        "m <- b1 m + (1 - b1) g, s <- b2 s + (1 - b2) g^2, w <- w - lr m^ / (sqrt(s^) + eps), "
        "^: bias-corrected",
        "Kingma & Ba 2015; torch.optim.Adam",
        state=(0.0, 0.0),
        momentum="none",
        cost=1.8,
    ),
    Optimizer(
        "rprop",
        ("eta_plus", "eta_minus", "delta_max", "delta_min"),
        "signs only; a sign change undoes the last step",
        "Riedmiller & Braun 1993",
        state=("lr", 0.0, 0.0),
        batch_only=True,
        momentum="none",
        cost=3.0,
        flushed_cost=1.6,
    ),
    Optimizer(
        "irprop-",
        ("eta_plus", "eta_minus", "delta_max", "delta_min"),
        "signs only; a sign change skips the step (torch.optim.Rprop)",
        "Igel & Hüsken 2000",
        state=("lr", 0.0),
        batch_only=True,
        momentum="none",
        cost=3.0,
        flushed_cost=1.6,
    ),
    Optimizer(
        "quickprop",
        ("max_factor",),
        "a jump to the parabola's minimum through the last two slopes",
        "Fahlman 1988, Quickprop 1",
        state=(0.0, 0.0),
        batch_only=True,
        momentum="none",
        cost=1.6,
    ),
    Optimizer(
        "rmsprop",
        ("rms_decay", "rms_eps"),
        "v <- a v + (1 - a) g^2, w <- w - lr g / (sqrt(v) + eps)",
        "Tieleman & Hinton 2012; torch.optim.RMSprop (eps outside the root)",
        state=(0.0,),
        step=_rmsprop,
        momentum="none",
        cost=1.5,
    ),
    Optimizer(
        "adagrad",
        ("adagrad_eps",),
        "s <- s + g^2, w <- w - lr g / (sqrt(s) + eps)",
        "Duchi, Hazan & Singer 2011; torch.optim.Adagrad",
        state=(0.0,),
        step=_adagrad,
        momentum="none",
        cost=1.5,
    ),
    Optimizer(
        "delta-bar-delta",
        ("dbd_kappa", "dbd_phi", "dbd_theta"),
        "each weight's rate grows by kappa while g agrees with its average, shrinks by "
        "phi when not; w <- w - rate g; average <- (1 - theta) g + theta average",
        "Jacobs 1988 (defaults here are illustrative, not his per-task values)",
        state=("lr", 0.0),
        step=_delta_bar_delta,
        batch_only=True,
        momentum="none",
        cost=1.25,
    ),
)
NAMES = tuple(entry.name for entry in TABLE)
BY_NAME = {entry.name: entry for entry in TABLE}
#: Code of the first optimiser the general kernel runs through its table ``step``.
FIRST_STEPPED = next(code for code, entry in enumerate(TABLE) if entry.step is not None)


def step_settings(name: str) -> tuple[str, str, str]:
    """The settings an optimiser's table ``step`` receives as ``c0, c1, c2``: its
    own in order, then ``momentum`` (0 with every optimiser that has a step)."""
    return (*BY_NAME[name].settings, "momentum", "momentum", "momentum")[:3]
