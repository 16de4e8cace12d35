"""The trials of a sweep: every combination of the config's axes, with stable ids.

Trials are grouped by :data:`Shape` (every axis but seed and lr, see
:data:`sweep.config.axes.SHAPE_AXES`): one shape is one kernel configuration, its
trials the product seeds x lr.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from kernels import get_task
from kernels.model import curve_epochs
from kernels.recipe import Recipe

from ..config import specs
from ..errors import SweepError
from .axes import PARAM_COLUMNS, SHAPE_AXES, shape_key_of
from .study import Study, SweepConfig, make_recipe

if TYPE_CHECKING:
    import pandas

#: Everything a batch of trials shares (one field per shape axis, then the
#: loss-curve stride): one call of the kernel.
Shape = dataclasses.make_dataclass(
    "Shape",
    [(axis.name, Any) for axis in SHAPE_AXES]
    + [("curve_every", int), ("curve", str)]
    # A data task's arrays travel with its shapes to the workers; task_digest
    # tells shapes apart.
    + [("task_data", Any, dataclasses.field(default=None, compare=False))],
    frozen=True,
)
Shape.__module__ = __name__  # pickled by reference, like a class written here


@functools.cache
def recipe_of(shape: Any) -> Recipe:
    """The training recipe of a shape's trials (built once per shape: the planner
    and every chunk of the shape ask for it)."""
    return make_recipe(vars(shape))


def curve_of(shape: Any) -> np.ndarray:
    """The epochs at which a shape's loss curves are recorded."""
    return curve_epochs(shape.epochs, shape.curve_every, shape.curve)


def task_of(shape: Any) -> tuple[np.ndarray, np.ndarray]:
    """The task's inputs and targets (the kernels code 0/1 patterns by the recipe)."""
    if shape.task_data is not None:
        return shape.task_data.X, shape.task_data.Y
    if shape.task_digest:
        raise SweepError(
            f"task {shape.task!r}: its data is not at hand (a stored sweep records its "
            "digest only): give the task again"
        )
    return get_task(shape.task)


def is_regression(shape: Any) -> bool:
    """Whether the shape's task has targets other than 0 and 1 (nothing is solved)."""
    return shape.task_data is not None and not shape.task_data.classes


def shape_key(shape: Any) -> str:
    """The shape's part of a trial id's key (:func:`sweep.config.axes.shape_key_of`)."""
    return shape_key_of(vars(shape))


def trial_id(shape: Any, seed: int, lr: float, prefix: str | None = None) -> str:
    """A trial's id: a hash of its full parameter set (16 hex digits).

    Floats enter as their shortest round-trip repr, so equal values give
    equal ids on every machine; numpy scalars as the Python numbers they
    equal (numpy 2 writes ``np.int64(3)``). ``prefix`` may carry
    ``shape``'s part of the key (:func:`shape_key`), computed once for many trials.
    """
    return _hash(f"{prefix or shape_key(shape)}|seed={int(seed)!r}|lr={float(lr)!r}")


def _hash(key: str) -> str:
    return hashlib.blake2b(key.encode(), digest_size=8).hexdigest()


@dataclasses.dataclass(frozen=True, eq=False)
class Block:
    """Trials of one shape, unexpanded: every seed of ``seeds`` with every lr of
    ``lrs``, seed-major (trial k is seed ``k // len(lrs)`` with lr ``k % len(lrs)``),
    or, if ``paired``, ``seeds[k]`` with ``lrs[k]``. Seeds given as a range stay
    one until a chunk's are drawn (:meth:`take`): a sweep of 10^8 trials
    never holds 10^8 of anything. ``ids``: the trials' ids (numbers), where
    planning needed them."""

    shape: Any
    seeds: range | np.ndarray
    lrs: np.ndarray
    paired: bool = False
    ids: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.seeds) if self.paired else len(self.seeds) * len(self.lrs)

    def take(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Seeds and lrs (aligned int64 and float64 arrays) of trials ``start:stop``."""
        if self.paired:
            return specs.as_array(self.seeds[start:stop]), self.lrs[start:stop]
        n = len(self.lrs)
        first, last = start // n, -(-stop // n)
        seeds = specs.as_array(self.seeds[first:last])
        cut = slice(start - first * n, stop - first * n)
        return np.repeat(seeds, n)[cut], np.tile(self.lrs, len(seeds))[cut]

    def cuts(self, start: int, stop: int, size: int) -> Iterator[tuple[int, int]]:
        """Trials ``start:stop`` in pieces of at most ``size``, each a rectangle
        (whole rows of lrs for consecutive seeds, or part of one seed's row)
        where the block is a product, so that :meth:`rectangle` can record it."""
        n = 1 if self.paired else len(self.lrs)
        pos = start
        while pos < stop:
            end = min(pos + size // n * n, stop // n * n) if pos % n == 0 else pos
            if end <= pos:  # within one seed's row: up to its end
                end = min(stop, pos + size, (pos // n + 1) * n)
            yield pos, end
            pos = end

    def rectangle(self, start: int, stop: int) -> tuple[int, int, tuple[float, ...]] | None:
        """Trials ``start:stop`` as (lo, hi, lrs): every seed lo <= s < hi with each
        of ``lrs``; None if they are not such a rectangle."""
        if self.paired or stop <= start:
            return None
        n = len(self.lrs)
        first, last = start // n, (stop - 1) // n
        if first == last:
            lrs = self.lrs[start - first * n : stop - first * n]
        elif start % n == 0 and stop % n == 0:
            lrs = self.lrs
        else:
            return None
        seeds = self.seeds[first : last + 1]
        lo, hi = int(seeds[0]), int(seeds[-1]) + 1
        contiguous = (isinstance(seeds, range) and seeds.step == 1) or (
            hi - lo == len(seeds) and bool(np.all(np.diff(seeds) == 1))
        )
        return (lo, hi, tuple(float(lr) for lr in lrs)) if contiguous else None


def blocks(config: SweepConfig | Study) -> Iterator[Block]:
    """Every shape of the sweep with its trials, each trial once: over the union of
    the grids, each the product of its listed axes, its sampled points and its seeds."""
    parts: dict[Any, list[tuple[range | np.ndarray, np.ndarray]]] = {}
    for grid in config.grids:
        for shape, seeds, lrs in _grid_blocks(grid):
            parts.setdefault(shape, []).append((seeds, lrs))
    for shape, these in parts.items():
        if len(these) == 1:  # one product of unique seeds and lrs: no repeats
            yield Block(shape, *these[0])
            continue
        lrs = these[0][1]
        if all(np.array_equal(lr, lrs) for _, lr in these):  # more seeds, the same lrs
            seeds = functools.reduce(np.union1d, (specs.as_array(s) for s, _ in these))
            if len(seeds) and seeds[-1] - seeds[0] + 1 == len(seeds):
                seeds = range(int(seeds[0]), int(seeds[-1]) + 1)
            yield Block(shape, seeds, lrs)
            continue
        pairs = np.empty(
            sum(len(s) * len(lr) for s, lr in these), dtype=[("seed", np.int64), ("lr", float)]
        )
        pairs["seed"] = np.concatenate([np.repeat(specs.as_array(s), len(lr)) for s, lr in these])
        pairs["lr"] = np.concatenate([np.tile(lr, len(s)) for s, lr in these])
        pairs = np.unique(pairs)
        yield Block(
            shape,
            np.ascontiguousarray(pairs["seed"]),
            np.ascontiguousarray(pairs["lr"]),
            paired=True,
        )


def trials(config: SweepConfig | Study) -> Iterator[tuple[Any, np.ndarray, np.ndarray]]:
    """Every shape of the sweep with its trials' seeds and learning rates, as
    aligned arrays (:func:`blocks`, expanded: for sweeps that fit in memory)."""
    for block in blocks(config):
        yield block.shape, *block.take(0, len(block))


def _grid_blocks(grid: SweepConfig) -> Iterator[tuple[Any, range | np.ndarray, np.ndarray]]:
    """(shape, seeds, lrs) of one grid, its trials the product seeds x lrs, for each
    listed combination and sampled point (a shape may come more than once, with
    other lrs)."""
    paired = ("init_low", "init_high")
    names = [
        a.name
        for a in SHAPE_AXES
        if a.name not in paired and a.name not in grid.distributions and not a.derived
    ]
    sampled = list(grid.distributions)
    seeds = grid.seeds if isinstance(grid.seeds, range) else specs.as_array(grid.seeds)
    for combo in itertools.product(*(grid.values[name] for name in names)):
        values = dict(zip(names, combo, strict=True))
        values["task_digest"] = grid.tasks.get(values["task"], "")
        values["task_data"] = grid.task_data.get(values["task"])
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
                shape = Shape(
                    **values,
                    init_low=low,
                    init_high=high,
                    curve=grid.curve,
                    curve_every=grid.curve_stride(values["epochs"]),
                )
                yield shape, seeds, lrs


def shapes(config: SweepConfig | Study) -> list[Any]:
    """Every shape of the sweep."""
    return [block.shape for block in blocks(config)]


def count_trials(config: SweepConfig | Study) -> int:
    """How many trials the sweep has."""
    return sum(len(block) for block in blocks(config))


#: From this many trials on, ids are hashed by compiled code (:mod:`sweep.config.ids`,
#: the same ids), in a fraction of the time a trial, at the price of loading it
#: once per process and compiling it once per machine: worth it only for runs
#: this large (docs/performance.md, "Scale").
COMPILED_IDS_FROM = 200_000


def trial_ids(
    shape: Any, seeds: np.ndarray, lrs: np.ndarray, compiled: bool | None = None
) -> np.ndarray:
    """:func:`trial_id` of each (seed, lr) of ``shape``, as an object array
    (``compiled``: by :mod:`sweep.config.ids`; None: for :data:`COMPILED_IDS_FROM` trials on)."""
    prefix = shape_key(shape)
    if compiled or (compiled is None and len(seeds) >= COMPILED_IDS_FROM):
        from ..config import ids

        return ids.to_text(ids.id_numbers(prefix, seeds, lrs))
    pairs = zip(seeds.tolist(), lrs.tolist(), strict=True)
    return np.array([trial_id(shape, s, lr, prefix) for s, lr in pairs], dtype=object)


def trial_numbers(shape: Any, seeds: np.ndarray, lrs: np.ndarray) -> np.ndarray:
    """:func:`trial_ids` as uint64 numbers (:mod:`sweep.config.ids`), compiled for
    :data:`COMPILED_IDS_FROM` trials on."""
    return key_numbers(shape_key(shape), seeds, lrs)


def key_numbers(key: str, seeds: np.ndarray, lrs: np.ndarray) -> np.ndarray:
    """The ids (uint64 numbers) of trials (seed, lr) of the shape whose key is ``key``."""
    if len(seeds) >= COMPILED_IDS_FROM:
        from ..config import ids

        return ids.id_numbers(key, seeds, lrs)
    pairs = zip(seeds.tolist(), lrs.tolist(), strict=True)
    return np.fromiter(
        (int(_hash(f"{key}|seed={s!r}|lr={float(lr)!r}"), 16) for s, lr in pairs),
        np.uint64,
        count=len(seeds),
    )


def grid_frame(config: SweepConfig | Study) -> pandas.DataFrame:
    """All trials of ``config`` as a DataFrame (``trial_id`` + parameter columns)."""
    import pandas as pd

    frames = []
    for shape, seeds, lrs in trials(config):
        frame = pd.DataFrame({"trial_id": trial_ids(shape, seeds, lrs), "seed": seeds, "lr": lrs})
        for axis in SHAPE_AXES:
            frame[axis.column] = getattr(shape, axis.name)
        frames.append(frame[["trial_id", *PARAM_COLUMNS]])
    return pd.concat(frames, ignore_index=True)
