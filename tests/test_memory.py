"""Arrays for the kernels start on a cache line."""

import threading

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


def test_a_kept_array_reuses_its_threads_buffer_grows_and_stays_in_its_thread(monkeypatch):
    first = memory.kept(1000, np.float64)
    again = memory.kept(500, np.float32)
    assert first.ctypes.data % memory.CACHE_LINE == 0 and again.shape == (500,)
    assert np.shares_memory(first, again)  # no fresh memory for the next call
    bigger = memory.kept(100_000, np.float64)
    assert bigger.shape == (100_000,) and bigger.ctypes.data % memory.CACHE_LINE == 0
    assert np.shares_memory(bigger, memory.kept(10, np.int64))  # the grown buffer is kept
    other = []
    thread = threading.Thread(target=lambda: other.append(memory.kept(1000, np.float64)))
    thread.start()
    thread.join()
    assert not np.shares_memory(other[0], bigger)
    monkeypatch.setattr(memory, "MAX_KEPT", 1024)
    large = memory.kept(1000, np.float64)  # more than the most kept: a fresh array
    assert not np.shares_memory(large, bigger) and large.ctypes.data % memory.CACHE_LINE == 0
