"""The arithmetic a part is written in, importable without Numba.

Parts (:mod:`kernels.activations`, :mod:`kernels.losses`) are plain Python
functions over these primitives and numpy's, so that their tables load in a
process that only plans, stores or reports (no compiler). Compiled, each
primitive is :mod:`kernels.numerics`'s (an overload registered there): the
exact and fast arithmetic the kernels run. Run as Python, each is its exact
arithmetic.
"""

from __future__ import annotations

import numpy as np


def like(x, value):
    """``value`` as a number of ``x``'s float type."""
    return value


def madd(a, b, c, fast):
    """a * b + c: one fused multiply-add if ``fast`` (compiled), else two operations."""
    return a * b + c


def logistic(a, fast):
    """1 / (1 + e^-a), with the kernels' own exp if ``fast`` (compiled)."""
    return 1.0 / (1.0 + np.exp(-a))


def tanh(a, fast):
    """tanh(a), libm's or (``fast``, compiled) the kernels' own."""
    return np.tanh(a)


def arctan(a, fast):
    """arctan(a), libm's or (``fast``, compiled) the kernels' own."""
    return np.arctan(a)


def cos(a, fast):
    """cos(a), libm's or (``fast``, compiled, for |a| <= pi/2) the kernels' own."""
    return np.cos(a)
