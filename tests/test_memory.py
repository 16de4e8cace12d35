"""Arrays for the kernels start on a cache line."""

import numpy as np
import pytest

from kernels import memory


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int32, np.int64, np.uint8])
@pytest.mark.parametrize("size", [1, 37, 4096])
def test_a_new_array_starts_on_a_cache_line(dtype, size):
    filled = memory.line_aligned(size, dtype, 3)
    assert filled.ctypes.data % memory.CACHE_LINE == 0
    assert filled.dtype == dtype and filled.shape == (size,)
    assert (filled == 3).all()


def test_a_copy_starts_on_a_cache_line_with_the_same_values():
    rows = np.arange(6 * 9, dtype=np.float64).reshape(6, 9)
    part = rows[:, 2:7]  # a block of networks: not contiguous
    copy = memory.aligned_copy(part)
    assert copy.ctypes.data % memory.CACHE_LINE == 0 and copy.flags.c_contiguous
    assert np.array_equal(copy, part)
    copy[0, 0] = -1.0
    assert rows[0, 2] == 2.0  # a copy, not a view
