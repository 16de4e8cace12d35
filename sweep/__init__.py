"""sweep: train grids of tiny sigmoid networks and analyse how they converge.

import sweep
df = sweep.run(seeds="0:100", lr="log:0.01:10:7", width="1:5", out="results/demo")
df = sweep.load("results/demo")
"""

from .api import check_size, resolve, run
from .config import SweepConfig, make_config
from .errors import ConfigError, SweepError
from .store import load

__all__ = [
    "ConfigError",
    "SweepConfig",
    "SweepError",
    "check_size",
    "load",
    "make_config",
    "resolve",
    "run",
]
