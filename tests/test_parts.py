"""Tables of parts compiled (kernels.parts): a literal code compiles its own piece only."""

import numba
import pytest
from numba import njit

from kernels.parts import by_code


def _double(x):
    return 2.0 * x


def _untypable(x):
    return object()  # Numba cannot compile this piece


def test_a_literal_code_compiles_only_its_piece():
    pick = by_code("pick", [_double, _untypable], "x")

    @njit
    def first(x):
        return pick(0, x)

    assert first(1.5) == 3.0

    @njit
    def at_run_time(code, x):
        return pick(code, x)

    with pytest.raises(numba.core.errors.TypingError):
        at_run_time(0, 1.5)  # every piece of the table is compiled: one fails


def test_a_code_known_at_run_time_picks_its_piece():
    pick = by_code("pick", [_double, lambda x: x + 1.0], "x")

    @njit
    def at_run_time(code, x):
        return pick(code, x)

    assert (at_run_time(0, 1.5), at_run_time(1, 1.5)) == (3.0, 2.5)
