"""How a run trains (not what): its folder, workers, backend, chunk size and store,
validated once."""

from __future__ import annotations

import os
import re
import resource
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, require

#: Keys a TOML file may hold besides the config keys: options of the run.
RUN_KEYS = ("name", "out", "jobs", "backend", "store")

#: What a run stores of each trial: every column, or all but the arrays
#: (weights, outputs, loss curve; sweep.config.schema.ARRAY_COLUMNS), for studies
#: of millions of trials that need only the statistics.
STORES = ("full", "summary")

#: Execution backends (see :mod:`sweep.runner.execute`).
BACKENDS = ("threading", "loky", "sequential", "dask")

#: Threads: the kernels release the GIL (why, and when to choose another: sweep.runner.execute).
DEFAULT_BACKEND = "threading"

#: Sweeps above these estimates are refused unless ``force=True`` (``--force``;
#: sweep.runner.estimate estimates them).
MAX_TRIALS = 10_000_000
MAX_BYTES = 16 * 2**30

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
    require(
        "jobs", n <= max_jobs(), f"{n:,} workers, more than this machine allows ({max_jobs():,})"
    )
    require(
        "jobs",
        n <= cores or force,
        f"{n} workers on {cores} core{'s' * (cores != 1)} would "
        "only compete; --force (force=True) starts them anyway",
    )
    return n


def _scheduler(scheduler: Any, backend: str) -> str | None:
    if scheduler is None:
        return None
    require("scheduler", backend == "dask", "a Dask scheduler needs --backend dask")
    text = str(scheduler).strip()
    match = _SCHEDULER.fullmatch(text)
    require(
        "scheduler",
        match is not None and 0 < int(match.group(3)) < 65536,
        f"expected an address such as tcp://host:8786, got {scheduler!r}",
    )
    return text


def make_run_options(
    name: Any = None,
    out: Any = None,
    jobs: Any = None,
    backend: Any = None,
    store: Any = None,
    chunk_size: Any = None,
    scheduler: Any = None,
    force: bool = False,
) -> RunOptions:
    """Validate the options of a run; ``None`` means the default."""
    run_name = DEFAULT_NAME if name is None else name
    if (
        not isinstance(run_name, str)
        or not run_name.strip()
        or "/" in run_name
        or run_name
        in (
            ".",
            "..",
        )
    ):
        raise ConfigError("name", f"must be a plain folder name, got {run_name!r}")
    out_dir = Path(out) if out is not None else DEFAULT_ROOT / run_name
    run_backend = backend or DEFAULT_BACKEND
    require(
        "backend",
        run_backend in BACKENDS,
        f"unknown backend {run_backend!r} (choose {', '.join(BACKENDS)})",
    )
    address = _scheduler(scheduler, run_backend)
    n_jobs = _jobs(jobs, force, remote=address is not None)
    size = None if chunk_size is None else _whole("chunk_size", chunk_size, 1, MAX_CHUNK_SIZE)
    kept = store or "full"
    require("store", kept in STORES, f"must be one of {', '.join(STORES)}, got {kept!r}")
    return RunOptions(out_dir, n_jobs, run_backend, size, kept, address)
