"""arctan and cos for the arctan units in the fast arithmetic: branch-free polynomials.

libm's ``atan`` and ``cos`` (the exact arithmetic's, :mod:`kernels.parts`) are
calls that LLVM cannot vectorise, so a kernel with arctan units would run them
one at a time, once per unit and sample each. These compute both with
selects and fused multiply-adds that vectorise like the rest of a unit's
work:

- arctan: |a| is reduced to |t| <= tan(pi/8) by arctan(a) = pi/4 +
  arctan((a - 1) / (a + 1)) above tan(pi/8) and pi/2 + arctan(-1/a) above
  tan(3pi/8), the added angle carried in two parts; then arctan(t) =
  t + t z P(z), z = t^2, with P of degree 10.
- cos, of an arctan unit's output (|y| <= pi/2 wherever the slope is taken):
  a polynomial of degree 9 in y^2.

Both polynomials were fitted by least squares at 200 Chebyshev nodes of their
interval in 50-digit arithmetic (mpmath); there their error is below 7e-18
relative (arctan) and 1.3e-17 absolute (cos). tests/test_trig.py holds the
compiled functions to libm's values.
"""

from __future__ import annotations

import math

from numba import njit

from .numerics import JIT, _fmuladd
from .primitives import like

# The reduction's bounds, and pi/4 and pi/2 as a double plus what it leaves out.
_TAN_PI_8 = math.tan(math.pi / 8)
_TAN_3PI_8 = math.tan(3 * math.pi / 8)
_PI_4, _PI_4_LO = math.pi / 4, 3.061616997868383e-17
_PI_2, _PI_2_LO = math.pi / 2, 6.123233995736766e-17


@njit(**JIT)
def _atan_series(z):
    """P(z) of arctan(t) = t + t z P(z), z = t^2, |t| <= tan(pi/8)."""
    p = like(z, -0.01920252926841228)
    p = _fmuladd(p, z, like(z, 0.039253696320618564))
    p = _fmuladd(p, z, like(z, -0.05086254885823143))
    p = _fmuladd(p, z, like(z, 0.05858311810501153))
    p = _fmuladd(p, z, like(z, -0.06664531369805009))
    p = _fmuladd(p, z, like(z, 0.07692184699371778))
    p = _fmuladd(p, z, like(z, -0.0909090464769568))
    p = _fmuladd(p, z, like(z, 0.11111111017100327))
    p = _fmuladd(p, z, like(z, -0.1428571428469138))
    p = _fmuladd(p, z, like(z, 0.19999999999995652))
    p = _fmuladd(p, z, like(z, -0.3333333333333333))
    return p


@njit(**JIT)
def _cos_series(w):
    """cos(y) as a polynomial in w = y^2, |y| <= pi/2."""
    p = like(w, -1.5119860790546356e-16)
    p = _fmuladd(p, w, like(w, 4.7768726150917374e-14))
    p = _fmuladd(p, w, like(w, -1.147067018225455e-11))
    p = _fmuladd(p, w, like(w, 2.0876755667001345e-09))
    p = _fmuladd(p, w, like(w, -2.7557319209660613e-07))
    p = _fmuladd(p, w, like(w, 2.4801587301492695e-05))
    p = _fmuladd(p, w, like(w, -0.001388888888888853))
    p = _fmuladd(p, w, like(w, 0.04166666666666666))
    p = _fmuladd(p, w, like(w, -0.5))
    p = _fmuladd(p, w, like(w, 1.0))
    return p


@njit(**JIT)
def fast_arctan(a):
    """arctan(a) for a float32/float64 scalar, branch-free and vectorisable."""
    x = abs(a)
    big = x > like(a, _TAN_3PI_8)
    mid = x > like(a, _TAN_PI_8)
    one = like(a, 1.0)
    num = -one if big else (x - one if mid else x)
    den = x if big else (x + one if mid else one)
    t = num / den
    hi = like(a, _PI_2) if big else (like(a, _PI_4) if mid else like(a, 0.0))
    lo = like(a, _PI_2_LO) if big else (like(a, _PI_4_LO) if mid else like(a, 0.0))
    z = t * t
    y = hi + (_fmuladd(t * z, _atan_series(z), t) + lo)
    return math.copysign(y, a)


@njit(**JIT)
def fast_cos(y):
    """cos(y) for a float32/float64 scalar with |y| <= pi/2, vectorisable."""
    return _cos_series(y * y)
