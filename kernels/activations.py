"""The activations, one entry each: the table every other place reads.

An entry is a unit's function ``f(a)`` of its pre-activation and its
derivative written in terms of its output ``y = f(a)`` (what backpropagation
has at hand), both plain Python over :mod:`kernels.primitives` (the kernels
compile them: :mod:`kernels.step`), with where it may be used, the range of
its outputs (which targets it can reach) and where it comes from. The
recipe's choices and checks (:mod:`kernels.recipe`), the sweep's help
(:mod:`sweep.config.axes`) and the README's table of parts are derived from
:data:`TABLE`. The numpy oracle (:mod:`kernels.reference`) writes each one
again from its equation.

Adding an activation is one entry here and one in the oracle.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from .primitives import arctan, cos, like, logistic, madd, tanh


@dataclass(frozen=True)
class Activation:
    """One activation (see the module docstring)."""

    name: str
    forward: Callable  # f(a, fast)
    slope: Callable  # f'(a) from the output: slope(y, fast)
    low: float  # the outputs' range, closed: the targets it can reach
    high: float
    equation: str
    derivative: str
    source: str
    hidden: bool = True  # may be a hidden unit's
    output: bool = True  # may be an output unit's
    #: An epoch's cost with these hidden units relative to logistic ones, for the
    #: planner (benchmarks/recipes.py, H = 8).
    cost: float = 1.0


def _logistic(a, fast):
    return logistic(a, fast)


def _logistic_slope(y, fast):
    return y * (like(y, 1.0) - y)


def _tanh(a, fast):
    return tanh(a, fast)


def _tanh_slope(y, fast):
    return madd(-y, y, like(y, 1.0), fast)


def _arctan(a, fast):
    return arctan(a, fast)


def _arctan_slope(y, fast):
    c = cos(y, fast)
    return c * c


def _symmetric(a, fast):
    return logistic(a, fast) - like(a, 0.5)


def _symmetric_slope(y, fast):
    return madd(-y, y, like(y, 0.25), fast)


def _relu(a, fast):
    zero = like(a, 0.0)
    return a if a > zero else zero


def _relu_slope(y, fast):
    return like(y, 1.0) if y > like(y, 0.0) else like(y, 0.0)


def _linear(a, fast):
    return a


def _elliott(a, fast):
    return a / (like(a, 1.0) + abs(a))


def _elliott_slope(y, fast):
    t = like(y, 1.0) - abs(y)
    return t * t


def _linear_slope(y, fast):
    return like(y, 1.0)


#: Every activation; an entry's position is its code in compiled kernels (append only).
TABLE = (
    Activation(
        "logistic",
        _logistic,
        _logistic_slope,
        0.0,
        1.0,
        "1 / (1 + e^-a)",
        "y (1 - y)",
        "the notebook; Rumelhart, Hinton & Williams 1986",
    ),
    Activation(
        "tanh",
        _tanh,
        _tanh_slope,
        -1.0,
        1.0,
        "tanh(a)",
        "1 - y^2",
        "LeCun et al. 1998, Efficient BackProp",
    ),
    Activation(
        "arctan",
        _arctan,
        _arctan_slope,
        -math.pi / 2,
        math.pi / 2,
        "arctan(a)",
        "cos(y)^2 (= 1 / (1 + a^2))",
        "arctangent units, after Almeida (the paper is not checked here)",
        cost=1.4,
    ),
    Activation(
        "symmetric",
        _symmetric,
        _symmetric_slope,
        -0.5,
        0.5,
        "1 / (1 + e^-a) - 1/2",
        "1/4 - y^2",
        "Fahlman 1988, the symmetric sigmoid of his Quickprop runs",
    ),
    Activation(
        "relu",
        _relu,
        _relu_slope,
        0.0,
        math.inf,
        "max(a, 0)",
        "1 where y > 0, else 0 (0 at a = 0)",
        "Nair & Hinton 2010",
    ),
    Activation(
        "linear",
        _linear,
        _linear_slope,
        -math.inf,
        math.inf,
        "a",
        "1",
        "the identity, for regression outputs",
        hidden=False,
    ),
    Activation(
        "elliott",
        _elliott,
        _elliott_slope,
        -1.0,
        1.0,
        "a / (1 + abs(a))",
        "(1 - abs(y))^2 (= 1 / (1 + abs(a))^2)",
        "Elliott 1993, A better activation function for artificial neural networks",
        cost=0.57,
    ),
)
#: Names in code order.
NAMES = tuple(entry.name for entry in TABLE)
BY_NAME = {entry.name: entry for entry in TABLE}
HIDDEN = tuple(entry.name for entry in TABLE if entry.hidden)
OUTPUT = tuple(entry.name for entry in TABLE if entry.output)
