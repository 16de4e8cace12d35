"""The initialisers, one entry each: how a network's first weights are drawn.

Every initialiser reads numpy's legacy ``RandomState(seed)`` stream, one
parameter array after another in init order (:func:`kernels.model.param_shapes`),
so that a network's weights are what ``np.random.seed(seed)`` followed by one
numpy call per array would give. ``uniform`` is the notebook's (``low``,
``high``: the init range); ``normal`` and ``fan-in`` take a radius R
(``low = -R``, ``high = R``). :func:`kernels.model.init_batch` draws them; the
sweep's ``--init`` names them.

Adding an initialiser is one entry here (its draws are written once, with
numpy's own calls as their oracle in the tests).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Initialiser:
    """One initialiser. ``draw(seeds, shapes, low, high, attempt)`` returns each
    network's draws for all its arrays, (total size, networks): with ``attempt``
    > 0 those of its ``attempt``-th restart, the stream read on past as many
    networks' worth."""

    name: str
    draw: Callable
    equation: str
    source: str
    radius: bool  # takes a radius R (low = -R, high = R) rather than a range


def _uniform(seeds, shapes, low, high, attempt):
    from .draws import uniform_draws  # compiled: loads Numba, in workers only

    total = sum(math.prod(shape) for shape in shapes.values())
    return uniform_draws(seeds, total, float(low), float(high), attempt * total)


def fan_in(shapes: dict[str, tuple[int, int]]) -> dict[str, int]:
    """Each parameter array's fan-in: the inputs of the units it feeds (a bias too)."""
    units = {"w_hidden": "b_hidden", "w_hidden2": "b_hidden2", "w_out": "b_out"}
    fans = {name: shapes[name][0] for name in units if name in shapes}
    if "w_shortcut" in shapes:  # the output units also read the inputs
        fans["w_out"] += shapes["w_shortcut"][0]
        fans["w_shortcut"] = fans["w_out"]
    for weights, bias in units.items():
        if weights in fans:
            fans[bias] = fans[weights]
    return {name: fans[name] for name in shapes}


def _fan_in(seeds, shapes, low, high, attempt):
    u = _uniform(seeds, shapes, 0.0, 1.0, attempt)
    fans, start = fan_in(shapes), 0
    for name, shape in shapes.items():
        size = math.prod(shape)
        bound = high / math.sqrt(fans[name])
        # numpy's uniform(-b, b): -b + (b - -b) * u, rounded as numpy rounds it.
        u[start : start + size] = -bound + (bound - -bound) * u[start : start + size]
        start += size
    return u


def _normal(seeds, shapes, low, high, attempt):
    # Polar Box-Muller with a kept second value, as numpy's legacy gauss: one
    # call for all arrays draws what one call per array would.
    total = sum(math.prod(shape) for shape in shapes.values())
    out = np.empty((total, len(seeds)))
    for j, seed in enumerate(seeds):
        draws = np.random.RandomState(int(seed)).normal(0.0, high, (attempt + 1) * total)
        out[:, j] = draws[attempt * total :]
    return out


#: Every initialiser, by name (``uniform`` first: the default).
TABLE = (
    Initialiser(
        "uniform",
        _uniform,
        "U[low, high)",
        "the notebook: np.random.uniform",
        radius=False,
    ),
    Initialiser(
        "normal",
        _normal,
        "N(0, R^2), as np.random.normal(0, R, shape)",
        "Gaussian initial weights",
        radius=True,
    ),
    Initialiser(
        "fan-in",
        _fan_in,
        "U[-R / sqrt(fan-in), R / sqrt(fan-in)) per layer, its biases too",
        "LeCun et al. 1998; torch.nn.Linear's default with R = 1",
        radius=True,
    ),
)
NAMES = tuple(entry.name for entry in TABLE)
BY_NAME = {entry.name: entry for entry in TABLE}
