"""The one place that turns user input into a validated sweep definition.

Input arrives as strings (CLI flags), TOML values or Python values (API);
:func:`make_config` accepts all three and either returns a
:class:`SweepConfig` or raises :class:`~sweep.errors.ConfigError` whose
message names the field and the problem in one line.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from kernels import DTYPES, EXP_MODES, default_curve_every, is_task

from . import specs
from .errors import ConfigError

#: Largest hidden width accepted (memory per network grows with it).
MAX_WIDTH = 4096
#: Seeds must fit numpy's RandomState.
MAX_SEED = 2**32 - 1

#: The embedded main job: what ``sweep run`` does with no arguments.
DEFAULTS: dict[str, Any] = {
    "task": "xor",
    "seeds": "0:1000",
    "lr": "log:0.01:10:7",
    "width": "1:7",
    "epochs": 10_000,
    "tol": 0.1,
    "init_low": 0.0,
    "init_high": 1.0,
    "dtype": "float64",
    "exp": "fast",
    "curve_every": None,
    "early_stop": False,
}


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep: every combination of the axes is one trial.

    Axes: ``task``, ``seeds``, ``lr``, ``width``, ``epochs``, ``tol``,
    ``init_low``, ``init_high``, ``dtype`` (pairs with init_low >= init_high
    are skipped). Settings shared by all trials:
    ``exp`` (``fast`` or ``exact``, see :mod:`kernels.train`),
    ``curve_every`` (loss-curve stride; ``None`` means epochs // 100) and
    ``early_stop`` (freeze each network once solved and converged, see
    :mod:`kernels.model`).
    """

    task: tuple[str, ...]
    seeds: tuple[int, ...]
    lr: tuple[float, ...]
    width: tuple[int, ...]
    epochs: tuple[int, ...]
    tol: tuple[float, ...]
    init_low: tuple[float, ...]
    init_high: tuple[float, ...]
    dtype: tuple[str, ...]
    exp: str
    curve_every: int | None
    early_stop: bool

    def curve_stride(self, epochs: int) -> int:
        """Loss-curve stride for a run of ``epochs`` epochs."""
        return default_curve_every(epochs) if self.curve_every is None else self.curve_every

    @property
    def n_trials(self) -> int:
        n_init = sum(1 for lo in self.init_low for hi in self.init_high if lo < hi)
        return math.prod(
            len(v) for v in (self.task, self.seeds, self.lr, self.width, self.epochs,
                             self.tol, self.dtype)
        ) * n_init  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (stored with the results; equal dicts = same sweep).

        Integer axes are compact specs (``"0:1000000"``); ``make_config`` of
        this dict gives the same config back.
        """
        # Not dataclasses.asdict: it deep-copies every seed (0.7 s for 10^6 seeds).
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        out = {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
        out["seeds"] = specs.compact_ints(self.seeds)
        out["width"] = specs.compact_ints(self.width)
        return out


CONFIG_KEYS = tuple(f.name for f in fields(SweepConfig))


def _check(field: str, ok: bool, problem: str) -> None:
    if not ok:
        raise ConfigError(field, problem)


def _one_value(field: str, value: Any, parse) -> Any:
    values = parse(field, value)
    _check(field, len(values) == 1, f"expected one value, got {len(values)}")
    return values[0]


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

    task = specs.unique(specs.name_spec("task", raw["task"]))
    for name in task:
        _check("task", is_task(name), f"unknown task {name!r} (known: xor, xnor, and, or, "
               "parity2..parity8, encoder2..encoder64)")  # fmt: skip

    seeds = specs.unique(specs.int_spec("seeds", raw["seeds"]))
    bad = [s for s in seeds if not 0 <= s <= MAX_SEED]
    _check("seeds", not bad, f"seed {bad[0] if bad else 0} is outside 0..{MAX_SEED}")

    lr = specs.unique(specs.float_spec("lr", raw["lr"]))
    for v in lr:
        _check("lr", math.isfinite(v) and v > 0, f"must be positive and finite, got {v!r}")

    width = specs.unique(specs.int_spec("width", raw["width"]))
    for v in width:
        _check("width", 1 <= v <= MAX_WIDTH, f"must be between 1 and {MAX_WIDTH}, got {v}")

    epochs = specs.unique(specs.int_spec("epochs", raw["epochs"]))
    for v in epochs:
        _check("epochs", v >= 1, f"must be at least 1, got {v}")

    tol = specs.unique(specs.float_spec("tol", raw["tol"]))
    for v in tol:
        _check("tol", 0 < v < 1, f"must be in (0, 1), got {v!r}")

    init_low = specs.unique(specs.float_spec("init_low", raw["init_low"]))
    init_high = specs.unique(specs.float_spec("init_high", raw["init_high"]))
    for field, vals in (("init_low", init_low), ("init_high", init_high)):
        for v in vals:
            _check(field, math.isfinite(v), f"must be finite, got {v!r}")
    # Pairs with low >= high are skipped; at least one pair must be a range.
    _check("init_low", any(lo < hi for lo in init_low for hi in init_high),
           f"must be below init_high, got {init_low[0]!r} >= {init_high[0]!r}")  # fmt: skip

    dtype = specs.unique(specs.name_spec("dtype", raw["dtype"]))
    for v in dtype:
        _check("dtype", v in DTYPES, f"must be one of {', '.join(DTYPES)}, got {v!r}")
    if "float32" in dtype:
        big = [v for v in lr if v > float(np.finfo(np.float32).max)]
        _check("lr", not big, f"{big[0] if big else 0!r} does not fit in float32")

    exp = _one_value("exp", raw["exp"], specs.name_spec)
    _check("exp", exp in EXP_MODES, f"must be one of {', '.join(EXP_MODES)}, got {exp!r}")

    curve_every = raw["curve_every"]
    if curve_every is not None:
        curve_every = _one_value("curve_every", curve_every, specs.int_spec)
        _check("curve_every", curve_every >= 0, f"must be 0 or more, got {curve_every}")

    early_stop = specs.bool_spec("early_stop", raw["early_stop"])

    return SweepConfig(task=task, seeds=seeds, lr=lr, width=width, epochs=epochs, tol=tol,
                       init_low=init_low, init_high=init_high, dtype=dtype, exp=exp,
                       curve_every=curve_every, early_stop=early_stop)  # fmt: skip


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
