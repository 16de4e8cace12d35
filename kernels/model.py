"""The model, its training recipes and the statistics of a run, defined once.

Network: n_in -> H hidden -> n_out, parameters ``w_hidden`` (n_in x H),
``b_hidden`` (1 x H), ``w_out`` (H x n_out), ``b_out`` (1 x n_out); with
shortcuts also ``w_shortcut`` (n_in x n_out), whose terms x_i w_io join each
output's sum after the hidden units' and before its bias. With a second
hidden layer of H2 units, ``w_hidden2`` (H x H2) and ``b_hidden2`` (1 x H2)
come between, and ``w_out`` is H2 x n_out. Hidden
and output units apply an activation ``f`` to their pre-activation ``a``
(:class:`kernels.recipe.Recipe`): logistic 1 / (1 + e^-a) (the notebook's) or
tanh. Inputs are a task's bits coded 0/1 (``binary``) or -1/+1
(``bipolar``); targets are its bits coded LOW/HIGH (default 0/1).

Training minimises, over the samples p and outputs o, with e = y - yhat:

- ``sse``: E = 1/2 sum e^2 (the notebook's); the output delta is e f'(a);
- ``xent`` (logistic outputs, targets in [0, 1]):
  E = -sum [y ln yhat + (1 - y) ln(1 - yhat)]; the output delta is e (the
  stable form of the same derivative).

Derivatives are written in terms of a unit's output (logistic y (1 - y),
tanh 1 - y^2). A sigmoid-prime offset c > 0 (Fahlman 1988) adds c to every
derivative backpropagation multiplies by (not to the forward pass, and not
to the output delta of ``xent``, which has none): the step then follows a
changed slope, no longer the gradient of E. With g the gradient of E (over
all samples for ``batch``, one sample for ``online`` and ``shuffled``) and
lambda the weight decay (on ``w_hidden`` and ``w_out`` only, never the
biases), g' = g + lambda w and:

- gradient descent: theta <- theta - lr g';
- heavy-ball momentum mu > 0: v <- mu v - lr g', theta <- theta + v, from
  v = 0 (Rumelhart, Hinton & Williams 1986: dw(t) = -eta dE/dw + alpha dw(t-1)).

Update modes: ``batch``, one update per epoch from the whole task;
``online``, one update per sample in the task's order; ``shuffled``, one per
sample in an order drawn anew each epoch from the trial's seed
(:mod:`kernels.orders`). theta_k is the state after k epochs (theta_0 =
init), in every mode. For a run of E epochs (E = 0 allowed) the statistics,
all taken at theta_k over the whole task, are:

- ``epoch_solved``: smallest k in [0, E] where every output is on its
  target's side of the midpoint (LOW + HIGH) / 2: sign * e < (HIGH - LOW) / 2
  with sign +1 for a HIGH target and -1 for a LOW one (for 0/1 targets and
  logistic outputs: |y - yhat| < 0.5), else -1 (null);
- ``epoch_converged``: smallest k where max |y - yhat| < tol, else -1;
- ``epoch_mse_target``: smallest k where the MSE is below ``mse_target``,
  else -1 (also when no target is set);
- ``epoch_diverged``: smallest k where a parameter of theta_k is not finite,
  else -1. A diverged network stops updating (its state stays theta_k), is
  never counted as solved or converged after k, and never affects other
  networks of the same batch;
- ``final_loss``: mean over samples and outputs of (y - yhat)^2 at theta_E,
  against the coded targets, whatever the training loss;
- ``outputs``: yhat at theta_E (samples x outputs);
- ``loss_curve``: the same mean squared error at the recorded epochs
  (:func:`curve_epochs`): k = 0, r, 2r, ... <= E (``curve_every`` = r, 0
  for none), or about r epochs spaced logarithmically from 0 to E;
- the final weights theta_E, flattened row-major in the init order.

Early stop (optional, off by default): a network stops training at the first
k at which it is both solved and converged, exactly as a diverged network is
frozen. ``epoch_solved``, ``epoch_converged`` and ``epoch_diverged`` stay
exact; ``final_loss``, ``outputs`` and the final weights are those of
theta_k, and the loss curve stays flat after k. Each network's results
depend only on itself, never on which networks share its batch.

Batched arrays use a structure-of-arrays layout with the network index last:
``w_hidden`` (n_in, H, B), ``b_hidden`` (H, B), ``w_out`` (H, n_out, B),
``b_out`` (n_out, B). The kernels hold them as one (rows, B) array in init
order (:func:`param_offsets`, :func:`flatten`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import initialisers

#: Default convergence tolerance on max |y - yhat|.
DEFAULT_TOL = 0.1
#: Parameter names in init (and flattening) order.
PARAM_NAMES = ("w_hidden", "b_hidden", "w_out", "b_out")
#: Direct input -> output weights (n_in x n_out) of a network with shortcuts,
#: after the others in init and flattening order.
SHORTCUT = "w_shortcut"
#: A second hidden layer's weights (H x H2) and biases (1 x H2), between the
#: first layer's and the output's in init and flattening order.
LAYER2 = ("w_hidden2", "b_hidden2")
#: Every parameter a network may have, in init and flattening order.
ALL_PARAMS = ("w_hidden", "b_hidden", *LAYER2, "w_out", "b_out", SHORTCUT)
#: Floating-point types a network can be trained in.
DTYPES = {"float64": np.float64, "float32": np.float32}
#: The kernels' exp: ``fast`` (vectorised) or ``exact`` (libm); see kernels.train.
EXP_MODES = ("fast", "exact")
#: Kernels: ``general`` (any shape), ``tiled`` (generated per shape, see
#: kernels.tiled), ``auto`` (tiled where it pays, see kernels.choose). Same results.
KERNELS = ("auto", "general", "tiled")


def param_shapes(
    n_in: int, width: int, n_out: int, shortcuts: bool = False, width2: int = 0
) -> dict[str, tuple[int, int]]:
    """Shapes of one network's parameters, in init order: the first hidden
    layer's, with ``width2`` > 0 the second's (:data:`LAYER2`), the output's,
    and with ``shortcuts`` :data:`SHORTCUT` last. A shape with neither draws
    what it drew before they existed."""
    last = width2 or width
    shapes = {"w_hidden": (n_in, width), "b_hidden": (1, width)}
    if width2:
        shapes |= {"w_hidden2": (width, width2), "b_hidden2": (1, width2)}
    shapes |= {"w_out": (last, n_out), "b_out": (1, n_out)}
    if shortcuts:
        shapes[SHORTCUT] = (n_in, n_out)
    return shapes


def layer_offsets(
    n_in: int, width: int, width2: int, n_out: int
) -> tuple[int, int, int, int, int, int]:
    """:func:`param_offsets` with a second hidden layer of ``width2`` units (0:
    none): rows where ``b_hidden``, ``w_hidden2``, ``b_hidden2``, ``w_out`` and
    ``b_out`` start, and the number of rows without shortcuts.
    ``w_hidden2[h, k]`` is row ``entry_row(w_hidden2, h, k, width2)``;
    ``w_out[k, o]`` row ``entry_row(w_out, k, o, n_out)`` with k over the
    last hidden layer."""
    bh = n_in * width
    w2 = bh + width
    b2 = w2 + width * width2
    wo = b2 + width2
    bo = wo + (width2 if width2 > 0 else width) * n_out
    return bh, w2, b2, wo, bo, bo + n_out


def weight_rows(layers: tuple[int, int, int, int, int, int], rows: int) -> np.ndarray:
    """Whether each of the ``rows`` rows of the flat parameters (shortcuts, if
    any, after the others) holds a weight rather than a bias: the rows weight
    decay takes. ``layers``: :func:`layer_offsets`. Plain Python, so the
    kernels compile this very function."""
    bh, w2, b2, wo, bo, ws = layers
    weight = np.ones(rows, dtype=np.bool_)
    weight[bh:w2] = False
    weight[b2:wo] = False
    weight[bo:ws] = False
    return weight


def entry_row(start: int, r: int, c: int, columns: int) -> int:
    """The row of entry ``[r, c]`` of a weight matrix of ``columns`` columns in
    the flat parameters, from its first row ``start``: every matrix lies
    there row after row (:func:`param_offsets`). Plain Python, so the kernels
    compile this very function."""
    return start + r * columns + c


def param_offsets(n_in: int, width: int, n_out: int) -> tuple[int, int, int, int]:
    """The flat layout, in init order: rows where ``b_hidden``, ``w_out`` and
    ``b_out`` start, and the number of rows without shortcuts. ``w_hidden[i,
    h]`` is row ``entry_row(0, i, h, width)``, ``w_out[h, o]`` row
    ``entry_row(w_out, h, o, n_out)``; shortcuts follow, ``w_shortcut[i,
    o]`` at row ``entry_row(rows, i, o, n_out)``. Plain Python, so the
    kernels compile this very function."""
    bh = n_in * width
    wo = bh + width
    bo = wo + width * n_out
    return bh, wo, bo, bo + n_out


def flatten(params: dict[str, np.ndarray], dtype=None) -> np.ndarray:
    """Batched parameters (network-last, :func:`init_batch`) as one (rows, B) array."""
    n = params["b_out"].shape[-1]
    names = [name for name in ALL_PARAMS if params.get(name) is not None]
    return np.ascontiguousarray(
        np.concatenate([params[name].reshape(-1, n) for name in names]), dtype=dtype
    )


def unflatten(
    theta: np.ndarray, n_in: int, width: int, n_out: int, shortcuts: bool = False, width2: int = 0
) -> dict[str, np.ndarray]:
    """Inverse of :func:`flatten`."""
    bh, w2, b2, wo, bo, rows = layer_offsets(n_in, width, width2, n_out)
    n = theta.shape[-1]
    params = {"w_hidden": theta[:bh].reshape(n_in, width, n), "b_hidden": theta[bh:w2]}
    if width2:
        params |= {"w_hidden2": theta[w2:b2].reshape(width, width2, n), "b_hidden2": theta[b2:wo]}
    params |= {
        "w_out": theta[wo:bo].reshape(width2 or width, n_out, n),
        "b_out": theta[bo:rows],
    }
    if shortcuts:
        params[SHORTCUT] = theta[rows : rows + n_in * n_out].reshape(n_in, n_out, n)
    return params


def default_curve_every(epochs: int) -> int:
    """The default loss-curve stride: about 100 points per run."""
    return max(1, epochs // 100)


#: How loss-curve epochs are spaced: every r epochs, or about r points logarithmically.
CURVE_SCALES = ("linear", "log")


def curve_length(epochs: int, curve_every: int, scale: str = "linear") -> int:
    """How many epochs :func:`curve_epochs` records, counted without listing them."""
    if curve_every <= 0:
        return 0
    if scale == "log":
        return 1 if epochs == 0 else min(curve_every, epochs + 1)
    return epochs // curve_every + 1


def curve_epochs(epochs: int, curve_every: int, scale: str = "linear") -> np.ndarray:
    """The epochs k at which the loss curve is recorded, ascending.

    ``linear``: 0, r, 2r, ... <= ``epochs`` (r = ``curve_every``). ``log``:
    0, then about r - 1 epochs spaced logarithmically from 1 to ``epochs``
    (rounded, repeats dropped), so the first epochs of a run are visible.
    ``curve_every`` 0: no curve.
    """
    if curve_every <= 0:
        return np.zeros(0, dtype=np.int64)
    if scale == "log":
        if epochs == 0:
            return np.zeros(1, dtype=np.int64)
        wanted = min(curve_every, epochs + 1)

        def spaced(count: int) -> np.ndarray:
            points = np.geomspace(1, epochs, count).round().astype(np.int64)
            return np.unique(np.concatenate([[0], points, [epochs]]))

        # Rounding merges the first epochs: the fewest log-spaced points that
        # leave ``wanted`` distinct ones (their number grows with the count).
        low, high = max(wanted - 1, 1), max(wanted - 1, 1)
        while len(spaced(high)) < wanted and high < 64 * wanted:
            low, high = high, 2 * high
        while low < high:
            middle = (low + high) // 2
            low, high = (middle + 1, high) if len(spaced(middle)) < wanted else (low, middle)
        return spaced(high)
    if scale != "linear":
        raise ValueError(f"curve scale must be one of {CURVE_SCALES}, got {scale!r}")
    return np.arange(0, epochs + 1, curve_every, dtype=np.int64)


def init_uniform(
    seed: int,
    n_in: int,
    width: int,
    n_out: int,
    low: float = 0.0,
    high: float = 1.0,
    shortcuts: bool = False,
    width2: int = 0,
) -> dict[str, np.ndarray]:
    """One network's initial weights, exactly as the notebook draws them.

    ``RandomState(seed).uniform(low, high, size)`` in the order hidden
    weights, hidden bias, output weights, output bias; with [0, 1) this equals
    ``np.random.seed(seed)`` then ``np.random.uniform(size=...)``.
    """
    rs = np.random.RandomState(seed)
    return {
        name: rs.uniform(low, high, size=shape)
        for name, shape in param_shapes(n_in, width, n_out, shortcuts, width2).items()
    }


def init_batch(
    seeds: np.ndarray,
    n_in: int,
    width: int,
    n_out: int,
    low: float = 0.0,
    high: float = 1.0,
    dtype: type = np.float64,
    attempt: int = 0,
    shortcuts: bool = False,
    width2: int = 0,
    scheme: str = "uniform",
) -> dict[str, np.ndarray]:
    """Initial weights of many networks in the batched (network-last) layout.

    ``scheme`` names the initialiser (:mod:`kernels.initialisers`): ``uniform``
    in [``low``, ``high``), or ``normal`` and ``fan-in`` with radius ``high``.

    ``attempt`` > 0: the weights of a network's ``attempt``-th restart, the
    next draws of the same generator in the same order (``attempt`` times a
    network's parameter count of draws after the first).

    With ``uniform``, each network's weights are exactly :func:`init_uniform`'s:
    uniform draws are consecutive in the stream, so one draw of the total size
    equals the four in init order. Uniform draws are numpy's, compiled
    (:mod:`kernels.draws`: many seeds at once, without the GIL; loads Numba).
    Drawn in float64, then cast: a float32 network starts from the rounded
    float64 draw.
    """
    seeds = np.asarray(seeds, dtype=np.int64)
    if seeds.size and (seeds.min() < 0 or seeds.max() > 2**32 - 1):
        raise ValueError("seeds must be between 0 and 2**32 - 1 (numpy's RandomState)")
    shapes = param_shapes(n_in, width, n_out, shortcuts, width2)
    sizes = [int(np.prod(shape)) for shape in shapes.values()]
    draws = initialisers.BY_NAME[scheme].draw(seeds.ravel(), shapes, low, high, attempt)
    batch = {}
    start = 0
    for (name, shape), size in zip(shapes.items(), sizes, strict=True):
        block = draws[start : start + size].reshape(*shape, seeds.size)
        if shape[0] == 1 and name.startswith("b_"):
            block = block[0]  # (1, n, B) -> (n, B)
        batch[name] = np.ascontiguousarray(block, dtype=dtype)
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
    epoch_mse_target: np.ndarray | None = None  # (B,) int64; None: all -1
    restarts: np.ndarray | None = None  # (B,) int64; None: all 0
    w_shortcut: np.ndarray | None = None  # (n_in, n_out, B); None: no shortcuts
    w_hidden2: np.ndarray | None = None  # (H, H2, B); None: one hidden layer
    b_hidden2: np.ndarray | None = None  # (H2, B)
    #: What training would carry on from (kernels.train.TrainState), if asked for.
    state: object | None = None

    def __post_init__(self) -> None:
        if self.epoch_mse_target is None:
            self.epoch_mse_target = np.full(self.final_loss.shape[0], -1, dtype=np.int64)
        if self.restarts is None:
            self.restarts = np.zeros(self.final_loss.shape[0], dtype=np.int64)

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
        return flatten({name: getattr(self, name) for name in ALL_PARAMS}).T
