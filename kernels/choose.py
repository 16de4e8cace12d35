"""Which kernel trains a shape when the caller says ``kernel="auto"``."""

from __future__ import annotations

import numpy as np

from . import codegen, tiled


def choose_kernel(X: np.ndarray, Y: np.ndarray, width: int, exp: str, work: float) -> str:
    """``general`` or ``tiled`` for ``work`` network-epochs of a shape.

    The generated (tiled) kernel only for the fast exp (with libm's exp both
    kernels spend their time in scalar exp calls and run at the same speed),
    for a shape it fits, and when the work repays compiling it
    (:data:`kernels.codegen.MIN_WORK`).
    """
    worth = exp == "fast" and work >= codegen.MIN_WORK
    return "tiled" if worth and tiled.fits(X, Y, width) else "general"
