"""The table of activations: each compiled entry equals its oracle entry (libm's
functions, bit for bit), its slope is its derivative, its outputs stay in the
range the recipe checks targets against, and the oracle has every entry."""

import numpy as np
import pytest
from conftest import LIBM, libm_exp, libm_tanh
from numba import njit

from kernels import activations, reference, step

MATH = {"exp": libm_exp, "tanh": libm_tanh, **LIBM}
SPECIAL = [-1e300, -745.0, -0.0, 0.0, 1e-300, 709.0, 1e300, np.inf, -np.inf, np.nan]
A = np.concatenate([np.linspace(-40, 40, 801), np.geomspace(1e-12, 1, 13), SPECIAL])


@njit
def _elementwise(part, code, x, fast):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = step.activate(code, x[i], fast) if part == 0 else step.slope(code, x[i], fast)
    return out


def _compiled(part: str, name: str, x: np.ndarray, fast: bool) -> np.ndarray:
    return _elementwise(("forward", "slope").index(part), activations.NAMES.index(name), x, fast)


def test_the_oracle_writes_every_activation_again():
    assert set(reference.ACTIVATIONS) == set(activations.NAMES)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", activations.NAMES)
def test_each_compiled_activation_is_its_oracle_entry(name, dtype):
    forward, slope = reference.ACTIVATIONS[name]
    with np.errstate(over="ignore", invalid="ignore"):
        a = A.astype(dtype)  # 1e300 is inf in float32
        y = forward(a, MATH)
        np.testing.assert_array_equal(_compiled("forward", name, a, False), y)
        np.testing.assert_array_equal(_compiled("slope", name, y, False), slope(y, MATH))
        # fast arithmetic: its own exp and tanh and fused products, to rounding.
        finite = np.isfinite(y)
        got = _compiled("forward", name, a, True)
        assert np.array_equal(np.isnan(got), np.isnan(y))
        tol = 4 * np.finfo(dtype).eps
        np.testing.assert_allclose(got[finite], y[finite], rtol=tol, atol=tol)
        got_slope = _compiled("slope", name, y[finite], True)
        np.testing.assert_allclose(got_slope, slope(y[finite], MATH), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", activations.NAMES)
def test_the_slope_is_the_derivative_and_outputs_stay_in_range(name):
    entry = activations.BY_NAME[name]
    forward, slope = reference.ACTIVATIONS[name]
    a = np.linspace(-6, 6, 241)
    a = a[np.abs(a) > 1e-3]  # relu's kink
    h = 1e-6
    numeric = (forward(a + h, MATH) - forward(a - h, MATH)) / (2 * h)
    np.testing.assert_allclose(slope(forward(a, MATH), MATH), numeric, rtol=1e-7, atol=1e-9)
    with np.errstate(over="ignore"):
        y = forward(A[np.isfinite(A)], MATH)
    assert entry.low <= y.min() and y.max() <= entry.high
    # Reaches both ends of its range (closely, for the bounded ones).
    assert y.min() <= entry.low + 1e-6 * max(1, abs(entry.low)) or entry.low == -np.inf
    assert y.max() >= entry.high - 1e-6 * max(1, abs(entry.high)) or entry.high == np.inf


def test_relu_passes_nothing_back_at_zero():
    _, slope = reference.ACTIVATIONS["relu"]
    zero = np.zeros(3)
    assert _compiled("slope", "relu", zero, False).tolist() == [0.0, 0.0, 0.0]
    assert slope(zero, MATH).tolist() == [0.0, 0.0, 0.0]
