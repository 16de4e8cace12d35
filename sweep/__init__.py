"""sweep: train grids of tiny neural networks and analyse how they converge.

    import sweep
    df = sweep.run(seeds="0:100", lr="log:0.01:10:7", width="1:5", out="results/demo")
    df = sweep.load("results/demo")
    print(sweep.report("results/demo", by="lr").text)

Names are imported on first use, so that worker processes, which need only
:mod:`sweep.runner.rows`, start without loading pandas and the rest of the driver.
"""

from importlib import import_module
from typing import Any

_EXPORTS = {
    "run": "api",
    "train": "api",
    "dry_run": "api",
    "resolve": "api",
    "check_size": "runner.estimate",
    "SweepConfig": "config.study",
    "Task": "config.task_data",
    "make_config": "config.study",
    "ConfigError": "errors",
    "SweepError": "errors",
    "load": "store.reader",
    "verify": "store.reader",
    "report": "reporting.reports",
    "compare_report": "reporting.comparison",
    "plot_trial": "reporting.trial",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module 'sweep' has no attribute {name!r}")
