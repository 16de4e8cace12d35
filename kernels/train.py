"""The fused training kernel: many networks of one shape, trained at once.

Forward pass, backpropagation and the update are fused into one compiled
loop. Networks are processed in blocks of ``BLOCK`` whose working set stays
in cache; within a block every inner loop runs over the network index, so
LLVM vectorises across networks. Statistics and their definitions:
:mod:`kernels.model`; the numpy oracle: :mod:`kernels.reference`.

Two ``exp`` implementations (kept in this module so the on-disk cache never
holds a kernel compiled against a stale helper):

- ``exact``: ``np.exp`` (libm) and strict IEEE arithmetic. Same operations in
  the same order as the reference; differs from it only where numpy's own
  SIMD exp does.
- ``fast``: a branch-free exp (Cody-Waite range reduction, degree-11
  polynomial, exponent assembled through an integer view) that vectorises,
  within 1 ulp of libm; sums of products use fused multiply-adds.

No fast-math flags: every FMA is written out (:func:`madd`), so the compiled
arithmetic is exactly the source's, and :mod:`kernels.tiled` can repeat
it operation for operation.
"""

from __future__ import annotations

import functools

import numpy as np
from llvmlite import ir
from numba import njit, types, vectorize
from numba.extending import intrinsic, overload

from . import tiled
from .choose import choose_kernel
from .model import EXP_MODES, KERNELS, SOLVED_MARGIN, BatchResult, curve_epochs

#: Networks per cache block; measured in benchmarks/kernel.py.
BLOCK = 256

# No fastmath: it assumes no NaN/inf (breaking divergence detection), and
# even 'contract' alone lets LLVM choose which products to fuse, case by case.
# Helpers leave inlining to LLVM (same machine code, same speed): Numba's own
# inline="always" was half of the general kernel's compile time (its four
# variants, cold: 30 s -> 21 s). The exception is _clamp: compiled on its own,
# its comparison flags NaN as invalid, and ufuncs over it warned on NaN input.
_JIT = dict(cache=True, error_model="numpy", nogil=True)


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


# --- the fast exp ------------------------------------------------------------
#
# exp(c) = p(r) * 2**k with k = round(c / ln 2) and r = c - k ln 2 in
# [-ln2/2, ln2/2] (Cody-Waite: ln 2 in two parts, so k * LN2_HI is exact).
# k is rounded by adding SHIFT (1.5 * 2**52 plus the exponent bias): the sum's
# low bits then hold k + 1023, and shifting them into the exponent field gives
# 2**k without a float-to-int conversion (whose NaN case LLVM leaves
# undefined). p is 1 + r + r^2 q(r) with q of degree 9, fitted at Chebyshev
# nodes in 50-digit arithmetic (relative error 1.6e-17 with its double
# coefficients, against 4e-18 for the degree-13 Taylor polynomial it replaces
# at two more FMAs).


@intrinsic
def _bits_to_f64(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _f64_to_bits(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _bits_to_f32(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@intrinsic
def _f32_to_bits(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(types.float32), codegen


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
    that arithmetic makes. About 9% faster kernels at H = 8 and 32 (XOR, float64).
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


def _sigmoid_exp_scalar(x):
    return sigmoid_exp(x)


def _fast_exp_scalar(x):
    return fast_exp(x)


@functools.cache
def _ufunc(scalar):
    # Built on first use: building both ufuncs at import (even from the
    # cache) took 0.7 s of every worker's start. float32 first: a ufunc takes
    # the first loop its input casts to safely.
    return vectorize(["float32(float32)", "float64(float64)"], cache=True)(scalar)


def sigmoid_exp_array(x: np.ndarray) -> np.ndarray:
    """``sigmoid_exp`` elementwise, compiled (for tests)."""
    return _ufunc(_sigmoid_exp_scalar)(x)


def fast_exp_array(x: np.ndarray) -> np.ndarray:
    """``fast_exp`` elementwise, compiled (for tests and benchmarks)."""
    return _ufunc(_fast_exp_scalar)(x)


# --- sigmoid: the one place that chooses the exp ----------------------------------


@njit(**_JIT)
def _sigmoid(a, one, fast):
    # ``fast`` is a literal in each compiled variant (Numba specialises on
    # it), so the branch is gone before LLVM vectorises the loop around this.
    if fast:
        return one / (one + sigmoid_exp_neg(a))
    return one / (one + np.exp(-a))


# --- the kernel -----------------------------------------------------------------


@njit(**_JIT)
def _block_body(X, Y, wh, bh, wo, bo, lr, epochs, tol, curve_every, early_stop, fast,
                solved, converged, diverged, curve, outputs, final_loss):  # fmt: skip
    """Train the nb networks of one block in place (arrays are block-local).

    Compiled once for each of the two variants below, which fix ``fast`` (the
    exp, and fused multiply-adds through :func:`madd`): Numba specialises on
    the literal, so the branches on it are gone before LLVM vectorises.

    Every loop over ``j`` (the network) is a pass over memory; the work is
    fused into as few passes as the run-time sizes allow, because loads and
    stores, not arithmetic, bound a pass. Inputs equal to 0 contribute
    nothing and are skipped (the reference does the same).
    """
    n_samples, n_in = X.shape
    n_out = Y.shape[1]
    width = bh.shape[0]
    nb = bh.shape[1]
    dt = bh.dtype.type
    zero, one, half = dt(0.0), dt(1.0), dt(SOLVED_MARGIN)
    tol_t = dt(tol)
    n_terms = dt(n_samples * n_out)

    # Nonzero inputs of each sample, in ascending order.
    nz = np.zeros((n_samples, n_in), dtype=np.int64)
    nnz = np.zeros(n_samples, dtype=np.int64)
    for p in range(n_samples):
        for i in range(n_in):
            if X[p, i] != 0:
                nz[p, nnz[p]] = i
                nnz[p] += 1

    gwh = np.zeros_like(wh)
    gbh = np.zeros_like(bh)
    gwo = np.zeros_like(wo)
    gbo = np.zeros_like(bo)
    hid = np.empty((width, nb), dtype=bh.dtype)
    dout = np.empty((n_out, nb), dtype=bh.dtype)
    oacc = np.empty((n_out, nb), dtype=bh.dtype)
    acc = np.empty(nb, dtype=bh.dtype)
    worst = np.empty(nb, dtype=bh.dtype)
    sse = np.empty(nb, dtype=bh.dtype)
    check = np.empty(nb, dtype=bh.dtype)
    live = np.ones(nb, dtype=np.bool_)

    stopping = False
    for k in range(epochs + 1):
        last = k == epochs or stopping
        for j in range(nb):
            worst[j] = zero
            sse[j] = zero

        for p in range(n_samples):
            c = nnz[p]
            # Output sums start from +0.0 (0 + x == x: same value as the reference).
            for o in range(n_out):
                for j in range(nb):
                    oacc[o, j] = zero
            # Hidden unit h, fused with its term of the first output's sum:
            # hid = sigmoid((sum of x_i * w_i over nonzero x) + b).
            for h in range(width):
                if c == 0:
                    for j in range(nb):
                        s = _sigmoid(zero + bh[h, j], one, fast)
                        hid[h, j] = s
                        oacc[0, j] = madd(s, wo[h, 0, j], oacc[0, j], fast)
                elif c == 1:
                    i = nz[p, 0]
                    x = dt(X[p, i])
                    for j in range(nb):
                        s = _sigmoid(madd(x, wh[i, h, j], bh[h, j], fast), one, fast)
                        hid[h, j] = s
                        oacc[0, j] = madd(s, wo[h, 0, j], oacc[0, j], fast)
                else:
                    i = nz[p, 0]
                    x = dt(X[p, i])
                    for j in range(nb):
                        acc[j] = x * wh[i, h, j]
                    for t in range(1, c - 1):
                        i = nz[p, t]
                        x = dt(X[p, i])
                        for j in range(nb):
                            acc[j] = madd(x, wh[i, h, j], acc[j], fast)
                    i = nz[p, c - 1]
                    x = dt(X[p, i])
                    for j in range(nb):
                        s = _sigmoid(madd(x, wh[i, h, j], acc[j], fast) + bh[h, j], one, fast)
                        hid[h, j] = s
                        oacc[0, j] = madd(s, wo[h, 0, j], oacc[0, j], fast)
                for o in range(1, n_out):
                    for j in range(nb):
                        oacc[o, j] = madd(hid[h, j], wo[h, o, j], oacc[o, j], fast)
            # Outputs, fused with the error, the statistics and the output delta.
            for o in range(n_out):
                y = dt(Y[p, o])
                for j in range(nb):
                    yhat = _sigmoid(oacc[o, j] + bo[o, j], one, fast)
                    e = y - yhat
                    ae = abs(e)
                    worst[j] = ae if ae > worst[j] else worst[j]
                    sse[j] = madd(e, e, sse[j], fast)
                    d = e * (yhat * (one - yhat))
                    dout[o, j] = d
                    gbo[o, j] = gbo[o, j] + d
                    outputs[p, o, j] = yhat  # what stays is the last epoch's
            if last:
                continue
            # Backward, one hidden unit at a time (gradient sums in sample order):
            # acc = sum_o dout_o * wo[h, o], then delta = acc * hid * (1 - hid).
            for h in range(width):
                for o in range(n_out - 1):
                    for j in range(nb):
                        d = dout[o, j]
                        acc[j] = madd(d, wo[h, o, j], acc[j] if o > 0 else zero, fast)
                        gwo[h, o, j] = madd(hid[h, j], d, gwo[h, o, j], fast)
                o = n_out - 1
                first = n_out == 1
                if c == 1:
                    i = nz[p, 0]
                    x = dt(X[p, i])
                    for j in range(nb):
                        d = dout[o, j]
                        hv = hid[h, j]
                        gwo[h, o, j] = madd(hv, d, gwo[h, o, j], fast)
                        e = d * wo[h, o, j] if first else madd(d, wo[h, o, j], acc[j], fast)
                        delta = e * (hv * (one - hv))
                        gbh[h, j] = gbh[h, j] + delta
                        gwh[i, h, j] = madd(x, delta, gwh[i, h, j], fast)
                elif c == 2:
                    i0 = nz[p, 0]
                    i1 = nz[p, 1]
                    x0 = dt(X[p, i0])
                    x1 = dt(X[p, i1])
                    for j in range(nb):
                        d = dout[o, j]
                        hv = hid[h, j]
                        gwo[h, o, j] = madd(hv, d, gwo[h, o, j], fast)
                        e = d * wo[h, o, j] if first else madd(d, wo[h, o, j], acc[j], fast)
                        delta = e * (hv * (one - hv))
                        gbh[h, j] = gbh[h, j] + delta
                        gwh[i0, h, j] = madd(x0, delta, gwh[i0, h, j], fast)
                        gwh[i1, h, j] = madd(x1, delta, gwh[i1, h, j], fast)
                else:
                    for j in range(nb):
                        d = dout[o, j]
                        hv = hid[h, j]
                        gwo[h, o, j] = madd(hv, d, gwo[h, o, j], fast)
                        e = d * wo[h, o, j] if first else madd(d, wo[h, o, j], acc[j], fast)
                        delta = e * (hv * (one - hv))
                        acc[j] = delta
                        gbh[h, j] = gbh[h, j] + delta
                    for t in range(c):
                        i = nz[p, t]
                        x = dt(X[p, i])
                        for j in range(nb):
                            gwh[i, h, j] = madd(x, acc[j], gwh[i, h, j], fast)

        # Statistics at theta_k.
        for j in range(nb):
            ok = live[j]
            if ok and solved[j] < 0 and worst[j] < half:
                solved[j] = k
            if ok and converged[j] < 0 and worst[j] < tol_t:
                converged[j] = k
        if curve_every > 0 and k % curve_every == 0:
            row = k // curve_every
            for j in range(nb):
                curve[row, j] = sse[j] / n_terms
        if last:
            for j in range(nb):
                final_loss[j] = sse[j] / n_terms
            if curve_every > 0:  # stopped early: the frozen loss stays flat
                for row in range(k // curve_every + 1, curve.shape[0]):
                    for j in range(nb):
                        curve[row, j] = final_loss[j]
            break
        if early_stop:
            n_live = 0
            for j in range(nb):
                if live[j] and solved[j] >= 0 and converged[j] >= 0:
                    live[j] = False
                n_live += live[j]
            stopping = n_live == 0

        # Update theta_k -> theta_{k+1} and clear the gradient sums; frozen
        # networks keep their state.
        for j in range(nb):
            check[j] = zero
        for i in range(n_in):
            for h in range(width):
                for j in range(nb):
                    w = madd(lr[j], gwh[i, h, j], wh[i, h, j], fast)
                    gwh[i, h, j] = zero
                    check[j] = madd(w, zero, check[j], fast)
                    wh[i, h, j] = w if live[j] else wh[i, h, j]
        for h in range(width):
            for j in range(nb):
                w = madd(lr[j], gbh[h, j], bh[h, j], fast)
                gbh[h, j] = zero
                check[j] = madd(w, zero, check[j], fast)
                bh[h, j] = w if live[j] else bh[h, j]
            for o in range(n_out):
                for j in range(nb):
                    w = madd(lr[j], gwo[h, o, j], wo[h, o, j], fast)
                    gwo[h, o, j] = zero
                    check[j] = madd(w, zero, check[j], fast)
                    wo[h, o, j] = w if live[j] else wo[h, o, j]
        for o in range(n_out):
            for j in range(nb):
                w = madd(lr[j], gbo[o, j], bo[o, j], fast)
                gbo[o, j] = zero
                check[j] = madd(w, zero, check[j], fast)
                bo[o, j] = w if live[j] else bo[o, j]
        # w * 0 is NaN exactly when w is not finite.
        for j in range(nb):
            if live[j] and check[j] != check[j]:
                diverged[j] = k + 1
                live[j] = False


@njit(**_JIT)
def _train_block_fast(X, Y, wh, bh, wo, bo, lr, epochs, tol, curve_every, early_stop,
                      solved, converged, diverged, curve, outputs, final_loss):  # fmt: skip
    _block_body(X, Y, wh, bh, wo, bo, lr, epochs, tol, curve_every, early_stop, True,
                solved, converged, diverged, curve, outputs, final_loss)  # fmt: skip


@njit(**_JIT)
def _train_block_exact(X, Y, wh, bh, wo, bo, lr, epochs, tol, curve_every, early_stop,
                       solved, converged, diverged, curve, outputs, final_loss):  # fmt: skip
    _block_body(X, Y, wh, bh, wo, bo, lr, epochs, tol, curve_every, early_stop, False,
                solved, converged, diverged, curve, outputs, final_loss)  # fmt: skip


@njit(**_JIT)
def _ready(x):
    return x


def warm_up() -> None:
    """Start Numba's run-time in this process now (0.15-0.35 s, once per process).

    A process's first kernel call pays it otherwise; see
    :func:`sweep.execute.start_here` for why a caller may want it earlier.
    """
    _ready(0.0)


def train_batch(
    X: np.ndarray,
    Y: np.ndarray,
    params: dict[str, np.ndarray],
    lr: np.ndarray | float,
    epochs: int,
    tol: float = 0.1,
    curve_every: int = 0,
    exp: str = "fast",
    early_stop: bool = False,
    block: int = BLOCK,
    kernel: str = "auto",
) -> BatchResult:
    """Train a batch of networks of one shape and return their statistics.

    ``params`` holds the initial weights in the network-last layout (see
    :func:`kernels.model.init_batch`); their dtype (float64 or float32) is the
    dtype of training. ``lr`` is one learning rate per network (or a scalar).
    ``exp`` is ``"fast"`` or ``"exact"`` (module docstring). ``early_stop``
    freezes each network once it is solved and converged (see
    :mod:`kernels.model`) and ends a block when none is still training.
    ``kernel``: ``general`` (any shape), ``tiled`` (generated for the shape,
    see :mod:`kernels.tiled`; faster, compiled once per shape) or ``auto``
    (see :func:`kernels.choose.choose_kernel`). Both give identical results.
    The inputs are not modified. Definitions of the statistics:
    :mod:`kernels.model`.
    """
    if exp not in EXP_MODES:
        raise ValueError(f"exp must be one of {EXP_MODES}, got {exp!r}")
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    dtype = np.dtype(params["b_out"].dtype)
    if dtype not in (np.float64, np.float32):
        raise ValueError(f"dtype must be float64 or float32, got {dtype}")
    wh = np.array(params["w_hidden"], dtype=dtype, order="C")
    bh = np.array(params["b_hidden"], dtype=dtype, order="C")
    wo = np.array(params["w_out"], dtype=dtype, order="C")
    bo = np.array(params["b_out"], dtype=dtype, order="C")
    n = bo.shape[1]
    lr_arr = np.empty(n, dtype=dtype)
    lr_arr[:] = lr
    X = np.ascontiguousarray(X, dtype=dtype)
    Y = np.ascontiguousarray(Y, dtype=dtype)
    width = bh.shape[0]
    if kernel == "auto":
        kernel = choose_kernel(X, Y, width, exp, n * max(int(epochs), 1))
    if kernel == "tiled":
        return tiled.train(X, Y, wh, bh, wo, bo, lr_arr, epochs, tol, curve_every, exp,
                           early_stop)  # fmt: skip
    points = curve_epochs(epochs, curve_every).size
    result = BatchResult(
        w_hidden=wh,
        b_hidden=bh,
        w_out=wo,
        b_out=bo,
        epoch_solved=np.full(n, -1, dtype=np.int64),
        epoch_converged=np.full(n, -1, dtype=np.int64),
        epoch_diverged=np.full(n, -1, dtype=np.int64),
        final_loss=np.empty(n, dtype=dtype),
        outputs=np.empty((X.shape[0], Y.shape[1], n), dtype=dtype),
        loss_curve=np.empty((points, n), dtype=dtype),
    )
    kernel = _train_block_fast if exp == "fast" else _train_block_exact
    r = result
    network_last = [wh, bh, wo, bo, lr_arr, r.epoch_solved, r.epoch_converged,
                    r.epoch_diverged, r.loss_curve, r.outputs, r.final_loss]  # fmt: skip
    # Blocks of networks go through the kernel one at a time: a block's
    # working set stays in cache, and contiguous copies let LLVM vectorise.
    for j0 in range(0, n, block):
        part = [np.ascontiguousarray(a[..., j0 : j0 + block]) for a in network_last]
        kernel(X, Y, *part[:5], int(epochs), float(tol), int(curve_every), bool(early_stop),
               *part[5:])  # fmt: skip
        for full, done in zip(network_last, part, strict=True):
            full[..., j0 : j0 + block] = done
    return result
