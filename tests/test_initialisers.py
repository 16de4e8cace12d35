"""The initialisers: each draws what numpy's own calls draw, array by array in
init order, restarts read the stream on, and the default is today's draws."""

import math

import numpy as np
import pytest
from conftest import libm_exp

from kernels import get_task, init_batch, init_uniform, reference, train_restarting
from kernels.initialisers import NAMES, fan_in
from kernels.model import param_shapes

TOPOLOGIES = [dict(), dict(shortcuts=True), dict(width2=3), dict(width2=2, shortcuts=True)]


def _numpy(scheme: str, seed: int, shapes: dict, radius: float, attempts: int) -> dict:
    """The last of ``attempts`` networks' worth of numpy's own calls, one per array
    (the global generator, as a notebook seeds it)."""
    np.random.seed(seed)
    fans = fan_in(shapes)
    for _ in range(attempts):
        drawn = {}
        for name, shape in shapes.items():
            if scheme == "normal":
                drawn[name] = np.random.normal(0, radius, shape)
            elif scheme == "fan-in":
                bound = radius / math.sqrt(fans[name])
                drawn[name] = np.random.uniform(-bound, bound, shape)
            else:
                drawn[name] = np.random.uniform(-radius, radius, shape)
    return drawn


@pytest.mark.parametrize("topology", TOPOLOGIES, ids=str)
@pytest.mark.parametrize("scheme", NAMES)
def test_each_initialiser_draws_what_numpy_draws(scheme, topology):
    seeds = np.array([0, 7, 314, 2**32 - 1])
    shapes = param_shapes(3, 4, 2, **topology)
    for attempt in (0, 2):
        batch = init_batch(seeds, 3, 4, 2, -0.7, 0.7, attempt=attempt, scheme=scheme, **topology)
        for j, seed in enumerate(seeds):
            want = _numpy(scheme, int(seed), shapes, 0.7, attempt + 1)
            for name, shape in shapes.items():
                got = batch[name][..., j].reshape(shape)
                np.testing.assert_array_equal(got, want[name], err_msg=f"{name} {attempt}")


def test_uniform_is_the_notebooks_draws():
    batch = init_batch(np.arange(5), 2, 2, 1)
    for seed in range(5):
        one = init_uniform(seed, 2, 2, 1)
        for name, value in one.items():
            np.testing.assert_array_equal(batch[name][..., seed].reshape(value.shape), value)


def test_fan_in_counts_the_inputs_of_the_units_each_array_feeds():
    assert fan_in(param_shapes(4, 3, 2)) == {"w_hidden": 4, "b_hidden": 4, "w_out": 3, "b_out": 3}
    fans = fan_in(param_shapes(4, 3, 2, shortcuts=True, width2=5))
    assert fans == {
        "w_hidden": 4,
        "b_hidden": 4,
        "w_hidden2": 3,
        "b_hidden2": 3,
        "w_out": 9,
        "b_out": 9,
        "w_shortcut": 9,
    }


@pytest.mark.parametrize("scheme", ["normal", "fan-in"])
def test_restarts_draw_by_the_initialiser_as_the_oracle_does(scheme):
    X, Y = get_task("xor")
    seeds, lr = np.arange(6), np.linspace(0.2, 3, 6)
    init, run = (-1.0, 1.0), dict(tol=0.05, scheme=scheme)
    got = train_restarting(X, Y, seeds, lr, 120, 30, 2, init, exp="exact", **run)
    params = init_batch(seeds, 2, 2, 1, *init, scheme=scheme)
    want = reference.train_batch(
        X,
        Y,
        params,
        lr,
        120,
        curve_every=0,
        exp=libm_exp,
        seeds=seeds,
        restart_after=30,
        init=init,
        **run,
    )
    assert (got.restarts > 0).any()
    for name in ("restarts", "epoch_converged", "w_hidden", "b_hidden", "w_out", "b_out"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
