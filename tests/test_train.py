"""The fused kernel against the numpy oracle."""

import dataclasses

import numpy as np
import pytest
from conftest import ATOL, FAST_ATOL, FAST_RTOL, RTOL, libm_exp, libm_tanh
from test_step import RECIPES

from kernels import get_task, init_batch, reference, train_batch
from kernels.model import BatchResult
from kernels.recipe import DEFAULT, Recipe

FLOATS = ("w_hidden", "b_hidden", "w_out", "b_out", "final_loss", "outputs", "loss_curve")
INTS = ("epoch_solved", "epoch_converged", "epoch_diverged")


def assert_same(got: BatchResult, want: BatchResult, rtol: float, atol: float) -> None:
    for name in INTS:
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    for name in FLOATS:
        np.testing.assert_allclose(
            getattr(got, name), getattr(want, name), rtol=rtol, atol=atol, err_msg=name
        )


def _case(rng: np.random.Generator, max_lr: float = 50.0):
    task = rng.choice(["xor", "xnor", "and", "or", "parity3", "encoder4", "parity2"])
    X, Y = get_task(task)
    width = int(rng.integers(1, 17))
    batch = int(rng.choice([1, 3, 7, 8, 13]))
    seeds = rng.integers(0, 2**31, size=batch)
    lr = 10 ** rng.uniform(-3, np.log10(max_lr), size=batch)
    tol = float(rng.choice([0.05, 0.1, 0.2, 0.45]))
    epochs = int(rng.integers(1, 400))
    curve_every = int(rng.choice([0, 1, 7, 50]))
    low, high = rng.choice([(0.0, 1.0), (-1.0, 1.0), (-0.5, 0.5)])
    params = init_batch(seeds, X.shape[1], width, Y.shape[1], low, high)
    return X, Y, params, lr, epochs, tol, curve_every


CASES = 16  # the recipe matrix (test_step.py) covers the default recipe too


@pytest.mark.parametrize("case", range(CASES))
def test_exact_kernel_is_the_reference_bit_for_bit(case):
    X, Y, params, lr, epochs, tol, every = _case(np.random.default_rng(case))
    got = train_batch(X, Y, params, lr, epochs, tol, every, exp="exact")
    want = reference.train_batch(X, Y, params, lr, epochs, tol, every, exp=libm_exp)
    assert_same(got, want, rtol=0, atol=0)


@pytest.mark.parametrize("case", range(CASES))
def test_kernels_match_the_numpy_reference(case):
    # Above lr ~ 3 gradient descent on these nets is chaotic: a 1-ulp
    # difference in one exp (numpy's SIMD exp vs libm's) grows to O(1) within
    # a few hundred epochs, for any implementation. The bit-for-bit test above
    # covers lr up to 50; tolerance comparisons use the well-conditioned range.
    X, Y, params, lr, epochs, tol, every = _case(np.random.default_rng(1000 + case), 1.0)
    want = reference.train_batch(X, Y, params, lr, epochs, tol, every)
    exact = train_batch(X, Y, params, lr, epochs, tol, every, exp="exact")
    fast = train_batch(X, Y, params, lr, epochs, tol, every, exp="fast")
    assert_same(exact, want, RTOL, ATOL)
    assert_same(fast, want, FAST_RTOL, FAST_ATOL)


@pytest.mark.parametrize("exp", ["exact", "fast"])
def test_notebook_configuration(exp):
    X, Y = get_task("xor")
    params = init_batch([314], 2, 2, 1)
    got = train_batch(X, Y, params, 0.1, 10_000, 0.1, 100, exp=exp)
    want = reference.train_batch(X, Y, params, 0.1, 10_000, 0.1, 100)
    for name in ("w_hidden", "b_hidden", "w_out", "b_out"):
        np.testing.assert_allclose(getattr(got, name), getattr(want, name), rtol=0, atol=1e-12)
    assert_same(got, want, RTOL, ATOL)


def test_inputs_are_not_modified_and_results_have_the_documented_shapes():
    X, Y = get_task("parity3")
    params = init_batch(np.arange(5), 3, 4, 1)
    before = {k: v.copy() for k, v in params.items()}
    result = train_batch(X, Y, params, 0.5, 100, curve_every=10)
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
    assert result.outputs.shape == (8, 1, 5)
    assert result.loss_curve.shape == (11, 5)
    assert result.flat_params().shape == (5, 3 * 4 + 4 + 4 + 1)


@pytest.mark.parametrize("exp", ["exact", "fast"])
def test_a_diverging_network_is_frozen_and_isolated(exp):
    X, Y = get_task("xor")
    seeds = np.arange(9)
    params = init_batch(seeds, 2, 3, 1)
    lr = np.full(9, 0.5)
    alone = train_batch(X, Y, params, lr, 400, curve_every=10, exp=exp)
    # With sigmoid outputs the gradient is bounded and saturation stops any
    # finite lr short of overflow (lr = 1e308 never diverges); an infinite lr
    # is the way to drive a network to non-finite weights.
    lr[4] = np.inf
    mixed = train_batch(X, Y, params, lr, 400, curve_every=10, exp=exp)
    assert mixed.diverged.tolist() == [j == 4 for j in range(9)]
    assert mixed.epoch_converged[4] == -1 and mixed.epoch_diverged[4] == 1
    assert not np.isfinite(mixed.flat_params()[4]).all()
    others = np.arange(9) != 4
    for name in FLOATS + INTS:
        np.testing.assert_array_equal(
            getattr(mixed, name)[..., others], getattr(alone, name)[..., others]
        )
    want = reference.train_batch(X, Y, params, lr, 400, 0.1, 10, exp=libm_exp)
    np.testing.assert_array_equal(mixed.epoch_diverged, want.epoch_diverged)
    np.testing.assert_array_equal(mixed.flat_params()[4], want.flat_params()[4])


def test_float32_follows_float64():
    # float32 carries ~7 digits; over a few thousand well-conditioned epochs
    # (lr <= 1, XOR) rounding drifts the trajectory by ~1e-5 in the outputs
    # (measured: max 2e-5), so 1e-3 on outputs is a loose but honest bound.
    X, Y = get_task("xor")
    seeds = np.arange(64)
    lr = np.linspace(0.1, 1.0, 64)
    r64 = train_batch(X, Y, init_batch(seeds, 2, 2, 1), lr, 3000, curve_every=100)
    r32 = train_batch(X, Y, init_batch(seeds, 2, 2, 1, dtype=np.float32), lr, 3000, curve_every=100)
    assert r32.final_loss.dtype == np.float32
    np.testing.assert_allclose(r32.outputs, r64.outputs, atol=1e-3)
    np.testing.assert_allclose(r32.loss_curve, r64.loss_curve, rtol=1e-3, atol=1e-5)
    both = (r32.epoch_converged >= 0) & (r64.epoch_converged >= 0)
    assert both.sum() > 10
    np.testing.assert_allclose(r32.epoch_converged[both], r64.epoch_converged[both], rtol=0.01)


def test_bad_arguments():
    X, Y = get_task("xor")
    params = init_batch([1], 2, 2, 1)
    with pytest.raises(ValueError, match="exp"):
        train_batch(X, Y, params, 0.1, 10, exp="slow")


@pytest.mark.parametrize("case", range(8))
def test_early_stop_is_the_reference_with_early_stop(case):
    X, Y, params, lr, epochs, tol, every = _case(np.random.default_rng(2000 + case), 10.0)
    epochs = 600
    got = train_batch(X, Y, params, lr, epochs, tol, every, exp="exact", early_stop=True)
    want = reference.train_batch(
        X, Y, params, lr, epochs, tol, every, exp=libm_exp, early_stop=True
    )
    assert_same(got, want, rtol=0, atol=0)
    full = train_batch(X, Y, params, lr, epochs, tol, every, exp="exact")
    for name in INTS:  # the epochs of events stay exact
        np.testing.assert_array_equal(getattr(got, name), getattr(full, name))


def test_early_stop_freezes_each_network_on_its_own():
    X, Y = get_task("xor")
    params = init_batch(np.arange(40), 2, 3, 1)
    lr = np.where(np.arange(40) < 20, 5.0, 0.05)  # fast learners next to slow ones
    alone = train_batch(
        X,
        Y,
        {k: v[..., :20] for k, v in params.items()},
        lr[:20],
        3000,
        curve_every=100,
        early_stop=True,
    )
    mixed = train_batch(X, Y, params, lr, 3000, curve_every=100, early_stop=True)
    for name in FLOATS + INTS:
        np.testing.assert_array_equal(getattr(mixed, name)[..., :20], getattr(alone, name))
    conv = alone.converged
    assert conv.all()
    # Frozen at convergence: the loss stays flat afterwards.
    assert (alone.loss_curve[-1] == alone.final_loss).all()


#: Users' own tasks: (samples, inputs, outputs, regression). Odd sizes, up to 64
#: inputs and outputs; regression trains linear outputs on real targets.
USER_TASKS = [
    (1, 1, 1, False),
    (3, 5, 2, True),
    (7, 64, 1, False),
    (150, 4, 3, True),
    (194, 2, 1, False),
    (5, 3, 64, True),
]


def user_task(samples: int, n_in: int, n_out: int, regression: bool, seed: int = 0):
    """Random data of this size: real inputs; 0/1 targets, or real ones."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(samples, n_in))
    Y = rng.normal(size=(samples, n_out)) if regression else rng.integers(0, 2, (samples, n_out))
    recipe = Recipe(output_activation="linear") if regression else DEFAULT
    return X, Y.astype(np.float64), recipe


@pytest.mark.parametrize("samples, n_in, n_out, regression", USER_TASKS)
def test_users_tasks_of_any_size_are_the_reference_bit_for_bit(samples, n_in, n_out, regression):
    X, Y, recipe = user_task(samples, n_in, n_out, regression)
    seeds = np.arange(5)
    params = init_batch(seeds, n_in, 3, n_out, -0.5, 0.5)
    lr = np.array([0.001, 0.01, 0.05, 0.2, 1e12])  # the last one diverges (regression)
    run = dict(epochs=60, tol=0.2, curve_every=7, recipe=recipe)
    got = train_batch(X, Y, params, lr, exp="exact", kernel="general", **run)
    want = reference.train_batch(X, Y, params, lr, exp=libm_exp, **run)
    assert_same(got, want, rtol=0, atol=0)
    if regression:
        assert got.diverged[-1] and not got.diverged[0]
        # converged: every |error| below tol at the end (training stops at none)
        err = np.abs(Y[:, :, None] - got.outputs).max(axis=(0, 1))
        np.testing.assert_array_equal(got.converged, (err < 0.2) & ~got.diverged)


@pytest.mark.parametrize(
    "samples, n_in, n_out, regression", [(3, 2, 1, True), (150, 4, 3, True)]
)  # unrolled, and the samples in a loop (kernels.tile_loop)
def test_users_tasks_in_the_generated_kernel_are_the_reference(samples, n_in, n_out, regression):
    X, Y, recipe = user_task(samples, n_in, n_out, regression, seed=1)
    params = init_batch(np.arange(7), n_in, 2, n_out, -1.0, 1.0)
    lr = np.geomspace(0.01, 2.0, 7)
    run = dict(epochs=80, tol=0.1, curve_every=10, recipe=recipe)
    got = train_batch(X, Y, params, lr, exp="exact", kernel="tiled", **run)
    want = reference.train_batch(X, Y, params, lr, exp=libm_exp, **run)
    assert_same(got, want, rtol=0, atol=0)


#: Mini-batches: (recipe, task, width, shortcuts, second layer). Each variant
#: compiles for seconds: ordered ones, plain and with both topologies' extras,
#: and shuffled ones of test_step's shuffled recipe's variant (compiled there too).
SHUFFLED = RECIPES["xent-shuffled-momentum-decay-prime"]
MINI_BATCHES = [
    (Recipe(update="ordered", batch_size=2), "parity3", 3, False, 0),
    (Recipe(update="ordered", batch_size=3), "xor", 2, True, 2),
    (dataclasses.replace(SHUFFLED, batch_size=3), "encoder4", 2, False, 0),
    (dataclasses.replace(SHUFFLED, batch_size=5), "parity3", 2, False, 0),
]


# One worker compiles the mini-batch variants both tests below run.
@pytest.mark.xdist_group("mini-batches")
@pytest.mark.parametrize("recipe, task, width, shortcuts, width2", MINI_BATCHES)
def test_mini_batches_are_the_reference_bit_for_bit(recipe, task, width, shortcuts, width2):
    X, Y = get_task(task)
    seeds = np.arange(6)
    params = init_batch(
        seeds, X.shape[1], width, Y.shape[1], -1.0, 1.0, shortcuts=shortcuts, width2=width2
    )
    run = dict(epochs=150, tol=0.1, curve_every=10, recipe=recipe, seeds=seeds)
    lr = np.geomspace(0.05, 5.0, 6)
    got = train_batch(X, Y, params, lr, exp="exact", **run)
    want = reference.train_batch(X, Y, params, lr, exp=libm_exp, tanh=libm_tanh, **run)
    assert_same(got, want, rtol=0, atol=0)


@pytest.mark.xdist_group("mini-batches")
@pytest.mark.parametrize(
    "recipe, same_as",
    [
        (Recipe(update="ordered", batch_size=1), Recipe(update="online")),
        (Recipe(update="ordered", batch_size=8), Recipe()),
        (dataclasses.replace(SHUFFLED, batch_size=1), SHUFFLED),
    ],
)
def test_a_mini_batch_of_one_or_of_all_is_today_s_update(recipe, same_as):
    X, Y = get_task("parity3")
    seeds = np.arange(8)
    params = init_batch(seeds, 3, 3, 1)
    lr = np.geomspace(0.1, 3.0, 8)
    run = dict(epochs=200, tol=0.1, curve_every=20, seeds=seeds, exp="exact", kernel="general")
    got = train_batch(X, Y, params, lr, recipe=recipe, **run)
    assert_same(got, train_batch(X, Y, params, lr, recipe=same_as, **run), rtol=0, atol=0)
