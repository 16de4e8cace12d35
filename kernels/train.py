"""Dispatch: :func:`train_batch` codes the task, lays out the arrays and runs a kernel.

The kernels: :mod:`kernels.general` (any shape and recipe) and
:mod:`kernels.tiled` (generated per shape, for small tasks). Both are
made of the pieces in :mod:`kernels.step` and give identical results;
:func:`kernels.choose.choose_kernel` picks one for ``kernel="auto"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from . import general, memory, optimizers, tiled
from .choose import choose_kernel
from .model import EXP_MODES, KERNELS, SHORTCUT, BatchResult, curve_epochs, flatten, unflatten
from .numerics import JIT
from .orders import initial_states
from .recipe import DEFAULT, Recipe
from .stop import Stopped
from .subnormals import arithmetic

#: Networks per cache block of the general kernel; measured in benchmarks/block.py.
BLOCK = 256


@dataclass
class TrainState:
    """What training carries from epoch to epoch besides the weights, network-last:
    the optimiser's state (``velocity``, a block of rows per quantity, see
    :attr:`kernels.recipe.Recipe.state_slots`), Adam's beta1^t and beta2^t
    (``powers``) and the shuffled update's generators (``orders``). Handing a
    run's final state to the next run continues training exactly."""

    velocity: np.ndarray  # (slots * rows, B)
    powers: np.ndarray  # (2, B)
    orders: np.ndarray  # (B,) uint64

    @classmethod
    def initial(
        cls, recipe: Recipe, rows: int, lr: np.ndarray, seeds: np.ndarray | None
    ) -> TrainState:
        """The state before the first update: each state block at its optimiser's
        initial value (:data:`kernels.optimizers.TABLE`; "lr": the learning rate,
        as the Rprops' initial steps) and the orders (from the seeds)."""
        n, dtype = lr.shape[0], lr.dtype
        velocity = np.zeros((recipe.state_slots * rows, n), dtype=dtype)
        for k, initial in enumerate(optimizers.BY_NAME[recipe.optimizer].state):
            velocity[k * rows : (k + 1) * rows] = lr if initial == "lr" else initial
        orders = np.zeros(n, dtype=np.uint64)
        if recipe.update == "shuffled":
            if seeds is None:
                raise ValueError("the shuffled update draws its orders from the seeds: pass seeds")
            orders[:] = initial_states(np.broadcast_to(seeds, (n,)))
        return cls(velocity, np.ones((2, n), dtype=dtype), orders)

    def take(self, index: np.ndarray) -> TrainState:
        """The state of some networks (a copy)."""
        return TrainState(self.velocity[:, index], self.powers[:, index], self.orders[index])

    def put(self, index: np.ndarray, part: TrainState) -> None:
        """Write ``part``, the state of the networks ``index``, into this one."""
        self.velocity[:, index] = part.velocity
        self.powers[:, index] = part.powers
        self.orders[index] = part.orders


@njit(**JIT)
def _ready(x):
    return x


def warm_up() -> None:
    """Start Numba's run-time in this process now (once per process).

    A process's first kernel call pays it otherwise; see
    :func:`sweep.runner.execute.start_here` for why a caller may want it earlier.
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
    recipe: Recipe = DEFAULT,
    seeds: np.ndarray | None = None,
    mse_target: float | None = None,
    curve_points: np.ndarray | None = None,
    stop: np.ndarray | None = None,
    state: TrainState | None = None,
) -> BatchResult:
    """Train a batch of networks of one shape and return their statistics.

    ``X``, ``Y``: a task's 0/1 patterns (:func:`kernels.get_task`), coded by
    the ``recipe`` (:class:`kernels.recipe.Recipe`: activations, loss, update
    mode, momentum, weight decay, coding). ``params`` holds the initial
    weights in the network-last layout (:func:`kernels.model.init_batch`);
    their dtype (float64 or float32) is the dtype of training. ``lr`` is one
    learning rate per network (or a scalar). ``exp`` is ``"fast"`` or
    ``"exact"`` (:mod:`kernels.numerics`). ``early_stop`` freezes each network
    once it is solved and converged. ``seeds``: each network's trial seed,
    which the ``shuffled`` update draws its orders from (required there).
    ``mse_target``: record the first epoch whose MSE is below it. The loss
    curve is recorded every ``curve_every`` epochs, or at ``curve_points``
    (epochs, ascending: :func:`kernels.model.curve_epochs`). ``stop``: a
    one-byte array read once an epoch (:mod:`kernels.stop`); once it is set,
    training ends early and :class:`kernels.stop.Stopped` is raised. ``kernel``:
    ``general``, ``tiled`` or ``auto`` (same results). ``state``: carry on from
    an earlier run's :attr:`BatchResult.state` (:class:`TrainState`), instead
    of from the initial state; the result's ``state`` is where this run ends.
    The inputs are not modified. Definitions of everything: :mod:`kernels.model`.
    """
    if exp not in EXP_MODES:
        raise ValueError(f"exp must be one of {EXP_MODES}, got {exp!r}")
    if kernel not in KERNELS:
        raise ValueError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    if not isinstance(recipe, Recipe):
        raise ValueError(f"recipe must be a kernels.recipe.Recipe, got {recipe!r}")
    if epochs < 0:
        raise ValueError(f"epochs must be at least 0, got {epochs}")
    dtype = np.dtype(params["b_out"].dtype)
    if dtype not in (np.float64, np.float32):
        raise ValueError(f"dtype must be float64 or float32, got {dtype}")
    theta = flatten(params, dtype)
    shortcuts = params.get(SHORTCUT) is not None
    n_in, width, n = params["w_hidden"].shape
    width2 = params["w_hidden2"].shape[1] if params.get("w_hidden2") is not None else 0
    n_out = params["b_out"].shape[0]
    lr_arr = np.empty(n, dtype=dtype)
    lr_arr[:] = lr
    if state is None:
        state = TrainState.initial(recipe, theta.shape[0], lr_arr, seeds)
    else:
        state = TrainState(*(np.array(a, dtype=a.dtype) for a in vars(state).values()))
    X = np.ascontiguousarray(X, dtype=np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    target = -np.inf if mse_target is None else float(mse_target)
    plain = not (shortcuts or width2)  # the generated kernels' topology
    if kernel == "auto":
        work = n * max(int(epochs), 1)
        kernel = choose_kernel(X, Y, width, exp, work, recipe) if plain else "general"
    if kernel == "tiled" and not plain:
        raise ValueError(
            "no tiled kernel for networks with shortcuts or a second hidden "
            "layer: use the general kernel"
        )
    if curve_points is None:
        curve_points = curve_epochs(epochs, curve_every)
    points = np.ascontiguousarray(curve_points, dtype=np.int64)
    if points.size and (points[0] < 0 or points[-1] > epochs or (np.diff(points) <= 0).any()):
        raise ValueError("curve_points must be distinct epochs from 0 to epochs, ascending")
    stop = np.zeros(1, dtype=np.uint8) if stop is None else stop
    run = dict(
        epochs=int(epochs),
        tol=float(tol),
        margin=recipe.margin,
        mse_target=target,
        points=points,
        early_stop=bool(early_stop),
        stop=stop,
    )
    if kernel == "tiled":
        adam = recipe.optimizer == "adam"  # its powers follow the other state rows
        rows = (state.velocity, state.powers) if adam else (state.velocity,)
        with arithmetic(recipe.subnormals):
            result = tiled.train(X, Y, recipe, theta, rows, lr_arr, exp == "fast", **run)
        if stop[0]:
            raise Stopped("training was stopped")
        result.state = state
        return result
    sgn = recipe.signs(Y)
    Xc, Yc = (np.ascontiguousarray(a, dtype=dtype) for a in recipe.code(X, Y))
    hyper = recipe.constants
    events = np.full((4, n), -1, dtype=np.int64)
    curve = np.empty((points.size, n), dtype=dtype)
    outputs = np.empty((X.shape[0], n_out, n), dtype=dtype)
    final_loss = np.empty(n, dtype=dtype)
    kern = general.block_kernel(recipe.variant, exp == "fast", shortcuts, width2 > 0)
    network_last = [
        theta,
        state.velocity,
        state.powers,
        lr_arr,
        state.orders,
        events,
        curve,
        outputs,
        final_loss,
    ]
    # Blocks of networks go through the kernel one at a time: a block's
    # working set stays in cache, and contiguous copies let LLVM vectorise
    # (on cache lines: kernels.memory).
    with arithmetic(recipe.subnormals):
        for j0 in range(0, n, block):
            th, v, pw, lr_b, st, ev, cv, out, loss = (
                memory.aligned_copy(a[..., j0 : j0 + block]) for a in network_last
            )
            kern(
                Xc,
                Yc,
                sgn,
                th,
                v,
                pw,
                lr_b,
                hyper,
                width,
                width2,
                recipe.samples_per_update(X.shape[0]),
                run["epochs"],
                run["tol"],
                run["margin"],
                target,
                points,
                run["early_stop"],
                st,
                ev,
                cv,
                out,
                loss,
                stop,
            )
            if stop[0]:
                raise Stopped("training was stopped")
            for full, done in zip(
                network_last, (th, v, pw, lr_b, st, ev, cv, out, loss), strict=True
            ):
                full[..., j0 : j0 + block] = done
    return BatchResult(
        **unflatten(theta, n_in, width, n_out, shortcuts, width2),
        epoch_solved=events[general.SOLVED],
        epoch_converged=events[general.CONVERGED],
        epoch_diverged=events[general.DIVERGED],
        epoch_mse_target=events[general.HIT],
        final_loss=final_loss,
        outputs=outputs,
        loss_curve=curve,
        state=state,
    )
