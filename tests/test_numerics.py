"""The numerics of the kernels against libm: the vectorisable exp and tanh."""

import warnings

import numpy as np
import pytest
from conftest import libm_exp

from kernels.numerics import fast_exp_array, fast_tanh_array, sigmoid_exp_array


def ulp_error(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    return np.abs(got - want) / np.spacing(np.abs(want))


def test_float64_is_within_one_ulp_over_the_normal_range():
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [
            rng.uniform(-708.0, 709.7, 400_000),
            rng.uniform(-1.0, 1.0, 100_000),
            np.linspace(-40, 40, 100_001),
            np.arange(-1020, 1021) * np.log(2.0),  # reduction boundaries
        ]
    )
    assert ulp_error(fast_exp_array(x), libm_exp(x)).max() <= 1.0


OVERFLOW_EXPECTED = pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")


@OVERFLOW_EXPECTED  # as np.exp does, the ufunc reports producing inf
def test_float64_edges_behave_like_libm():
    x = np.array(
        [
            -np.inf,
            -1e300,
            -800.0,
            -745.2,
            -745.0,
            -740.0,
            -708.5,
            -1e-300,
            0.0,
            -0.0,
            1e-300,
            709.7,
            709.78,
            709.8,
            710.0,
            1e300,
            np.inf,
        ]
    )
    got, want = fast_exp_array(x), libm_exp(x)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    np.testing.assert_array_equal(got == 0, want == 0)
    # Subnormal results carry few significant bits: compare in absolute terms.
    np.testing.assert_allclose(got, want, rtol=2e-16, atol=2 * 5e-324)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NaN in, NaN out, no warning: as np.exp
        assert np.isnan(fast_exp_array(np.array([np.nan]))).all()
        assert np.isnan(sigmoid_exp_array(np.array([np.nan]))).all()


def test_float32_is_within_one_ulp():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-87.0, 88.7, 300_000), rng.uniform(-1, 1, 100_000)])
    x = x.astype(np.float32)
    want = np.exp(x.astype(np.float64)).astype(np.float32)
    got = fast_exp_array(x)
    assert got.dtype == np.float32
    assert ulp_error(got, want).max() <= 1.0


@OVERFLOW_EXPECTED
@pytest.mark.parametrize(
    "value, expect", [(-200.0, 0.0), (100.0, np.inf), (-np.inf, 0.0), (np.inf, np.inf)]
)
def test_float32_edges(value, expect):
    assert fast_exp_array(np.array([value], dtype=np.float32))[0] == expect


@pytest.mark.parametrize(
    "dtype, low, high", [(np.float64, -708.0, 709.0), (np.float32, -86.0, 88.0)]
)
def test_the_sigmoids_exp_is_fast_exp_within_its_clamp(dtype, low, high):
    # It skips fast_exp's second power of two, needed only outside the clamp.
    rng = np.random.default_rng(2)
    x = np.concatenate(
        [rng.uniform(low, high, 200_000), rng.uniform(-2, 2, 100_000), [low, high, 0.0]]
    ).astype(dtype)
    np.testing.assert_array_equal(sigmoid_exp_array(x), fast_exp_array(x))
    edges = np.array([-np.inf, -1e30, low - 1, high + 1, 1e30, np.inf], dtype=dtype)
    np.testing.assert_array_equal(
        sigmoid_exp_array(edges), fast_exp_array(np.clip(edges, low, high))
    )
    assert np.isnan(sigmoid_exp_array(np.array([np.nan], dtype=dtype))).all()


def test_the_fast_sigmoid_follows_libm():
    # What the kernel computes in fast mode: 1 / (1 + e^-a). Three roundings
    # (exp within 1 ulp, the sum, the quotient) against libm's same formula:
    # measured at most 2.3 eps relative over 2.5 million points.
    rng = np.random.default_rng(3)
    a = np.concatenate([rng.uniform(-40, 40, 200_000), rng.uniform(-708, 750, 50_000)])
    got = 1.0 / (1.0 + sigmoid_exp_array(-a))
    want = 1.0 / (1.0 + libm_exp(-a))
    assert (np.abs(got - want) <= 3 * np.finfo(np.float64).eps * want).all()
    # Below a = -709 the clamp leaves 1 / (1 + e^709) = 1.22e-308 where libm
    # gives (nearly) 0; at the top 1 + e^-a rounds to 1 for both.
    tail = np.array([-np.inf, -1e4, -745.0, -709.0])
    np.testing.assert_array_equal(1.0 / (1.0 + sigmoid_exp_array(-tail)), 1 / (1 + np.exp(709)))
    assert (1.0 / (1.0 + sigmoid_exp_array(-np.array([40.0, 1e4, np.inf]))) == 1).all()


@pytest.mark.parametrize("dtype, bound", [(np.float64, 2.0**-51), (np.float32, 2.0**-22)])
def test_fast_tanh_is_within_two_ulp_of_one_absolute(dtype, bound):
    # 1 - 2 / (1 + e^2x): the fast sigmoid's exp, and as the sigmoid an absolute
    # error (what a unit passes on): measured at most 3.3e-16 (float32 1.8e-7).
    rng = np.random.default_rng(4)
    x = np.concatenate(
        [
            rng.uniform(-25, 25, 300_000),
            rng.uniform(-1, 1, 300_000),
            rng.uniform(-1e-3, 1e-3, 50_000),
            np.logspace(-30, 1.5, 5_000),
            -np.logspace(-30, 1.5, 5_000),
        ]
    ).astype(dtype)
    got = fast_tanh_array(x)
    assert got.dtype == dtype
    assert np.abs(got.astype(np.float64) - np.tanh(x.astype(np.float64))).max() <= bound
    assert (np.abs(got) <= 1).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fast_tanh_edges(dtype):
    x = np.array([-np.inf, -1e30, -20.0, 0.0, 20.0, 1e30, np.inf], dtype=dtype)
    np.testing.assert_array_equal(fast_tanh_array(x), np.tanh(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NaN in, NaN out, no warning: as np.tanh
        assert np.isnan(fast_tanh_array(np.array([np.nan], dtype=dtype))).all()
