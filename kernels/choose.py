"""Which kernel trains a shape when the caller says ``kernel="auto"``."""

from __future__ import annotations

import numpy as np

from . import codegen, tiled
from .recipe import Recipe


def choose_kernel(
    X: np.ndarray, Y: np.ndarray, width: int, exp: str, work: float, recipe: Recipe
) -> str:
    """``general`` or ``tiled`` for ``work`` network-epochs of a shape (``X``, ``Y``:
    the task's 0/1 patterns) and recipe.

    The generated (tiled) kernel only for the fast exp (with libm's exp both
    kernels spend their time in scalar exp calls and run at the same speed),
    for a shape and recipe it implements, and when the work repays compiling
    it (:data:`kernels.codegen.MIN_WORK`).
    """
    worth = exp == "fast" and work >= codegen.MIN_WORK
    return "tiled" if worth and tiled.fits(X, Y, width, recipe) else "general"


def code_key(
    X: np.ndarray,
    Y: np.ndarray,
    width: int,
    recipe: Recipe,
    exp: str,
    dtype: str,
    kernel: str,
    topology: tuple = (),
) -> tuple:
    """What tells apart the compiled code that trains a shape (``kernel``:
    ``general`` or ``tiled``, as chosen; ``topology``: whatever else picks the
    code, e.g. shortcuts or the initial draws): shapes with equal keys run the
    same compiled code, so the first to run compiles what the others load."""
    if kernel == "tiled":
        return ("tiled", tiled.planned_source(X, Y, width, recipe), exp, dtype, topology)
    return ("general", recipe.variant, exp, dtype, topology)
