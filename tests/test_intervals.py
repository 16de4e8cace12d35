"""The normal intervals of sweep.intervals against their definitions."""

import numpy as np

from sweep.intervals import Z95, mean_difference, mean_interval


def test_a_mean_and_a_difference_of_means_have_their_standard_errors():
    rng = np.random.default_rng(1)
    a, b = rng.normal(1.0, 0.5, 30), rng.normal(1.4, 0.2, 12)
    sums = [(x.sum(), (x * x).sum(), x.size) for x in (a, b)]
    mean, low, high = mean_interval(*sums[0])
    assert np.allclose([mean, high - mean], [a.mean(), Z95 * a.std(ddof=1) / np.sqrt(30)])
    difference, low, high = mean_difference(*sums)
    error = np.sqrt(a.var(ddof=1) / 30 + b.var(ddof=1) / 12)  # Welch's
    assert np.allclose(
        [difference, difference - low, high - difference],
        [b.mean() - a.mean(), Z95 * error, Z95 * error],
    )
    # One value on a side: a difference, no interval; none: nothing.
    one = mean_difference(sums[0], (2.0, 4.0, 1))
    assert np.isclose(one[0], 2.0 - a.mean()) and np.isnan(one[1:]).all()
    assert np.isnan(mean_difference(sums[0], (0.0, 0.0, 0))).all()
