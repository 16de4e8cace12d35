"""A study run to a precision rather than a seed count: its settings, validated.

``precision`` is the half-width the 95% interval of each cell's statistic
must reach (``precision_of``: the ``converged`` or ``solved`` rate, or
``median-epochs``, relative to the median); seeds are added in doubling
rounds from the first block of ``seeds`` (a range), at most ``max_seeds`` a
cell. How the rounds run: :mod:`sweep.runner.precision`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, require
from . import specs

#: What a study may be run to a precision of.
STATISTICS = ("converged", "solved", "median-epochs")
DEFAULT_OF = "converged"
DEFAULT_MAX_SEEDS = 100_000
#: The settings, with their defaults (None: not a precision study).
SETTINGS = {"precision": None, "precision_of": None, "max_seeds": None}


@dataclass(frozen=True)
class Precision:
    """The target of a study run to a precision (see the module docstring)."""

    half_width: float
    of: str = DEFAULT_OF
    max_seeds: int = DEFAULT_MAX_SEEDS

    def to_dict(self) -> dict[str, Any]:
        return {"precision": self.half_width, "precision_of": self.of, "max_seeds": self.max_seeds}


def parse(raw: dict[str, Any], seeds: tuple | range, epochs: tuple) -> Precision | None:
    """The precision settings of ``raw`` (None: a study to a fixed seed count), checked
    against the sweep's seeds and epochs; ConfigError naming the field otherwise."""
    if raw.get("precision") is None:
        for name in ("precision_of", "max_seeds"):
            require(name, raw.get(name) is None, "only with --precision")
        return None
    values = specs.float_spec("precision", raw["precision"])
    require("precision", len(values) == 1, f"expected one value, got {len(values)}")
    half = values[0]
    ok = math.isfinite(half) and 0 < half < 0.5
    require("precision", ok, f"must be in (0, 0.5), got {half!r}")
    of = DEFAULT_OF if raw.get("precision_of") is None else str(raw["precision_of"])
    require("precision_of", of in STATISTICS, f"must be one of {', '.join(STATISTICS)}, got {of!r}")
    if of == "median-epochs":
        require(
            "precision_of",
            min(epochs) > 0,
            "median-epochs needs training: a sweep with --epochs 0 records no time to converge",
        )
    contiguous = isinstance(seeds, range) or (
        len(seeds) > 0 and list(seeds) == list(range(seeds[0], seeds[0] + len(seeds)))
    )
    require(
        "seeds",
        contiguous,
        "a study to a precision takes its first round from a range of seeds, START:STOP, "
        f"not a list ({specs.compact_ints(seeds)})",
    )
    most = DEFAULT_MAX_SEEDS if raw.get("max_seeds") is None else raw["max_seeds"]
    counts = specs.int_spec("max_seeds", most)
    require("max_seeds", len(counts) == 1, f"expected one value, got {len(counts)}")
    most = counts[0]
    require(
        "max_seeds",
        most >= len(seeds),
        f"{most:,} is fewer than the first round's {len(seeds):,} seeds (--seeds)",
    )
    last = seeds[0] + most - 1
    require("max_seeds", last <= 2**32 - 1, f"seeds up to {last:,} would pass numpy's 2**32 - 1")
    return Precision(half, of, most)


def potential_seeds(seeds: tuple | range, precision: Precision | None) -> tuple | range:
    """Every seed a cell may run: the seeds themselves, or for a study to a precision
    its first ``max_seeds`` from the start."""
    if precision is None:
        return seeds
    return range(seeds[0], seeds[0] + precision.max_seeds)


def refuse_in_unions(values: dict[str, Any]) -> None:
    """A union of grids runs to a fixed seed count."""
    if values.get("precision") is not None:
        raise ConfigError("precision", "runs one grid, not a union of [[grid]] tables")
