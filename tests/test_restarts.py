"""Restarts (kernels.restarts) against the numpy oracle, and against their definition:
the last attempt is an ordinary run from the seed's next draws."""

import numpy as np
import pytest
from conftest import libm_exp, libm_tanh, one_worker
from test_step import FLOATS, INTS, RECIPES, TASKS, _rng, assert_same

from kernels import get_task, init_batch, reference, train_batch, train_restarting

#: (recipe of test_step, kernel, dtype), exact arithmetic: test_step compiles these
#: kernels too (float32: a recipe it runs exact), and Numba's cache keeps them.
CASES = [
    ("notebook", "general", "float64"),
    ("notebook", "tiled", "float64"),
    ("nesterov-decay-prime", "general", "float32"),
    ("rprop-decay", "general", "float64"),
    ("xent-shuffled-momentum-decay-prime", "general", "float64"),
    ("adam-online-xent-decay", "general", "float64"),
]


def _run(name: str, dtype: str, case: int):
    recipe = RECIPES[name]
    rng = _rng("restarts", name, dtype, case)
    X, Y = get_task(TASKS[name])
    width = 2 if name == "notebook" else int(rng.integers(1, 4))
    n = int(rng.choice([5, 40]))
    seeds = rng.integers(0, 2**31, size=n)
    lr = 10 ** rng.uniform(-1, np.log10(8), size=n)
    epochs = int(rng.integers(20, 120))
    span = recipe.targets[1] - recipe.targets[0]
    run = dict(
        tol=0.3 * span,
        early_stop=bool(rng.integers(2)),
        recipe=recipe,
        mse_target=0.05 * span**2,
        curve_points=np.unique(rng.integers(0, epochs + 1, size=9)),
    )
    init = (-1.0, 1.0)
    every = int(rng.integers(3, epochs // 3))
    return X, Y, seeds, lr, epochs, every, width, init, np.dtype(dtype).type, run


@pytest.mark.parametrize(
    "case, name, kernel, dtype",
    one_worker([(case, *c) for c in CASES for case in range(2)], 1),  # with test_step's recipe
)
def test_restarts_are_the_reference(case, name, kernel, dtype):
    X, Y, seeds, lr, epochs, every, width, init, dt, run = _run(name, dtype, case)
    got = train_restarting(
        X, Y, seeds, lr, epochs, every, width, init, dt, exp="exact", kernel=kernel, **run
    )
    params = init_batch(seeds, X.shape[1], width, Y.shape[1], *init, dtype=dt)
    want = reference.train_batch(
        X,
        Y,
        params,
        lr,
        epochs,
        run.pop("tol"),
        0,
        seeds=seeds,
        exp=libm_exp,
        tanh=libm_tanh,
        restart_after=every,
        init=init,
        **run,
    )
    assert_same(got, want, rtol=0, atol=0)
    np.testing.assert_array_equal(got.restarts, want.restarts)
    assert want.restarts.max() > 0  # the cases restart


def test_the_last_attempt_is_a_plain_run_from_the_seeds_next_draws():
    # Independent of the oracle: restart XOR networks after N epochs (at lr 4
    # and 8 about half converge within N) and compare each with an ordinary
    # run of its last attempt.
    X, Y = get_task("xor")
    seeds = np.arange(60)
    lr = np.repeat([4.0, 8.0], 30)
    epochs, every, points = 600, 100, np.arange(0, 601, 40)
    got = train_restarting(
        X, Y, seeds, lr, epochs, every, 2, (-1.0, 1.0), tol=0.2, curve_points=points
    )
    assert 0 < (got.restarts == 0).sum() < got.size and got.restarts.max() >= 2
    for j in range(got.size):
        a = int(got.restarts[j])
        start = a * every
        mine = init_batch(seeds[j : j + 1], 2, 2, 1, -1.0, 1.0, attempt=a)
        plain = train_batch(
            X, Y, mine, lr[j], epochs - start, tol=0.2, curve_points=points[points >= start] - start
        )
        for name in INTS:
            value = getattr(plain, name)[0]
            assert getattr(got, name)[j] == (value + start if value >= 0 else -1), name
        for name in FLOATS:
            want = getattr(plain, name)[..., 0]
            have = getattr(got, name)[..., j]
            if name == "loss_curve":
                have = have[points >= start]
            np.testing.assert_array_equal(have, want, err_msg=name)
        if a:  # the attempt before did not converge within its N epochs
            before = init_batch(seeds[j : j + 1], 2, 2, 1, -1.0, 1.0, attempt=a - 1)
            assert not train_batch(X, Y, before, lr[j], every, tol=0.2).converged[0]


@pytest.mark.parametrize("every", [0, 50, 80])
def test_no_restart_before_the_last_epoch_is_plain_training(every):
    X, Y = get_task("xor")
    seeds = np.arange(20)
    params = init_batch(seeds, 2, 2, 1)
    plain = train_batch(X, Y, params, 0.5, 50, curve_every=5)
    got = train_restarting(X, Y, seeds, 0.5, 50, every, 2, curve_points=np.arange(0, 51, 5))
    assert_same(got, plain, rtol=0, atol=0)
    assert not got.restarts.any()


def test_restarts_redraw_every_parameter_of_other_topologies_as_the_reference():
    # The variant test_step's topology test compiles.
    X, Y, seeds, lr, epochs, every, width, init, dt, run = _run("tanh-tanh-decay", "float64", 7)
    topology = dict(width2=2, shortcuts=True)
    got = train_restarting(
        X,
        Y,
        seeds,
        lr,
        epochs,
        every,
        width,
        init,
        dt,
        exp="exact",
        kernel="general",
        **topology,
        **run,
    )
    params = init_batch(seeds, X.shape[1], width, Y.shape[1], *init, dtype=dt, **topology)
    want = reference.train_batch(
        X,
        Y,
        params,
        lr,
        epochs,
        run.pop("tol"),
        0,
        seeds=seeds,
        exp=libm_exp,
        tanh=libm_tanh,
        restart_after=every,
        init=init,
        **run,
    )
    assert_same(got, want, rtol=0, atol=0)
    for name in ("w_hidden2", "b_hidden2", "w_shortcut", "restarts"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    assert want.restarts.max() > 0
