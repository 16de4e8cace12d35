"""A kernel generated for one shape: the hidden layer in tiles.

The general kernel (:mod:`kernels.train`) takes the shape at run time, so its
loops over samples and hidden units sit outside the vectorised loop over
networks, and every pass stores its intermediates (hidden outputs, deltas,
gradient sums) to memory. This kernel is generated for one shape: each epoch
is a few passes over a block of ``NB`` networks, each pass a straight-line
body for a *tile* of a few hidden units, the same source for every tile. (A
whole epoch as one body, the kernel this one replaced, vectorised only up to
~60 parameters, compiled ever longer with the width, and ran up to 25% slower
(XOR, H = 1 to 10).)

1. forward, per tile: hidden outputs (kept in ``work``) and their terms of
   the output sums;
2. outputs: predictions, statistics, output deltas and the output bias update;
3. backward, per tile: the tile's gradient sums, in registers, and at once its
   update (a hidden unit's gradient needs only its own parameters, its
   outputs and the output deltas);
4. end of epoch: divergence.

Each parameter is loaded twice and stored once per epoch, against about ten
memory passes per parameter in the general kernel. Results equal the general
kernel's bit for bit (see :mod:`kernels.codegen`): every sum runs over the
same terms in the same order.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from . import codegen
from .codegen import (
    CONVERGED,
    DIVERGED,
    LIVE,
    SIGNATURE,
    SOLVED,
    Arithmetic,
    Sums,
    Writer,
    constant,
)
from .model import SOLVED_MARGIN, BatchResult

#: Networks per block (measured on XOR H = 32: 32 best, 16 and 128 ~7% slower).
NB = 32
#: Limits of a tile (in float64 LLVM's vectorised code falls off a cliff on
#: larger bodies): hidden units; parameters; hidden outputs (units x samples);
#: samples of the task. Measured per network-epoch: XOR H = 32, tiles of 2
#: units 154 ns, of 4 (16 parameters, 16 outputs) 156 ns, of 8 172 ns, of 16
#: 970 ns; parity3 H = 12 (8 samples), tiles of 2 118 ns, of 3 174 ns;
#: parity4 H = 4 (16 samples), tiles of 1 192 ns, the general kernel 139 ns.
MAX_TILE = 4
MAX_TILE_PARAMS = 18
MAX_TILE_OUTPUTS = 16
MAX_SAMPLES = 8


class _Layout:
    """Row offsets (in units of NB) of the parameters in ``theta`` and of the
    per-block scratch in ``work``. A tile's parameters are addressed from two
    bases: ``tb`` (row of its first unit: input weights and biases) and ``tw``
    (its first unit's output weights, ``n_out`` rows per unit)."""

    def __init__(self, n_samples: int, n_in: int, width: int, n_out: int):
        self.n_in, self.width, self.n_out = n_in, width, n_out
        hidden = n_in * width
        self.bh, self.wo = hidden, hidden + width
        self.bo = hidden + width + width * n_out
        self.n_params = self.bo + n_out
        self.acc = n_samples * width  # output sums, then output deltas
        self.check = self.acc + n_samples * n_out
        self.work_rows = self.check + 1

    def unit_params(self, u: int) -> list[tuple[str, str]]:
        """(name, offset in ``theta`` less ``j``) of the parameters of the tile's unit ``u``."""
        return (
            [(f"wh{i}_{u}", f"tb + {(i * self.width + u) * NB}") for i in range(self.n_in)]
            + [(f"bh{u}", f"tb + {(self.bh + u) * NB}")]
            + [
                (f"wo{u}_{o}", f"tw + {(self.wo + u * self.n_out + o) * NB}")
                for o in range(self.n_out)
            ]
        )

    def bases(self, w: Writer, first: str) -> None:
        """Emit the tile's bases in ``theta`` (``tb``, ``tw``) and ``work`` (``wb``)."""
        w(f"tb = th + {first} * {NB}")
        w(f"tw = th + {first} * {self.n_out * NB}")
        w(f"wb = {first} * {NB}")

    def hidden(self, p: int, u: int) -> int:
        return p * self.width + u

    def out(self, p: int, o: int) -> int:
        return self.acc + p * self.n_out + o


def _error_terms(w: Writer, ar: Arithmetic, Y: np.ndarray, p: int, o: int, total: str) -> None:
    """Emit the output ``yhat`` from its pre-activation, and its error's statistics."""
    w(f"yhat = {ar.sigmoid(total)}")
    w(f"e = {constant(Y[p, o])} - yhat")
    w("ae = abs(e)")
    w("worst = ae if ae > worst else worst")
    w(f"sse = {ar.madd('e', 'e', 'sse')}")


def _statistics(w: Writer) -> None:
    """Emit the update of the epoch statistics at theta_k (live networks only)."""
    w(f"ok = events[ev + {LIVE * NB} + j] != 0")
    w(f"solved = events[ev + {SOLVED * NB} + j]")
    w(f"converged = events[ev + {CONVERGED * NB} + j]")
    # Bitwise & keeps the body free of branches, so that LLVM vectorises it.
    w("solved = epoch if ok & (solved < 0) & (worst < half) else solved")
    w("converged = epoch if ok & (converged < 0) & (worst < tol_t) else converged")
    w(f"events[ev + {SOLVED * NB} + j] = solved")
    w(f"events[ev + {CONVERGED * NB} + j] = converged")
    w("curve[row + j] = sse / n_terms  # the scratch row unless k is recorded")
    w("if early_stop:  # frozen once solved and converged")
    w("    ok = ok & (not ((solved >= 0) & (converged >= 0)))")


def _update(w: Writer, ar: Arithmetic, rows: list[tuple[str, str, str]]) -> None:
    """Emit theta_{k+1} = theta_k + lr * gradient sum for ``(name, sum, offset)``
    rows; frozen networks keep theta_k. ``check`` collects new * 0, NaN exactly
    when a new parameter is not finite."""
    for name, grad, offset in rows:
        w(f"new = {ar.madd('lr_j', grad, name)}")
        w(f"check = {ar.madd('new', 'zero', 'check')}")
        w(f"theta[{offset} + j] = new if ok else {name}")


def _mark_diverged(w: Writer, check: str) -> None:
    """Emit the end of an epoch for network ``j``: diverged if ``check`` is NaN."""
    w(f"bad = ok & ({check} != {check})")
    w(f"events[ev + {DIVERGED * NB} + j] = after if bad else events[ev + {DIVERGED * NB} + j]")
    w("ok = ok & (not bad)")
    w(f"events[ev + {LIVE * NB} + j] = ok")
    w("any_live = any_live | ok")


def _prologue(w: Writer, fast: bool, n_rows: int, n_samples: int, n_out: int) -> None:
    """Emit a kernel's ``def`` line and the per-block offsets (``w.depth`` ends at 2)."""
    w("@njit(**_JIT)")
    w(f"def train_{'fast' if fast else 'exact'}({SIGNATURE}):")
    w.depth = 1
    w('"""Train every block of networks; flat block-major arrays (see kernels.codegen)."""')
    w("dt = theta.dtype.type")
    w("it = events.dtype.type  # epochs in the events' own width (int32 for float32)")
    w(f"zero, one, half, tol_t = dt(0.0), dt(1.0), dt({SOLVED_MARGIN!r}), dt(tol)")
    w(f"n_terms = dt({n_samples * n_out})")
    w(f"n_blocks = lr.size // {NB}")
    w("n_points = epochs // curve_every + 1 if curve_every > 0 else 0")
    w("for b in range(n_blocks):")
    w.depth = 2
    w(f"th = b * {n_rows * NB}")
    w(f"ev = b * {4 * NB}")
    w(f"net = b * {NB}")
    w(f"out = b * {n_samples * n_out * NB}")
    w(f"cv = b * (n_points + 1) * {NB}")
    w(f"scratch = cv + n_points * {NB}")
    w("end = epochs")


def _epoch_head(w: Writer) -> None:
    """Emit the start of epoch ``k``: its curve row and event stamps."""
    w("recorded = curve_every > 0 and k % curve_every == 0")
    w(f"row = cv + (k // curve_every) * {NB} if recorded else scratch")
    w("epoch, after = it(k), it(k + 1)")


def _epilogue(w: Writer) -> None:
    """Emit the end of a block (at ``w.depth`` 2): a flat curve after an early stop."""
    w("if curve_every > 0:  # stopped early: the frozen loss stays flat")
    w("    for later in range(end // curve_every + 1, n_points):")
    w(f"        for j in range({NB}):")
    w(f"            curve[cv + later * {NB} + j] = final_loss[net + j]")


def _tiles(w: Writer, width: int, tile: int, body: Callable[[int, str], None]) -> None:
    """Emit ``body(size, first)`` over the hidden layer: a loop over full tiles
    (``first`` = ``hb``, their first unit), then the rest as one smaller tile."""
    n_full, rest = divmod(width, tile)
    if n_full:
        w(f"for t in range({n_full}):")
        w.depth += 1
        w(f"hb = t * {tile}")
        body(tile, "hb")
        w.depth -= 1
    if rest:
        body(rest, str(n_full * tile))


def _load_tile(w: Writer, lay: _Layout, size: int) -> None:
    for u in range(size):
        for name, offset in lay.unit_params(u):
            w(f"{name} = theta[{offset} + j]")


def _forward_tile(w: Writer, ar: Arithmetic, X: np.ndarray, lay: _Layout, size: int,
                  first: str) -> None:  # fmt: skip
    """Hidden outputs of a tile, and their terms of the output sums (in unit order)."""
    lay.bases(w, first)
    w(f"for j in range({NB}):")
    w.depth += 1
    _load_tile(w, lay, size)
    for p in range(X.shape[0]):
        for u in range(size):
            act = ar.activation(X, p, lambda i, u=u: f"wh{i}_{u}", f"bh{u}")
            w(f"s{u} = {ar.sigmoid(act)}")
            w(f"work[wb + {lay.hidden(p, u) * NB} + j] = s{u}")
        for o in range(lay.n_out):
            slot = f"work[{lay.out(p, o) * NB} + j]"
            # The general kernel's sums start at +0.0: the first tile does too.
            w(f"a = zero if {first} == 0 else {slot}")
            w(f"{slot} = {ar.chain([(f's{u}', f'wo{u}_{o}') for u in range(size)], 'a')}")
    w.depth -= 1


def _outputs(w: Writer, ar: Arithmetic, Y: np.ndarray, lay: _Layout, last: bool) -> None:
    """Predictions and statistics; then outputs (``last``) or deltas and the output bias."""
    w(f"for j in range({NB}):")
    w.depth += 1
    w("worst = zero")
    w("sse = zero")
    sums = Sums(w, ar)
    for p in range(Y.shape[0]):
        for o in range(lay.n_out):
            slot = f"work[{lay.out(p, o) * NB} + j]"
            _error_terms(w, ar, Y, p, o, f"{slot} + theta[th + {(lay.bo + o) * NB} + j]")
            if last:
                w(f"outputs[out + {(p * lay.n_out + o) * NB} + j] = yhat")
            else:
                w("d = e * (yhat * (one - yhat))")
                w(f"{slot} = d")
                sums.add(f"gbo{o}", "one", "d")
    _statistics(w)
    if last:
        w("final_loss[net + j] = sse / n_terms")
    else:
        # ``live`` holds ok (after early stop) until the end of the epoch.
        w(f"events[ev + {LIVE * NB} + j] = ok")
        w("lr_j = lr[net + j]")
        w("check = zero")
        for o in range(lay.n_out):
            w(f"bo{o} = theta[th + {(lay.bo + o) * NB} + j]")
        _update(w, ar, [(f"bo{o}", sums.value(f"gbo{o}"), f"th + {(lay.bo + o) * NB}")
                               for o in range(lay.n_out)])  # fmt: skip
        w(f"work[{lay.check * NB} + j] = check")
    w.depth -= 1


def _backward_tile(w: Writer, ar: Arithmetic, X: np.ndarray, lay: _Layout, size: int,
                   first: str) -> None:  # fmt: skip
    """A tile's gradient sums over the samples (in sample order), then its update."""
    lay.bases(w, first)
    w(f"for j in range({NB}):")
    w.depth += 1
    w(f"ok = events[ev + {LIVE * NB} + j] != 0")
    w("lr_j = lr[net + j]")
    _load_tile(w, lay, size)
    sums = Sums(w, ar)
    for p in range(X.shape[0]):
        for o in range(lay.n_out):
            w(f"d{o} = work[{lay.out(p, o) * NB} + j]")
        for u in range(size):
            w(f"s = work[wb + {lay.hidden(p, u) * NB} + j]")
            for o in range(lay.n_out):
                sums.add(f"gwo{u}_{o}", "s", f"d{o}")
            err = ar.chain([(f"d{o}", f"wo{u}_{o}") for o in range(lay.n_out)])
            w(f"delta = ({err}) * (s * (one - s))")
            sums.add(f"gbh{u}", "one", "delta")
            for x, i in codegen.active_inputs(X, p):
                sums.add(f"gwh{i}_{u}", x, "delta")
    w(f"check = work[{lay.check * NB} + j]")
    params = [name_offset for u in range(size) for name_offset in lay.unit_params(u)]
    _update(w, ar, [(name, sums.value(f"g{name}"), offset) for name, offset in params])
    w(f"work[{lay.check * NB} + j] = check")
    w.depth -= 1


def _kernel(X: np.ndarray, Y: np.ndarray, width: int, tile: int, fast: bool) -> list[str]:
    """Source lines of ``train_fast`` or ``train_exact`` (see the module docstring)."""
    lay = _Layout(X.shape[0], X.shape[1], width, Y.shape[1])
    ar = Arithmetic(fast)
    w = Writer()
    _prologue(w, fast, lay.n_params, X.shape[0], lay.n_out)
    w("k = 0")
    w("while True:")
    w.depth = 3
    w("last = k == end  # then statistics, outputs and loss at theta_end, no update")
    _epoch_head(w)
    _tiles(w, width, tile, lambda size, first: _forward_tile(w, ar, X, lay, size, first))
    w("if last:")
    w.depth = 4
    _outputs(w, ar, Y, lay, last=True)
    w("break")
    w.depth = 3
    _outputs(w, ar, Y, lay, last=False)
    _tiles(w, width, tile, lambda size, first: _backward_tile(w, ar, X, lay, size, first))
    # A boolean, not a count: a 64-bit sum would cap float32 at 8 lanes per vector.
    w("any_live = False")
    w(f"for j in range({NB}):")
    w.depth = 4
    w(f"ok = events[ev + {LIVE * NB} + j] != 0")
    _mark_diverged(w, f"work[{lay.check * NB} + j]")
    w.depth = 3
    w("k += 1")
    w("if early_stop and not any_live:")
    w("    end = k")
    w.depth = 2
    _epilogue(w)
    return w.lines


def source(X: np.ndarray, Y: np.ndarray, width: int, tile: int) -> str:
    """The generated kernel module for task ``(X, Y)``, ``width`` hidden units in
    tiles of ``tile``."""
    variants = [_kernel(X, Y, width, tile, fast) for fast in (True, False)]
    return codegen.module_source(f"tiled (tiles of {tile})", X, Y, width, variants)


def choose_tile(width: int, per_unit: int, n_samples: int, most: int = MAX_TILE) -> int:
    """Hidden units per tile for ``per_unit`` parameters per unit (0: none fits).

    At most ``most`` units and the ``MAX_TILE_*`` limits. From two full tiles
    on, a divisor of the width: a smaller last tile after a loop over tiles
    made the whole kernel slower (XOR, H = 10: tiles 4 + 4 + 2, 79 ns per
    network-epoch; 5 x 2, 57 ns).
    """
    if n_samples > MAX_SAMPLES:
        return 0
    most = min(most, MAX_TILE_PARAMS // per_unit, MAX_TILE_OUTPUTS // n_samples, width)
    if most < 1 or width < 2 * most:
        return max(most, 0)
    return max(t for t in range(1, most + 1) if width % t == 0)


@functools.lru_cache(maxsize=256)
def _plan_for(x_bytes: bytes, y_bytes: bytes, x_shape: tuple, y_shape: tuple,
              width: int) -> tuple[int, str] | None:  # fmt: skip
    X = np.frombuffer(x_bytes).reshape(x_shape)
    Y = np.frombuffer(y_bytes).reshape(y_shape)
    per_unit = X.shape[1] + 1 + Y.shape[1]
    # Smaller tiles until the source is short enough (a smaller last tile
    # doubles the tile code, so a smaller tile can make a shorter source).
    for most in range(MAX_TILE, 0, -1):
        tile = choose_tile(width, per_unit, X.shape[0], most)
        if tile < 1:
            return None
        text = source(X, Y, width, tile)
        if text.count("\n") <= codegen.MAX_LINES:
            return tile, text
    return None


def _plan(X: np.ndarray, Y: np.ndarray, width: int) -> tuple[int, str] | None:
    """(tile, source) for a shape, or None if no tile fits."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    return _plan_for(X.tobytes(), Y.tobytes(), X.shape, Y.shape, int(width))


def fits(X: np.ndarray, Y: np.ndarray, width: int) -> bool:
    """Whether a tile of this shape vectorises and compiles in a few seconds
    (:data:`MAX_TILE_PARAMS`, :data:`codegen.MAX_LINES`); any width then fits."""
    return width >= 1 and _plan(X, Y, width) is not None


def _fitting_plan(X: np.ndarray, Y: np.ndarray, width: int) -> tuple[int, str]:
    found = _plan(X, Y, width)
    if found is None:
        raise ValueError(f"no tiled kernel for a {X.shape[1]}-{width}-{Y.shape[1]} network")
    return found


def tile_for(X: np.ndarray, Y: np.ndarray, width: int) -> int:
    """Hidden units per tile for this shape (ValueError if it does not fit)."""
    return _fitting_plan(X, Y, width)[0]


def load(X: np.ndarray, Y: np.ndarray, width: int):
    """Import (writing it first if needed) the generated kernel module for a shape."""
    return codegen.load("tiled", _fitting_plan(X, Y, width)[1])


def train(
    X: np.ndarray, Y: np.ndarray, wh: np.ndarray, bh: np.ndarray, wo: np.ndarray,
    bo: np.ndarray, lr: np.ndarray, epochs: int, tol: float, curve_every: int, exp: str,
    early_stop: bool,
) -> BatchResult:  # fmt: skip
    """Train with the generated kernel; arguments as prepared by :func:`kernels.train_batch`."""
    width = bh.shape[0]
    module = load(X, Y, width)
    lay = _Layout(X.shape[0], X.shape[1], width, Y.shape[1])
    return codegen.run(module, NB, lay.work_rows, X, Y, wh, bh, wo, bo, lr, epochs, tol,
                       curve_every, exp, early_stop)  # fmt: skip
