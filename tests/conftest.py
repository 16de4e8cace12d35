"""Shared test settings: precisions are named here, not scattered as magic numbers."""

from __future__ import annotations

import atexit
import functools
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable

# With PYTHONDONTWRITEBYTECODE set (as in CI), each of the suite's processes
# (the xdist workers, the subprocesses of the CLI and reliability tests)
# would compile every module it imports from source. Their bytecode is
# kept instead in a folder of this test run's own, shared by them all and
# removed at exit, so nothing is written beside any source.
if os.environ.get("PYTHONDONTWRITEBYTECODE") and not os.environ.get("PYTHONPYCACHEPREFIX"):
    os.environ["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="sweep-test-bytecode-")
    atexit.register(shutil.rmtree, os.environ["PYTHONPYCACHEPREFIX"], ignore_errors=True)
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    sys.pycache_prefix = os.environ["PYTHONPYCACHEPREFIX"]
    sys.dont_write_bytecode = False

import numba
import numpy as np
import pytest

# Generated kernels (kernels.tiled) compile into a fresh folder each
# session, which the CLI tests' subprocesses inherit: the cold path is tested.
if "SWEEP_KERNEL_CACHE" not in os.environ:
    os.environ["SWEEP_KERNEL_CACHE"] = tempfile.mkdtemp(prefix="sweep-test-kernels-")
    atexit.register(shutil.rmtree, os.environ["SWEEP_KERNEL_CACHE"], ignore_errors=True)

# Subprocesses (`python -m sweep`, `python -c`) import the package this
# session tests, not the checkout in the working directory: in CI that is the
# installed copy, whose Numba cache the session has already filled.
os.environ["PYTHONSAFEPATH"] = "1"

#: Relative/absolute tolerance for floats that must agree "to rounding".
RTOL = 1e-10
ATOL = 1e-12
#: Trajectory agreement of the fast arithmetic with the reference (see kernels.numerics).
FAST_RTOL = 1e-10
FAST_ATOL = 1e-11


def lazy_ufunc(func: Callable, cache: bool = True) -> Callable:
    """``func`` as a ufunc of float32 and float64 (float32 first: a ufunc takes
    the first loop its input casts to safely), compiled on its first call, not
    at import in every process the suite starts."""
    sigs = ["float32(float32)", "float64(float64)"]
    compiled = functools.cache(lambda: numba.vectorize(sigs, cache=cache)(func))
    return functools.wraps(func)(lambda x: compiled()(x))


@lazy_ufunc
def _libm_exp_ufunc(x):
    return math.exp(x)


def libm_exp(x: np.ndarray) -> np.ndarray:
    """libm's exp, the one the exact kernel calls (overflow gives inf quietly)."""
    with np.errstate(over="ignore"):
        return _libm_exp_ufunc(x)


@lazy_ufunc
def _libm_tanh_ufunc(x):
    return math.tanh(x)


def libm_tanh(x: np.ndarray) -> np.ndarray:
    """libm's tanh, the one the exact kernel calls."""
    return _libm_tanh_ufunc(x)


@lazy_ufunc
def libm_arctan(x):
    """libm's atan, the one the exact kernel calls."""
    return math.atan(x)


@lazy_ufunc
def libm_cos(x):
    """libm's cos, the one the exact kernel calls."""
    return math.cos(x)


@lazy_ufunc
def _libm_log_ufunc(x):
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


def libm_log(x: np.ndarray) -> np.ndarray:
    """libm's log, the one the exact kernel calls (0 gives -inf, below 0 NaN)."""
    return _libm_log_ufunc(x)


#: The reference's elementwise functions as the exact kernels compute them.
LIBM = {"arctan": libm_arctan, "cos": libm_cos, "log": libm_log}


def one_worker(cases: list[tuple], group: int | Callable[[tuple], str]) -> list:
    """``cases`` as parameters in xdist groups (``group``: the index of the case's
    field that names its group, or a function of the case): the tests that
    compile one kernel run in one worker, which compiles it once."""
    name = (lambda case: str(case[group])) if isinstance(group, int) else group
    return [pytest.param(*case, marks=pytest.mark.xdist_group(name(case))) for case in cases]
