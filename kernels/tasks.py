"""Training tasks: named (X, Y) datasets.

Every task is a pair of float64 arrays ``X`` (samples x n_in) and ``Y``
(samples x n_out), the targets 0.0/1.0. ``xor`` is exactly the notebook's
data, in the notebook's order. Names: the 2-input gates (``xor``, ``xnor``,
``and``, ``or``), the families of :data:`FAMILIES`, a name and a size
(``parity3``), truth tables, ``table:0110`` (one output per input pattern) or
``table:0110,1000`` (one column of outputs each), and ``spirals``, whose
inputs are points of the plane. Patterns come in binary counting order, the
first input the most significant bit.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_GATES = {
    "xor": (0, 1, 1, 0),
    "xnor": (1, 0, 0, 1),
    "and": (0, 0, 0, 1),
    "or": (0, 1, 1, 1),
}


def _binary_patterns(n_bits: int) -> np.ndarray:
    """All 2**n_bits patterns in binary counting order, MSB first."""
    codes = np.arange(2**n_bits)
    shifts = np.arange(n_bits - 1, -1, -1)
    return ((codes[:, None] >> shifts) & 1).astype(np.float64)


def _column(x: np.ndarray, bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return x, bits.astype(np.float64)[:, None]


def _parity(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = _binary_patterns(n)
    return _column(x, x.sum(axis=1) % 2)


def _encoder(n: int) -> tuple[np.ndarray, np.ndarray]:
    eye = np.eye(n)
    return eye, eye.copy()


def _symmetry(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = _binary_patterns(n)
    return _column(x, (x == x[:, ::-1]).all(axis=1))


def _majority(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = _binary_patterns(n)
    return _column(x, x.sum(axis=1) > n / 2)


def _add(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = _binary_patterns(2 * n)
    weights = 2 ** np.arange(n - 1, -1, -1)
    total = (x[:, :n] @ weights + x[:, n:] @ weights).astype(np.int64)
    shifts = np.arange(n, -1, -1)
    return x, ((total[:, None] >> shifts) & 1).astype(np.float64)


def spirals() -> tuple[np.ndarray, np.ndarray]:
    """Lang & Witbrock's two spirals (1988), as Wieland's ``mkspiral.c`` (MITRE)
    writes them for the CMU benchmark: for i = 0..96, angle i pi / 16 and radius
    6.5 (104 - i) / 104 give (r sin a, r cos a) of class 1, then its mirror
    (-x, -y) of class 0; 194 points, coordinates as printed there (5 decimals)."""
    i = np.arange(97)
    angle, radius = i * math.pi / 16.0, 6.5 * (104 - i) / 104.0
    x, y = radius * np.sin(angle), radius * np.cos(angle)
    points = np.stack([np.stack([x, y], 1), np.stack([-x, -y], 1)], 1).reshape(-1, 2)
    printed = np.vectorize(lambda v: float(f"{v:.5f}"))(points)
    return printed, np.tile([1.0, 0.0], 97)[:, None]


#: Tasks of fixed data that are not families, with where they come from.
FIXED = {"spirals": (spirals, "Lang & Witbrock 1988; Wieland's mkspiral.c")}


@dataclass(frozen=True)
class Family:
    """Tasks named ``<name><N>`` for N in ``sizes``."""

    name: str
    sizes: range
    build: Callable[[int], tuple[np.ndarray, np.ndarray]]
    describe: str
    source: str


_PDP = "Rumelhart, Hinton & Williams 1986, in Parallel Distributed Processing, ch. 8"
#: Every family of tasks.
FAMILIES = (
    Family("parity", range(2, 9), _parity, "1 when an odd number of the N inputs are on", _PDP),
    Family("encoder", range(2, 65), _encoder, "N one-hot inputs mapped to themselves", _PDP),
    Family(
        "symmetry",
        range(2, 9),
        _symmetry,
        "1 when the N inputs read the same backwards",
        "RHW 1986, Nature 323, p. 534",
    ),
    Family("majority", range(3, 10, 2), _majority, "1 when most of the N inputs are on", "-"),
    Family(
        "add",
        range(1, 5),
        _add,
        "two N-bit numbers in (the first N inputs, then the next N), their N+1-bit sum out",
        _PDP,
    ),
)
_BY_NAME = {family.name: family for family in FAMILIES}


def _span(sizes: range) -> str:
    return f"{sizes[0]}..{sizes[-1]}" + (f" step {sizes.step}" if sizes.step > 1 else "")


#: A truth table's name: this, then its output columns, comma-separated.
TABLE = "table:"
#: Most inputs of a truth table (2^13 patterns).
MAX_TABLE_INPUTS = 13
#: The known names, in words (for help and errors).
KNOWN = ", ".join(
    [
        *_GATES,
        *(f"{f.name}N (N = {_span(f.sizes)})" for f in FAMILIES),
        *FIXED,
        "table:0110[,1000...]",
    ]
)


def truth_table(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(X, Y)`` of ``table:<column>[,<column>...]``, each column one output's
    bits for the input patterns in binary counting order; ValueError naming the
    fault otherwise."""
    columns = name[len(TABLE) :].split(",")
    for column in columns:
        if not column or set(column) - {"0", "1"}:
            raise ValueError(f"truth table {name!r}: a column holds 0s and 1s only, got {column!r}")
    size = len(columns[0])
    if any(len(column) != size for column in columns):
        raise ValueError(f"truth table {name!r}: columns of different lengths")
    n_in = size.bit_length() - 1
    if size < 2 or size != 2**n_in or n_in > MAX_TABLE_INPUTS:
        raise ValueError(
            f"truth table {name!r}: a column's length is 2^inputs (2 to "
            f"{2**MAX_TABLE_INPUTS}), got {size}"
        )
    bits = np.array([[int(c) for c in column] for column in columns], dtype=np.float64)
    return _binary_patterns(n_in), np.ascontiguousarray(bits.T)


def task_names() -> list[str]:
    """Every valid task name, in a stable order."""
    return list(_GATES) + [f"{f.name}{n}" for f in FAMILIES for n in f.sizes] + list(FIXED)


def is_task(name: str) -> bool:
    """Whether ``name`` names a task."""
    try:
        get_task(name)
    except ValueError:
        return False
    return True


def get_task(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, Y)`` for the task ``name``; ValueError if there is none."""
    if name in _GATES:
        return _binary_patterns(2), np.array(_GATES[name], dtype=np.float64)[:, None]
    if name.startswith(TABLE):
        return truth_table(name)
    if name in FIXED:
        return FIXED[name][0]()
    match = re.fullmatch(r"([a-z]+)(\d+)", name)
    if match and match.group(1) in _BY_NAME:
        family, n = _BY_NAME[match.group(1)], int(match.group(2))
        if n in family.sizes:
            return family.build(n)
    raise ValueError(f"unknown task {name!r}: choose {KNOWN}")
