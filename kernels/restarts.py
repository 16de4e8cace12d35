"""Restarts: a network that has not converged within ``restart_after`` epochs of
its current attempt starts again from new weights, within the same epoch budget.

Attempts begin only at multiples of N = ``restart_after``: a network restarts
at every boundary until an attempt converges, and that attempt then runs to
the end of the budget. So training runs in segments of N epochs, each a call
of :func:`kernels.train_batch` on the networks still training, carrying each
network's optimiser state (:class:`kernels.train.TrainState`) across the
boundary; the kernels themselves know nothing of restarts.

Definitions (the numpy oracle, :func:`kernels.reference.train_one`, spells
them out one epoch at a time):

- attempt a starts at epoch a N from the next draws of the network's own
  generator (:func:`kernels.model.init_batch` with ``attempt=a``) and from
  the initial optimiser state; the shuffled update's orders run on;
- at epoch k = (a + 1) N < E, an attempt that has not converged (at any
  epoch from a N to k) starts again: the statistics of epoch k are the new
  weights'. No restart happens at the last epoch E;
- the epoch columns count total epochs and describe the last attempt (the
  one whose weights are reported); ``restarts`` is its number a.
"""

from __future__ import annotations

import numpy as np

from .choose import choose_kernel
from .model import BatchResult, curve_epochs, flatten, init_batch, unflatten
from .recipe import DEFAULT, Recipe
from .train import TrainState, train_batch

_EVENTS = ("epoch_solved", "epoch_converged", "epoch_diverged", "epoch_mse_target")


def train_restarting(
    X: np.ndarray,
    Y: np.ndarray,
    seeds: np.ndarray,
    lr: np.ndarray | float,
    epochs: int,
    restart_after: int,
    width: int,
    init: tuple[float, float] = (0.0, 1.0),
    dtype: type = np.float64,
    tol: float = 0.1,
    curve_points: np.ndarray | None = None,
    exp: str = "fast",
    early_stop: bool = False,
    kernel: str = "auto",
    recipe: Recipe = DEFAULT,
    mse_target: float | None = None,
    stop: np.ndarray | None = None,
    shortcuts: bool = False,
    width2: int = 0,
    scheme: str = "uniform",
) -> BatchResult:
    """Train networks of ``width`` hidden units (``width2`` > 0: then a second
    layer of as many; ``shortcuts``: and direct input -> output weights) from
    ``seeds`` (weights drawn by the initialiser ``scheme`` from the range or
    radius ``init``, :func:`kernels.model.init_batch`), restarting each attempt that has
    not converged within ``restart_after`` epochs (0: never). Other arguments
    as :func:`kernels.train_batch`; the result's ``restarts`` counts each
    network's restarts."""
    seeds = np.asarray(seeds, dtype=np.int64)
    n, n_in, n_out = seeds.size, X.shape[1], Y.shape[1]
    low, high = init
    topology = dict(shortcuts=shortcuts, width2=width2)
    params = init_batch(seeds, n_in, width, n_out, low, high, dtype, scheme=scheme, **topology)
    points = curve_epochs(epochs, 0) if curve_points is None else np.asarray(curve_points)
    run = dict(
        tol=tol, exp=exp, early_stop=early_stop, recipe=recipe, mse_target=mse_target, stop=stop
    )
    if restart_after <= 0 or restart_after >= epochs:  # no boundary before the last epoch
        return train_batch(
            X, Y, params, lr, epochs, curve_points=points, kernel=kernel, seeds=seeds, **run
        )
    if kernel == "auto":  # chosen for the whole run, not for one segment's share of it
        kernel = choose_kernel(X, Y, width, exp, n * epochs, recipe)
    theta = flatten(params, dtype)
    lrs = np.empty(n, dtype=dtype)
    lrs[:] = lr
    state = TrainState.initial(recipe, theta.shape[0], lrs, seeds)
    events = np.full((len(_EVENTS), n), -1, dtype=np.int64)
    restarts = np.zeros(n, dtype=np.int64)
    finished = np.zeros(n, dtype=bool)
    ended = np.zeros(n, dtype=np.int64)  # the epoch each network's last segment ended at
    curve = np.empty((points.size, n), dtype=dtype)
    outputs = np.empty((X.shape[0], n_out, n), dtype=dtype)
    final_loss = np.empty(n, dtype=dtype)
    for start in range(0, epochs, restart_after):
        end = min(start + restart_after, epochs)
        active = np.flatnonzero(~finished)
        if not active.size:
            break
        inside = (points >= start) & (points <= end)
        mine = unflatten(theta[:, active], n_in, width, n_out, **topology)
        part = train_batch(
            X,
            Y,
            mine,
            lrs[active],
            end - start,
            kernel=kernel,
            curve_points=points[inside] - start,
            seeds=seeds[active],
            state=state.take(active),
            **run,
        )
        theta[:, active] = part.flat_params().T
        state.put(active, part.state)
        for row, name in enumerate(_EVENTS):
            before, now = events[row, active], getattr(part, name)
            events[row, active] = np.where(before >= 0, before, np.where(now >= 0, now + start, -1))
        curve[np.ix_(inside, active)] = part.loss_curve
        outputs[..., active] = part.outputs
        final_loss[active] = part.final_loss
        ended[active] = end
        solved, converged, diverged = (events[row, active] >= 0 for row in range(3))
        # Frozen for good: stopped early, or diverged in an attempt that converged.
        finished[active] = converged & ((solved & early_stop) | diverged)
        if end < epochs:
            again = active[(restarts[active] == start // restart_after) & ~converged]
            if again.size:
                attempt = start // restart_after + 1
                fresh = init_batch(
                    seeds[again],
                    n_in,
                    width,
                    n_out,
                    low,
                    high,
                    dtype,
                    attempt,
                    scheme=scheme,
                    **topology,
                )
                theta[:, again] = flatten(fresh, dtype)
                initial = TrainState.initial(recipe, theta.shape[0], lrs[again], seeds[again])
                initial.orders = state.orders[again]  # the orders run on
                state.put(again, initial)
                events[:, again] = -1
                restarts[again] = attempt
    for j in np.flatnonzero(ended < epochs):  # finished early: the frozen loss stays flat
        curve[points > ended[j], j] = final_loss[j]
    return BatchResult(
        **unflatten(theta, n_in, width, n_out, **topology),
        **{name: events[row] for row, name in enumerate(_EVENTS)},
        final_loss=final_loss,
        outputs=outputs,
        loss_curve=curve,
        restarts=restarts,
        state=state,
    )
