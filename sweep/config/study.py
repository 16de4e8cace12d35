"""The one place that turns user input into a validated sweep definition.

Input arrives as strings (CLI flags), TOML values or Python values (API);
:func:`make_config` accepts all three and either returns a
:class:`SweepConfig` or raises :class:`~sweep.errors.ConfigError` whose
message names the field and the problem in one line. A study may also be a
union of grids (:class:`Study`, :func:`make_study`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kernels import default_curve_every, initialisers
from kernels.model import CURVE_SCALES
from kernels.recipe import Recipe, RecipeError

from ..errors import ConfigError, require
from . import precision as precision_settings
from . import sampling, specs, task_axis
from .axes import AXES, BY_NAME, RECIPE_AXES
from .precision import Precision
from .sampling import Distribution
from .task_data import Task

#: The embedded main job: what ``sweep run`` does with no arguments.
DEFAULTS: dict[str, Any] = (
    {axis.name: axis.default for axis in AXES if not axis.derived}
    | {
        "tasks": None,
        "test_fraction": None,
        "split_seed": 0,
        "curve_every": None,
        "curve": "linear",
        "init_radius": None,
        "samples": None,
        "sampler": "sobol",
        "sample_seed": 0,
    }
    | precision_settings.SETTINGS
)

#: Points of a log-spaced loss curve, when curve_every is not given.
LOG_CURVE_POINTS = 100

CONFIG_KEYS = tuple(DEFAULTS)


def make_recipe(values: Mapping[str, Any]) -> Recipe:
    """The training recipe of one trial from its axis values (RecipeError if invalid)."""
    fields = {axis.name: values[axis.name] for axis in RECIPE_AXES}
    fields["targets"] = specs.parse_pair(fields["targets"])
    return Recipe(**fields)


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep: every combination of the axes' values is one trial.

    ``values`` maps each axis (:data:`sweep.config.axes.AXES`) to its values;
    ``config.<axis>`` reads them (the value itself for a single-valued axis
    such as ``exp``). Initial-weight ranges are the pairs (init_low,
    init_high) with init_low < init_high, or with ``init_radius`` the paired
    ranges [-R, R) (:attr:`init_pairs`).
    ``curve_every`` is the loss-curve stride (``None``: epochs // 100), or
    with ``curve == "log"`` its number of points (``None``: 100), spaced
    logarithmically from epoch 0 (:func:`kernels.model.curve_epochs`).
    """

    values: dict[str, tuple]
    curve_every: int | None
    curve: str = "linear"
    init_radius: tuple[float, ...] | None = None
    #: Sampled axes (:mod:`sweep.config.sampling`): their distributions, and the drawn
    #: points (one value per point for each sampled axis; None: no sampling).
    distributions: dict[str, Distribution] = field(default_factory=dict)
    points: dict[str, tuple] | None = None
    sampler: str = "sobol"
    sample_seed: int = 0
    #: Seeds added in rounds until this precision (None: the seeds as given).
    precision: Precision | None = None
    #: The digest of each task given as data, by name (:mod:`sweep.config.task_axis`).
    tasks: dict[str, str] = field(default_factory=dict)
    #: Those tasks' data, where given (a stored spec records digests only).
    task_data: dict[str, Task] = field(default_factory=dict, compare=False)
    #: The held-out fraction of each task and the seed of its split (None: no split).
    split: tuple[float, int] | None = None
    #: What the run's first lines say about the input (a file named like a task).
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def grids(self) -> tuple[SweepConfig, ...]:
        """The grids whose union the sweep is: this one."""
        return (self,)

    @property
    def point_rows(self) -> list[tuple]:
        """The distinct sampled points, as tuples in :attr:`distributions` order."""
        if not self.points:
            return [()]
        columns = [self.points[name] for name in self.distributions]
        return list(dict.fromkeys(zip(*columns, strict=True)))

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values")
        if values is None or name not in values:
            raise AttributeError(name)
        return values[name][0] if BY_NAME[name].single else values[name]

    def curve_stride(self, epochs: int) -> int:
        """Loss-curve stride (linear) or number of points (log) for ``epochs`` epochs."""
        if self.curve_every is not None:
            return self.curve_every
        return LOG_CURVE_POINTS if self.curve == "log" else default_curve_every(epochs)

    @property
    def init_pairs(self) -> list[tuple[float, float]]:
        """The initial-weight ranges (low, high) of the sweep, in order (with a
        sampled ``init_radius``, the points give them)."""
        if self.init_radius is not None:
            return [(-r, r) for r in self.init_radius]
        return [(lo, hi) for lo in self.init_low for hi in self.init_high if lo < hi]

    @property
    def n_trials(self) -> int:
        paired = ("init_low", "init_high")
        listed = [
            len(v)
            for k, v in self.values.items()
            if k not in paired and k not in self.distributions
        ]
        pairs = 1 if "init_radius" in self.distributions else len(self.init_pairs)
        return math.prod(listed) * pairs * len(self.point_rows)

    def contains(self, other: SweepConfig) -> bool:
        """Whether every trial of ``other`` is a trial of this sweep (same settings,
        each listed axis's values, the init ranges and the sampled points a subset
        of this one's)."""
        if (other.curve, other.curve_every) != (self.curve, self.curve_every):
            return False
        if set(other.distributions) != set(self.distributions):
            return False
        if not set(other.point_rows) <= set(self.point_rows):
            return False
        sampled_init = "init_radius" in self.distributions
        if not sampled_init and not set(other.init_pairs) <= set(self.init_pairs):
            return False
        listed = [
            k
            for k in self.values
            if k not in ("init_low", "init_high", "seeds") and k not in self.distributions
        ]
        if any(self.tasks.get(name) != digest for name, digest in other.tasks.items()):
            return False
        seeds = precision_settings.potential_seeds(self.values["seeds"], self.precision)
        theirs = precision_settings.potential_seeds(other.values["seeds"], other.precision)
        return specs.is_subset(theirs, seeds) and all(
            specs.is_subset(other.values[k], self.values[k]) for k in listed
        )

    def to_dict(self, data: bool = False) -> dict[str, Any]:
        """Plain JSON-able form (stored with the results; equal dicts = same sweep).

        Integer axes are compact specs (``"0:1000000"``); an axis added after
        the first ones is left out at its default, so a sweep's form does not
        change when axes are added. ``make_config`` of this dict gives the
        same config back. A task given as data is its name, with its digest under
        ``tasks``; ``data``: the :class:`Task` itself where at hand (not JSON-able,
        for making the config again in this process).
        """
        out: dict[str, Any] = {}
        for axis in AXES:
            values = self.values[axis.name]
            if axis.name in self.distributions:
                out[axis.name] = self.distributions[axis.name].text
                continue
            if not axis.classic and values == (axis.id_default,):
                continue
            if self.init_radius is not None and axis.name in ("init_low", "init_high"):
                continue  # given as init_radius
            if axis.single:
                out[axis.name] = values[0]
            elif axis.name in ("seeds", "width"):
                out[axis.name] = specs.compact_ints(values)
            else:
                out[axis.name] = list(values)
        stored = {k: v for k, v in self.tasks.items() if not (data and k in self.task_data)}
        if data:
            out["task"] = [self.task_data.get(name, name) for name in self.values["task"]]
        if stored:
            out["tasks"] = stored
        if self.split is not None:
            out["test_fraction"], out["split_seed"] = self.split
        out["curve_every"] = self.curve_every
        if self.curve != "linear":
            out["curve"] = self.curve
        if "init_radius" in self.distributions:
            out["init_radius"] = self.distributions["init_radius"].text
        elif self.init_radius is not None:
            out["init_radius"] = list(self.init_radius)
        if self.distributions:
            out["samples"] = len(next(iter(self.points.values())))
            out["sampler"], out["sample_seed"] = self.sampler, self.sample_seed
        if self.precision is not None:
            out |= self.precision.to_dict()
        return out


def make_config(values: Mapping[str, Any] | None = None, **overrides: Any) -> SweepConfig:
    """Validate ``values`` (+ ``overrides``) over :data:`DEFAULTS` into a config.

    Keys are :data:`CONFIG_KEYS`; ``seed`` is accepted for ``seeds``. Values
    may be spec strings, numbers or sequences. ``None`` means "the default".
    """
    given = dict(values or {})
    given.update({k: v for k, v in overrides.items() if v is not None})
    if "seed" in given:
        given.setdefault("seeds", given.pop("seed"))
    unknown = sorted(set(given) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(unknown[0], f"unknown setting (known: {', '.join(CONFIG_KEYS)})")
    raw = {k: (DEFAULTS[k] if given.get(k) is None else given[k]) for k in CONFIG_KEYS}

    if isinstance(given.get("grids"), list):
        raise ConfigError("grids", "a union of grids: use make_study")
    distributions: dict[str, Distribution] = {}
    for name in (*SAMPLEABLE, "init_radius"):
        dist = sampling.parse(name, raw[name], integer=name in INTEGER_AXES)
        if dist is not None:
            distributions[name] = dist
    points = sampling.draw_points(distributions, raw)
    split = task_axis.split_of(raw)
    resolved = task_axis.resolve(raw["task"], raw["tasks"], split)
    parsed: dict[str, tuple] = {"task": resolved.names}
    for axis in AXES:
        if axis.name == "task":
            continue
        if axis.derived:
            parsed[axis.name] = (axis.id_default,)  # per task: see the grid's shapes
            continue
        if axis.name in distributions:
            axis_values = specs.unique(points[axis.name])
            if axis.check is not None:
                axis.check(axis.name, axis_values)
            parsed[axis.name] = axis_values
            continue
        axis_values = specs.unique(axis.parse(axis.name, raw[axis.name]))
        if axis.single:
            require(axis.name, len(axis_values) == 1, f"expected one value, got {len(axis_values)}")
        if axis.check is not None:
            axis.check(axis.name, axis_values)
        parsed[axis.name] = axis_values

    init_radius = None
    if raw["init_radius"] is not None:
        both = [k for k in ("init_low", "init_high") if given.get(k) is not None]
        drawn = points.get("init_radius")
        init_radius = specs.radii("init_radius", raw["init_radius"], drawn, both)
        parsed["init_low"], parsed["init_high"] = tuple(-r for r in init_radius), init_radius
    init_low, init_high = parsed["init_low"], parsed["init_high"]
    # Pairs with low >= high are skipped; at least one pair must be a range.
    require(
        "init_low",
        any(lo < hi for lo in init_low for hi in init_high),
        f"must be below init_high, got {init_low[0]!r} >= {init_high[0]!r}",
    )
    radial = [name for name in parsed["init"] if initialisers.BY_NAME[name].radius] + [""]
    ok = not radial[0] or raw["init_radius"] is not None
    require("init", ok, f"{radial[0]} draws with a radius: give --init-radius R, not a range")
    if "float32" in parsed["dtype"]:
        big = [v for v in parsed["lr"] if v > float(np.finfo(np.float32).max)]
        require("lr", not big, f"{big[0] if big else 0!r} does not fit in float32")
    tasks_at_hand = resolved.at_hand()
    try:
        for combo in itertools.product(*(parsed[axis.name] for axis in RECIPE_AXES)):
            recipe = make_recipe(dict(zip((axis.name for axis in RECIPE_AXES), combo, strict=True)))
            for tol in parsed["tol"]:
                recipe.check_tol(tol)
            for task in tasks_at_hand:
                task_axis.check_recipe(task, recipe, parsed["early_stop"][0])
    except RecipeError as e:
        raise ConfigError(e.field, e.problem) from None

    curve_every = raw["curve_every"]
    if curve_every is not None:
        curve_every = specs.int_spec("curve_every", curve_every)
        require("curve_every", len(curve_every) == 1, f"expected one value, got {len(curve_every)}")
        curve_every = curve_every[0]
        require("curve_every", curve_every >= 0, f"must be 0 or more, got {curve_every}")
    curve, scales = raw["curve"], ", ".join(CURVE_SCALES)
    require("curve", curve in CURVE_SCALES, f"must be one of {scales}, got {curve!r}")
    return SweepConfig(
        parsed,
        curve_every,
        curve,
        init_radius,
        distributions,
        points or None,
        raw["sampler"],
        raw["sample_seed"],
        precision_settings.parse(raw, parsed["seeds"], parsed["epochs"]),
        resolved.digests,
        resolved.data,
        split,
        resolved.notes,
    )


#: Axes that may be sampled, and which of them take integers.
SAMPLEABLE = (
    "lr",
    "width",
    "epochs",
    "tol",
    "init_low",
    "init_high",
    "momentum",
    "weight_decay",
    "mse_target",
)

INTEGER_AXES = ("width", "epochs")


@dataclass(frozen=True)
class Study:
    """A union of grids (``[[grid]]`` tables of a TOML file): each trial once."""

    grids: tuple[SweepConfig, ...]

    def contains(self, other: SweepConfig | Study) -> bool:
        return all(any(mine.contains(theirs) for mine in self.grids) for theirs in other.grids)

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(note for grid in self.grids for note in grid.notes))

    def to_dict(self, data: bool = False) -> dict[str, Any]:
        return {"grids": [grid.to_dict(data) for grid in self.grids]}


def make_study(values: Mapping[str, Any] | None = None, **overrides: Any) -> SweepConfig | Study:
    """:func:`make_config`, or a :class:`Study` when ``values`` holds ``grids`` (a
    list of mappings, each over the other values; ``overrides`` apply to all)."""
    values = dict(values or {})
    grids = values.pop("grids", None)
    if grids is None:
        return make_config(values, **overrides)
    if not isinstance(grids, list) or not grids or not all(isinstance(g, Mapping) for g in grids):
        raise ConfigError("grid", "expected one or more tables of settings ([[grid]] in TOML)")
    precision_settings.refuse_in_unions({**values, **overrides})
    made = []
    for i, grid in enumerate(grids):
        try:
            made.append(make_config({**values, **grid}, **overrides))
        except ConfigError as e:
            raise ConfigError(f"grid {i + 1}: {e.field}", e.problem) from None
    return made[0] if len(made) == 1 else Study(tuple(made))
