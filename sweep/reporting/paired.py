"""Paired comparisons: two settings of one axis run on the same seeds.

When selections A and B differ in one axis and share their seeds, trial s of
A and trial s of B start from the same weights: their outcomes are paired,
and the difference of the two convergence rates has a narrower interval
than two independent samples would give. Per group: the pairs' 2 x 2 table
(both converged, A only, B only, neither), McNemar's exact test, Newcombe's
hybrid score interval for the difference of paired proportions (method 10
of Newcombe 1998, Statistics in Medicine 17: 2635-2650), and the time to
converge compared on the seeds where both converged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import binom

from ..intervals import Z95, mean_interval, median_interval, wilson_interval


def mcnemar_p(only_a: int, only_b: int) -> float:
    """McNemar's exact two-sided p-value from the discordant pairs."""
    n = only_a + only_b
    if n == 0:
        return 1.0
    return float(min(1.0, 2 * binom.cdf(min(only_a, only_b), n, 0.5)))


def paired_interval(both: int, only_a: int, only_b: int, neither: int, z: float = Z95):
    """The difference of paired rates, B minus A, and its 95% interval (Newcombe's
    method 10: the two Wilson intervals, joined through the pairs' correlation)."""
    n = both + only_a + only_b + neither
    p1, p2 = (both + only_a) / n, (both + only_b) / n
    (l1, u1), (l2, u2) = (
        np.asarray(wilson_interval(k, n, z)).ravel() for k in (both + only_a, both + only_b)
    )
    margins = (both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither)
    # The pairs' correlation, continuity-corrected towards 0 where positive (as
    # Newcombe defines it: without, no discordant pair gives a zero-width interval).
    cross = both * neither - only_a * only_b
    if cross > 0:
        cross = max(cross - n / 2, 0)
    phi = cross / math.sqrt(margins) if margins else 0.0
    diff = p2 - p1
    down, up = (p2 - l2, u1 - p1), (u2 - p2, p1 - l1)
    low = diff - math.sqrt(max(down[0] ** 2 - 2 * phi * down[0] * down[1] + down[1] ** 2, 0))
    high = diff + math.sqrt(max(up[0] ** 2 - 2 * phi * up[0] * up[1] + up[1] ** 2, 0))
    return diff, max(low, -1.0), min(high, 1.0)


def compare_paired(pairs: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """One row per group of ``pairs`` (columns: ``keys``, ``converged_a``,
    ``converged_b``, ``epochs_a``, ``epochs_b``; one row per seed)."""
    rows = []
    groups = pairs.groupby(list(keys), sort=True, dropna=False) if keys else [((), pairs)]
    for group, sub in groups:
        group = group if isinstance(group, tuple) else (group,)
        a, b = sub["converged_a"].to_numpy(bool), sub["converged_b"].to_numpy(bool)
        # both converged, A only, B only, neither
        counts = [int(np.sum(x & y)) for x in (a, ~a) for y in (b, ~b)]
        diff, low, high = paired_interval(*counts)
        both = sub[a & b]
        gap, gap_low, gap_high = median_interval(both["epochs_b"] - both["epochs_a"])
        rows.append(
            (
                *group,
                len(sub),
                a.mean(),
                b.mean(),
                diff,
                low,
                high,
                mcnemar_p(counts[1], counts[2]),
                counts[0],
                both["epochs_a"].median() if len(both) else np.nan,
                both["epochs_b"].median() if len(both) else np.nan,
                gap,
                gap_low,
                gap_high,
            )
        )
    columns = [
        *keys,
        "pairs",
        "rate_a",
        "rate_b",
        "difference",
        "difference_low",
        "difference_high",
        "mcnemar_p",
        "both_converged",
        "epochs_a",
        "epochs_b",
        "epochs_difference",
        "epochs_difference_low",
        "epochs_difference_high",
    ]
    return pd.DataFrame(rows, columns=columns)


def paired_losses(pairs: pd.DataFrame, keys: Sequence[str], prefix: str = "loss") -> pd.DataFrame:
    """Per group of ``pairs`` (with ``<prefix>_a`` and ``<prefix>_b``, an MSE of each
    side): the mean of B's minus A's over the pairs where neither diverged, with
    its 95% interval (``<prefix>_difference``, ``_low``, ``_high``), and each
    side's mean over those pairs."""
    a, b = pairs[f"{prefix}_a"], pairs[f"{prefix}_b"]
    kept = pairs.assign(d=b - a, d2=(b - a) ** 2)[np.isfinite(a) & np.isfinite(b)]
    sums = kept.groupby(list(keys), sort=True, dropna=False).agg(
        a=(f"{prefix}_a", "mean"),
        b=(f"{prefix}_b", "mean"),
        total=("d", "sum"),
        squares=("d2", "sum"),
        n=("d", "size"),
    )
    difference, low, high = mean_interval(sums["total"], sums["squares"], sums["n"])
    out = pd.DataFrame({f"{prefix}_a": sums["a"], f"{prefix}_b": sums["b"]}, index=sums.index)
    out[f"{prefix}_difference"] = difference
    out[f"{prefix}_difference_low"] = low
    out[f"{prefix}_difference_high"] = high
    return out.reset_index()
