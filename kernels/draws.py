"""numpy's legacy ``RandomState`` draws, compiled: the initial weights of many seeds.

``RandomState(seed).uniform(low, high, n)`` for one seed after another costs
~4 µs a seed in numpy, in Python and under the GIL (4 s of a 1,000,000-trial
sweep); this takes 0.84 µs (9 draws) and releases the GIL. This is the same
Mersenne Twister (MT19937, seeded by ``init_genrand`` as numpy's legacy
seeding does for an integer), the same 53-bit doubles and the same ``low +
(high - low) * u``, in one compiled loop. :func:`kernels.model.init_uniform`
stays the oracle (tests compare the two bit for bit).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_N = 624
_M = 397
_MATRIX_A = np.uint32(0x9908B0DF)
_UPPER = np.uint32(0x80000000)
_LOWER = np.uint32(0x7FFFFFFF)


@njit(cache=True, nogil=True)
def _seed(key, seed, limit):
    """``mt19937_seed`` (numpy's legacy seeding of an integer in [0, 2**32)),
    words ``0 .. limit - 1`` only: the draws ahead read no others."""
    s = np.uint32(seed)
    for pos in range(limit):
        key[pos] = s
        s = np.uint32(np.uint32(1812433253) * (s ^ (s >> np.uint32(30))) + np.uint32(pos + 1))


@njit(cache=True, nogil=True)
def _word(key, i):
    """Word ``i`` of the next state, tempered. ``mt19937_gen`` renews the state
    in index order, each word from words not yet renewed (i + 1, i + 397)
    or renewed already (wrapping around): renewing word i just before it is
    read, in the same order, gives the same words."""
    y = (key[i] & _UPPER) | (key[(i + 1) % _N] & _LOWER)
    mag = _MATRIX_A if y & np.uint32(1) else np.uint32(0)
    key[i] = key[(i + _M) % _N] ^ (y >> np.uint32(1)) ^ mag
    y = key[i]
    y ^= y >> np.uint32(11)
    y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
    return np.int64(y ^ (y >> np.uint32(18)))


@njit(cache=True, nogil=True)
def uniform_draws(seeds, n, low, high):
    """(len(seeds), n) float64: row j is ``RandomState(seeds[j]).uniform(low, high, n)``."""
    out = np.empty((seeds.size, n))
    key = np.empty(_N, dtype=np.uint32)
    span = high - low
    # Draw i reads words 2i and 2i + 1, which (in the first pass) read words
    # up to 2i + 1 + 397.
    limit = min(_N, 2 * n + _M + 1)
    for j in range(seeds.size):
        _seed(key, seeds[j], limit)
        pos = 0
        for i in range(n):
            a = _word(key, pos) >> 5
            b = _word(key, (pos + 1) % _N) >> 6
            pos = (pos + 2) % _N
            out[j, i] = low + span * ((a * 67108864.0 + b) / 9007199254740992.0)
    return out
