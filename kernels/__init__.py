"""Numba kernels that train many tiny sigmoid networks at once.

Pure numerics: arrays in, arrays out. See :mod:`kernels.model` for the model
and the definitions of every statistic, :mod:`kernels.train` for the fused
kernel and :mod:`kernels.reference` for the numpy oracle.
"""

from .model import (
    DEFAULT_TOL,
    DTYPES,
    PARAM_NAMES,
    BatchResult,
    curve_epochs,
    default_curve_every,
    init_batch,
    init_uniform,
    param_shapes,
)
from .tasks import get_task, is_task, task_names
from .train import EXP_MODES, KERNELS, train_batch

__all__ = [
    "DEFAULT_TOL",
    "DTYPES",
    "EXP_MODES",
    "KERNELS",
    "PARAM_NAMES",
    "BatchResult",
    "curve_epochs",
    "default_curve_every",
    "get_task",
    "init_batch",
    "init_uniform",
    "is_task",
    "param_shapes",
    "task_names",
    "train_batch",
]
