"""The oracle: the notebook's training loop in plain numpy, one network at a time.

Written for clarity, not speed. Products of matrices are spelled out as
ordered sums (no BLAS), so the order of floating-point operations is the one
the fused kernel uses; the only remaining difference is the ``exp``
implementation (numpy's SIMD exp differs from libm's in the last bit for a
few percent of arguments), which ``exp`` lets a caller choose.
Definitions of every statistic: :mod:`kernels.model`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .model import SOLVED_MARGIN, BatchResult, curve_epochs


def sigmoid(x: np.ndarray, exp: Callable = np.exp) -> np.ndarray:
    return 1.0 / (1.0 + exp(-x))


def sigmoid_derivative(y: np.ndarray) -> np.ndarray:
    """Derivative of the sigmoid written in terms of its output y."""
    return y * (1.0 - y)


def input_matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """x @ w over the nonzero inputs only, summed in order from +0.0.

    An input of 0 contributes nothing (the kernel skips it), which only
    matters once a weight is infinite: 0 * inf would be NaN.
    """
    out = np.zeros((x.shape[0], w.shape[1]))
    for k in range(x.shape[1]):
        out = np.where(x[:, k : k + 1] != 0, out + x[:, k : k + 1] * w[k : k + 1, :], out)
    return out


def ordered_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b summed over k = 0, 1, ... in order, starting from the k = 0 term."""
    out = a[:, 0:1] * b[0:1, :]
    for k in range(1, a.shape[1]):
        out = out + a[:, k : k + 1] * b[k : k + 1, :]
    return out


def ordered_sum(a: np.ndarray) -> float:
    """Sum of all elements in row-major order, one addition at a time."""
    total = 0.0
    for v in a.ravel():
        total += v
    return total


@np.errstate(over="ignore", invalid="ignore")  # non-finite is an outcome here
def train_one(
    X: np.ndarray,
    Y: np.ndarray,
    params: dict[str, np.ndarray],
    lr: float,
    epochs: int,
    tol: float,
    curve_every: int,
    exp: Callable = np.exp,
    early_stop: bool = False,
) -> dict:
    """Train one network as the notebook does and return every statistic."""
    wh, bh = params["w_hidden"].copy(), params["b_hidden"].copy()
    wo, bo = params["w_out"].copy(), params["b_out"].copy()
    curve_at = set(curve_epochs(epochs, curve_every).tolist())
    solved = converged = diverged = -1
    frozen = False
    curve = []
    for k in range(epochs + 1):
        # Forward propagation at theta_k
        hidden = sigmoid(input_matmul(X, wh) + bh, exp)
        predicted = sigmoid(ordered_matmul(hidden, wo) + bo, exp)
        error = Y - predicted
        mse = ordered_sum(error**2) / error.size
        if k in curve_at:
            curve.append(mse)
        if diverged < 0:
            worst = np.max(np.abs(error))
            if solved < 0 and worst < SOLVED_MARGIN:
                solved = k
            if converged < 0 and worst < tol:
                converged = k
        if early_stop and solved >= 0 and converged >= 0:
            frozen = True
        if k == epochs or diverged >= 0 or frozen:
            continue
        # Backpropagation
        d_predicted = error * sigmoid_derivative(predicted)
        error_hidden = ordered_matmul(d_predicted, wo.T)
        d_hidden = error_hidden * sigmoid_derivative(hidden)
        # Updating weights and biases
        wo = wo + lr * ordered_matmul(hidden.T, d_predicted)
        bo = bo + ordered_matmul(np.ones((1, len(X))), d_predicted) * lr
        wh = wh + lr * ordered_matmul(X.T, d_hidden)
        bh = bh + ordered_matmul(np.ones((1, len(X))), d_hidden) * lr
        if not all(np.isfinite(p).all() for p in (wh, bh, wo, bo)):
            diverged = k + 1
    return {
        "w_hidden": wh,
        "b_hidden": bh,
        "w_out": wo,
        "b_out": bo,
        "epoch_solved": solved,
        "epoch_converged": converged,
        "epoch_diverged": diverged,
        "final_loss": mse,
        "outputs": predicted,
        "loss_curve": np.array(curve),
    }


def train_batch(
    X: np.ndarray,
    Y: np.ndarray,
    params: dict[str, np.ndarray],
    lr: np.ndarray,
    epochs: int,
    tol: float,
    curve_every: int,
    exp: Callable = np.exp,
    early_stop: bool = False,
) -> BatchResult:
    """:func:`train_one` over a batch given in the network-last layout."""
    lr = np.broadcast_to(np.asarray(lr, dtype=np.float64), params["b_out"].shape[-1:])
    runs = []
    for j, lr_j in enumerate(lr):
        one = {
            "w_hidden": params["w_hidden"][..., j],
            "b_hidden": params["b_hidden"][None, :, j],
            "w_out": params["w_out"][..., j],
            "b_out": params["b_out"][None, :, j],
        }
        runs.append(train_one(X, Y, one, float(lr_j), epochs, tol, curve_every, exp, early_stop))

    def stack(key: str, squeeze_row: bool = False) -> np.ndarray:
        arrays = [r[key][0] if squeeze_row else r[key] for r in runs]
        return np.stack(arrays, axis=-1)

    return BatchResult(
        w_hidden=stack("w_hidden"),
        b_hidden=stack("b_hidden", squeeze_row=True),
        w_out=stack("w_out"),
        b_out=stack("b_out", squeeze_row=True),
        epoch_solved=np.array([r["epoch_solved"] for r in runs], dtype=np.int64),
        epoch_converged=np.array([r["epoch_converged"] for r in runs], dtype=np.int64),
        epoch_diverged=np.array([r["epoch_diverged"] for r in runs], dtype=np.int64),
        final_loss=np.array([r["final_loss"] for r in runs]),
        outputs=stack("outputs"),
        loss_curve=stack("loss_curve"),
    )
