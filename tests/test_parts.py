"""Tables of parts compiled (kernels.parts): a literal code compiles its own piece only;
a piece is for compiled callers only."""

import importlib
import pkgutil

import numba
import pytest
from numba import njit

import kernels
from kernels.parts import Piece, by_code, piece


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


def _pieces() -> dict[str, Piece]:
    """Every piece the kernels modules hold, by the name of the function it compiles."""
    found = {}
    for info in pkgutil.iter_modules(kernels.__path__):
        module = importlib.import_module(f"kernels.{info.name}")
        for value in vars(module).values():
            if isinstance(value, Piece):
                found[f"{value.py_func.__module__}.{value.py_func.__qualname__}"] = value
    return found


def test_a_piece_called_from_python_is_refused_not_a_crash():
    pieces = _pieces()
    assert {"kernels.update.update_rates", "kernels.model.layer_offsets"} <= set(pieces)
    for name, compiled in pieces.items():
        with pytest.raises(TypeError, match=f"{name} is a piece"):
            compiled(0.0)
    double = piece(_double)

    @njit
    def twice(x):
        return double(x)

    assert twice(1.5) == 3.0  # compiled callers call it as before
    with pytest.raises(TypeError, match="test_parts._double is a piece"):
        double(1.5)
