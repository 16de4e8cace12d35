"""Generated kernels: source that calls the step's pieces, and the layout.

:mod:`kernels.tiled` writes a kernel's source for one shape (task, width and
recipe) as plain, readable Python that calls the pieces of
:mod:`kernels.step` (and :func:`kernels.numerics.madd`) with the recipe's
codes as constants: the arithmetic is defined there, once, and only the loop
structure is generated. The source is saved to a cache folder and imported,
so Numba's on-disk cache keeps the compiled kernel between processes. A
module's file name hashes its source, which embeds a stamp of the sources of
the pieces (:func:`kernels.cache.source_stamp`): editing them never reuses
a stale compiled kernel.

A generated kernel performs the general kernel's operations in the same
order (:class:`Arithmetic` sums as :mod:`kernels.general` does), so its
results equal the general kernel's bit for bit in both ``exp`` modes. Which
kernel runs is a matter of speed.

Layout: networks in blocks of ``nb``; every per-network row (parameters,
velocities, events, loss curve, outputs) lives in one flat array,
block-major, at constant offsets from the block: LLVM then proves the rows
independent and vectorises without runtime alias checks, which it gives up
on beyond a handful of arrays.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .cache import source_stamp
from .model import param_offsets
from .recipe import Constants, Variant

#: Bump to regenerate every cached kernel.
GENERATOR_VERSION = 6
#: Least work (network-epochs) for which a generated kernel pays back its
#: compilation (once per machine, then loaded from the cache); see
#: docs/performance.md, "Generated kernels".
MIN_WORK = 2_000_000
#: Most lines of a generated module (its fast and exact variants): compile
#: time grows with it (docs/performance.md, "Generated kernels").
MAX_LINES = 1200
#: Rows of ``events``: epochs solved, converged, diverged, MSE target (-1:
#: never), and live (1) or frozen (0).
SOLVED, CONVERGED, DIVERGED, HIT, LIVE = range(5)
N_EVENTS = 5
#: What a generated kernel is called with (see :func:`run`).
SIGNATURE = (
    "theta, lr, events, curve, outputs, final_loss, work, epochs, tol, margin, mse_target, "
    f"{', '.join(Constants._fields)}, points, early_stop, stop"
)


def param_rows(n_in: int, width: int, n_out: int) -> list[str]:
    """Names of a network's parameters in init (and flattening) order."""
    return (
        [f"wh{i}_{h}" for i in range(n_in) for h in range(width)]
        + [f"bh{h}" for h in range(width)]
        + [f"wo{h}_{o}" for h in range(width) for o in range(n_out)]
        + [f"bo{o}" for o in range(n_out)]
    )


class Writer:
    """Accumulates indented source lines (``depth``: the indentation level) of a
    kernel for blocks of ``nb`` networks."""

    def __init__(self, nb: int) -> None:
        self.lines: list[str] = []
        self.depth = 0
        self.nb = nb

    def __call__(self, line: str = "") -> None:
        self.lines.append("    " * self.depth + line if line else "")


def constant(value: float) -> str:
    """A float constant as generated source (``zero``, ``one`` or ``dt(...)``)."""
    return {0.0: "zero", 1.0: "one"}.get(float(value), f"dt({float(value)!r})")


def active_inputs(X: np.ndarray, p: int) -> list[tuple[str, int]]:
    """(value, index) of sample ``p``'s nonzero inputs: zeros are skipped, as in the
    general kernel and the reference."""
    return [(constant(X[p, i]), i) for i in range(X.shape[1]) if X[p, i] != 0]


class Arithmetic:
    """Calls of the step's pieces in one variant (``fast``: the exp and FMAs; the
    recipe's codes are the generated module's constants ACT, OUT, LOSS,
    MOMENTUM, DECAY, PRIME)."""

    def __init__(self, fast: bool):
        self.fast = fast

    def madd(self, a: str, b: str, c: str) -> str:
        """a * b + c: fused in ``fast``, else rounded twice."""
        return f"madd({a}, {b}, {c}, {self.fast})"

    def activate(self, kind: str, x: str) -> str:
        return f"activate({kind}, {x}, {self.fast})"

    def output_delta(self, e: str, yhat: str) -> str:
        return f"output_delta(LOSS, OUT, {e}, {yhat}, PRIME, po_t, {self.fast})"

    def hidden_delta(self, err: str, s: str) -> str:
        return f"hidden_delta(ACT, {err}, {s}, PRIME, po_t, {self.fast})"

    def descend(self, decay: str, w: str, g: str, v: str) -> str:
        return f"descend(MOMENTUM, {decay}, {w}, {g}, {v}, lr_j, mu_t, lam_t, {self.fast})"

    def adam(self, decay: str, w: str, g: str, state: str) -> str:
        return (
            f"adam({decay}, {w}, {g}, {state}, a_step, a_root, lam_t, b1_t, b2_t, eps_t, "
            f"{self.fast})"
        )

    def rprop(self, kind: str, decay: str, w: str, g: str, state: str) -> str:
        return (
            f"rprop({kind}, {decay}, {w}, {g}, {state}, lam_t, up_t, down_t, most_t, "
            f"least_t, {self.fast})"
        )

    def quickprop(self, decay: str, w: str, g: str, state: str) -> str:
        return f"quickprop({decay}, {w}, {g}, {state}, lr_j, lam_t, qmu_t, {self.fast})"

    def step(self, code: int, w: str, g: str, state: str) -> str:
        """An optimiser with a table step (:data:`kernels.step.optimizer_step`),
        its settings ``own0_t``-``own2_t``."""
        return (
            f"optimizer_step({code}, {w}, {g}, {state}, lr_j, own0_t, own1_t, own2_t, {self.fast})"
        )

    def observe(self, e: str, sign: float) -> str:
        sign_text = "one" if sign > 0 else "-one"
        return f"observe({e}, {sign_text}, worst, miss, sse, {self.fast})"

    def chain(self, terms: list[tuple[str, str]], start: str | None = None) -> str:
        """``start + a0 * b0 + a1 * b1 + ...`` summed as the general kernel sums.

        A sum without ``start`` begins with its first product (the general
        kernel's ``madd(a, b, +0.0)`` rounds to the same value). A factor
        ``one`` is dropped: ``madd(1, b, acc)`` and ``acc + b`` round alike.
        """
        value = start
        for a, b in terms:
            if value is None:
                value = b if a == "one" else f"{a} * {b}"
            else:
                value = f"{value} + {b}" if a == "one" else self.madd(a, b, value)
        assert value is not None, "an empty sum"
        return value

    def preactivation(self, X: np.ndarray, p: int, weight: Callable[[int], str], bias: str) -> str:
        """A hidden unit's pre-activation on sample ``p`` (``weight(i)``: its input weight)."""
        terms = [(x, weight(i)) for x, i in active_inputs(X, p)]
        if not terms:
            return f"zero + {bias}"
        if len(terms) == 1:
            return self.chain(terms, bias)
        return f"{self.chain(terms)} + {bias}"


class Sums:
    """Gradient sums in registers: the first term starts a sum (see ``chain``)."""

    def __init__(self, w: Writer, ar: Arithmetic):
        self.w, self.ar, self.started = w, ar, set()

    def add(self, name: str, a: str, b: str) -> None:
        """Emit ``name += a * b``."""
        self.w(f"{name} = {self.ar.chain([(a, b)], name if name in self.started else None)}")
        self.started.add(name)

    def value(self, name: str) -> str:
        """The sum, or ``zero`` if it never received a term."""
        return name if name in self.started else "zero"


def module_source(
    generator: str,
    X: np.ndarray,
    Y: np.ndarray,
    width: int,
    variant: Variant,
    variants: list[list[str]],
    nb: int,
    samples: bool = True,
) -> str:
    """A generated module: header, then the kernel ``variants`` (fast, exact), for
    blocks of ``nb`` networks (its ``NB``); with ``samples``, the task's
    patterns ``X``, ``Y`` are constants of the module, else only their numbers
    of inputs and outputs are read (the kernel takes the samples as arguments)."""
    n_samples, n_in = X.shape
    n_out = Y.shape[1]
    data = [f"X = np.array({X.tolist()!r})", f"Y = np.array({Y.tolist()!r})"] if samples else []
    head = [
        f'"""Generated by kernels.{generator} (version {GENERATOR_VERSION}): '
        f'{n_in}-{width}-{n_out} network, {n_samples if samples else "any number of"} samples."""',
        f"# kernels sources: {source_stamp()}",
        "import numpy as np",
        "from numba import njit",
        "",
        "from kernels.numerics import JIT, madd, select",
        "from kernels.recipe import IRPROP, RPROP",
        "from kernels.step import activate, adam, adam_scales, descend, hidden_delta, observe, "
        "optimizer_step, output_delta, quickprop, record, rprop",
        "",
        *data,
        f"WIDTH, NB = {width}, {nb}",
        f"PARAMS = {param_rows(n_in, width, n_out)!r}",
        f"ACT, OUT, LOSS, UPDATE = {variant.activation}, {variant.output_activation}, "
        f"{variant.loss}, {variant.update}",
        f"MOMENTUM, DECAY, PRIME = {variant.momentum}, {variant.decay}, {variant.prime}",
        "",
        "",
    ]
    body: list[str] = []
    for lines in variants:
        body += (["", ""] if body else []) + lines
    return "\n".join(head + body) + "\n"


def n_params(n_in: int, width: int, n_out: int) -> int:
    """Rows of one network's parameters."""
    return param_offsets(n_in, width, n_out)[3]
