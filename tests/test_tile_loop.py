"""The generated kernel whose samples run in a loop (kernels.tile_loop): the
reference in exact mode, the general kernel always."""

import numpy as np
import pytest
from conftest import libm_exp, one_worker
from test_step import RECIPES
from test_tiled import assert_identical
from test_train import assert_same

from kernels import get_task, init_batch, reference, tile_loop, tiled, train_batch
from kernels.recipe import Recipe


def _task(dense: bool, n_samples: int, n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Real-valued inputs: none 0 (``dense``), or about half of them, with rows of
    no, one and several nonzero inputs; targets 0/1."""
    rng = np.random.default_rng(n_samples)
    X = rng.normal(size=(n_samples, n_in))
    if not dense:
        X[rng.random((n_samples, n_in)) < 0.5] = 0.0
        X[0], X[1, 1:], X[2] = 0.0, 0.0, 1.0
    Y = (rng.random((n_samples, n_out)) < 0.5).astype(float)
    return X, Y


#: (dense, samples, inputs, outputs, width): whole chunks and one sample left
#: over, several tiles and a smaller last one.
SHAPES = [(True, 13, 3, 2, 3), (False, 11, 4, 1, 5)]


def _case(shape, seed: int, batch: int, max_lr: float = 30.0):
    dense, n_samples, n_in, n_out, width = shape
    X, Y = _task(dense, n_samples, n_in, n_out)
    rng = np.random.default_rng(seed)
    lr = 10 ** rng.uniform(-2, np.log10(max_lr), size=batch)
    if batch > 2:
        lr[1] = np.inf  # drives its network to non-finite weights: diverged
    params = init_batch(rng.integers(0, 2**31, size=batch), n_in, width, n_out, -1.0, 1.0)
    run = dict(epochs=int(rng.integers(50, 200)), tol=0.2, curve_every=7, mse_target=0.05)
    return X, Y, params, lr, run


@pytest.mark.parametrize(
    "shape, update", [(SHAPES[0], "batch"), (SHAPES[1], "batch"), (SHAPES[1], "online")]
)
def test_exact_looped_kernel_is_the_reference_bit_for_bit(shape, update):
    X, Y, params, lr, run = _case(shape, seed=shape[1], batch=7)
    run["recipe"] = Recipe(update=update)
    assert tiled.fits(X, Y, shape[-1], run["recipe"]) and X.shape[0] > tiled.MAX_SAMPLES
    got = train_batch(X, Y, params, lr, exp="exact", kernel="tiled", early_stop=True, **run)
    want = reference.train_batch(X, Y, params, lr, exp=libm_exp, early_stop=True, **run)
    assert_same(got, want, rtol=0, atol=0)
    assert got.diverged[1] and not got.diverged[0]


LOOPED = [
    (SHAPES[0], "notebook"),
    (SHAPES[1], "nesterov-decay-prime"),
    (SHAPES[0], "adam-elliott"),
    (SHAPES[1], "rprop-decay-flush"),
    (SHAPES[0], "tanh-out-online-decay-prime"),
    (SHAPES[1], "rmsprop-online-decay-tanh"),
]


@pytest.mark.parametrize(
    "shape, name, batch",
    # In its recipe's group, with test_step's cases of it: they share its general kernel.
    one_worker([(*case, batch) for case in LOOPED for batch in (1, 33)], 1),
)
def test_fast_looped_kernel_is_the_general_kernel(shape, name, batch):
    """The optimisers' updates after the last chunk (batch) and after each sample
    (online), and blocks of networks."""
    X, Y, params, lr, run = _case(shape, seed=batch, batch=batch, max_lr=3.0)
    recipe = RECIPES[name]
    general = train_batch(X, Y, params, lr, kernel="general", recipe=recipe, **run)
    assert_identical(train_batch(X, Y, params, lr, kernel="tiled", recipe=recipe, **run), general)


def test_float32_looped_kernel_is_the_general_kernel():
    X, Y = _task(True, 10, 2, 1)
    X[3, 1] = 1e-300  # 0 in float32: the kernel for inputs with zeros
    params = init_batch(np.arange(40), 2, 4, 1, dtype=np.float32)
    lr = np.linspace(0.05, 5, 40)
    general = train_batch(X, Y, params, lr, 300, curve_every=50, kernel="general")
    got = train_batch(X, Y, params, lr, 300, curve_every=50, kernel="tiled")
    assert got.final_loss.dtype == np.float32
    assert_identical(got, general)


def test_the_source_holds_the_shape_not_the_samples():
    """One compiled kernel for every task of a shape: only whether some input is
    0 is chosen from the data."""
    one, other = _task(True, 40, 3, 2), _task(True, 90, 3, 2)
    assert tiled.load(*one, 4) is tiled.load(*other, 4)
    assert tiled.load(*_task(False, 40, 3, 2), 4) is not tiled.load(*one, 4)
    assert "np.array" not in tiled._plan(*one, 4, Recipe())[1]


def test_batch_and_online_updates_only():
    X, Y = get_task("parity4")  # 16 samples
    assert tiled.fits(X, Y, 2) and tiled.fits(X, Y, 2, Recipe(update="online"))
    assert not tiled.fits(X, Y, 2, Recipe(update="shuffled"))
    assert not tiled.fits(X, Y, 2, Recipe(update="ordered", batch_size=2))
    assert not tiled.fits(*get_task("encoder32"), 2)  # a unit's 65 parameters: no vector code


def test_sample_data_says_how_each_pre_activation_is_summed():
    X = np.array([[0.0, 0.0], [0.0, 2.0], [3.0, 4.0]])
    xs, ys, signs, single, start = tile_loop.sample_data(X, X[:, :1], X[:, :1] - 1, np.float32)
    assert xs.dtype == ys.dtype == signs.dtype == start.dtype == np.float32
    assert single.tolist() == [False, True, False]
    assert np.signbit(start).tolist() == [False, True, True] and not start.any()
