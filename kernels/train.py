"""The fused training kernel: many networks of one shape, trained at once.

Forward pass, backpropagation and the update are fused into one compiled
loop. Networks are processed in blocks of ``BLOCK`` whose working set stays
in cache; within a block every inner loop runs over the network index, so
LLVM vectorises across networks. Statistics and their definitions:
:mod:`kernels.model`; the numpy oracle: :mod:`kernels.reference`.

Two ``exp`` implementations (kept in this module so the on-disk cache never
holds a kernel compiled against a stale helper):

- ``exact``: ``np.exp`` (libm), no FMA contraction. Same operation order as
  the reference; differs from it only where numpy's own SIMD exp does.
- ``fast``: a branch-free exp (Cody-Waite range reduction, degree-13 Taylor
  polynomial, exponent assembled through an integer view) that vectorises,
  within ~1 ulp of libm, with FMA contraction allowed.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

from .model import SOLVED_MARGIN, BatchResult, curve_epochs

EXP_MODES = ("fast", "exact")

#: Networks per cache block; measured in benchmarks/kernel.py.
BLOCK = 256

# 'contract' permits FMA only: full fastmath assumes no NaN/inf and would
# break divergence detection.
_FAST = {"contract"}
_JIT = dict(cache=True, error_model="numpy", nogil=True)


# --- the fast exp ------------------------------------------------------------


@intrinsic
def _bits_to_f64(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@intrinsic
def _bits_to_f32(typingctx, x):
    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # low 32 bits zero: k * LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10


@njit(fastmath=_FAST, **_JIT)
def _exp_f64(x):
    # Clamp so that k stays in [-1077, 1024]; NaN passes the clamp untouched.
    c = x
    if c < -746.0:
        c = -746.0
    if c > 710.0:
        c = 710.0
    kf = np.floor(c * _LOG2E + 0.5)
    r = (c - kf * _LN2_HI) - kf * _LN2_LO
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    # 2^k as two normal powers of two, so subnormal results round once.
    k = np.int64(kf)
    k1 = k >> 1
    s1 = _bits_to_f64((k1 + 1023) << 52)
    s2 = _bits_to_f64((k - k1 + 1023) << 52)
    y = p * s1 * s2
    return y if x == x else x


_F32 = np.float32


@njit(fastmath=_FAST, **_JIT)
def _exp_f32(x):
    c = x
    if c < _F32(-104.0):
        c = _F32(-104.0)
    if c > _F32(89.0):
        c = _F32(89.0)
    kf = np.floor(c * _F32(_LOG2E) + _F32(0.5))
    r = (c - kf * _F32(0.693145751953125)) - kf * _F32(1.428606765330187e-06)
    p = _F32(1.0 / 5040.0)
    p = p * r + _F32(1.0 / 720.0)
    p = p * r + _F32(1.0 / 120.0)
    p = p * r + _F32(1.0 / 24.0)
    p = p * r + _F32(1.0 / 6.0)
    p = p * r + _F32(0.5)
    p = p * r + _F32(1.0)
    p = p * r + _F32(1.0)
    k = np.int32(kf)
    k1 = k >> np.int32(1)
    s1 = _bits_to_f32((k1 + np.int32(127)) << np.int32(23))
    s2 = _bits_to_f32((k - k1 + np.int32(127)) << np.int32(23))
    y = p * s1 * s2
    return y if x == x else x


def fast_exp(x):
    """exp(x) for a float32/float64 scalar, branch-free and vectorisable."""
    return np.exp(x)  # the Python fallback; compiled code uses the overload


@overload(fast_exp, jit_options=dict(fastmath=_FAST))
def _fast_exp_overload(x):
    if x == types.float64:
        return lambda x: _exp_f64(x)
    if x == types.float32:
        return lambda x: _exp_f32(x)
    return None


@njit(fastmath=_FAST, **_JIT)
def fast_exp_array(x):
    """``fast_exp`` applied elementwise to a 1-d array (for tests and benchmarks)."""
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = fast_exp(x[i])
    return out


# --- sigmoid: the one place that chooses the exp ----------------------------------


@njit(inline="always", **_JIT)
def _sigmoid(a, one, fast):
    # ``fast`` is a constant in each compiled variant, so LLVM folds the
    # branch away before it vectorises the loop around this call.
    if fast:
        return one / (one + fast_exp(-a))
    return one / (one + np.exp(-a))


# --- the kernel -----------------------------------------------------------------


@njit(inline="always", **_JIT)
def _block_body(X, Y, wh, bh, wo, bo, lr, epochs, tol, curve_every, early_stop, fast,
                solved, converged, diverged, curve, outputs, final_loss):  # fmt: skip
    """Train the nb networks of one block in place (arrays are block-local).

    Inlined into the two variants below, which fix the floating-point flags:
    FMA contraction for ``fast``, strict IEEE order for ``exact``.

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
                        oacc[0, j] = oacc[0, j] + s * wo[h, 0, j]
                elif c == 1:
                    i = nz[p, 0]
                    x = dt(X[p, i])
                    for j in range(nb):
                        s = _sigmoid(x * wh[i, h, j] + bh[h, j], one, fast)
                        hid[h, j] = s
                        oacc[0, j] = oacc[0, j] + s * wo[h, 0, j]
                else:
                    i = nz[p, 0]
                    x = dt(X[p, i])
                    for j in range(nb):
                        acc[j] = x * wh[i, h, j]
                    for t in range(1, c - 1):
                        i = nz[p, t]
                        x = dt(X[p, i])
                        for j in range(nb):
                            acc[j] = acc[j] + x * wh[i, h, j]
                    i = nz[p, c - 1]
                    x = dt(X[p, i])
                    for j in range(nb):
                        s = _sigmoid((acc[j] + x * wh[i, h, j]) + bh[h, j], one, fast)
                        hid[h, j] = s
                        oacc[0, j] = oacc[0, j] + s * wo[h, 0, j]
                for o in range(1, n_out):
                    for j in range(nb):
                        oacc[o, j] = oacc[o, j] + hid[h, j] * wo[h, o, j]
            # Outputs, fused with the error, the statistics and the output delta.
            for o in range(n_out):
                y = dt(Y[p, o])
                for j in range(nb):
                    yhat = _sigmoid(oacc[o, j] + bo[o, j], one, fast)
                    e = y - yhat
                    ae = abs(e)
                    worst[j] = ae if ae > worst[j] else worst[j]
                    sse[j] = sse[j] + e * e
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
                        acc[j] = (acc[j] if o > 0 else zero) + d * wo[h, o, j]
                        gwo[h, o, j] = gwo[h, o, j] + hid[h, j] * d
                o = n_out - 1
                first = n_out == 1
                if c == 1:
                    i = nz[p, 0]
                    x = dt(X[p, i])
                    for j in range(nb):
                        d = dout[o, j]
                        hv = hid[h, j]
                        gwo[h, o, j] = gwo[h, o, j] + hv * d
                        e = d * wo[h, o, j] if first else acc[j] + d * wo[h, o, j]
                        delta = e * (hv * (one - hv))
                        gbh[h, j] = gbh[h, j] + delta
                        gwh[i, h, j] = gwh[i, h, j] + x * delta
                elif c == 2:
                    i0 = nz[p, 0]
                    i1 = nz[p, 1]
                    x0 = dt(X[p, i0])
                    x1 = dt(X[p, i1])
                    for j in range(nb):
                        d = dout[o, j]
                        hv = hid[h, j]
                        gwo[h, o, j] = gwo[h, o, j] + hv * d
                        e = d * wo[h, o, j] if first else acc[j] + d * wo[h, o, j]
                        delta = e * (hv * (one - hv))
                        gbh[h, j] = gbh[h, j] + delta
                        gwh[i0, h, j] = gwh[i0, h, j] + x0 * delta
                        gwh[i1, h, j] = gwh[i1, h, j] + x1 * delta
                else:
                    for j in range(nb):
                        d = dout[o, j]
                        hv = hid[h, j]
                        gwo[h, o, j] = gwo[h, o, j] + hv * d
                        e = d * wo[h, o, j] if first else acc[j] + d * wo[h, o, j]
                        delta = e * (hv * (one - hv))
                        acc[j] = delta
                        gbh[h, j] = gbh[h, j] + delta
                    for t in range(c):
                        i = nz[p, t]
                        x = dt(X[p, i])
                        for j in range(nb):
                            gwh[i, h, j] = gwh[i, h, j] + x * acc[j]

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
                    w = wh[i, h, j] + lr[j] * gwh[i, h, j]
                    gwh[i, h, j] = zero
                    check[j] = check[j] + w * zero
                    wh[i, h, j] = w if live[j] else wh[i, h, j]
        for h in range(width):
            for j in range(nb):
                w = bh[h, j] + gbh[h, j] * lr[j]
                gbh[h, j] = zero
                check[j] = check[j] + w * zero
                bh[h, j] = w if live[j] else bh[h, j]
            for o in range(n_out):
                for j in range(nb):
                    w = wo[h, o, j] + lr[j] * gwo[h, o, j]
                    gwo[h, o, j] = zero
                    check[j] = check[j] + w * zero
                    wo[h, o, j] = w if live[j] else wo[h, o, j]
        for o in range(n_out):
            for j in range(nb):
                w = bo[o, j] + gbo[o, j] * lr[j]
                gbo[o, j] = zero
                check[j] = check[j] + w * zero
                bo[o, j] = w if live[j] else bo[o, j]
        # w * 0 is NaN exactly when w is not finite.
        for j in range(nb):
            if live[j] and check[j] != check[j]:
                diverged[j] = k + 1
                live[j] = False


@njit(fastmath=_FAST, **_JIT)
def _train_block_fast(X, Y, wh, bh, wo, bo, lr, epochs, tol, curve_every, early_stop,
                      solved, converged, diverged, curve, outputs, final_loss):  # fmt: skip
    _block_body(X, Y, wh, bh, wo, bo, lr, epochs, tol, curve_every, early_stop, True,
                solved, converged, diverged, curve, outputs, final_loss)  # fmt: skip


@njit(**_JIT)
def _train_block_exact(X, Y, wh, bh, wo, bo, lr, epochs, tol, curve_every, early_stop,
                       solved, converged, diverged, curve, outputs, final_loss):  # fmt: skip
    _block_body(X, Y, wh, bh, wo, bo, lr, epochs, tol, curve_every, early_stop, False,
                solved, converged, diverged, curve, outputs, final_loss)  # fmt: skip


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
) -> BatchResult:
    """Train a batch of networks of one shape and return their statistics.

    ``params`` holds the initial weights in the network-last layout (see
    :func:`kernels.model.init_batch`); their dtype (float64 or float32) is the
    dtype of training. ``lr`` is one learning rate per network (or a scalar).
    ``exp`` is ``"fast"`` or ``"exact"`` (module docstring). ``early_stop``
    freezes each network once it is solved and converged (see
    :mod:`kernels.model`) and ends a block when none is still training. The
    inputs are not modified. Definitions of the statistics: :mod:`kernels.model`.
    """
    if exp not in EXP_MODES:
        raise ValueError(f"exp must be one of {EXP_MODES}, got {exp!r}")
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
