"""The model, its initialisation and the statistics of a run, defined once.

Network: n_in -> H hidden (sigmoid) -> n_out (sigmoid), parameters
``w_hidden`` (n_in x H), ``b_hidden`` (1 x H), ``w_out`` (H x n_out),
``b_out`` (1 x n_out).

Loss for the update: E = 0.5 * sum over samples and outputs of (y - yhat)^2,
full batch; update theta <- theta - lr * dE/dtheta (the notebook's update,
with the output-form derivative yhat * (1 - yhat)).

theta_k are the weights after k updates (theta_0 = init). For a run of E
epochs the statistics are:

- ``epoch_solved``: smallest k in [0, E] where every output is on the correct
  side of 0.5 (|y - yhat| < 0.5), else -1 (null);
- ``epoch_converged``: smallest k where max |y - yhat| < tol, else -1;
- ``epoch_diverged``: smallest k where a parameter of theta_k is not finite,
  else -1. A diverged network stops updating (its state stays theta_k), is
  never counted as solved or converged after k, and never affects other
  networks of the same batch;
- ``final_loss``: mean over samples and outputs of (y - yhat)^2 at theta_E;
- ``outputs``: yhat at theta_E (samples x outputs);
- ``loss_curve``: the same mean squared error at k = 0, r, 2r, ... <= E
  (``curve_every`` = r; 0 means no curve);
- the final weights theta_E, flattened row-major in the init order.

Early stop (optional, off by default): a network stops training at the first
k at which it is both solved and converged, exactly as a diverged network is
frozen. ``epoch_solved``, ``epoch_converged`` and ``epoch_diverged`` stay
exact; ``final_loss``, ``outputs`` and the final weights are those of
theta_k, and the loss curve stays flat after k. Each network's results
depend only on itself, never on which networks share its batch.

Batched arrays use a structure-of-arrays layout with the network index last:
``w_hidden`` (n_in, H, B), ``b_hidden`` (H, B), ``w_out`` (H, n_out, B),
``b_out`` (n_out, B).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: |y - yhat| below this on every output means the task is solved.
SOLVED_MARGIN = 0.5
#: Default convergence tolerance on max |y - yhat|.
DEFAULT_TOL = 0.1
#: Parameter names in init (and flattening) order.
PARAM_NAMES = ("w_hidden", "b_hidden", "w_out", "b_out")
#: Floating-point types a network can be trained in.
DTYPES = {"float64": np.float64, "float32": np.float32}
#: The kernels' exp: ``fast`` (vectorised) or ``exact`` (libm); see kernels.train.
EXP_MODES = ("fast", "exact")
#: Kernels: ``general`` (any shape), ``tiled`` (generated per shape, see
#: kernels.tiled), ``auto`` (tiled where it pays, see kernels.choose). Same results.
KERNELS = ("auto", "general", "tiled")


def param_shapes(n_in: int, width: int, n_out: int) -> dict[str, tuple[int, int]]:
    """Shapes of one network's parameters, in init order."""
    return {
        "w_hidden": (n_in, width),
        "b_hidden": (1, width),
        "w_out": (width, n_out),
        "b_out": (1, n_out),
    }


def default_curve_every(epochs: int) -> int:
    """The default loss-curve stride: about 100 points per run."""
    return max(1, epochs // 100)


def curve_epochs(epochs: int, curve_every: int) -> np.ndarray:
    """The epochs k at which the loss curve is recorded."""
    if curve_every <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, epochs + 1, curve_every, dtype=np.int64)


def init_uniform(
    seed: int, n_in: int, width: int, n_out: int, low: float = 0.0, high: float = 1.0
) -> dict[str, np.ndarray]:
    """One network's initial weights, exactly as the notebook draws them.

    ``RandomState(seed).uniform(low, high, size)`` in the order hidden
    weights, hidden bias, output weights, output bias; with [0, 1) this equals
    ``np.random.seed(seed)`` then ``np.random.uniform(size=...)``.
    """
    rs = np.random.RandomState(seed)
    return {
        name: rs.uniform(low, high, size=shape)
        for name, shape in param_shapes(n_in, width, n_out).items()
    }


def init_batch(
    seeds: np.ndarray,
    n_in: int,
    width: int,
    n_out: int,
    low: float = 0.0,
    high: float = 1.0,
    dtype: type = np.float64,
) -> dict[str, np.ndarray]:
    """Initial weights of many networks in the batched (network-last) layout.

    Each network's weights are exactly :func:`init_uniform`'s: uniform draws
    are consecutive in the stream, so one draw of the total size equals the
    four in init order. The draws are numpy's, compiled
    (:mod:`kernels.draws`: 5x faster than reseeding a RandomState per seed,
    and without the GIL; loads Numba). Drawn in float64, then cast: a float32
    network starts from the rounded float64 draw.
    """
    from .draws import uniform_draws

    seeds = np.asarray(seeds, dtype=np.int64)
    if seeds.size and (seeds.min() < 0 or seeds.max() > 2**32 - 1):
        raise ValueError("seeds must be between 0 and 2**32 - 1 (numpy's RandomState)")
    shapes = param_shapes(n_in, width, n_out)
    sizes = [int(np.prod(shape)) for shape in shapes.values()]
    draws = uniform_draws(seeds.ravel(), sum(sizes), float(low), float(high))
    batch = {}
    start = 0
    for (name, shape), size in zip(shapes.items(), sizes, strict=True):
        block = draws[:, start : start + size].reshape(seeds.size, *shape)
        if name.startswith("b_"):
            block = block[:, 0, :]  # (B, 1, n) -> (B, n)
        batch[name] = np.ascontiguousarray(np.moveaxis(block, 0, -1), dtype=dtype)
        start += size
    return batch


@dataclass
class BatchResult:
    """What training a batch of B networks produced (see module docstring).

    Integer epochs use -1 for "never". Arrays are network-last.
    """

    w_hidden: np.ndarray  # (n_in, H, B)
    b_hidden: np.ndarray  # (H, B)
    w_out: np.ndarray  # (H, n_out, B)
    b_out: np.ndarray  # (n_out, B)
    epoch_solved: np.ndarray  # (B,) int64
    epoch_converged: np.ndarray  # (B,) int64
    epoch_diverged: np.ndarray  # (B,) int64
    final_loss: np.ndarray  # (B,)
    outputs: np.ndarray  # (samples, n_out, B)
    loss_curve: np.ndarray  # (points, B)

    @property
    def converged(self) -> np.ndarray:
        return self.epoch_converged >= 0

    @property
    def diverged(self) -> np.ndarray:
        return self.epoch_diverged >= 0

    @property
    def size(self) -> int:
        return self.final_loss.shape[0]

    def flat_params(self) -> np.ndarray:
        """Final weights as (B, n_params), row-major in init order."""
        b = self.size
        return np.concatenate(
            [np.moveaxis(getattr(self, name), -1, 0).reshape(b, -1) for name in PARAM_NAMES],
            axis=1,
        )
