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
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kernels import default_curve_every
from kernels.model import CURVE_SCALES
from kernels.recipe import Recipe, RecipeError

from . import sampling, specs
from .axes import AXES, BY_NAME, MAX_SEED, MAX_WIDTH, RECIPE_AXES
from .errors import ConfigError
from .sampling import Distribution

__all__ = ["MAX_SEED", "MAX_WIDTH", "SweepConfig", "make_config", "make_recipe"]

#: The embedded main job: what ``sweep run`` does with no arguments.
DEFAULTS: dict[str, Any] = {axis.name: axis.default for axis in AXES} | {
    "curve_every": None, "curve": "linear", "init_radius": None, "samples": None,
    "sampler": "sobol", "sample_seed": 0}  # fmt: skip
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

    ``values`` maps each axis (:data:`sweep.axes.AXES`) to its values;
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
    #: Sampled axes (:mod:`sweep.sampling`): their distributions, and the drawn
    #: points (one value per point for each sampled axis; None: no sampling).
    distributions: dict[str, Distribution] = field(default_factory=dict)
    points: dict[str, tuple] | None = None
    sampler: str = "sobol"
    sample_seed: int = 0

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
        listed = [len(v) for k, v in self.values.items()
                  if k not in paired and k not in self.distributions]  # fmt: skip
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
        listed = [k for k in self.values if k not in ("init_low", "init_high")
                  and k not in self.distributions]  # fmt: skip
        return all(specs.is_subset(other.values[k], self.values[k]) for k in listed)

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

    if isinstance(given.get("grids"), list):
        raise ConfigError("grids", "a union of grids: use make_study")
    distributions: dict[str, Distribution] = {}
    for name in (*SAMPLEABLE, "init_radius"):
        dist = sampling.parse(name, raw[name], integer=name in INTEGER_AXES)
        if dist is not None:
            distributions[name] = dist
    points = _draw(distributions, raw)
    parsed: dict[str, tuple] = {}
    for axis in AXES:
        if axis.name in distributions:
            axis_values = specs.unique(points[axis.name])
            if axis.check is not None:
                axis.check(axis.name, axis_values)
            parsed[axis.name] = axis_values
            continue
        axis_values = specs.unique(axis.parse(axis.name, raw[axis.name]))
        if axis.single:
            _check(axis.name, len(axis_values) == 1,
                   f"expected one value, got {len(axis_values)}")  # fmt: skip
        if axis.check is not None:
            axis.check(axis.name, axis_values)
        parsed[axis.name] = axis_values

    init_radius = None
    if raw["init_radius"] is not None:
        both = [k for k in ("init_low", "init_high") if given.get(k) is not None]
        _check("init_radius", not both, f"gives the range itself: drop {(both or [''])[0]}")
        init_radius = specs.unique(
            points["init_radius"] if "init_radius" in distributions
            else specs.float_spec("init_radius", raw["init_radius"])
        )  # fmt: skip
        for r in init_radius:
            _check("init_radius", math.isfinite(r) and r > 0, f"must be positive, got {r!r}")
        parsed["init_low"] = tuple(-r for r in init_radius)
        parsed["init_high"] = init_radius
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
    curve = raw["curve"]
    _check("curve", curve in CURVE_SCALES,
           f"must be one of {', '.join(CURVE_SCALES)}, got {curve!r}")  # fmt: skip
    return SweepConfig(parsed, curve_every, curve, init_radius, distributions,
                       points or None, raw["sampler"], raw["sample_seed"])  # fmt: skip


#: Axes that may be sampled, and which of them take integers.
SAMPLEABLE = ("lr", "width", "epochs", "tol", "init_low", "init_high", "momentum",
              "weight_decay", "mse_target")  # fmt: skip
INTEGER_AXES = ("width", "epochs")


def _draw(distributions: dict[str, Distribution], raw: dict[str, Any]) -> dict[str, tuple]:
    """The sampled points (see :mod:`sweep.sampling`), validating the settings of the draw."""
    samples = raw["samples"]
    if not distributions:
        _check("samples", samples is None, "no axis is sampled: give one a distribution, "
               "e.g. --lr loguniform:0.01:10")  # fmt: skip
        return {}
    first = next(iter(distributions))
    _check("samples", samples is not None, f"{first} is sampled: say how many points "
           "(--samples N)")  # fmt: skip
    n = specs.int_spec("samples", samples)
    _check("samples", len(n) == 1 and 1 <= n[0] <= specs.MAX_VALUES,
           f"must be one number from 1 to {specs.MAX_VALUES:,}, got {samples!r}")  # fmt: skip
    sampler = raw["sampler"]
    _check("sampler", sampler in sampling.SAMPLERS,
           f"must be one of {', '.join(sampling.SAMPLERS)}, got {sampler!r}")  # fmt: skip
    seed = specs.int_spec("sample_seed", raw["sample_seed"])
    _check("sample_seed", len(seed) == 1 and 0 <= seed[0] <= MAX_SEED,
           f"must be one number from 0 to {MAX_SEED}, got {raw['sample_seed']!r}")  # fmt: skip
    raw["sampler"], raw["sample_seed"] = sampler, seed[0]
    return sampling.draw(distributions, n[0], sampler, seed[0])


@dataclass(frozen=True)
class Study:
    """A union of grids (``[[grid]]`` tables of a TOML file): each trial once."""

    grids: tuple[SweepConfig, ...]

    @property
    def n_trials(self) -> int:
        from .grid import count_trials

        return count_trials(self)

    def contains(self, other: SweepConfig | Study) -> bool:
        return all(any(mine.contains(theirs) for mine in self.grids) for theirs in other.grids)

    def to_dict(self) -> dict[str, Any]:
        return {"grids": [grid.to_dict() for grid in self.grids]}


def make_study(values: Mapping[str, Any] | None = None, **overrides: Any) -> SweepConfig | Study:
    """:func:`make_config`, or a :class:`Study` when ``values`` holds ``grids`` (a
    list of mappings, each over the other values; ``overrides`` apply to all)."""
    values = dict(values or {})
    grids = values.pop("grids", None)
    if grids is None:
        return make_config(values, **overrides)
    if not isinstance(grids, list) or not grids or not all(isinstance(g, Mapping) for g in grids):
        raise ConfigError("grid", "expected one or more tables of settings ([[grid]] in TOML)")
    made = []
    for i, grid in enumerate(grids):
        try:
            made.append(make_config({**values, **grid}, **overrides))
        except ConfigError as e:
            raise ConfigError(f"grid {i + 1}: {e.field}", e.problem) from None
    return made[0] if len(made) == 1 else Study(tuple(made))


#: Keys a TOML file may hold besides the config keys: options of the run.
RUN_KEYS = ("name", "out", "jobs", "backend", "store")
#: What a run stores of each trial: every column, or all but the arrays
#: (weights, outputs, loss curve; sweep.schema.ARRAY_COLUMNS), for studies
#: of millions of trials that need only the statistics.
STORES = ("full", "summary")
#: Execution backends (see :mod:`sweep.execute`).
BACKENDS = ("threading", "loky", "sequential", "dask")
#: Threads: the kernels release the GIL (why, and when to choose another: sweep.execute).
DEFAULT_BACKEND = "threading"
#: Largest ``chunk_size`` a user may ask for.
MAX_CHUNK_SIZE = 65_536
DEFAULT_NAME = "xor"
DEFAULT_ROOT = Path("results")


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: Most workers per core a forced run may start (threads or processes that only
#: compete for the cores beyond this; the system's own limit may be lower).
MAX_JOBS_PER_CORE = 16
#: A Dask scheduler's address: [protocol://]host:port.
_SCHEDULER = re.compile(r"((tcp|tls|inproc|ucx|ws|wss)://)?\[?[A-Za-z0-9_.:-]+\]?:(\d{1,5})")


def max_jobs() -> int:
    """The most workers a run may start here (with ``force``): a few per core, and
    no more than half the processes this user may start."""
    import resource

    most = MAX_JOBS_PER_CORE * default_jobs()
    soft, _ = resource.getrlimit(resource.RLIMIT_NPROC)
    if soft != resource.RLIM_INFINITY:
        most = min(most, max(1, soft // 2))
    return most


@dataclass(frozen=True)
class RunOptions:
    """Validated options of a run (how, not what, to train)."""

    out: Path
    jobs: int
    backend: str
    chunk_size: int | None
    store: str = "full"
    scheduler: str | None = None


def _whole(field: str, value: Any, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not str(value).strip().lstrip("-").isdigit():
        raise ConfigError(field, f"expected a whole number, got {value!r}")
    number = int(value)
    if number < low or (high is not None and number > high):
        bound = f"at least {low}" if high is None else f"between {low} and {high}"
        raise ConfigError(field, f"must be {bound}, got {number}")
    return number


def _jobs(jobs: Any, force: bool, remote: bool) -> int:
    """Workers to start: at most one per core unless ``force``, never more than
    :func:`max_jobs` (a remote Dask cluster has its own workers)."""
    if jobs is None:
        return default_jobs()
    n = _whole("jobs", jobs, 1)
    cores = default_jobs()
    if remote:
        return n
    _check("jobs", n <= max_jobs(), f"{n:,} workers, more than this machine allows "
           f"({max_jobs():,})")  # fmt: skip
    _check("jobs", n <= cores or force, f"{n} workers on {cores} core{'s' * (cores != 1)} would "
           "only compete; --force (force=True) starts them anyway")  # fmt: skip
    return n


def _scheduler(scheduler: Any, backend: str) -> str | None:
    if scheduler is None:
        return None
    _check("scheduler", backend == "dask", "a Dask scheduler needs --backend dask")
    text = str(scheduler).strip()
    match = _SCHEDULER.fullmatch(text)
    _check("scheduler", match is not None and 0 < int(match.group(3)) < 65536,
           f"expected an address such as tcp://host:8786, got {scheduler!r}")  # fmt: skip
    return text


def make_run_options(name: Any = None, out: Any = None, jobs: Any = None, backend: Any = None,
                     store: Any = None, chunk_size: Any = None, scheduler: Any = None,
                     force: bool = False) -> RunOptions:  # fmt: skip
    """Validate the options of a run; ``None`` means the default."""
    run_name = DEFAULT_NAME if name is None else name
    if not isinstance(run_name, str) or not run_name.strip() or "/" in run_name or run_name in (
        ".", "..",
    ):  # fmt: skip
        raise ConfigError("name", f"must be a plain folder name, got {run_name!r}")
    out_dir = Path(out) if out is not None else DEFAULT_ROOT / run_name
    run_backend = backend or DEFAULT_BACKEND
    _check("backend", run_backend in BACKENDS,
           f"unknown backend {run_backend!r} (choose {', '.join(BACKENDS)})")  # fmt: skip
    address = _scheduler(scheduler, run_backend)
    n_jobs = _jobs(jobs, force, remote=address is not None)
    size = None if chunk_size is None else _whole("chunk_size", chunk_size, 1, MAX_CHUNK_SIZE)
    kept = store or "full"
    _check("store", kept in STORES, f"must be one of {', '.join(STORES)}, got {kept!r}")
    return RunOptions(out_dir, n_jobs, run_backend, size, kept, address)


#: Largest TOML file read, and the deepest nesting of its arrays and inline
#: tables: a [[grid]] of lists is two levels; anything far beyond is refused
#: before it is parsed (the parser recurses on nesting).
MAX_TOML_BYTES = 1 << 20
MAX_TOML_NESTING = 8


def _nesting(text: bytes) -> int:
    """The deepest nesting of ``[`` and ``{`` in a TOML text, outside strings and
    comments."""
    depth = deepest = 0
    quote = None
    comment = escaped = False
    for char in text.decode("utf-8", errors="replace"):
        if comment:
            comment = char != "\n"
        elif quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            comment = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a sweep TOML file into a flat mapping; ConfigError if it is unusable.

    Keys may sit at the top level or in a ``[sweep]`` table; dashes and
    underscores are interchangeable (``init-low`` = ``init_low``).
    """
    field = f"config {path}"
    try:
        with open(path, "rb") as f:
            text = f.read(MAX_TOML_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(field, "file not found") from None
    except OSError as e:
        raise ConfigError(field, f"cannot read: {e.strerror}") from None
    _check(field, len(text) <= MAX_TOML_BYTES,
           f"larger than {MAX_TOML_BYTES // 1024} kB; a sweep's file is a few lines")  # fmt: skip
    depth = _nesting(text)
    _check(field, depth <= MAX_TOML_NESTING, f"nested {depth} levels deep; a sweep's settings "
           f"nest at most {MAX_TOML_NESTING}")  # fmt: skip
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(field, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except (tomllib.TOMLDecodeError, RecursionError) as e:
        raise ConfigError(field, f"malformed TOML: {e}") from None
    table = data.pop("sweep", {}) if isinstance(data.get("sweep"), dict) else {}
    merged = {k.replace("-", "_"): v for k, v in {**data, **table}.items()}
    known = set(CONFIG_KEYS) | set(RUN_KEYS) | {"seed", "grid"}
    unknown = sorted(set(merged) - known)
    if unknown:
        raise ConfigError(field, f"unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    if "grid" in merged:  # [[grid]] tables: a union of grids over the other keys
        grids = merged.pop("grid")
        if not isinstance(grids, list) or not all(isinstance(g, dict) for g in grids):
            raise ConfigError(field, "grid must be tables: [[grid]]")
        merged["grids"] = [{k.replace("-", "_"): v for k, v in g.items()} for g in grids]
    return merged
