"""Sample orders of the ``shuffled`` update: a new permutation each epoch, from the seed.

The generator, exactly (so that any order can be reproduced elsewhere):

- a 64-bit unsigned state starts at the trial's seed;
- each draw is SplitMix64 (Steele, Lea & Flood 2014), all arithmetic modulo
  2^64: ``state += 0x9E3779B97F4A7C15; z = state;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
  draw = z ^ (z >> 31)``;
- each epoch starts from the identity order 0, 1, ..., n - 1 and applies
  Fisher-Yates: for i = n - 1 down to 1, swap positions i and
  ``draw % (i + 1)``. The state carries over from one epoch to the next.

An order depends on the seed and the epoch only, never on the learning rate,
the chunk, the worker or the backend. (The modulo's bias, at most n / 2^64,
is far below anything a sweep can measure.) The numpy reference
(:mod:`kernels.reference`) transcribes the same generator in plain Python.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .numerics import JIT

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@njit(**JIT)
def splitmix64(state):
    """(new state, draw) of one SplitMix64 step."""
    state = state + _GOLDEN
    z = state
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return state, z ^ (z >> np.uint64(31))


@njit(**JIT)
def draw_order(state, order, j):
    """Fill column ``j`` of ``order`` (samples x networks) with the next epoch's
    permutation; return the new state."""
    n = order.shape[0]
    for i in range(n):
        order[i, j] = i
    for i in range(n - 1, 0, -1):
        state, z = splitmix64(state)
        r = np.int64(z % np.uint64(i + 1))
        order[i, j], order[r, j] = order[r, j], order[i, j]
    return state


def initial_states(seeds: np.ndarray) -> np.ndarray:
    """Each trial's generator state before its first epoch."""
    return np.asarray(seeds, dtype=np.int64).astype(np.uint64)
