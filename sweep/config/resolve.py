"""Any accepted form of a run's input (a config, a mapping, a TOML file, keyword
settings) turned into a config and run options, or one ConfigError: the
validation a run does before anything heavy loads or anything is written."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .options import RUN_KEYS, RunOptions, make_run_options
from .study import Study, SweepConfig, make_study
from .toml import read_toml


def resolve(
    config: SweepConfig | Mapping[str, Any] | str | Path | None = None,
    *,
    name: str | None = None,
    out: str | Path | None = None,
    jobs: int | str | None = None,
    backend: str | None = None,
    store: str | None = None,
    chunk_size: int | str | None = None,
    scheduler: str | None = None,
    force: bool = False,
    **settings: Any,
) -> tuple[SweepConfig | Study, RunOptions]:
    """Turn any accepted form of input into a config and run options, or ConfigError.

    ``config`` is a :class:`SweepConfig`, a mapping of settings, or the path
    of a TOML file; ``settings`` (config keys) and the keyword options
    override what it says. ``None`` means "not given".
    """
    values: dict[str, Any] = {}
    if isinstance(config, (SweepConfig, Study)):
        values = config.to_dict(data=True)
    elif isinstance(config, (str, Path)):
        values = read_toml(config)
    elif isinstance(config, Mapping):
        values = dict(config)
    elif config is not None:
        raise ConfigError("config", f"expected a SweepConfig, mapping or TOML path, got {config!r}")
    given = {"name": name, "out": out, "jobs": jobs, "backend": backend, "store": store}
    chosen = {k: given[k] if given[k] is not None else values.get(k) for k in RUN_KEYS}
    cfg = make_study({k: v for k, v in values.items() if k not in RUN_KEYS}, **settings)
    return cfg, make_run_options(**chosen, chunk_size=chunk_size, scheduler=scheduler, force=force)
