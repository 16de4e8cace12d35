"""Where the arrays handed to a kernel live: each starts on a cache line.

A kernel's inner loops run over networks, along rows of a block's arrays; a
row that starts off a line makes every vector load and store of it touch one
line more. numpy's allocations start where malloc puts them, often 16 bytes
into a line (benchmarks/alignment.py times both placements).
"""

from __future__ import annotations

import threading

import numpy as np

#: Bytes of a cache line.
CACHE_LINE = 64
#: Bytes of the largest buffer a thread keeps for :func:`kept` between calls.
MAX_KEPT = 64 << 20

_kept = threading.local()


def line_aligned(size: int, dtype: np.dtype, fill: float | None = None) -> np.ndarray:
    """A flat array of ``size`` elements that starts on a cache line (``fill``:
    its value, else uninitialised)."""
    dtype = np.dtype(dtype)
    buffer = np.empty(size * dtype.itemsize + CACHE_LINE, dtype=np.uint8)
    start = -buffer.ctypes.data % CACHE_LINE
    out = buffer[start : start + size * dtype.itemsize].view(dtype)
    if fill is not None:
        out.fill(fill)
    return out


def aligned_copy(a: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of ``a`` that starts on a cache line."""
    out = line_aligned(a.size, a.dtype).reshape(a.shape)
    out[...] = a
    return out


def kept(size: int, dtype: np.dtype) -> np.ndarray:
    """As :func:`line_aligned`, uninitialised, in a buffer this thread keeps
    between calls (up to :data:`MAX_KEPT` bytes), for the one array of a call
    that never leaves it: a fresh one is memory the system hands over page by
    page, which costs a run of few epochs more than its epochs do. The next
    call in the thread overwrites it."""
    dtype = np.dtype(dtype)
    need = size * dtype.itemsize + CACHE_LINE
    if need > MAX_KEPT:
        return line_aligned(size, dtype)
    buffer = getattr(_kept, "buffer", None)
    if buffer is None or buffer.size < need:
        buffer = _kept.buffer = np.empty(need, dtype=np.uint8)
    start = -buffer.ctypes.data % CACHE_LINE
    return buffer[start : start + size * dtype.itemsize].view(dtype)
