"""The table of losses: each compiled output delta equals its oracle entry bit for
bit, atanh clips as Fahlman's Quickprop 1 does, and each loss refuses the outputs
and targets it cannot train."""

import numpy as np
import pytest
from conftest import LIBM, libm_exp, libm_tanh
from numba import njit

from kernels import activations, losses, reference, step
from kernels.recipe import Recipe, RecipeError

MATH = {"exp": libm_exp, "tanh": libm_tanh, **LIBM}
EDGE = np.nextafter(losses.ATANH_EDGE, 1.0)
E = np.concatenate(
    [np.linspace(-1.5, 1.5, 301), [-1.0, -EDGE, -0.9999999, 0.9999999, EDGE, 1.0, np.nan]]
)


@njit
def _deltas(code, kind, e, yhat, prime, offset, fast):
    out = np.empty_like(e)
    for i in range(e.size):
        out[i] = step.output_delta(code, kind, e[i], yhat[i], prime, offset, fast)
    return out


def test_the_oracle_writes_every_loss_again():
    assert set(reference.LOSSES) == set(losses.NAMES)


@pytest.mark.parametrize("offset", [0.0, 0.1])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", losses.NAMES)
def test_each_compiled_loss_is_its_oracle_entry(name, dtype, offset):
    e = E.astype(dtype)
    yhat = np.linspace(0.01, 0.99, e.size).astype(dtype)
    for kind in ("logistic", "symmetric"):
        slope = reference.ACTIVATIONS[kind][1](yhat, MATH) + dtype(offset)
        want = reference.LOSSES[name](e, slope, MATH)
        code, k = losses.NAMES.index(name), activations.NAMES.index(kind)
        got = _deltas(code, k, e, yhat, offset > 0, dtype(offset), False)
        np.testing.assert_array_equal(got, want)


def test_atanh_is_two_atanh_of_the_error_clipped_at_17():
    delta = reference.LOSSES["atanh"]
    one = np.ones(1)
    for e, want in ((0.5, 2 * np.arctanh(0.5)), (-0.25, 2 * np.arctanh(-0.25))):
        np.testing.assert_allclose(delta(np.array([e]), one, MATH), want, rtol=1e-15)
    assert delta(np.array([EDGE, -EDGE, 3.0]), np.ones(3), MATH).tolist() == [17.0, -17.0, 17.0]
    assert np.isnan(delta(np.array([np.nan]), one, MATH)).all()


@pytest.mark.parametrize(
    "fields, words",
    [
        (dict(loss="xent", output_activation="relu"), "xent needs logistic outputs"),
        (dict(loss="xent", output_activation="linear", targets=(0.0, 1.0)), "logistic"),
        (dict(loss="atanh", output_activation="tanh", targets=(-1.0, 1.0)), "allow 2"),
        (dict(loss="atanh", output_activation="arctan", targets=(-1.0, 1.0)), "within (-1, 1)"),
        (dict(loss="atanh", output_activation="linear"), "allow inf"),
    ],
)
def test_a_loss_refuses_what_it_cannot_train(fields, words):
    with pytest.raises(RecipeError, match="^loss: ") as info:
        Recipe(**fields)
    assert words in str(info.value)


def test_atanh_takes_the_set_ups_it_was_made_for():
    # Fahlman's two sigmoids, whose errors never leave [-1, 1].
    Recipe(loss="atanh")
    Recipe(loss="atanh", targets=(0.1, 0.9))
    Recipe(loss="atanh", output_activation="symmetric", targets=(-0.5, 0.5))
