"""Shared test settings: precisions are named here, not scattered as magic numbers."""

from __future__ import annotations

import math

import numba
import numpy as np

#: Relative/absolute tolerance for floats that must agree "to rounding".
RTOL = 1e-10
ATOL = 1e-12
#: Trajectory agreement of the fast exp with the reference (see kernels.train).
FAST_RTOL = 1e-9
FAST_ATOL = 1e-11


@numba.vectorize(["float64(float64)", "float32(float32)"], cache=True)
def _libm_exp_ufunc(x):
    return math.exp(x)


def libm_exp(x: np.ndarray) -> np.ndarray:
    """libm's exp, the one the exact kernel calls (overflow gives inf quietly)."""
    with np.errstate(over="ignore"):
        return _libm_exp_ufunc(x)
