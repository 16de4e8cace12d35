"""The one place that turns user input into a validated sweep definition.

Input arrives as strings (CLI flags), TOML values or Python values (API);
:func:`make_config` accepts all three and either returns a
:class:`SweepConfig` or raises :class:`~sweep.errors.ConfigError` whose
message names the field and the problem in one line.
"""

from __future__ import annotations

import itertools
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kernels import default_curve_every
from kernels.recipe import Recipe, RecipeError

from . import specs
from .axes import AXES, BY_NAME, MAX_SEED, MAX_WIDTH, RECIPE_AXES
from .errors import ConfigError

__all__ = ["MAX_SEED", "MAX_WIDTH", "SweepConfig", "make_config", "make_recipe"]

#: The embedded main job: what ``sweep run`` does with no arguments.
DEFAULTS: dict[str, Any] = {axis.name: axis.default for axis in AXES} | {"curve_every": None}
CONFIG_KEYS = tuple(DEFAULTS)


def make_recipe(values: Mapping[str, Any]) -> Recipe:
    """The training recipe of one trial from its axis values (RecipeError if invalid)."""
    fields = {axis.name: values[axis.name] for axis in RECIPE_AXES}
    fields["targets"] = specs.parse_pair(fields["targets"])
    return Recipe(**fields)


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep: every combination of the axes' values is one trial.

    ``values`` maps each axis (:data:`sweep.axes.AXES`) to its values;
    ``config.<axis>`` reads them (the value itself for a single-valued axis
    such as ``exp``). Pairs with init_low >= init_high are skipped.
    ``curve_every`` is the loss-curve stride (``None``: epochs // 100).
    """

    values: dict[str, tuple]
    curve_every: int | None

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values")
        if values is None or name not in values:
            raise AttributeError(name)
        return values[name][0] if BY_NAME[name].single else values[name]

    def curve_stride(self, epochs: int) -> int:
        """Loss-curve stride for a run of ``epochs`` epochs."""
        return default_curve_every(epochs) if self.curve_every is None else self.curve_every

    @property
    def n_trials(self) -> int:
        n_init = sum(1 for lo in self.init_low for hi in self.init_high if lo < hi)
        others = [len(v) for k, v in self.values.items() if k not in ("init_low", "init_high")]
        return math.prod(others) * n_init

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (stored with the results; equal dicts = same sweep).

        Integer axes are compact specs (``"0:1000000"``); an axis added after
        the first ones is left out at its default, so a sweep's form does not
        change when axes are added. ``make_config`` of this dict gives the
        same config back.
        """
        out: dict[str, Any] = {}
        for axis in AXES:
            values = self.values[axis.name]
            if not axis.classic and values == (axis.id_default,):
                continue
            if axis.single:
                out[axis.name] = values[0]
            elif axis.name in ("seeds", "width"):
                out[axis.name] = specs.compact_ints(values)
            else:
                out[axis.name] = list(values)
        out["curve_every"] = self.curve_every
        return out


def _check(field: str, ok: bool, problem: str) -> None:
    if not ok:
        raise ConfigError(field, problem)


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

    parsed: dict[str, tuple] = {}
    for axis in AXES:
        axis_values = specs.unique(axis.parse(axis.name, raw[axis.name]))
        if axis.single:
            _check(axis.name, len(axis_values) == 1,
                   f"expected one value, got {len(axis_values)}")  # fmt: skip
        if axis.check is not None:
            axis.check(axis.name, axis_values)
        parsed[axis.name] = axis_values

    init_low, init_high = parsed["init_low"], parsed["init_high"]
    # Pairs with low >= high are skipped; at least one pair must be a range.
    _check("init_low", any(lo < hi for lo in init_low for hi in init_high),
           f"must be below init_high, got {init_low[0]!r} >= {init_high[0]!r}")  # fmt: skip
    if "float32" in parsed["dtype"]:
        big = [v for v in parsed["lr"] if v > float(np.finfo(np.float32).max)]
        _check("lr", not big, f"{big[0] if big else 0!r} does not fit in float32")
    try:
        for combo in itertools.product(*(parsed[axis.name] for axis in RECIPE_AXES)):
            recipe = make_recipe(dict(zip((axis.name for axis in RECIPE_AXES), combo,
                                          strict=True)))  # fmt: skip
            for tol in parsed["tol"]:
                recipe.check_tol(tol)
    except RecipeError as e:
        raise ConfigError(e.field, e.problem) from None

    curve_every = raw["curve_every"]
    if curve_every is not None:
        curve_every = specs.int_spec("curve_every", curve_every)
        _check("curve_every", len(curve_every) == 1,
               f"expected one value, got {len(curve_every)}")  # fmt: skip
        curve_every = curve_every[0]
        _check("curve_every", curve_every >= 0, f"must be 0 or more, got {curve_every}")
    return SweepConfig(parsed, curve_every)


#: Keys a TOML file may hold besides the config keys: options of the run.
RUN_KEYS = ("name", "out", "jobs", "backend")
#: Execution backends (see :mod:`sweep.execute`).
BACKENDS = ("threading", "loky", "sequential", "dask")
#: Threads: the kernels release the GIL (why, and when to choose another: sweep.execute).
DEFAULT_BACKEND = "threading"
#: Largest ``chunk_size`` a user may ask for.
MAX_CHUNK_SIZE = 16_384
DEFAULT_NAME = "xor"
DEFAULT_ROOT = Path("results")


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class RunOptions:
    """Validated options of a run (how, not what, to train)."""

    out: Path
    jobs: int
    backend: str
    chunk_size: int | None


def _whole(field: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not str(value).strip().lstrip("-").isdigit():
        raise ConfigError(field, f"expected a whole number, got {value!r}")
    number = int(value)
    if number < low or (high is not None and number > high):
        bound = f"at least {low}" if high is None else f"between {low} and {high}"
        raise ConfigError(field, f"must be {bound}, got {number}")
    return number


def make_run_options(name: Any = None, out: Any = None, jobs: Any = None, backend: Any = None,
                     chunk_size: Any = None) -> RunOptions:  # fmt: skip
    """Validate the options of a run; ``None`` means the default."""
    run_name = DEFAULT_NAME if name is None else name
    if not isinstance(run_name, str) or not run_name.strip() or "/" in run_name or run_name in (
        ".", "..",
    ):  # fmt: skip
        raise ConfigError("name", f"must be a plain folder name, got {run_name!r}")
    out_dir = Path(out) if out is not None else DEFAULT_ROOT / run_name
    n_jobs = default_jobs() if jobs is None else _whole("jobs", jobs, 1)
    run_backend = backend or DEFAULT_BACKEND
    _check("backend", run_backend in BACKENDS,
           f"unknown backend {run_backend!r} (choose {', '.join(BACKENDS)})")  # fmt: skip
    size = None if chunk_size is None else _whole("chunk_size", chunk_size, 1, MAX_CHUNK_SIZE)
    return RunOptions(out_dir, n_jobs, run_backend, size)


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a sweep TOML file into a flat mapping; ConfigError if it is unusable.

    Keys may sit at the top level or in a ``[sweep]`` table; dashes and
    underscores are interchangeable (``init-low`` = ``init_low``).
    """
    field = f"config {path}"
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(field, "file not found") from None
    except OSError as e:
        raise ConfigError(field, f"cannot read: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(field, f"malformed TOML: {e}") from None
    table = data.pop("sweep", {}) if isinstance(data.get("sweep"), dict) else {}
    merged = {k.replace("-", "_"): v for k, v in {**data, **table}.items()}
    known = set(CONFIG_KEYS) | set(RUN_KEYS) | {"seed"}
    unknown = sorted(set(merged) - known)
    if unknown:
        raise ConfigError(field, f"unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    return merged
