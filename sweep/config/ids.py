"""Trial ids for many trials at once: :func:`sweep.config.grid.trial_id`, compiled.

A trial's id is BLAKE2b (8-byte digest) of its key text, ``<shape key>|seed=
<seed>|lr=<repr(lr)>``, as 16 hex digits. Hashing each key in Python is
most of a short trial's cost to the driver (docs/performance.md, "Scale"). Here the shape
key is hashed once, up to its last whole 128-byte block (BLAKE2b's state
after it is the same for every trial of the shape), each learning rate's
``repr`` is written once, and each trial's remaining bytes are hashed in
compiled code (RFC 7693), giving the same ids bit for bit.

Ids are handled as unsigned 64-bit numbers (the digest's bytes read big
endian, so their hex is the id's text), and become text only for Arrow.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit

from kernels.numerics import JIT  # its LLVM inlining option too: _mix inlines, compiles fast

_IV = np.array(
    [
        0x6A09E667F3BCC908,
        0xBB67AE8584CAA73B,
        0x3C6EF372FE94F82B,
        0xA54FF53A5F1D36F1,
        0x510E527FADE682D1,
        0x9B05688C2B3E6C1F,
        0x1F83D9ABFB41BD6B,
        0x5BE0CD19137E2179,
    ],
    dtype=np.uint64,
)
_SIGMA = np.array(
    [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
        [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
        [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
        [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
        [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
        [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
        [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
        [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
        [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
        [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    ],
    dtype=np.int64,
)
_BLOCK = 128
#: Parameter block of an unkeyed BLAKE2b with an 8-byte digest.
_PARAM = np.uint64(0x01010000 ^ 8)
_SEED_TEXT = np.frombuffer(b"|seed=", dtype=np.uint8).copy()
_MAX_DIGITS = 20


@njit(**JIT)
def _rotr(x, n):
    return (x >> np.uint64(n)) | (x << np.uint64(64 - n))


@njit(**JIT)
def _mix(a, b, c, d, x, y):
    """BLAKE2b's G function (on values, so that the state stays in registers)."""
    a = a + b + x
    d = _rotr(d ^ a, 32)
    c = c + d
    b = _rotr(b ^ c, 24)
    a = a + b + y
    d = _rotr(d ^ a, 16)
    c = c + d
    b = _rotr(b ^ c, 63)
    return a, b, c, d


@njit(**JIT)
def _compress(h, block, offset, counter, last, m):
    """BLAKE2b's compression of ``block[offset:offset + 128]`` into state ``h``."""
    for i in range(16):
        word = np.uint64(0)
        for b in range(8):
            word |= np.uint64(block[offset + 8 * i + b]) << np.uint64(8 * b)
        m[i] = word
    v0, v1, v2, v3, v4, v5, v6, v7 = h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
    v8, v9, v10, v11 = _IV[0], _IV[1], _IV[2], _IV[3]
    v12, v13, v14, v15 = _IV[4] ^ np.uint64(counter), _IV[5], _IV[6], _IV[7]
    if last:
        v14 = ~v14
    for r in range(12):
        s = _SIGMA[r % 10]
        v0, v4, v8, v12 = _mix(v0, v4, v8, v12, m[s[0]], m[s[1]])
        v1, v5, v9, v13 = _mix(v1, v5, v9, v13, m[s[2]], m[s[3]])
        v2, v6, v10, v14 = _mix(v2, v6, v10, v14, m[s[4]], m[s[5]])
        v3, v7, v11, v15 = _mix(v3, v7, v11, v15, m[s[6]], m[s[7]])
        v0, v5, v10, v15 = _mix(v0, v5, v10, v15, m[s[8]], m[s[9]])
        v1, v6, v11, v12 = _mix(v1, v6, v11, v12, m[s[10]], m[s[11]])
        v2, v7, v8, v13 = _mix(v2, v7, v8, v13, m[s[12]], m[s[13]])
        v3, v4, v9, v14 = _mix(v3, v4, v9, v14, m[s[14]], m[s[15]])
    h[0] ^= v0 ^ v8
    h[1] ^= v1 ^ v9
    h[2] ^= v2 ^ v10
    h[3] ^= v3 ^ v11
    h[4] ^= v4 ^ v12
    h[5] ^= v5 ^ v13
    h[6] ^= v6 ^ v14
    h[7] ^= v7 ^ v15


#: Trials hashed side by side: a key's rounds are a serial chain, but the
#: same step of many trials vectorises (docs/performance.md, "Ids").
_LANES = 64


@njit(**JIT)
def _g(v, a, b, c, d, m, x, y):
    """BLAKE2b's G function on rows a, b, c, d of the lanes' states, message words x, y."""
    va, vb, vc, vd, mx, my = v[a], v[b], v[c], v[d], m[x], m[y]
    for lane in range(va.size):
        p = va[lane] + vb[lane] + mx[lane]
        s = _rotr(vd[lane] ^ p, 32)
        r = vc[lane] + s
        q = _rotr(vb[lane] ^ r, 24)
        p = p + q + my[lane]
        s = _rotr(s ^ p, 16)
        r = r + s
        va[lane] = p
        vd[lane] = s
        vc[lane] = r
        vb[lane] = _rotr(q ^ r, 63)


#: The state rows each of a round's eight G steps mixes (RFC 7693, 3.2): the
#: four columns, then the four diagonals. A table, not literals in the calls,
#: so that Numba compiles one G, not one per step.
_G_ROWS = np.array(
    [[4 * k + (i + turn * k) % 4 for k in range(4)] for turn in (0, 1) for i in range(4)]
)


@njit(**JIT)
def _compress_lanes(h, m, counter, last, active, v):
    """:func:`_compress` of one block in each lane: states ``h`` (8, lanes), words
    ``m`` (16, lanes); ``counter``, and the masks ``last`` (all ones: the final
    block) and ``active`` (all ones: the lane has this block), by lane. ``v``: scratch."""
    n = h.shape[1]
    for i in range(8):
        for lane in range(n):
            v[i, lane] = h[i, lane]
            v[i + 8, lane] = _IV[i]
    for lane in range(n):
        v[12, lane] ^= counter[lane]
        v[14, lane] ^= last[lane]
    for r in range(12):
        s = _SIGMA[r % 10]
        for q in range(8):
            a, b, c, d = _G_ROWS[q]
            _g(v, a, b, c, d, m, s[2 * q], s[2 * q + 1])
    for i in range(8):
        for lane in range(n):
            h[i, lane] ^= (v[i, lane] ^ v[i + 8, lane]) & active[lane]


@njit(**JIT)
def _write_key(row, fixed, seed, tail, old_length, digits):
    """Write a trial's own bytes after the ``fixed`` ones in ``row``: its seed in
    decimal, then its learning rate's ``tail``; zero the rest of the previous
    key (``old_length``). Returns the key's length."""
    n = fixed
    k = 0
    while True:
        digits[k] = 48 + seed % 10
        k += 1
        seed //= 10
        if seed == 0:
            break
    for i in range(k):
        row[n] = digits[k - 1 - i]
        n += 1
    for i in range(tail.size):
        row[n] = tail[i]
        n += 1
    for i in range(n, old_length):  # the previous key's bytes: zero padding again
        row[i] = 0
    return n


@njit(**JIT)
def _hash_all(mid, done, head, seeds, tails, tail_starts, which, out):
    """Each trial's id: BLAKE2b from the midstate ``mid`` (after ``done`` bytes)
    over ``head`` + ``|seed=<seed>`` + its learning rate's tail, :data:`_LANES`
    trials at a time. Only the bytes after ``head|seed=`` differ between
    trials: the message words before them are the template's."""
    n_head = head.size
    fixed = n_head + _SEED_TEXT.size  # bytes every key of the shape starts with
    width = (fixed + _MAX_DIGITS + tails.size + 2 * _BLOCK) // _BLOCK * _BLOCK
    # Element by element: an array assignment compiles Numba's shape-error text in.
    template = np.zeros(width, dtype=np.uint8)
    for i in range(n_head):
        template[i] = head[i]
    for i in range(_SEED_TEXT.size):
        template[n_head + i] = _SEED_TEXT[i]
    words = np.zeros(width // 8, dtype=np.uint64)
    for w in range(width // 8):
        for q in range(8):
            words[w] |= np.uint64(template[8 * w + q]) << np.uint64(8 * q)
    buf = np.empty((_LANES, width), dtype=np.uint8)
    for lane in range(_LANES):
        for i in range(width):
            buf[lane, i] = template[i]
    length = np.full(_LANES, fixed, dtype=np.int64)
    digits = np.empty(_MAX_DIGITS, dtype=np.uint8)
    h = np.empty((8, _LANES), dtype=np.uint64)
    m = np.empty((16, _LANES), dtype=np.uint64)
    v = np.empty((16, _LANES), dtype=np.uint64)
    counter = np.empty(_LANES, dtype=np.uint64)
    last = np.empty(_LANES, dtype=np.uint64)
    active = np.empty(_LANES, dtype=np.uint64)
    first_word = fixed // 8  # words before it are the template's
    for j0 in range(0, seeds.size, _LANES):
        lanes = min(_LANES, seeds.size - j0)
        blocks = 1
        for lane in range(lanes):
            t = which[j0 + lane]
            tail = tails[tail_starts[t] : tail_starts[t + 1]]
            n = _write_key(buf[lane], fixed, seeds[j0 + lane], tail, length[lane], digits)
            length[lane] = n
            blocks = max(blocks, (n + _BLOCK - 1) // _BLOCK)
        for i in range(8):
            for lane in range(_LANES):
                h[i, lane] = mid[i]
        for b in range(blocks):
            offset = b * _BLOCK
            for i in range(16):
                w = offset // 8 + i
                if w < first_word:
                    for lane in range(_LANES):
                        m[i, lane] = words[w]
                    continue
                for lane in range(_LANES):
                    row = buf[lane]
                    word = np.uint64(0)
                    for q in range(8):
                        word |= np.uint64(row[8 * w + q]) << np.uint64(8 * q)
                    m[i, lane] = word
            for lane in range(_LANES):
                n = length[lane]
                mine = (n + _BLOCK - 1) // _BLOCK
                final = b == mine - 1
                active[lane] = np.uint64(0xFFFFFFFFFFFFFFFF) if b < mine else np.uint64(0)
                last[lane] = np.uint64(0xFFFFFFFFFFFFFFFF) if final else np.uint64(0)
                counter[lane] = np.uint64(done + (n if final else offset + _BLOCK))
            _compress_lanes(h, m, counter, last, active, v)
        for lane in range(lanes):
            word = h[0, lane]
            swapped = np.uint64(0)
            for q in range(8):
                swapped = (swapped << np.uint64(8)) | ((word >> np.uint64(8 * q)) & np.uint64(255))
            out[j0 + lane] = swapped


def _midstate(prefix: bytes) -> tuple[np.ndarray, int, np.ndarray]:
    """BLAKE2b's state after the prefix's whole blocks (never its last block:
    every key has more bytes after the prefix), the bytes they took, and the
    rest of the prefix."""
    h = _IV.copy()
    h[0] ^= _PARAM
    whole = len(prefix) // _BLOCK * _BLOCK
    data = np.frombuffer(prefix, dtype=np.uint8).copy()  # writable: one compiled _compress
    m = np.empty(16, dtype=np.uint64)
    for offset in range(0, whole, _BLOCK):
        _compress(h, data, offset, offset + _BLOCK, False, m)
    return h, whole, data[whole:].copy()


def id_numbers(shape_key: str, seeds: np.ndarray, lrs: np.ndarray) -> np.ndarray:
    """The ids (as uint64) of trials ``(seed, lr)`` of the shape whose key is
    ``shape_key`` (:func:`sweep.config.grid.shape_key`)."""
    seeds = np.ascontiguousarray(seeds, dtype=np.int64)
    if seeds.size == 0:
        return np.zeros(0, dtype=np.uint64)
    if seeds.min() < 0:
        raise ValueError("seeds must not be negative")
    distinct, which = np.unique(np.asarray(lrs, dtype=np.float64), return_inverse=True)
    texts = [f"|lr={float(lr)!r}".encode() for lr in distinct]
    starts = np.cumsum([0] + [len(t) for t in texts]).astype(np.int64)
    tails = np.frombuffer(b"".join(texts), dtype=np.uint8)
    mid, done, head = _midstate(shape_key.encode())
    out = np.empty(seeds.size, dtype=np.uint64)
    _hash_all(mid, done, head, seeds, tails, starts, which.astype(np.int64).ravel(), out)
    return out


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8).copy()


@njit(**JIT)
def _hex(numbers, out):
    for j in range(numbers.size):
        x = numbers[j]
        for k in range(16):
            out[16 * j + 15 - k] = _HEX[np.intp(x & np.uint64(15))]
            x >>= np.uint64(4)


def to_arrow(numbers: np.ndarray) -> pa.StringArray:
    """Ids as Arrow text (16 lowercase hex digits each), without Python strings."""
    n = numbers.size
    chars = np.empty(16 * n, dtype=np.uint8)
    _hex(np.ascontiguousarray(numbers, dtype=np.uint64), chars)
    offsets = np.arange(0, 16 * n + 1, 16, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars))


def to_text(numbers: np.ndarray) -> np.ndarray:
    """Ids as an object array of Python strings."""
    return np.array(to_arrow(numbers).to_pylist(), dtype=object)


_HEX_VALUE = np.full(256, 255, dtype=np.uint8)
_HEX_VALUE[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)
_NIBBLE_SHIFTS = np.arange(60, -4, -4, dtype=np.uint64)


def from_arrow(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Stored ids (Arrow text) as uint64 numbers, vectorised: 8 bytes an id,
    where a set of Python strings takes ~100."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], pa.string())
    n = len(column)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    offsets = np.frombuffer(
        column.buffers()[1], dtype=np.int32, count=n + 1, offset=4 * column.offset
    )
    if column.null_count or not (np.diff(offsets) == 16).all():
        raise ValueError("trial ids must be 16 hex digits")
    data = np.frombuffer(column.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]]
    nibbles = _HEX_VALUE[data].reshape(n, 16)
    if (nibbles == 255).any():
        raise ValueError("trial ids must be 16 lowercase hex digits")
    return np.bitwise_or.reduce(nibbles.astype(np.uint64) << _NIBBLE_SHIFTS, axis=1)


def as_numbers(done) -> np.ndarray:
    """Ids (numbers, or text in any collection) as a sorted uint64 array."""
    if isinstance(done, np.ndarray) and done.dtype == np.uint64:
        return np.sort(done)
    return np.sort(np.fromiter((int(i, 16) for i in done), dtype=np.uint64, count=len(done)))


def among(numbers: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Which of ``numbers`` are in ``sorted_ids`` (a sorted uint64 array)."""
    found = np.zeros(numbers.size, dtype=bool)
    if sorted_ids.size == 0 or numbers.size == 0:
        return found
    # Looked up in sorted order: binary searches for random ids miss the cache
    # at every step; in order, successive searches walk the array.
    order = np.argsort(numbers, kind="stable")
    queries = numbers[order]
    at = np.minimum(np.searchsorted(sorted_ids, queries), sorted_ids.size - 1)
    found[order] = sorted_ids[at] == queries
    return found
