"""The training losses, one entry each: the table every other place reads.

An entry is the loss's output delta, minus its gradient at an output's
pre-activation, from the output's error ``e = y - yhat`` and the output
activation's slope there (:mod:`kernels.step` adds the sigmoid-prime offset
to it), plain Python over :mod:`kernels.primitives` (the kernels compile it),
with the output activations and targets it can be used with. The statistics
of an epoch (solved, converged, the MSE) never depend on the loss: only the
step does. The numpy oracle (:mod:`kernels.reference`) writes each loss
again from its equation.

Adding a loss is one entry here and one in the oracle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .activations import Activation
from .primitives import like

#: Fahlman's Quickprop 1 clips the atanh error: beyond this |e| it is ATANH_CLIP.
ATANH_EDGE = 0.9999999
ATANH_CLIP = 17.0


@dataclass(frozen=True)
class Loss:
    """One loss (see the module docstring). ``refuse(output, low, high)`` is why it
    cannot train ``output`` units towards targets ``low``/``high``, or None."""

    name: str
    delta: Callable  # delta(e, slope, fast)
    refuse: Callable[[Activation, float, float], str | None]
    needs: str  # what ``refuse`` asks, in words
    equation: str
    source: str


def _sse(e, slope, fast):
    return e * slope


def _xent(e, slope, fast):
    # The stable form of the same derivative: no slope, so no offset either.
    return e


def _atanh(e, slope, fast):
    edge, clip = like(e, ATANH_EDGE), like(e, ATANH_CLIP)
    one = like(e, 1.0)
    if e < -edge:
        t = -clip
    elif e > edge:
        t = clip
    else:
        t = np.log((one + e) / (one - e))
    return t * slope


def _any_output(output: Activation, low: float, high: float) -> str | None:
    return None


def _logistic_output(output: Activation, low: float, high: float) -> str | None:
    if output.name != "logistic":
        return f"xent needs logistic outputs, got output activation {output.name}"
    return None


def _errors_below_one(output: Activation, low: float, high: float) -> str | None:
    widest = max(high - output.low, output.high - low)
    if widest > 1:
        return (
            f"atanh needs every error y - yhat within (-1, 1): {output.name} outputs "
            f"in [{output.low:g}, {output.high:g}] with targets {low:g}:{high:g} "
            f"allow {widest:g}"
        )
    return None


#: Every loss; an entry's position is its code in compiled kernels (append only).
TABLE = (
    Loss(
        "sse",
        _sse,
        _any_output,
        "any outputs",
        "1/2 sum (y - yhat)^2; delta = e f'(a)",
        "the notebook; Rumelhart, Hinton & Williams 1986",
    ),
    Loss(
        "xent",
        _xent,
        _logistic_output,
        "logistic outputs",
        "-sum y log yhat + (1 - y) log(1 - yhat); delta = e",
        "Hinton 1989, Connectionist learning procedures",
    ),
    Loss(
        "atanh",
        _atanh,
        _errors_below_one,
        "every error y - yhat in [-1, 1]: logistic or symmetric outputs",
        f"delta = log((1 + e) / (1 - e)) f'(a), the log +-{ATANH_CLIP:g} beyond e = +-{ATANH_EDGE}",
        "Fahlman 1988, Quickprop 1 (ERRFUN with HyperErr)",
    ),
)
#: Names in code order.
NAMES = tuple(entry.name for entry in TABLE)
BY_NAME = {entry.name: entry for entry in TABLE}
