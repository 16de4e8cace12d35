"""The vectorisable exp of kernels.train against libm."""

import numpy as np
import pytest
from conftest import libm_exp

from kernels.train import fast_exp_array


def ulp_error(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    return np.abs(got - want) / np.spacing(np.abs(want))


def test_float64_is_within_one_ulp_over_the_normal_range():
    rng = np.random.default_rng(0)
    x = np.concatenate([
        rng.uniform(-708.0, 709.7, 400_000),
        rng.uniform(-1.0, 1.0, 100_000),
        np.linspace(-40, 40, 100_001),
        np.arange(-1020, 1021) * np.log(2.0),  # reduction boundaries
    ])  # fmt: skip
    assert ulp_error(fast_exp_array(x), libm_exp(x)).max() <= 1.0


def test_float64_edges_behave_like_libm():
    x = np.array([
        -np.inf, -1e300, -800.0, -745.2, -745.0, -740.0, -708.5, -1e-300, 0.0, -0.0,
        1e-300, 709.7, 709.78, 709.8, 710.0, 1e300, np.inf,
    ])  # fmt: skip
    got, want = fast_exp_array(x), libm_exp(x)
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    np.testing.assert_array_equal(got == 0, want == 0)
    # Subnormal results carry few significant bits: compare in absolute terms.
    np.testing.assert_allclose(got, want, rtol=2e-16, atol=2 * 5e-324)
    assert np.isnan(fast_exp_array(np.array([np.nan]))).all()


def test_float32_is_within_two_ulp():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-87.0, 88.7, 300_000), rng.uniform(-1, 1, 100_000)])
    x = x.astype(np.float32)
    want = np.exp(x.astype(np.float64)).astype(np.float32)
    got = fast_exp_array(x)
    assert got.dtype == np.float32
    assert ulp_error(got, want).max() <= 2.0


@pytest.mark.parametrize(
    "value, expect", [(-200.0, 0.0), (100.0, np.inf), (-np.inf, 0.0), (np.inf, np.inf)]
)
def test_float32_edges(value, expect):
    assert fast_exp_array(np.array([value], dtype=np.float32))[0] == expect
