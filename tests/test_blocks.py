"""Block-major arrays of the generated kernels (kernels.blocks), to and from network-last rows."""

import numpy as np
import pytest

from kernels import blocks, memory


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_blocks_of_rows_start_on_a_cache_line_and_come_back_whole(dtype):
    rows = np.arange(5 * 7).reshape(5, 7).astype(dtype)
    flat = blocks.blocked(rows, 2, 4)
    assert flat.ctypes.data % memory.CACHE_LINE == 0 and flat.dtype == dtype
    assert flat.reshape(2, 5, 4)[1, :, 3].tolist() == [0] * 5  # the padding network
    assert np.array_equal(blocks.unblocked(flat, 5, 7, 4), rows)


@pytest.mark.parametrize(
    "n, nb, n_blocks", [(7, 4, 2), (8, 4, 2), (8, 4, 3), (1, 8, 1), (33, 32, 2)]
)
def test_several_arrays_are_blocked_as_their_rows_stacked_and_written_back_in_place(
    n, nb, n_blocks
):
    rng = np.random.default_rng(n)
    parts = [rng.random((k, n)) for k in (3, 0, 2, 1)]
    stacked = np.concatenate(parts)
    padded = np.zeros((stacked.shape[0], n_blocks * nb))
    padded[:, :n] = stacked
    want = padded.reshape(-1, n_blocks, nb).swapaxes(0, 1).ravel()
    flat = blocks.blocked(parts, n_blocks, nb)
    assert np.array_equal(flat, want)
    into = [np.zeros_like(part) for part in parts]
    blocks.unblock_into(flat, into, nb)
    assert all(np.array_equal(a, b) for a, b in zip(into, parts, strict=True))


def test_unblocking_into_an_array_it_could_only_copy_is_refused():
    flat = blocks.blocked(np.ones((2, 8)), 2, 4)
    with pytest.raises(ValueError, match="contiguous last axis"):
        blocks.unblock_into(flat, [np.zeros((8, 2)).T], 4)
