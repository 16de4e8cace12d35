"""Training tasks: named (X, Y) datasets of binary patterns.

Every task is a pair of float64 arrays ``X`` (samples x n_in) and ``Y``
(samples x n_out) holding 0.0/1.0. ``xor`` is exactly the notebook's data, in
the notebook's order. Names:

- ``xor``, ``xnor``, ``and``, ``or``: the 2-input boolean functions;
- ``parityN`` (N = 2..8): N-bit parity of all 2^N patterns in binary counting
  order (first input is the most significant bit), one output;
- ``encoderN`` (N = 2..64): the N-H-N encoder, N one-hot inputs mapped to
  themselves.
"""

from __future__ import annotations

import re

import numpy as np

PARITY_BITS = range(2, 9)
ENCODER_SIZES = range(2, 65)

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


def task_names() -> list[str]:
    """Every valid task name, in a stable order."""
    return (
        list(_GATES) + [f"parity{n}" for n in PARITY_BITS] + [f"encoder{n}" for n in ENCODER_SIZES]
    )


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
    match = re.fullmatch(r"(parity|encoder)(\d+)", name)
    if match:
        kind, n = match.group(1), int(match.group(2))
        if kind == "parity" and n in PARITY_BITS:
            x = _binary_patterns(n)
            return x, (x.sum(axis=1) % 2)[:, None]
        if kind == "encoder" and n in ENCODER_SIZES:
            eye = np.eye(n)
            return eye, eye.copy()
    raise ValueError(
        f"unknown task {name!r}: choose xor, xnor, and, or, parity2..parity8 or encoder2..encoder64"
    )
