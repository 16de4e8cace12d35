"""The trials of a sweep: every combination of the config's axes, with stable ids.

Trials are grouped by :data:`Shape` (every axis but seed and lr, see
:data:`sweep.axes.SHAPE_AXES`): one shape is one kernel configuration, its
trials the product seeds x lr.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from kernels import get_task
from kernels.recipe import Recipe

from .axes import PARAM_COLUMNS, SHAPE_AXES
from .config import SweepConfig, make_recipe

if TYPE_CHECKING:
    import pandas

#: Everything a batch of trials shares (one field per shape axis, then the
#: loss-curve stride): one call of the kernel.
Shape = dataclasses.make_dataclass(
    "Shape", [(axis.name, Any) for axis in SHAPE_AXES] + [("curve_every", int)], frozen=True
)
Shape.__module__ = __name__  # pickled by reference, like a class written here


def recipe_of(shape: Any) -> Recipe:
    """The training recipe of a shape's trials."""
    return make_recipe(vars(shape))


def task_of(shape: Any) -> tuple[np.ndarray, np.ndarray]:
    """The task's 0/1 patterns (the kernels code them by the recipe)."""
    return get_task(shape.task)


def _shape_key(shape: Any) -> str:
    """The shape's part of a trial id's key: the classic axes always, the others
    only away from their default (so ids of trials that existed before an axis
    did never change)."""
    parts = []
    for axis in SHAPE_AXES:
        value = getattr(shape, axis.name)
        if axis.classic or value != axis.id_default:
            parts.append(f"{axis.column}={value!r}")
    return "|".join(parts)


def trial_id(shape: Any, seed: int, lr: float, shape_key: str | None = None) -> str:
    """A trial's id: a hash of its full parameter set (16 hex digits).

    Floats enter as their shortest round-trip repr, so equal values give
    equal ids on every machine; numpy scalars as the Python numbers they
    equal (numpy 2 writes ``np.int64(3)``). ``shape_key`` may carry
    ``shape``'s part of the key, computed once for many trials.
    """
    key = f"{shape_key or _shape_key(shape)}|seed={int(seed)!r}|lr={float(lr)!r}"
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def shapes(config: SweepConfig) -> Iterator[Any]:
    """Every shape of the sweep, in axis order."""
    names = [axis.name for axis in SHAPE_AXES]
    for combo in itertools.product(*(config.values[name] for name in names)):
        values = dict(zip(names, combo, strict=True))
        if values["init_low"] < values["init_high"]:
            yield Shape(**values, curve_every=config.curve_stride(values["epochs"]))


def shape_seeds_lrs(shape: Any, config: SweepConfig) -> tuple[np.ndarray, np.ndarray]:
    """(seeds, lrs) of one shape's trials, seed-major."""
    seeds = np.repeat(np.asarray(config.seeds, dtype=np.int64), len(config.lr))
    lrs = np.tile(np.asarray(config.lr, dtype=np.float64), len(config.seeds))
    return seeds, lrs


def trial_ids(shape: Any, seeds: np.ndarray, lrs: np.ndarray) -> np.ndarray:
    """:func:`trial_id` of each (seed, lr) of ``shape``, as an object array."""
    prefix = _shape_key(shape)
    pairs = zip(seeds.tolist(), lrs.tolist(), strict=True)
    return np.array([trial_id(shape, s, lr, prefix) for s, lr in pairs], dtype=object)


def grid_frame(config: SweepConfig) -> pandas.DataFrame:
    """All trials of ``config`` as a DataFrame (``trial_id`` + parameter columns)."""
    import pandas as pd

    frames = []
    for shape in shapes(config):
        seeds, lrs = shape_seeds_lrs(shape, config)
        frame = pd.DataFrame({"trial_id": trial_ids(shape, seeds, lrs), "seed": seeds,
                              "lr": lrs})  # fmt: skip
        for axis in SHAPE_AXES:
            frame[axis.column] = getattr(shape, axis.name)
        frames.append(frame[["trial_id", *PARAM_COLUMNS]])
    return pd.concat(frames, ignore_index=True)
