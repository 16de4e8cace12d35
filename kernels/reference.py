"""The oracle: the notebook's training loop in plain numpy, one network at a time.

Written for clarity, not speed, and independently of the compiled kernels:
every recipe (:class:`kernels.recipe.Recipe`) in the most obvious numpy.
Products of matrices are spelled out as ordered sums (no BLAS), so the order
of floating-point operations is the one the kernels use; what remains is the
choice of the elementwise functions, ``exp``, ``tanh``, ``arctan``, ``cos``
and ``log`` (numpy's SIMD versions differ from libm's in the last bit for a
few percent of arguments), which a caller may pass in.
Arithmetic runs in the dtype of the initial weights (float64 or float32),
with subnormal numbers kept or flushed as the recipe says (numpy obeys the
same processor setting the kernels run under: :mod:`kernels.subnormals`).
Definitions of every statistic: :mod:`kernels.model`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

import numpy as np

from .model import ALL_PARAMS, BatchResult, curve_epochs
from .recipe import DEFAULT, Recipe
from .subnormals import arithmetic

_MASK = (1 << 64) - 1


#: Each activation from its definition, ``(f(a), f'(a) written in its output y)``;
#: ``m`` maps numpy's names of the elementwise functions (exp, tanh, arctan, cos,
#: log) to the ones to use (see :func:`train_one`).
ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "logistic": (lambda a, m: 1.0 / (1.0 + m["exp"](-a)), lambda y, m: y * (1.0 - y)),
    "tanh": (lambda a, m: m["tanh"](a), lambda y, m: 1.0 - y * y),
    # d/da arctan(a) = 1 / (1 + a^2) = cos(arctan(a))^2.
    "arctan": (lambda a, m: m["arctan"](a), lambda y, m: m["cos"](y) * m["cos"](y)),
    # Fahlman's symmetric sigmoid: the logistic moved down by 1/2.
    "symmetric": (lambda a, m: 1.0 / (1.0 + m["exp"](-a)) - 0.5, lambda y, m: 0.25 - y * y),
    # Its derivative at 0 is taken as 0.
    "relu": (
        lambda a, m: np.where(a > 0, a, np.zeros_like(a)),
        lambda y, m: (y > 0).astype(y.dtype),
    ),
    "linear": (lambda a, m: a, lambda y, m: np.ones_like(y)),
    # Elliott's: a / (1 + |a|), whose slope 1 / (1 + |a|)^2 is (1 - |y|)^2.
    "elliott": (
        lambda a, m: a / (1.0 + np.abs(a)),
        lambda y, m: (1.0 - np.abs(y)) * (1.0 - np.abs(y)),
    ),
}


def _fahlman_atanh(e: np.ndarray, m: dict) -> np.ndarray:
    """Quickprop 1's error function: log((1 + e) / (1 - e)), i.e. 2 atanh(e), with
    -17 below e = -0.9999999 and +17 above 0.9999999."""
    edge, clip = e.dtype.type(0.9999999), e.dtype.type(17.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = m["log"]((1.0 + e) / (1.0 - e))
    return np.where(e < -edge, -clip, np.where(e > edge, clip, inside))


#: Each loss as minus its gradient at the outputs' pre-activations, from the
#: error e = y - yhat and the output activation's slope there (with the recipe's
#: sigmoid-prime offset).
LOSSES: dict[str, Callable] = {
    "sse": lambda e, slope, m: e * slope,
    # Cross-entropy of logistic outputs: the slope cancels.
    "xent": lambda e, slope, m: e,
    "atanh": lambda e, slope, m: _fahlman_atanh(e, m) * slope,
}


def input_matmul(x: np.ndarray, w: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """x @ w over the nonzero inputs only, summed in order from +0.0 (or onto ``start``).

    An input of 0 contributes nothing (the kernel skips it), which only
    matters once a weight is infinite: 0 * inf would be NaN.
    """
    out = np.zeros((x.shape[0], w.shape[1]), dtype=w.dtype) if start is None else start
    for k in range(x.shape[1]):
        out = np.where(x[:, k : k + 1] != 0, out + x[:, k : k + 1] * w[k : k + 1, :], out)
    return out


def ordered_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b summed over k = 0, 1, ... in order, starting from the k = 0 term."""
    out = a[:, 0:1] * b[0:1, :]
    for k in range(1, a.shape[1]):
        out = out + a[:, k : k + 1] * b[k : k + 1, :]
    return out


def ordered_sum(a: np.ndarray):
    """Sum of all elements in row-major order, one addition at a time (in a's dtype)."""
    total = a.dtype.type(0.0)
    for v in a.ravel():
        total += v
    return total


def splitmix64(state: int) -> tuple[int, int]:
    """(new state, draw): one step of SplitMix64 (see kernels.orders), in Python integers."""
    state = (state + 0x9E3779B97F4A7C15) & _MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return state, z ^ (z >> 31)


def shuffled_order(state: int, n: int) -> tuple[int, list[int]]:
    """(new state, order): the next epoch's Fisher-Yates permutation of n samples."""
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        state, z = splitmix64(state)
        r = z % (i + 1)
        order[i], order[r] = order[r], order[i]
    return state, order


class _Net:
    """One network's parameters and the recipe's arithmetic on them."""

    def __init__(self, params: dict, recipe: Recipe, dtype, m: dict[str, Callable]):
        self.wh, self.bh = params["w_hidden"].copy(), params["b_hidden"].copy()
        self.wo, self.bo = params["w_out"].copy(), params["b_out"].copy()
        self.shortcuts = params.get("w_shortcut") is not None
        self.deep = params.get("w_hidden2") is not None
        if self.deep:  # a second hidden layer
            self.wh2, self.bh2 = params["w_hidden2"].copy(), params["b_hidden2"].copy()
        if self.shortcuts:  # direct input -> output weights
            self.ws = params["w_shortcut"].copy()
        self.names = (
            ("wo", "bo", "wh", "bh") + ("wh2", "bh2") * self.deep + ("ws",) * (self.shortcuts)
        )
        self.recipe = recipe
        self.m = m
        self.mu, self.lam = dtype.type(recipe.momentum), dtype.type(recipe.weight_decay)
        self.velocity = {name: np.zeros_like(getattr(self, name)) for name in self.names}
        # Adam: second moments (velocity holds the first) and beta^t, update by update.
        self.second = {name: np.zeros_like(getattr(self, name)) for name in self.names}
        self.b1, self.b2 = dtype.type(recipe.beta1), dtype.type(recipe.beta2)
        self.eps = dtype.type(recipe.adam_eps)
        self.p1 = self.p2 = dtype.type(1.0)
        # Rprop: each weight's step size (from the learning rate), kept gradient, last change.
        self.up, self.down = dtype.type(recipe.eta_plus), dtype.type(recipe.eta_minus)
        self.most, self.least = dtype.type(recipe.delta_max), dtype.type(recipe.delta_min)
        self.steps: dict[str, np.ndarray] = {}
        self.kept = {name: np.zeros_like(getattr(self, name)) for name in self.names}
        self.change = {name: np.zeros_like(getattr(self, name)) for name in self.names}

    def activation(self, kind: str, a: np.ndarray) -> np.ndarray:
        return ACTIVATIONS[kind][0](a, self.m)

    def slope(self, kind: str, y: np.ndarray) -> np.ndarray:
        """The derivative backpropagation uses, plus the recipe's sigmoid-prime offset."""
        d = ACTIVATIONS[kind][1](y, self.m)
        if self.recipe.prime_offset > 0:
            d = d + y.dtype.type(self.recipe.prime_offset)
        return d

    def forward(self, X: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
        """(the hidden layers' outputs, first to last; the outputs)."""
        r = self.recipe
        layers = [self.activation(r.activation, input_matmul(X, self.wh) + self.bh)]
        if self.deep:
            second = ordered_matmul(layers[0], self.wh2) + self.bh2
            layers.append(self.activation(r.activation, second))
        total = ordered_matmul(layers[-1], self.wo)
        if self.shortcuts:  # then the inputs' direct terms, in order, zeros skipped
            total = input_matmul(X, self.ws, total)
        return layers, self.activation(r.output_activation, total + self.bo)

    def step(self, X: np.ndarray, Y: np.ndarray, lr) -> None:
        """One update from the samples X, Y (the whole task, a mini-batch or one
        sample), their gradients summed in the order given."""
        r = self.recipe
        layers, predicted = self.forward(X)
        error = Y - predicted
        # Minus the gradient of the loss at the outputs' pre-activations.
        d_predicted = LOSSES[r.loss](error, self.slope(r.output_activation, predicted), self.m)
        ones = np.ones((1, len(X)), dtype=X.dtype)
        d_last = ordered_matmul(d_predicted, self.wo.T) * self.slope(r.activation, layers[-1])
        minus_gradient = {
            "wo": ordered_matmul(layers[-1].T, d_predicted),
            "bo": ordered_matmul(ones, d_predicted),
        }
        if self.deep:  # back through the second layer to the first
            minus_gradient["wh2"] = ordered_matmul(layers[0].T, d_last)
            minus_gradient["bh2"] = ordered_matmul(ones, d_last)
            d_first = ordered_matmul(d_last, self.wh2.T) * self.slope(r.activation, layers[0])
        else:
            d_first = d_last
        minus_gradient["wh"] = ordered_matmul(X.T, d_first)
        minus_gradient["bh"] = ordered_matmul(ones, d_first)
        if self.shortcuts:
            minus_gradient["ws"] = ordered_matmul(X.T, d_predicted)
        one = self.b1.dtype.type(1.0)
        self.p1, self.p2 = self.p1 * self.b1, self.p2 * self.b2
        for name in self.names:
            w, g = getattr(self, name), minus_gradient[name]
            if r.weight_decay > 0 and name in ("wh", "wh2", "wo", "ws"):  # weights, not biases
                g = g - self.lam * w
            if r.optimizer == "quickprop":
                self._quickprop(name, w, g, lr)
            elif r.optimizer in ("rprop", "irprop-"):
                self._rprop(name, w, g, lr)
            elif r.optimizer in ADAPTIVE:
                ADAPTIVE[r.optimizer](self, name, w, g, lr)
            elif r.optimizer == "adam":  # torch.optim.Adam's arithmetic (kernels.step.adam)
                m = (one - self.b1) * g + self.b1 * self.velocity[name]
                s = (one - self.b2) * g * g + self.b2 * self.second[name]
                self.velocity[name], self.second[name] = m, s
                denom = np.sqrt(s) / np.sqrt(one - self.p2) + self.eps
                setattr(self, name, w + (lr / (one - self.p1)) * (m / denom))
            elif r.momentum > 0:
                self.velocity[name] = self.mu * self.velocity[name] + lr * g
                if r.optimizer == "nesterov":  # a step to where the momentum leads
                    setattr(self, name, (w + lr * g) + self.mu * self.velocity[name])
                else:
                    setattr(self, name, w + self.velocity[name])
            else:
                setattr(self, name, w + lr * g)

    def _rprop(self, name: str, w: np.ndarray, g: np.ndarray, lr) -> None:
        """Rprop (with weight-backtracking) or iRprop- on one parameter array."""
        step = self.steps.setdefault(name, np.full_like(w, lr))
        same = self.kept[name] * g
        grow, shrink = same > 0, same < 0
        step = np.where(grow, np.minimum(step * self.up, self.most), step)
        step = np.where(shrink, np.maximum(step * self.down, self.least), step)
        g = np.where(shrink, np.zeros_like(g), g)  # forgotten after a sign change
        change = np.where(g > 0, step, np.where(g < 0, -step, np.zeros_like(step)))
        if self.recipe.optimizer == "rprop":  # a sign change undoes the last change instead
            change = np.where(shrink, -self.change[name], change)
        self.steps[name], self.kept[name], self.change[name] = step, g, change
        setattr(self, name, w + change)

    @np.errstate(divide="ignore", invalid="ignore")  # the parabola's jump may be 0/0: an outcome
    def _quickprop(self, name: str, w: np.ndarray, g: np.ndarray, lr) -> None:
        """Quickprop (Fahlman 1988) on one parameter array (kept: last g; change: last step)."""
        mu = self.recipe.max_factor
        mu = w.dtype.type(mu)
        gp, dw = self.kept[name], self.change[name]
        shrink = mu / (w.dtype.type(1.0) + mu)
        zero = np.zeros_like(w)
        jump = (g / (gp - g)) * dw
        up, down = dw > 0, dw < 0
        step = np.where(up & (g > 0), lr * g, zero)
        step = np.where(down & (g < 0), lr * g, step)
        big = np.where(up, g > shrink * gp, g < shrink * gp)
        step = np.where(up | down, step + np.where(big, mu * dw, jump), lr * g)
        self.kept[name], self.change[name] = g, step
        setattr(self, name, w + step)

    def finite(self) -> bool:
        return all(np.isfinite(getattr(self, name)).all() for name in self.names)


def _draw(generator, scheme: str, init: tuple[float, float], shapes: dict) -> dict:
    """One network's weights from ``generator``, array by array in init order:
    uniform in ``init``; normal, N(0, R^2); fan-in, U[-R / sqrt(n), R / sqrt(n))
    with n the inputs of the units an array feeds (R = ``init[1]``)."""
    low, radius = init
    if scheme == "normal":
        return {name: generator.normal(0.0, radius, shape) for name, shape in shapes.items()}
    if scheme == "fan-in":
        n_in, width = shapes["w_hidden"]
        last = shapes["w_hidden2"][1] if "w_hidden2" in shapes else width
        feeds = {"w_hidden": n_in, "b_hidden": n_in, "w_hidden2": width, "b_hidden2": width}
        for name in ("w_out", "b_out", "w_shortcut"):  # the output units
            feeds[name] = last + (n_in if "w_shortcut" in shapes else 0)
        bounds = {name: radius / np.sqrt(feeds[name]) for name in shapes}
        return {
            name: generator.uniform(-bounds[name], bounds[name], shape)
            for name, shape in shapes.items()
        }
    return {name: generator.uniform(low, radius, shape) for name, shape in shapes.items()}


def _rmsprop(net: _Net, name: str, w: np.ndarray, g: np.ndarray, lr) -> None:
    """RMSprop (torch.optim.RMSprop, alpha = rms_decay): v <- a v + (1 - a) g^2,
    w <- w + lr g / (sqrt(v) + eps), with g minus the gradient."""
    a, eps = w.dtype.type(net.recipe.rms_decay), w.dtype.type(net.recipe.rms_eps)
    v = ((1.0 - a) * g) * g + a * net.velocity[name]
    net.velocity[name] = v
    setattr(net, name, w + (lr * g) / (np.sqrt(v) + eps))


def _adagrad(net: _Net, name: str, w: np.ndarray, g: np.ndarray, lr) -> None:
    """AdaGrad (torch.optim.Adagrad): s <- s + g^2, w <- w + lr g / (sqrt(s) + eps)."""
    total = g * g + net.velocity[name]
    net.velocity[name] = total
    setattr(net, name, w + (lr * g) / (np.sqrt(total) + w.dtype.type(net.recipe.adagrad_eps)))


def _delta_bar_delta(net: _Net, name: str, w: np.ndarray, g: np.ndarray, lr) -> None:
    """Jacobs (1988): each weight's own rate, from lr, grows by kappa while g has the
    sign of its running average (weight theta on the past), shrinks by phi when not;
    w <- w + rate g."""
    r, t = net.recipe, w.dtype.type
    rate = net.steps.setdefault(name, np.full_like(w, lr))
    bar = net.kept[name]
    agree = bar * g
    rate = np.where(agree > 0, rate + t(r.dbd_kappa), rate)
    rate = np.where(agree < 0, rate * (1.0 - t(r.dbd_phi)), rate)
    net.steps[name] = rate
    net.kept[name] = (1.0 - t(r.dbd_theta)) * g + t(r.dbd_theta) * bar
    setattr(net, name, rate * g + w)


#: The optimisers written as functions of one parameter array.
ADAPTIVE = {"rmsprop": _rmsprop, "adagrad": _adagrad, "delta-bar-delta": _delta_bar_delta}


def _in_recipe_arithmetic(train: Callable) -> Callable:
    """``train`` run with subnormals as its ``recipe`` argument says."""
    signature = inspect.signature(train)

    @functools.wraps(train)
    def run(*args, **kwargs):
        recipe = signature.bind(*args, **kwargs).arguments.get("recipe", DEFAULT)
        with arithmetic(recipe.subnormals):
            return train(*args, **kwargs)

    return run


@_in_recipe_arithmetic
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
    recipe: Recipe = DEFAULT,
    seed: int | None = None,
    mse_target: float | None = None,
    tanh: Callable = np.tanh,
    curve_points: np.ndarray | None = None,
    restart_after: int = 0,
    init: tuple[float, float] = (0.0, 1.0),
    functions: dict[str, Callable] | None = None,
    scheme: str = "uniform",
) -> dict:
    """Train one network as the notebook does, with ``recipe``, and return every statistic.

    ``X``, ``Y``: the task's 0/1 patterns (the recipe codes them); ``seed``:
    the trial's seed, which the shuffled update draws its orders from and,
    with ``restart_after`` > 0, each restart its weights (``RandomState(seed)``
    read on past ``params``, drawn as ``scheme`` draws from ``init``, the range
    or (``normal``, ``fan-in``) the radius R = ``init[1]``; see
    :mod:`kernels.restarts`).
    ``exp``, ``tanh`` and ``functions`` (by numpy's name: ``arctan``, ``cos``,
    ``log``) replace numpy's elementwise functions, e.g. with libm's.
    """
    dtype = np.dtype(params["b_out"].dtype)
    m = {"exp": exp, "tanh": tanh, "arctan": np.arctan, "cos": np.cos, "log": np.log}
    m |= functions or {}
    signs = recipe.signs(Y)
    X, Y = (a.astype(dtype) for a in recipe.code(X, Y))
    net = _Net(params, recipe, dtype, m)
    generator = np.random.RandomState(0 if seed is None else int(seed))
    shapes = {name: params[name].shape for name in ALL_PARAMS if params.get(name) is not None}
    _draw(generator, scheme, init, shapes)  # the first attempt's, read past
    start = restarts = 0
    lr = dtype.type(lr)
    tol_t, margin = dtype.type(tol), dtype.type(recipe.margin)
    target = dtype.type(-np.inf if mse_target is None else mse_target)
    state = 0 if seed is None else int(seed)
    if curve_points is None:
        curve_points = curve_epochs(epochs, curve_every)
    curve_at = set(np.asarray(curve_points).tolist())
    solved = converged = diverged = hit = -1
    frozen = False
    curve = []
    for k in range(epochs + 1):
        for attempt_starts in (False, True):
            if attempt_starts:
                if not (
                    restart_after and k - start == restart_after and converged < 0 and k < epochs
                ):
                    break
                # Not converged within its N epochs: a new attempt, from the next
                # draws, whose statistics are this epoch's.
                drawn = _draw(generator, scheme, init, shapes)
                fresh = {name: value.astype(dtype) for name, value in drawn.items()}
                net = _Net(fresh, recipe, dtype, m)
                start, restarts = k, restarts + 1
                solved = converged = diverged = hit = -1
            # Statistics at theta_k, over the whole task.
            _, predicted = net.forward(X)
            error = Y - predicted
            mse = ordered_sum(error**2) / dtype.type(error.size)
            if diverged < 0:
                if solved < 0 and np.max(signs * error) < margin:
                    solved = k
                if converged < 0 and np.max(np.abs(error)) < tol_t:
                    converged = k
                if hit < 0 and mse < target:
                    hit = k
        if k in curve_at:
            curve.append(mse)
        frozen = early_stop and solved >= 0 and converged >= 0
        if k == epochs or diverged >= 0 or frozen:
            continue
        # Training: theta_k -> theta_{k+1}.
        if recipe.update == "batch":
            net.step(X, Y, lr)
        else:  # online, or mini-batches of K samples (the last one may be short)
            order = list(range(len(X)))
            if recipe.update == "shuffled":
                state, order = shuffled_order(state, len(X))
            size = recipe.batch_size or 1
            for first in range(0, len(X), size):
                chosen = order[first : first + size]
                net.step(X[chosen], Y[chosen], lr)
        if not net.finite():
            diverged = k + 1
    return {
        "w_hidden": net.wh,
        "b_hidden": net.bh,
        "w_out": net.wo,
        "b_out": net.bo,
        "w_shortcut": net.ws if net.shortcuts else None,
        "w_hidden2": net.wh2 if net.deep else None,
        "b_hidden2": net.bh2 if net.deep else None,
        "epoch_solved": solved,
        "epoch_converged": converged,
        "epoch_diverged": diverged,
        "epoch_mse_target": hit,
        "final_loss": mse,
        "outputs": predicted,
        "loss_curve": np.array(curve, dtype=dtype),
        "restarts": restarts,
    }


def train_batch(
    X: np.ndarray,
    Y: np.ndarray,
    params: dict[str, np.ndarray],
    lr: np.ndarray,
    epochs: int,
    tol: float,
    curve_every: int,
    *,
    seeds: np.ndarray | None = None,
    **options,
) -> BatchResult:
    """:func:`train_one` over a batch given in the network-last layout, each
    network with its own ``seeds`` entry (``options``: train_one's keywords)."""
    n = params["b_out"].shape[-1]
    lr = np.broadcast_to(np.asarray(lr, dtype=np.float64), (n,))
    seeds = np.broadcast_to(np.zeros(1, np.int64) if seeds is None else seeds, (n,))
    runs = []
    for j, lr_j in enumerate(lr):
        one = {
            "w_hidden": params["w_hidden"][..., j],
            "b_hidden": params["b_hidden"][None, :, j],
            "w_out": params["w_out"][..., j],
            "b_out": params["b_out"][None, :, j],
        }
        if params.get("w_hidden2") is not None:
            one["w_hidden2"] = params["w_hidden2"][..., j]
            one["b_hidden2"] = params["b_hidden2"][None, :, j]
        if params.get("w_shortcut") is not None:
            one["w_shortcut"] = params["w_shortcut"][..., j]
        runs.append(
            train_one(
                X, Y, one, float(lr_j), epochs, tol, curve_every, seed=int(seeds[j]), **options
            )
        )

    def stack(key: str, squeeze_row: bool = False) -> np.ndarray:
        arrays = [r[key][0] if squeeze_row else r[key] for r in runs]
        return np.stack(arrays, axis=-1)

    def events(key: str) -> np.ndarray:
        return np.array([r[key] for r in runs], dtype=np.int64)

    return BatchResult(
        w_hidden=stack("w_hidden"),
        b_hidden=stack("b_hidden", squeeze_row=True),
        w_out=stack("w_out"),
        b_out=stack("b_out", squeeze_row=True),
        epoch_solved=events("epoch_solved"),
        epoch_converged=events("epoch_converged"),
        epoch_diverged=events("epoch_diverged"),
        epoch_mse_target=events("epoch_mse_target"),
        final_loss=np.array([r["final_loss"] for r in runs]),
        outputs=stack("outputs"),
        loss_curve=stack("loss_curve"),
        restarts=events("restarts"),
        w_shortcut=stack("w_shortcut") if runs and runs[0]["w_shortcut"] is not None else None,
        w_hidden2=stack("w_hidden2") if runs and runs[0]["w_hidden2"] is not None else None,
        b_hidden2=(
            stack("b_hidden2", squeeze_row=True)
            if runs and runs[0]["w_hidden2"] is not None
            else None
        ),
    )
