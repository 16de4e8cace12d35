"""The trials of a sweep: every combination of the config's axes, with stable ids.

Trials are grouped by :class:`Shape` (everything but seed and lr): one shape
is one kernel configuration, its trials the product seeds x lr.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .config import SweepConfig

if TYPE_CHECKING:
    import pandas
from .schema import PARAM_COLUMNS


@dataclass(frozen=True)
class Shape:
    """Everything a batch of trials shares: one call of the kernel."""

    task: str
    width: int
    epochs: int
    tol: float
    init_low: float
    init_high: float
    dtype: str
    exp: str
    early_stop: bool
    curve_every: int


def _shape_key(shape: Shape) -> str:
    params = vars(shape)
    return "|".join(f"{k}={params[k]!r}" for k in PARAM_COLUMNS if k not in ("seed", "lr"))


def trial_id(shape: Shape, seed: int, lr: float, shape_key: str | None = None) -> str:
    """A trial's id: a hash of its full parameter set (16 hex digits).

    Floats enter as their shortest round-trip repr, so equal values give
    equal ids on every machine; numpy scalars as the Python numbers they
    equal (numpy 2 writes ``np.int64(3)``). ``shape_key`` may carry
    ``shape``'s part of the key, computed once for many trials.
    """
    key = f"{shape_key or _shape_key(shape)}|seed={int(seed)!r}|lr={float(lr)!r}"
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def shapes(config: SweepConfig) -> Iterator[Shape]:
    """Every shape of the sweep, in axis order."""
    for task, width, epochs, tol, low, high, dtype in itertools.product(
        config.task, config.width, config.epochs, config.tol,
        config.init_low, config.init_high, config.dtype,
    ):  # fmt: skip
        if low < high:
            yield Shape(task, width, epochs, tol, low, high, dtype, config.exp,
                        config.early_stop, config.curve_stride(epochs))  # fmt: skip


def shape_seeds_lrs(shape: Shape, config: SweepConfig) -> tuple[np.ndarray, np.ndarray]:
    """(seeds, lrs) of one shape's trials, seed-major."""
    seeds = np.repeat(np.asarray(config.seeds, dtype=np.int64), len(config.lr))
    lrs = np.tile(np.asarray(config.lr, dtype=np.float64), len(config.seeds))
    return seeds, lrs


def trial_ids(shape: Shape, seeds: np.ndarray, lrs: np.ndarray) -> np.ndarray:
    """:func:`trial_id` of each (seed, lr) of ``shape``, as an object array."""
    prefix = _shape_key(shape)
    pairs = zip(seeds.tolist(), lrs.tolist(), strict=True)
    return np.array([trial_id(shape, s, lr, prefix) for s, lr in pairs], dtype=object)


def shape_trials(shape: Shape, config: SweepConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(seeds, lrs, ids) of one shape's trials, seed-major."""
    seeds, lrs = shape_seeds_lrs(shape, config)
    return seeds, lrs, trial_ids(shape, seeds, lrs)


def grid_frame(config: SweepConfig) -> pandas.DataFrame:
    """All trials of ``config`` as a DataFrame (``trial_id`` + parameter columns)."""
    import pandas as pd

    frames = []
    for shape in shapes(config):
        seeds, lrs, ids = shape_trials(shape, config)
        frame = pd.DataFrame({"trial_id": ids, "seed": seeds, "lr": lrs})
        for k in PARAM_COLUMNS:
            if k not in frame:
                frame[k] = getattr(shape, k)
        frames.append(frame[["trial_id", *PARAM_COLUMNS]])
    return pd.concat(frames, ignore_index=True)
