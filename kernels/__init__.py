"""Numba kernels that train many tiny neural networks at once.

Pure numerics: arrays in, arrays out. See :mod:`kernels.model` for the model
and the definitions of every statistic, :mod:`kernels.train` for the fused
kernel, :mod:`kernels.tiled` for its shape-specialised form and
:mod:`kernels.reference` for the numpy oracle.

``train_batch`` and ``train_restarting`` (:mod:`kernels.restarts`) are
imported on first use: they load Numba, which a process that only
plans or stores results never needs (``init_batch`` loads
it too, on its first call: its draws are compiled, :mod:`kernels.draws`).
"""

from typing import Any

from .model import (
    DEFAULT_TOL,
    DTYPES,
    EXP_MODES,
    KERNELS,
    PARAM_NAMES,
    BatchResult,
    curve_epochs,
    default_curve_every,
    init_batch,
    init_uniform,
    param_shapes,
)
from .tasks import get_task, is_task, task_names

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
    "train_restarting",
]


def __getattr__(name: str) -> Any:
    if name == "train_batch":
        from .train import train_batch

        return train_batch
    if name == "train_restarting":
        from .restarts import train_restarting

        return train_restarting
    raise AttributeError(f"module 'kernels' has no attribute {name!r}")
