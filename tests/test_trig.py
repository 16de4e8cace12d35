"""The arctan units' arctan and cos (kernels.trig): fast within a few ulp of libm, exact libm's."""

import numpy as np
import pytest
from conftest import lazy_ufunc, libm_arctan, libm_cos

from kernels import parts, primitives, trig

fast_arctan = lazy_ufunc(lambda x: trig.fast_arctan(x), cache=False)
fast_cos = lazy_ufunc(lambda x: trig.fast_cos(x), cache=False)
assert parts  # registers the primitives' compiled forms
exact_arctan = lazy_ufunc(lambda x: primitives.arctan(x, False), cache=False)
exact_cos = lazy_ufunc(lambda x: primitives.cos(x, False), cache=False)
fast_primitives = lazy_ufunc(
    lambda x: primitives.cos(primitives.arctan(x, True), True), cache=False
)

#: Most ulp from libm, by dtype.
ATAN_ULP = {np.float64: 2, np.float32: 3}


def _ulp(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    return np.abs(got - want) / np.spacing(np.abs(want))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_fast_arctan_is_within_a_few_ulp_of_libm_at_every_scale(dtype):
    rng = np.random.default_rng(7)
    scale = 10.0 ** rng.uniform(-30, 30, 200_000)
    edges = np.tan(np.pi / 8 * np.arange(1, 4))  # where the reduction changes
    x = np.concatenate(
        [rng.standard_normal(200_000) * scale, np.linspace(-6, 6, 100_001), edges, -edges]
    ).astype(dtype)
    x = x[np.isfinite(x)]
    with np.errstate(all="ignore"):  # its selects compute every branch's division
        got = fast_arctan(x)
    assert _ulp(got, libm_arctan(x)).max() <= ATAN_ULP[dtype]
    assert (np.abs(got) <= dtype(np.pi / 2)).all()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_fast_arctan_keeps_signed_zeros_limits_and_nan(dtype):
    x = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, -1e-300], dtype=dtype)
    with np.errstate(all="ignore"):
        got = fast_arctan(x)
    want = libm_arctan(x)
    assert np.array_equal(np.signbit(got), np.signbit(want))
    assert np.array_equal(got, want, equal_nan=True)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_fast_cos_of_a_units_output_is_within_an_ulp_of_one_from_libm(dtype):
    y = np.linspace(-np.pi / 2, np.pi / 2, 200_001).astype(dtype)
    assert (np.abs(fast_cos(y) - libm_cos(y)) <= np.spacing(dtype(1))).all()
    assert np.isnan(fast_cos(np.array([np.nan], dtype=dtype)))[0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_primitives_are_libms_exact_and_these_fast(dtype):
    x = np.random.default_rng(3).standard_normal(10_000).astype(dtype) * 4
    assert np.array_equal(exact_arctan(x), libm_arctan(x))
    assert np.array_equal(exact_cos(x), libm_cos(x))
    assert np.array_equal(fast_primitives(x), fast_cos(fast_arctan(x)))
