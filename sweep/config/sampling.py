"""Sampled axes: values drawn from distributions (random search), crossed with the rest.

An axis given as ``uniform:A:B``, ``loguniform:A:B`` (floats) or
``randint:A:B`` (integers in [A, B)) is sampled: ``samples`` points are
drawn jointly for all sampled axes, by a scrambled Sobol sequence (default;
:class:`scipy.stats.qmc.Sobol`) or independent uniforms
(:class:`numpy.random.Generator`), both seeded by ``sample_seed``. The
points are crossed with the listed axes and the seeds. Drawing more samples
with the same seed extends the same sequence, so a sweep grows.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ..config import specs
from ..errors import ConfigError, require
from .axes import MAX_SEED

SAMPLERS = ("sobol", "random")
KINDS = ("uniform", "loguniform", "randint")


@dataclass(frozen=True)
class Distribution:
    """One sampled axis: ``kind`` on [low, high)."""

    kind: str
    low: float
    high: float

    @property
    def text(self) -> str:
        return f"{self.kind}:{specs.format_number(self.low)}:{specs.format_number(self.high)}"

    def values(self, u: np.ndarray) -> tuple:
        """The axis values at the unit-interval points ``u``."""
        if self.kind == "randint":
            ints = np.floor(self.low + u * (self.high - self.low)).astype(np.int64)
            return tuple(np.minimum(ints, int(self.high) - 1).tolist())
        if self.kind == "loguniform":
            x = np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        else:
            x = self.low + u * (self.high - self.low)
        # As spaced specs are: the same values on every machine, and readable.
        return tuple(float(f"{v:.{specs.LR_DIGITS}g}") for v in x)


def parse(field: str, value, integer: bool) -> Distribution | None:
    """The distribution ``value`` names, or None when it names values."""
    if not isinstance(value, str) or value.split(":")[0].strip() not in KINDS:
        return None
    parts = [p.strip() for p in value.split(":")]
    if len(parts) != 3:
        raise ConfigError(field, f"expected {parts[0]}:LOW:HIGH, got {value!r}")
    kind = parts[0]
    low, high = specs.float_spec(field, parts[1])[0], specs.float_spec(field, parts[2])[0]
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ConfigError(field, f"{value!r} needs finite bounds with LOW < HIGH")
    if integer != (kind == "randint"):
        allowed = "randint" if integer else "uniform or loguniform"
        raise ConfigError(field, f"takes {allowed}, got {kind}")
    if kind == "loguniform" and low <= 0:
        raise ConfigError(field, f"loguniform needs positive bounds, got {value!r}")
    if kind == "randint" and (low != int(low) or high != int(high)):
        raise ConfigError(field, f"randint needs integer bounds, got {value!r}")
    return Distribution(kind, low, high)


def draw(
    distributions: dict[str, Distribution], n: int, sampler: str, seed: int
) -> dict[str, tuple]:
    """``n`` points of the sampled axes: their values, column by column."""
    d = len(distributions)
    if sampler == "sobol":
        from scipy.stats import qmc

        engine = qmc.Sobol(d, scramble=True, seed=seed)
        with warnings.catch_warnings():  # balance needs a power of two: the user's choice
            warnings.simplefilter("ignore", UserWarning)
            u = engine.random(n)
    else:
        u = np.random.default_rng(seed).random((n, d))
    return {name: dist.values(u[:, i]) for i, (name, dist) in enumerate(distributions.items())}


def draw_points(distributions: dict[str, Distribution], raw: dict) -> dict[str, tuple]:
    """The sampled points of a config's settings ``raw``, validating the settings of
    the draw (``samples``, ``sampler``, ``sample_seed``; the latter two are stored
    back in ``raw`` as parsed)."""
    samples = raw["samples"]
    if not distributions:
        require(
            "samples",
            samples is None,
            "no axis is sampled: give one a distribution, e.g. --lr loguniform:0.01:10",
        )
        return {}
    first = next(iter(distributions))
    require(
        "samples", samples is not None, f"{first} is sampled: say how many points (--samples N)"
    )
    n = specs.int_spec("samples", samples)
    require(
        "samples",
        len(n) == 1 and 1 <= n[0] <= specs.MAX_VALUES,
        f"must be one number from 1 to {specs.MAX_VALUES:,}, got {samples!r}",
    )
    sampler = raw["sampler"]
    require(
        "sampler", sampler in SAMPLERS, f"must be one of {', '.join(SAMPLERS)}, got {sampler!r}"
    )
    seed = specs.int_spec("sample_seed", raw["sample_seed"])
    require(
        "sample_seed",
        len(seed) == 1 and 0 <= seed[0] <= MAX_SEED,
        f"must be one number from 0 to {MAX_SEED}, got {raw['sample_seed']!r}",
    )
    raw["sampler"], raw["sample_seed"] = sampler, seed[0]
    return draw(distributions, n[0], sampler, seed[0])
