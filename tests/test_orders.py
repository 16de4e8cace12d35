"""The sample orders of the shuffled update: the documented generator, exactly."""

import numpy as np
from numba import njit

from kernels.orders import draw_order, initial_states, splitmix64
from kernels.reference import shuffled_order
from kernels.reference import splitmix64 as splitmix64_python


@njit
def _draws(seed, n):
    state = np.uint64(seed)
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        state, out[i] = splitmix64(state)
    return out


def test_splitmix64_gives_the_published_sequence():
    # Seed 1234567: the first five outputs published with the algorithm's
    # reference implementation (Rosetta Code, "Pseudo-random numbers/Splitmix64").
    want = [
        6457827717110365317,
        3203168211198807973,
        9817491932198370423,
        4593380528125082431,
        16408922859458223821,
    ]
    assert _draws(1234567, 5).tolist() == want
    state, got = 1234567, []
    for _ in range(5):
        state, z = splitmix64_python(state)
        got.append(z)
    assert got == want


@njit
def _orders(states, n, epochs):
    order = np.empty((n, states.size), dtype=np.int64)
    out = np.empty((epochs, n, states.size), dtype=np.int64)
    for k in range(epochs):
        for j in range(states.size):
            states[j] = draw_order(states[j], order, j)
        for i in range(n):  # not out[k] = order: that compiles Numba's shape-error text
            for j in range(states.size):
                out[k, i, j] = order[i, j]
    return out


def test_compiled_orders_are_the_references_permutations():
    seeds = np.array([0, 1, 314, 2**32 - 1, 77])
    for n in (1, 2, 4, 8, 16):
        got = _orders(initial_states(seeds), n, 6)
        for j, seed in enumerate(seeds):
            state = int(seed)
            for k in range(6):
                state, order = shuffled_order(state, n)
                assert got[k, :, j].tolist() == order
                assert sorted(order) == list(range(n))


def test_orders_vary_between_epochs_and_seeds():
    got = _orders(initial_states(np.arange(50)), 8, 5)
    assert len({tuple(got[k, :, 0]) for k in range(5)}) == 5
    assert len({tuple(got[0, :, j]) for j in range(50)}) > 40
