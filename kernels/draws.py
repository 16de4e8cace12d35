"""numpy's legacy ``RandomState`` draws, compiled: the initial weights of many seeds.

``RandomState(seed).uniform(low, high, n)`` for one seed after another runs
in Python and under the GIL; this runs compiled, many seeds at once, and
releases the GIL (docs/performance.md, "Draws"). This is the same
Mersenne Twister (MT19937, seeded by ``init_genrand`` as numpy's legacy
seeding does for an integer), the same 53-bit doubles and the same ``low +
(high - low) * u``, in one compiled loop over many seeds at once.
:func:`kernels.model.init_uniform` stays the oracle (tests compare the two bit for bit).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_N = 624
_M = 397
_MATRIX_A = np.uint32(0x9908B0DF)
_UPPER = np.uint32(0x80000000)
_LOWER = np.uint32(0x7FFFFFFF)


#: Seeds drawn side by side: the twister's recurrences are serial within a
#: seed, so one seed at a time waits on each multiply; across seeds they
#: vectorise. Numba widens the seeding's uint32 multiply to 64 bits, which
#: LLVM vectorises (as vpmuludq) only in a loop it does not unroll whole:
#: 16 lanes stayed scalar; 128 was fastest (docs/performance.md, "Draws").
_LANES = 128


@njit(cache=True, nogil=True)
def uniform_draws(seeds, n, low, high, skip=0):
    """(n, len(seeds)) float64, network-last: column j is
    ``RandomState(seeds[j]).uniform(low, high, n)``, or with ``skip`` the
    ``n`` draws after the first ``skip`` (a stream read on).

    Seeding is ``mt19937_seed`` (numpy's legacy seeding of an integer in
    [0, 2**32)), words ``0 .. limit - 1`` only: the draws ahead read no
    others. ``mt19937_gen`` renews the state in index order, each word from
    words not yet renewed (i + 1, i + 397) or renewed already (wrapping
    around): renewing word i just before it is read, in the same order,
    gives the same words.
    """
    n_seeds = seeds.size
    out = np.empty((n, n_seeds))
    key = np.zeros((_N, _LANES), dtype=np.uint32)
    word = np.zeros((2, _LANES), dtype=np.uint32)
    span = high - low
    # Draw i reads words 2i and 2i + 1, which (in the first pass) read words
    # up to 2i + 1 + 397.
    limit = min(_N, 2 * (skip + n) + _M + 1)
    for j0 in range(0, n_seeds, _LANES):
        m = min(_LANES, n_seeds - j0)
        for lane in range(_LANES):
            key[0, lane] = np.uint32(seeds[j0 + lane]) if lane < m else np.uint32(0)
        for pos in range(1, limit):
            step = np.uint32(pos)
            before, row = key[pos - 1], key[pos]
            for lane in range(_LANES):
                v = before[lane]
                row[lane] = np.uint32(1812433253) * (v ^ (v >> np.uint32(30))) + step
        pos = 0
        for i in range(-skip, n):
            for half in range(2):
                nxt, ahead = (pos + 1) % _N, (pos + _M) % _N
                for lane in range(_LANES):
                    y = (key[pos, lane] & _UPPER) | (key[nxt, lane] & _LOWER)
                    mag = (np.uint32(0) - (y & np.uint32(1))) & _MATRIX_A
                    y = key[ahead, lane] ^ (y >> np.uint32(1)) ^ mag
                    key[pos, lane] = y
                    y ^= y >> np.uint32(11)
                    y ^= (y << np.uint32(7)) & np.uint32(0x9D2C5680)
                    y ^= (y << np.uint32(15)) & np.uint32(0xEFC60000)
                    word[half, lane] = y ^ (y >> np.uint32(18))
                pos = nxt
            if i < 0:
                continue
            for lane in range(m):
                a = np.int64(word[0, lane] >> np.uint32(5))
                b = np.int64(word[1, lane] >> np.uint32(6))
                out[i, j0 + lane] = low + span * ((a * 67108864.0 + b) / 9007199254740992.0)
    return out
