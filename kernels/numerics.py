"""Numerics of the compiled kernels: fused multiply-add, exp, the activations.

Two arithmetics, chosen by a ``fast`` flag that is a compile-time constant in
every kernel (Numba specialises on the literal, so the branches on it are gone
before LLVM vectorises):

- exact (``fast=False``): libm's ``exp`` and ``tanh`` and strict IEEE
  arithmetic, the operations of the numpy reference in the same order: the
  exact kernels reproduce it bit for bit when it is given libm's functions.
- fast (``fast=True``): a branch-free exp (Cody-Waite range reduction,
  degree-11 polynomial, exponent assembled through an integer view) that
  vectorises, within 1 ulp of libm; tanh from the same exp, within 2 ulp of
  1 absolute; sums of products fused (:func:`madd`); arctan and cos in
  :mod:`kernels.trig`.

No fast-math flags: every FMA is written out, so the compiled arithmetic is
exactly the source's and every kernel variant performs the same operations.
The training step built from these pieces is :mod:`kernels.step`.
"""

from __future__ import annotations

import functools

import llvmlite.binding
import numpy as np
from llvmlite import ir
from numba import njit, types, vectorize
from numba.extending import intrinsic, overload

from .primitives import like

# LLVM's inliner takes some call sites of the pieces (the sigmoid of an output
# pass, in a kernel of several loops) for cold ones, whose limit (45) is below
# a sigmoid's cost (70): the pass then runs as a scalar loop of calls. Cold
# call sites get the usual limit of hot ones (225).
llvmlite.binding.set_option("tinynet-sweep", "-inline-cold-callsite-threshold=225")

# No fastmath: it assumes no NaN/inf (breaking divergence detection), and
# even 'contract' alone lets LLVM choose which products to fuse, case by case.
# Helpers leave inlining to LLVM (the same machine code as Numba's own
# inline="always", for less compile time). The exception is _clamp: compiled
# on its own, its comparison flags NaN as invalid, and ufuncs over it warned
# on NaN input.
_JIT = dict(cache=True, error_model="numpy", nogil=True)
#: Options of every compiled kernel and piece.
JIT = _JIT


@overload(like, jit_options=_JIT)
def _like_overload(x, value):
    if x == types.float32:
        return lambda x, value: np.float32(value)
    if isinstance(x, types.Float):
        return lambda x, value: np.float64(value)
    return None


@intrinsic
def _fmuladd(typingctx, a, b, c):
    """``llvm.fmuladd``: a * b + c, fused (one rounding) on CPUs with FMA."""
    if not (a == b == c and isinstance(a, types.Float)):
        return None

    def codegen(context, builder, sig, args):
        ty = args[0].type
        fnty = ir.FunctionType(ty, [ty, ty, ty])
        fn = builder.module.declare_intrinsic("llvm.fmuladd", [ty], fnty)
        return builder.call(fn, args)

    return a(a, b, c), codegen


@njit(**_JIT)
def madd(a, b, c, fast):
    """a * b + c: one fused multiply-add if ``fast``, else two IEEE operations."""
    if fast:
        return _fmuladd(a, b, c)
    return a * b + c


@njit(**_JIT)
def select(condition, a, b):
    """``a if condition else b`` as a call, for generated code: there a
    conditional expression adds blocks, and a variable Numba rebuilds SSA form
    for with one walk over the whole kernel each."""
    return a if condition else b


# --- the fast exp ------------------------------------------------------------
#
# exp(c) = p(r) * 2**k with k = round(c / ln 2) and r = c - k ln 2 in
# [-ln2/2, ln2/2] (Cody-Waite: ln 2 in two parts, so k * LN2_HI is exact).
# k is rounded by adding SHIFT (1.5 * 2**52 plus the exponent bias): the sum's
# low bits then hold k + 1023, and shifting them into the exponent field gives
# 2**k without a float-to-int conversion (whose NaN case LLVM leaves
# undefined). p is 1 + r + r^2 q(r) with q of degree 9, fitted at Chebyshev
# nodes in 50-digit arithmetic (relative error 1.6e-17 with its double
# coefficients; a degree-13 Taylor polynomial gets to 4e-18 at two more
# FMAs).


def _bitcast(source: types.Type, target: types.Type, target_ir: ir.Type):
    """A compiled reinterpretation of a ``source`` value's bits as a ``target``."""

    @intrinsic
    def cast(typingctx, x):
        def codegen(context, builder, sig, args):
            return builder.bitcast(args[0], target_ir)

        return target(source), codegen

    return cast


_bits_to_f64 = _bitcast(types.int64, types.float64, ir.DoubleType())
_f64_to_bits = _bitcast(types.float64, types.int64, ir.IntType(64))
_bits_to_f32 = _bitcast(types.int32, types.float32, ir.FloatType())
_f32_to_bits = _bitcast(types.float32, types.int32, ir.IntType(32))


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # low 32 bits zero: k * LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_ROUND64 = 6755399441055744.0  # 1.5 * 2**52: z = x + _ROUND64 holds round(x) in its low bits
_SHIFT64 = _ROUND64 + 1023.0  # ... or round(x) + the exponent bias
_SHIFT64_BITS = 0x4338000000000000 + 1023
_F32 = np.float32
_LN2_HI_F32 = _F32(0.693145751953125)
_LN2_LO_F32 = _F32(1.428606765330187e-06)
_ROUND32 = _F32(12582912.0)  # 1.5 * 2**23
_SHIFT32 = _F32(12582912.0 + 127.0)  # 1.5 * 2**23 + the exponent bias
_SHIFT32_BITS = 0x4B400000 + 127


@njit(inline="always", **_JIT)
def _clamp(x, low, high):
    """x limited to [low, high]; NaN passes (every comparison with it is false)."""
    if x < low:
        return low
    if x > high:
        return high
    return x


@njit(**_JIT)
def _exp_neg_parts_f64(a, shift):
    """(p, z) with exp(-a) = p * 2**k, k + (shift - 1.5 * 2**52) in z's low bits;
    |a| < 745.2. The sign of ``a`` is folded into the constants: no negation."""
    z = _fmuladd(a, -_LOG2E, shift)
    kf = z - shift
    r = _fmuladd(-kf, _LN2_LO, -_fmuladd(kf, _LN2_HI, a))
    return _poly_f64(r), z


@njit(**_JIT)
def _poly_f64(r):
    """exp(r) for |r| <= ln 2 / 2: degree 11 (relative error below 1e-17)."""
    q = 2.5100375929185925e-08
    q = _fmuladd(q, r, 2.762007600563138e-07)
    q = _fmuladd(q, r, 2.7557268480106926e-06)
    q = _fmuladd(q, r, 2.480152132210459e-05)
    q = _fmuladd(q, r, 0.00019841269863040675)
    q = _fmuladd(q, r, 0.001388888891719689)
    q = _fmuladd(q, r, 0.008333333333330065)
    q = _fmuladd(q, r, 0.041666666666624164)
    q = _fmuladd(q, r, 0.16666666666666669)
    q = _fmuladd(q, r, 0.5000000000000001)
    q = _fmuladd(q, r, 1.0)
    return _fmuladd(q, r, 1.0)


@njit(**_JIT)
def _exp_neg_parts_f32(a, shift):
    """float32 :func:`_exp_neg_parts_f64` (shift less 1.5 * 2**23); |a| < 103.9."""
    z = _fmuladd(a, -_F32(_LOG2E), shift)
    kf = z - shift
    r = _fmuladd(-kf, _LN2_LO_F32, -_fmuladd(kf, _LN2_HI_F32, a))
    return _poly_f32(r), z


@njit(**_JIT)
def _poly_f32(r):
    q = _F32(0.0013926175888627768)
    q = _fmuladd(q, r, _F32(0.008363173343241215))
    q = _fmuladd(q, r, _F32(0.041666556149721146))
    q = _fmuladd(q, r, _F32(0.16666577756404877))
    q = _fmuladd(q, r, _F32(0.5))
    q = _fmuladd(q, r, _F32(1.0))
    return _fmuladd(q, r, _F32(1.0))


@njit(**_JIT)
def _exp_f64(x):
    p, z = _exp_neg_parts_f64(-_clamp(x, -746.0, 710.0), _SHIFT64)  # k in [-1077, 1024]
    # 2^k as two normal powers of two, so subnormal results round once.
    k = _f64_to_bits(z) - _SHIFT64_BITS
    k1 = k >> 1
    s1 = _bits_to_f64((k1 + 1023) << 52)
    s2 = _bits_to_f64((k - k1 + 1023) << 52)
    y = p * s1 * s2
    return y if x == x else x


@njit(**_JIT)
def _exp_f32(x):
    p, z = _exp_neg_parts_f32(-_clamp(x, _F32(-104.0), _F32(89.0)), _SHIFT32)
    k = _f32_to_bits(z) - np.int32(_SHIFT32_BITS)
    k1 = k >> np.int32(1)
    s1 = _bits_to_f32((k1 + np.int32(127)) << np.int32(23))
    s2 = _bits_to_f32((k - k1 + np.int32(127)) << np.int32(23))
    y = p * s1 * s2
    return y if x == x else x


def fast_exp(x):
    """exp(x) for a float32/float64 scalar, branch-free and vectorisable."""
    return np.exp(x)  # the Python fallback; compiled code uses the overload


@overload(fast_exp, jit_options=_JIT)
def _fast_exp_overload(x):
    if x == types.float64:
        return lambda x: _exp_f64(x)
    if x == types.float32:
        return lambda x: _exp_f32(x)
    return None


def sigmoid_exp(x):
    """exp(x) clamped to [-708, 709] (float32: [-86, 88]): the sigmoid's exp.

    Within the clamp it equals :func:`fast_exp` bit for bit, with one power of
    two instead of two (results there are normal). Beyond it, 1 / (1 + e)
    rounds to the same 1.0 below (1 + e^-708 == 1), and above gives at most
    1e-308 (float32: 1e-38) instead of 0.
    """
    low, high = (-86.0, 88.0) if np.asarray(x).dtype == np.float32 else (-708.0, 709.0)
    return np.exp(np.clip(x, low, high))  # the Python fallback


@overload(sigmoid_exp, jit_options=_JIT)
def _sigmoid_exp_overload(x):
    if isinstance(x, types.Float):
        return lambda x: sigmoid_exp_neg(-x)
    return None


def sigmoid_exp_neg(a):
    """``sigmoid_exp(-a)`` bit for bit: the kernels' sigmoid is 1 / (1 + this).

    Cheaper on the floating-point pipes, which bound the kernels: ``-a`` is
    folded into the constants (negation and the clamp are exact, and no
    rounding of ``a * log2(e)`` is a tie, so k, r and p are the same), and
    2**k is applied by adding k to p's exponent field, an integer add,
    where ``sigmoid_exp`` multiplies (the same result: within the clamp p *
    2**k is a normal number; hence float32's -86). A NaN stays NaN as long
    as its payload's low 12 (float32: 9) bits are clear, as for every NaN
    that arithmetic makes.
    """
    return sigmoid_exp(-a)  # the Python fallback


@overload(sigmoid_exp_neg, jit_options=_JIT)
def _sigmoid_exp_neg_overload(a):
    if a == types.float64:

        def exp64(a):
            p, z = _exp_neg_parts_f64(_clamp(a, -709.0, 708.0), _ROUND64)  # k in z's low bits
            return _bits_to_f64(_f64_to_bits(p) + (_f64_to_bits(z) << 52))

        return exp64
    if a == types.float32:

        def exp32(a):
            p, z = _exp_neg_parts_f32(_clamp(a, _F32(-88.0), _F32(86.0)), _ROUND32)
            return _bits_to_f32(_f32_to_bits(p) + (_f32_to_bits(z) << np.int32(23)))

        return exp32
    return None


# --- tanh -----------------------------------------------------------------------


def fast_tanh(x):
    """tanh(x) = 1 - 2 / (1 + e^2x) for a float32/float64 scalar, branch-free and
    vectorisable: the sigmoid's exp and two more operations.

    Its error is absolute, like the fast sigmoid's: at most 2 ulp of 1
    (4.4e-16; float32 2.4e-7) everywhere, so relative near 0, where tanh is
    small: what a unit passes on is its output's absolute value. Saturates to
    exactly +-1 (within the exp's clamp); NaN stays NaN.
    """
    return np.tanh(x)  # the Python fallback; compiled code uses the overload


@overload(fast_tanh, jit_options=_JIT)
def _fast_tanh_overload(x):
    if isinstance(x, types.Float):

        def impl(x):
            one = like(x, 1.0)
            return one - (one + one) / (one + sigmoid_exp_neg(-(x + x)))

        return impl
    return None


# --- the activations -------------------------------------------------------------


@njit(**_JIT)
def logistic(a, fast):
    """1 / (1 + e^-a)."""
    one = like(a, 1.0)
    if fast:
        return one / (one + sigmoid_exp_neg(a))
    return one / (one + np.exp(-a))


@njit(**_JIT)
def tanh(a, fast):
    """tanh(a): libm's (exact) or :func:`fast_tanh`."""
    if fast:
        return fast_tanh(a)
    return np.tanh(a)


def _sigmoid_exp_scalar(x):
    return sigmoid_exp(x)


def _fast_exp_scalar(x):
    return fast_exp(x)


@functools.cache
def _ufunc(scalar):
    # Built on first use: building both ufuncs at import (even from the
    # cache) would slow every worker's start. float32 first: a ufunc takes
    # the first loop its input casts to safely.
    return vectorize(["float32(float32)", "float64(float64)"], cache=True)(scalar)


def sigmoid_exp_array(x: np.ndarray) -> np.ndarray:
    """``sigmoid_exp`` elementwise, compiled (for tests)."""
    return _ufunc(_sigmoid_exp_scalar)(x)


def fast_exp_array(x: np.ndarray) -> np.ndarray:
    """``fast_exp`` elementwise, compiled (for tests and benchmarks)."""
    return _ufunc(_fast_exp_scalar)(x)


def _fast_tanh_scalar(x):
    return fast_tanh(x)


def fast_tanh_array(x: np.ndarray) -> np.ndarray:
    """``fast_tanh`` elementwise, compiled (for tests)."""
    return _ufunc(_fast_tanh_scalar)(x)
