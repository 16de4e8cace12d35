"""The compiled RandomState draws are numpy's, bit for bit."""

import numpy as np
import pytest

from kernels import init_batch
from kernels.draws import uniform_draws

#: Edges of numpy's seed range, the notebook's seed, and a spread of others.
SEEDS = np.array([0, 1, 314, 2**31 - 1, 2**31, 2**32 - 1, *range(2, 400, 7)], dtype=np.int64)


def numpy_draws(seeds, n, low, high):
    return np.stack([np.random.RandomState(int(s)).uniform(low, high, n) for s in seeds])


# Draw counts around the state's edges: 113 draws read words up to 623 (the
# first pass's last seeded word); 312 and 313 end at, and cross, a renewal.
@pytest.mark.parametrize("n", [1, 9, 113, 114, 312, 313, 700, 1500])
@pytest.mark.parametrize(("low", "high"), [(0.0, 1.0), (-0.5, 0.7), (-3.0, 1e-3)])
def test_draws_equal_randomstate_uniform(n, low, high):
    got = uniform_draws(SEEDS, n, low, high)  # network-last
    np.testing.assert_array_equal(got.T, numpy_draws(SEEDS, n, low, high))


@pytest.mark.parametrize("bad", [-1, 2**32])
def test_seeds_outside_numpys_range_are_refused(bad):
    with pytest.raises(ValueError, match="2\\*\\*32"):
        init_batch([3, bad], 2, 2, 1)
    with pytest.raises(ValueError):
        np.random.RandomState(bad)  # numpy refuses them too
