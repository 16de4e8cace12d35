"""95% intervals: a binomial rate's (Wilson), a mean's and a difference of two
means' (normal) and a median's (order statistics).

Plain numpy, so that both the reports and a study run to a precision
(:mod:`sweep.runner.precision`) compute the same intervals.
"""

from __future__ import annotations

import math

import numpy as np

#: z for two-sided 95% intervals.
Z95 = 1.959963984540054


def wilson_interval(successes, trials, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (arrays broadcast).

    Well behaved at 0 and 1 successes and for small samples, unlike the
    normal approximation. The bounds lie in [0, 1], the low one exactly 0 when
    nothing succeeded and the high one exactly 1 when everything did (where
    rounding would leave 2e-19 or 0.99999...). ``trials == 0`` gives NaN.
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z**2 / n
        centre = (p + z**2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
        low = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
        high = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    nan = n == 0
    return np.where(nan, np.nan, low), np.where(nan, np.nan, high)


def mean_interval(
    total, squares, n, low: float = -math.inf, high: float = math.inf
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, low, high): the mean of ``n`` values from their sum and sum of squares,
    with its 95% normal interval (mean +- z s / sqrt(n), s the sample standard
    deviation), clipped to the values' range [``low``, ``high``]. NaN where
    ``n == 0``; NaN bounds where ``n == 1``."""
    mean, spread = _mean_spread(total, squares, n)
    half = Z95 * np.sqrt(spread)
    return mean, np.clip(mean - half, low, high), np.clip(mean + half, low, high)


def mean_difference(a: tuple, b: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(difference, low, high): the mean of values B minus that of values A, each
    given as (sum, sum of squares, n), with its 95% normal interval (the two
    means' variances added, as Welch's). NaN where a side has no value; NaN
    bounds where one has a single value."""
    (mean_a, spread_a), (mean_b, spread_b) = _mean_spread(*a), _mean_spread(*b)
    difference, half = mean_b - mean_a, Z95 * np.sqrt(spread_a + spread_b)
    return difference, difference - half, difference + half


def _mean_spread(total, squares, n) -> tuple[np.ndarray, np.ndarray]:
    """The mean of ``n`` values from their sum and sum of squares, and its
    variance (s^2 / n; NaN for one value)."""
    total, squares, n = (np.asarray(a, dtype=float) for a in (total, squares, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
        var = np.maximum(squares - n * mean**2, 0.0) / (n - 1)
        return mean, np.where(n > 1, var / n, np.nan)


def median_ranks(n: int, z: float = Z95) -> tuple[int, int] | None:
    """The order statistics (0-based ranks, low and high) that bound the median of
    ``n`` values with about 95% confidence: the number of values below the
    median is binomial (n, 1/2), so its normal quantiles give the ranks
    (distribution-free). None when ``n`` is too small for an interval."""
    half = z * math.sqrt(n) / 2
    low, high = math.floor(n / 2 - half), math.ceil(n / 2 + half) - 1
    if low < 0 or high > n - 1:
        return None
    return low, high


def median_interval(values: np.ndarray) -> tuple[float, float, float]:
    """(median, low, high) of ``values`` with its 95% order-statistic interval
    (NaN bounds when there are too few values for one)."""
    ordered = np.sort(np.asarray(values, dtype=float))
    if ordered.size == 0:
        return math.nan, math.nan, math.nan
    ranks = median_ranks(ordered.size)
    if ranks is None:
        return float(np.median(ordered)), math.nan, math.nan
    return float(np.median(ordered)), float(ordered[ranks[0]]), float(ordered[ranks[1]])
