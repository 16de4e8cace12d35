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
from kernels.model import curve_epochs
from kernels.recipe import Recipe

from . import specs
from .axes import PARAM_COLUMNS, SHAPE_AXES
from .config import Study, SweepConfig, make_recipe

if TYPE_CHECKING:
    import pandas

#: Everything a batch of trials shares (one field per shape axis, then the
#: loss-curve stride): one call of the kernel.
Shape = dataclasses.make_dataclass(
    "Shape",
    [(axis.name, Any) for axis in SHAPE_AXES] + [("curve_every", int), ("curve", str)],
    frozen=True,
)
Shape.__module__ = __name__  # pickled by reference, like a class written here


def recipe_of(shape: Any) -> Recipe:
    """The training recipe of a shape's trials."""
    return make_recipe(vars(shape))


def curve_of(shape: Any) -> np.ndarray:
    """The epochs at which a shape's loss curves are recorded."""
    return curve_epochs(shape.epochs, shape.curve_every, shape.curve)


def task_of(shape: Any) -> tuple[np.ndarray, np.ndarray]:
    """The task's 0/1 patterns (the kernels code them by the recipe)."""
    return get_task(shape.task)


def shape_key(shape: Any) -> str:
    """The shape's part of a trial id's key: the classic axes always, the others
    only away from their default (so ids of trials that existed before an axis
    did never change)."""
    parts = []
    for axis in SHAPE_AXES:
        value = getattr(shape, axis.name)
        if axis.classic or value != axis.id_default:
            parts.append(f"{axis.column}={value!r}")
    return "|".join(parts)


def trial_id(shape: Any, seed: int, lr: float, prefix: str | None = None) -> str:
    """A trial's id: a hash of its full parameter set (16 hex digits).

    Floats enter as their shortest round-trip repr, so equal values give
    equal ids on every machine; numpy scalars as the Python numbers they
    equal (numpy 2 writes ``np.int64(3)``). ``prefix`` may carry
    ``shape``'s part of the key (:func:`shape_key`), computed once for many trials.
    """
    key = f"{prefix or shape_key(shape)}|seed={int(seed)!r}|lr={float(lr)!r}"
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


def trials(config: SweepConfig | Study) -> Iterator[tuple[Any, np.ndarray, np.ndarray]]:
    """Every shape of the sweep with its trials' seeds and learning rates (aligned
    arrays, seed-major), each trial once: over the union of the grids, each the
    product of its listed axes, its sampled points and its seeds."""
    blocks: dict[Any, list[tuple[np.ndarray, np.ndarray]]] = {}
    for grid in config.grids:
        for shape, seeds, lrs in _grid_blocks(grid):
            blocks.setdefault(shape, []).append((seeds, lrs))
    for shape, parts in blocks.items():
        if len(parts) == 1:  # one product of unique seeds and lrs: no repeats
            yield shape, *parts[0]
            continue
        pairs = np.empty(sum(len(s) for s, _ in parts), dtype=[("seed", np.int64), ("lr", float)])
        pairs["seed"] = np.concatenate([s for s, _ in parts])
        pairs["lr"] = np.concatenate([lr for _, lr in parts])
        pairs = np.unique(pairs)
        yield shape, np.ascontiguousarray(pairs["seed"]), np.ascontiguousarray(pairs["lr"])


def _grid_blocks(grid: SweepConfig) -> Iterator[tuple[Any, np.ndarray, np.ndarray]]:
    """(shape, seeds, lrs) of one grid: seeds x lrs for each listed combination and
    sampled point (a shape may come more than once, with other lrs)."""
    paired = ("init_low", "init_high")
    names = [a.name for a in SHAPE_AXES if a.name not in paired and a.name not in
             grid.distributions]  # fmt: skip
    sampled = list(grid.distributions)
    seeds = specs.as_array(grid.seeds)
    for combo in itertools.product(*(grid.values[name] for name in names)):
        values = dict(zip(names, combo, strict=True))
        for row in grid.point_rows:
            point = dict(zip(sampled, row, strict=True))
            values.update({k: v for k, v in point.items() if k not in ("lr", "init_radius")})
            if "init_radius" in point:
                pairs = [(-point["init_radius"], point["init_radius"])]
            elif "init_low" in point or "init_high" in point:
                lows = [point["init_low"]] if "init_low" in point else grid.values["init_low"]
                highs = [point["init_high"]] if "init_high" in point else grid.values["init_high"]
                pairs = [(lo, hi) for lo in lows for hi in highs if lo < hi]
            else:
                pairs = grid.init_pairs
            lrs = np.asarray([point["lr"]] if "lr" in point else grid.lr, dtype=np.float64)
            for low, high in pairs:
                shape = Shape(**values, init_low=low, init_high=high, curve=grid.curve,
                              curve_every=grid.curve_stride(values["epochs"]))  # fmt: skip
                yield shape, np.repeat(seeds, len(lrs)), np.tile(lrs, len(seeds))


def shapes(config: SweepConfig | Study) -> list[Any]:
    """Every shape of the sweep."""
    return [shape for shape, _, _ in trials(config)]


def count_trials(config: SweepConfig | Study) -> int:
    """How many trials the sweep has."""
    return sum(len(seeds) for _, seeds, _ in trials(config))


#: From this many trials on, ids are hashed by compiled code (:mod:`sweep.ids`,
#: the same ids), a third of the time a trial, at the price of loading it once
#: per process (~0.4 s) and compiling it once per machine: worth it only for
#: runs this large (README, "Scale").
COMPILED_IDS_FROM = 200_000


def trial_ids(shape: Any, seeds: np.ndarray, lrs: np.ndarray,
              compiled: bool | None = None) -> np.ndarray:  # fmt: skip
    """:func:`trial_id` of each (seed, lr) of ``shape``, as an object array
    (``compiled``: by :mod:`sweep.ids`; None: for :data:`COMPILED_IDS_FROM` trials on)."""
    prefix = shape_key(shape)
    if compiled or (compiled is None and len(seeds) >= COMPILED_IDS_FROM):
        from . import ids

        return ids.to_text(ids.id_numbers(prefix, seeds, lrs))
    pairs = zip(seeds.tolist(), lrs.tolist(), strict=True)
    return np.array([trial_id(shape, s, lr, prefix) for s, lr in pairs], dtype=object)


def trial_numbers(shape: Any, seeds: np.ndarray, lrs: np.ndarray) -> np.ndarray:
    """:func:`trial_ids` as uint64 numbers (:mod:`sweep.ids`), compiled for
    :data:`COMPILED_IDS_FROM` trials on."""
    from . import ids

    if len(seeds) >= COMPILED_IDS_FROM:
        return ids.id_numbers(shape_key(shape), seeds, lrs)
    text = trial_ids(shape, seeds, lrs, compiled=False)
    return np.fromiter((int(i, 16) for i in text), np.uint64, count=len(text))


def grid_frame(config: SweepConfig | Study) -> pandas.DataFrame:
    """All trials of ``config`` as a DataFrame (``trial_id`` + parameter columns)."""
    import pandas as pd

    frames = []
    for shape, seeds, lrs in trials(config):
        frame = pd.DataFrame({"trial_id": trial_ids(shape, seeds, lrs), "seed": seeds,
                              "lr": lrs})  # fmt: skip
        for axis in SHAPE_AXES:
            frame[axis.column] = getattr(shape, axis.name)
        frames.append(frame[["trial_id", *PARAM_COLUMNS]])
    return pd.concat(frames, ignore_index=True)
