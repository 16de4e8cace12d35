"""A kernel generated for one shape and recipe: the hidden layer in tiles.

The general kernel (:mod:`kernels.general`) takes the shape at run time, so
its loops over samples and hidden units sit outside the vectorised loop over
networks, and every pass stores its intermediates (hidden outputs, deltas,
gradient sums) to memory. This kernel is generated for one shape: each epoch
is a few passes over a block of ``NB`` networks, each pass a straight-line
body for a *tile* of a few hidden units, the same source for every tile.
(One body for a whole epoch vectorises only for few parameters and
compiles ever longer with the width.)

Batch update, per epoch:

1. forward, per tile: hidden outputs (kept in ``work``) and their terms of
   the output sums;
2. outputs: predictions, statistics, output deltas and the output bias update;
3. backward, per tile: the tile's gradient sums, in registers, and at once its
   update (a hidden unit's gradient needs only its own parameters, its
   outputs and the output deltas);
4. end of epoch: divergence.

Online update: 1 and the statistics of 2 at theta_k, then for each sample in
order its own 1 (the first sample's is the one at theta_k), 2 and 3. The
shuffled update (a different sample order in each network), online
updates with an optimiser that keeps state of its own (Adam), and the
optimisers the general kernel runs through their table entry
(:data:`kernels.optimizers.FIRST_STEPPED` on) run on the general kernel only.

Each parameter is loaded twice and stored once per update, against about ten
memory passes per parameter in the general kernel. The arithmetic is the
pieces of :mod:`kernels.step`, called in the general kernel's order (see
:mod:`kernels.codegen`), so results equal the general kernel's bit for bit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from . import cache, codegen
from .codegen import (
    CONVERGED,
    DIVERGED,
    HIT,
    LIVE,
    N_EVENTS,
    SIGNATURE,
    SOLVED,
    Arithmetic,
    Sums,
    Writer,
    constant,
)
from .model import BatchResult, unflatten
from .optimizers import FIRST_STEPPED, TABLE
from .recipe import (
    ADAM,
    BATCH,
    DEFAULT,
    IRPROP,
    ONLINE,
    OPTIMIZERS,
    QUICKPROP,
    RPROP,
    STATE_SLOTS,
    Recipe,
    Variant,
)

#: Networks per block (a constant of the generated source); measured in
#: benchmarks/block.py.
NB = 32
#: Limits of a tile (in float64 LLVM's vectorised code falls off a cliff on
#: larger bodies): hidden units; parameters; hidden outputs (units x samples);
#: samples of the task (docs/performance.md, "Generated kernels").
MAX_TILE = 4
#: The same for the optimisers with state of their own, whose update triples
#: a parameter's loads and stores (benchmarks/optimizers.py).
MAX_TILE_STATEFUL = 2
MAX_TILE_PARAMS = 18
MAX_TILE_OUTPUTS = 16
MAX_SAMPLES = 8
#: Update modes a generated kernel implements: both with gradient descent,
#: heavy-ball or Nesterov momentum; batch with the optimisers that keep state
#: of their own (Adam, the Rprops, Quickprop).
UPDATES = (BATCH, ONLINE)
#: Optimisers (codes) with state of their own: those that take no momentum.
STATEFUL = tuple(code for code, entry in enumerate(TABLE) if entry.momentum == "none")


class _Layout:
    """Row offsets (in units of NB) of the parameters in ``theta`` and of the
    per-block scratch in ``work``. A tile's parameters are addressed from two
    bases: ``tb`` (row of its first unit: input weights and biases) and ``tw``
    (its first unit's output weights, ``n_out`` rows per unit). The
    optimiser's state follows the parameters, a block of ``n_params`` rows per
    quantity (:attr:`kernels.recipe.Recipe.state_slots`): quantity ``q`` of a
    parameter lies ``q * velocity`` after it. Adam's beta1^t and beta2^t
    follow, one row each (``powers``)."""

    def __init__(self, n_samples: int, n_in: int, width: int, n_out: int, variant: Variant):
        self.n_in, self.width, self.n_out = n_in, width, n_out
        self.decay = variant.decay
        self.optimizer = variant.optimizer
        self.bh, self.wo, self.bo, self.n_params = codegen.param_offsets(n_in, width, n_out)
        self.velocity = self.n_params * NB
        self.slots = STATE_SLOTS[OPTIMIZERS[variant.optimizer]] or int(variant.momentum > 0)
        self.powers = self.n_params * (1 + self.slots)
        self.n_rows = self.powers + 2 * (variant.optimizer == ADAM)
        self.acc = n_samples * width  # output sums, then output deltas
        self.check = self.acc + n_samples * n_out
        self.work_rows = self.check + 1

    def unit_params(self, u: int) -> list[tuple[str, str, bool]]:
        """(name, offset in ``theta`` less ``j``, is a weight) of the tile's unit ``u``."""
        return (
            [(f"wh{i}_{u}", f"tb + {(i * self.width + u) * NB}", True) for i in range(self.n_in)]
            + [(f"bh{u}", f"tb + {(self.bh + u) * NB}", False)]
            + [
                (f"wo{u}_{o}", f"tw + {(self.wo + u * self.n_out + o) * NB}", True)
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


def _error_terms(
    w: Writer, ar: Arithmetic, Y: np.ndarray, signs: np.ndarray, p: int, o: int, total: str
) -> None:
    """Emit the output ``yhat`` from its pre-activation, and its error's statistics."""
    w(f"yhat = {ar.activate('OUT', total)}")
    w(f"e = {constant(Y[p, o])} - yhat")
    w(f"worst, miss, sse = {ar.observe('e', signs[p, o])}")


def _statistics(w: Writer) -> None:
    """Emit the events of epoch k (live networks only) and its loss."""
    w(f"ok = events[ev + {LIVE * NB} + j] != 0")
    w("mse = sse / n_terms")
    names = {SOLVED: "solved", CONVERGED: "converged", HIT: "hit"}
    for row, name in names.items():
        w(f"{name} = events[ev + {row * NB} + j]")
    w(
        "solved, converged, hit = record(epoch, ok, solved, converged, hit, worst, miss, mse, "
        "margin_t, tol_t, target_t)"
    )
    for row, name in names.items():
        w(f"events[ev + {row * NB} + j] = {name}")
    w("curve[row + j] = mse  # the scratch row unless k is recorded")
    w("if early_stop:  # frozen once solved and converged")
    w("    ok = ok & (not ((solved >= 0) & (converged >= 0)))")


def _update(
    w: Writer,
    ar: Arithmetic,
    lay: _Layout,
    momentum: bool,
    rows: list[tuple[str, str, str, bool]],
    check: bool = True,
) -> None:
    """Emit theta_{k+1} from theta_k and ``(name, gradient sum, offset, is a
    weight)`` rows; frozen networks keep theta_k (and the optimiser's state).
    ``check`` collects new * 0, NaN exactly when a new parameter is not finite
    (online updates check once, at the end of the epoch: a parameter that is
    not finite stays so)."""
    stateful = lay.optimizer in STATEFUL
    if lay.optimizer == ADAM:  # this update's bias corrections (see _advance_powers)
        w(
            f"a_step, a_root = adam_scales(lr_j, theta[th + {lay.powers * NB} + j], "
            f"theta[th + {(lay.powers + 1) * NB} + j])"
        )
    for name, grad, offset, weight in rows:
        decay = "DECAY" if weight else "False"
        if grad == "zero" and not (momentum or stateful or (weight and lay.decay)):
            continue  # w + lr * 0 is w: a sample with this input at 0 leaves it alone
        state = [f"theta[{offset} + {q * lay.velocity} + j]" for q in range(1, lay.slots + 1)]
        if stateful or momentum:
            for q, place in enumerate(state):
                w(f"q{q} = {place}")
            old = ", ".join(f"q{q}" for q in range(lay.slots))
            new = ", ".join(f"n{q}" for q in range(lay.slots))
            if lay.optimizer == ADAM:
                call = ar.adam(decay, name, grad, old)
            elif lay.optimizer == RPROP:
                call = ar.rprop("RPROP", decay, name, grad, old)
            elif lay.optimizer == IRPROP:  # its last change is not kept
                call, new = ar.rprop("IRPROP", decay, name, grad, f"{old}, zero"), f"{new}, _"
            elif lay.optimizer == QUICKPROP:
                call = ar.quickprop(decay, name, grad, old)
            else:
                call = ar.descend(decay, name, grad, old)
            w(f"new, {new} = {call}")
            for q, place in enumerate(state):
                w(f"{place} = n{q} if ok else q{q}")
        else:
            w(f"new, _ = {ar.descend(decay, name, grad, 'zero')}")
        if check:
            w(f"check = {ar.madd('new', 'zero', 'check')}")
        w(f"theta[{offset} + j] = new if ok else {name}")


def _advance_powers(w: Writer, lay: _Layout) -> None:
    """Emit Adam's beta1^t and beta2^t, advanced to this update for network ``j``
    (every network, as the general kernel does: a frozen one never uses them)."""
    for q, beta in enumerate(("b1_t", "b2_t")):
        w(
            f"theta[th + {(lay.powers + q) * NB} + j] = theta[th + {(lay.powers + q) * NB} + j] "
            f"* {beta}"
        )


def _mark_diverged(w: Writer, check: str) -> None:
    """Emit the end of an epoch for network ``j``: diverged if ``check`` is NaN."""
    w(f"bad = ok & ({check} != {check})")
    w(f"events[ev + {DIVERGED * NB} + j] = after if bad else events[ev + {DIVERGED * NB} + j]")
    w("ok = ok & (not bad)")
    w(f"events[ev + {LIVE * NB} + j] = ok")
    w("any_live = any_live | ok")


def _check_parameters(w: Writer, ar: Arithmetic, lay: _Layout) -> None:
    """Emit ``check`` over every parameter (the online update's divergence test)."""
    w(f"for r in range({lay.n_params}):")
    w(f"    for j in range({NB}):")
    w(f"        c = work[{lay.check * NB} + j]")
    w(f"        work[{lay.check * NB} + j] = {ar.madd(f'theta[th + r * {NB} + j]', 'zero', 'c')}")


def _prologue(w: Writer, fast: bool, lay: _Layout, n_samples: int) -> None:
    """Emit a kernel's ``def`` line and the per-block offsets (``w.depth`` ends at 2)."""
    w("@njit(**JIT)")
    w(f"def train_{'fast' if fast else 'exact'}({SIGNATURE}):")
    w.depth = 1
    w('"""Train every block of networks; flat block-major arrays (see kernels.codegen)."""')
    w("dt = theta.dtype.type")
    w("it = events.dtype.type  # epochs in the events' own width (int32 for float32)")
    w("zero, one = dt(0.0), dt(1.0)")
    w("tol_t, margin_t, target_t = dt(tol), dt(margin), dt(mse_target)")
    w("mu_t, lam_t, po_t = dt(momentum), dt(weight_decay), dt(prime_offset)")
    w("b1_t, b2_t, eps_t = dt(beta1), dt(beta2), dt(adam_eps)")
    w(
        "up_t, down_t, most_t, least_t, qmu_t = dt(eta_plus), dt(eta_minus), dt(delta_max), "
        "dt(delta_min), dt(max_factor)"
    )
    w(f"n_terms = dt({n_samples * lay.n_out})")
    w(f"n_blocks = lr.size // {NB}")
    w("n_points = points.size")
    w("for b in range(n_blocks):")
    w.depth = 2
    w(f"th = b * {lay.n_rows * NB}")
    w(f"ev = b * {N_EVENTS * NB}")
    w(f"net = b * {NB}")
    w(f"out = b * {n_samples * lay.n_out * NB}")
    w(f"cv = b * (n_points + 1) * {NB}")
    w(f"scratch = cv + n_points * {NB}")
    w("end = epochs")
    w("nxt = 0  # the next loss-curve point to record (points: its epochs, ascending)")


def _epoch_head(w: Writer) -> None:
    """Emit the start of epoch ``k``: its curve row and event stamps."""
    w("recorded = nxt < n_points and points[nxt] == k")
    w(f"row = cv + nxt * {NB} if recorded else scratch")
    w("nxt += recorded")
    w("epoch, after = it(k), it(k + 1)")


def _epilogue(w: Writer) -> None:
    """Emit the end of a block (at ``w.depth`` 2): a flat curve after an early stop."""
    w("for later in range(nxt, n_points):  # stopped early: the frozen loss stays flat")
    w(f"    for j in range({NB}):")
    w(f"        curve[cv + later * {NB} + j] = final_loss[net + j]")


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
        for name, offset, _ in lay.unit_params(u):
            w(f"{name} = theta[{offset} + j]")


def _forward_tile(
    w: Writer, ar: Arithmetic, X: np.ndarray, lay: _Layout, samples: range, size: int, first: str
) -> None:
    """Hidden outputs of a tile on ``samples``, and their terms of the output sums
    (in unit order)."""
    lay.bases(w, first)
    w(f"for j in range({NB}):")
    w.depth += 1
    _load_tile(w, lay, size)
    for p in samples:
        for u in range(size):
            act = ar.preactivation(X, p, lambda i, u=u: f"wh{i}_{u}", f"bh{u}")
            w(f"s{u} = {ar.activate('ACT', act)}")
            w(f"work[wb + {lay.hidden(p, u) * NB} + j] = s{u}")
        for o in range(lay.n_out):
            slot = f"work[{lay.out(p, o) * NB} + j]"
            # The general kernel's sums start at +0.0: the first tile does too.
            w(f"a = zero if {first} == 0 else {slot}")
            w(f"{slot} = {ar.chain([(f's{u}', f'wo{u}_{o}') for u in range(size)], 'a')}")
    w.depth -= 1


def _update_output_bias(
    w: Writer, ar: Arithmetic, lay: _Layout, momentum: bool, sums: Sums, check: bool
) -> None:
    for o in range(lay.n_out):
        w(f"bo{o} = theta[th + {(lay.bo + o) * NB} + j]")
    _update(
        w,
        ar,
        lay,
        momentum,
        [
            (f"bo{o}", sums.value(f"gbo{o}"), f"th + {(lay.bo + o) * NB}", False)
            for o in range(lay.n_out)
        ],
        check,
    )


def _outputs(
    w: Writer,
    ar: Arithmetic,
    Y: np.ndarray,
    signs: np.ndarray,
    lay: _Layout,
    mode: str,
    momentum: bool,
) -> None:
    """Predictions and statistics at theta_k; then outputs (``last``), deltas and the
    output bias update (``batch``), or nothing more (``online``, which updates later)."""
    w(f"for j in range({NB}):")
    w.depth += 1
    w("worst = zero")
    w("miss = zero  # margin > 0: the test is the same")
    w("sse = zero")
    sums = Sums(w, ar)
    for p in range(Y.shape[0]):
        for o in range(lay.n_out):
            slot = f"work[{lay.out(p, o) * NB} + j]"
            _error_terms(w, ar, Y, signs, p, o, f"{slot} + theta[th + {(lay.bo + o) * NB} + j]")
            if mode == "last":
                w(f"outputs[out + {(p * lay.n_out + o) * NB} + j] = yhat")
            elif mode == "batch":
                w(f"d = {ar.output_delta('e', 'yhat')}")
                w(f"{slot} = d")
                sums.add(f"gbo{o}", "one", "d")
    _statistics(w)
    if mode == "last":
        w("final_loss[net + j] = mse")
    else:
        # ``live`` holds ok (after early stop) until the end of the epoch.
        w(f"events[ev + {LIVE * NB} + j] = ok")
        w("check = zero")
        if mode == "batch":
            w("lr_j = lr[net + j]")
            if lay.optimizer == ADAM:
                _advance_powers(w, lay)
            _update_output_bias(w, ar, lay, momentum, sums, check=True)
        w(f"work[{lay.check * NB} + j] = check")
    w.depth -= 1


def _sample_outputs(
    w: Writer, ar: Arithmetic, Y: np.ndarray, lay: _Layout, p: int, momentum: bool
) -> None:
    """Online: sample ``p``'s output deltas, and the output bias update."""
    w(f"for j in range({NB}):")
    w.depth += 1
    w(f"ok = events[ev + {LIVE * NB} + j] != 0")
    w("lr_j = lr[net + j]")
    sums = Sums(w, ar)
    for o in range(lay.n_out):
        slot = f"work[{lay.out(p, o) * NB} + j]"
        w(f"yhat = {ar.activate('OUT', f'{slot} + theta[th + {(lay.bo + o) * NB} + j]')}")
        w(f"d = {ar.output_delta(f'{constant(Y[p, o])} - yhat', 'yhat')}")
        w(f"{slot} = d")
        sums.add(f"gbo{o}", "one", "d")
    _update_output_bias(w, ar, lay, momentum, sums, check=False)
    w.depth -= 1


def _backward_tile(
    w: Writer,
    ar: Arithmetic,
    X: np.ndarray,
    lay: _Layout,
    samples: range,
    momentum: bool,
    size: int,
    first: str,
    check: bool = True,
) -> None:
    """A tile's gradient sums over ``samples`` (in sample order), then its update."""
    lay.bases(w, first)
    w(f"for j in range({NB}):")
    w.depth += 1
    w(f"ok = events[ev + {LIVE * NB} + j] != 0")
    w("lr_j = lr[net + j]")
    _load_tile(w, lay, size)
    sums = Sums(w, ar)
    for p in samples:
        for o in range(lay.n_out):
            w(f"d{o} = work[{lay.out(p, o) * NB} + j]")
        for u in range(size):
            w(f"s = work[wb + {lay.hidden(p, u) * NB} + j]")
            for o in range(lay.n_out):
                sums.add(f"gwo{u}_{o}", "s", f"d{o}")
            err = ar.chain([(f"d{o}", f"wo{u}_{o}") for o in range(lay.n_out)])
            w(f"delta = {ar.hidden_delta(err, 's')}")
            sums.add(f"gbh{u}", "one", "delta")
            for x, i in codegen.active_inputs(X, p):
                sums.add(f"gwh{i}_{u}", x, "delta")
    params = [
        (name, sums.value(f"g{name}"), offset, weight)
        for u in range(size)
        for name, offset, weight in lay.unit_params(u)
    ]
    if check:
        w(f"check = work[{lay.check * NB} + j]")
    _update(w, ar, lay, momentum, params, check)
    if check:
        w(f"work[{lay.check * NB} + j] = check")
    w.depth -= 1


def _kernel(
    X: np.ndarray,
    Y: np.ndarray,
    signs: np.ndarray,
    width: int,
    tile: int,
    variant: Variant,
    fast: bool,
) -> list[str]:
    """Source lines of ``train_fast`` or ``train_exact`` (see the module docstring)."""
    n_samples = X.shape[0]
    lay = _Layout(n_samples, X.shape[1], width, Y.shape[1], variant)
    ar = Arithmetic(fast)
    mom = variant.momentum
    every = range(n_samples)
    w = Writer()

    def forward(samples: range) -> None:
        _tiles(
            w, width, tile, lambda size, first: _forward_tile(w, ar, X, lay, samples, size, first)
        )

    def backward(samples: range, check: bool) -> None:
        _tiles(
            w,
            width,
            tile,
            lambda size, first: _backward_tile(w, ar, X, lay, samples, mom, size, first, check),
        )

    _prologue(w, fast, lay, n_samples)
    w("k = 0")
    w("while True:")
    w.depth = 3
    w("if stop[0]:  # asked to stop (kernels.stop): the caller discards the results")
    w("    return")
    w("last = k == end  # then statistics, outputs and loss at theta_end, no update")
    _epoch_head(w)
    forward(every)
    w("if last:")
    w.depth = 4
    _outputs(w, ar, Y, signs, lay, "last", mom)
    w("break")
    w.depth = 3
    if variant.update == BATCH:
        _outputs(w, ar, Y, signs, lay, "batch", mom)
        backward(every, check=True)
    else:
        _outputs(w, ar, Y, signs, lay, "online", mom)
        for p in every:
            if p > 0:  # the first sample's forward pass at theta_k is the one just done
                forward(range(p, p + 1))
            _sample_outputs(w, ar, Y, lay, p, mom)
            backward(range(p, p + 1), check=False)
        _check_parameters(w, ar, lay)
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


def _source(
    X: np.ndarray, Y: np.ndarray, signs: np.ndarray, width: int, tile: int, variant: Variant
) -> str:
    variants = [_kernel(X, Y, signs, width, tile, variant, fast) for fast in (True, False)]
    return codegen.module_source(f"tiled (tiles of {tile})", X, Y, width, variant, variants)


def source(X: np.ndarray, Y: np.ndarray, width: int, tile: int, recipe: Recipe = DEFAULT) -> str:
    """The generated kernel module for a task (its 0/1 patterns ``X``, ``Y``) and
    recipe, ``width`` hidden units in tiles of ``tile``."""
    Xc, Yc = recipe.code(X, Y)
    return _source(Xc, Yc, recipe.signs(Y), width, tile, recipe.variant)


def choose_tile(width: int, per_unit: int, n_samples: int, most: int = MAX_TILE) -> int:
    """Hidden units per tile for ``per_unit`` parameters per unit (0: none fits).

    At most ``most`` units and the ``MAX_TILE_*`` limits. From two full tiles
    on, a divisor of the width: a smaller last tile after a loop over tiles
    slows the whole kernel down (docs/performance.md, "Generated kernels").
    """
    if n_samples > MAX_SAMPLES:
        return 0
    most = min(most, MAX_TILE_PARAMS // per_unit, MAX_TILE_OUTPUTS // n_samples, width)
    if most < 1 or width < 2 * most:
        return max(most, 0)
    return max(t for t in range(1, most + 1) if width % t == 0)


@functools.lru_cache(maxsize=256)
def _plan_for(
    x_bytes: bytes,
    y_bytes: bytes,
    x_shape: tuple,
    y_shape: tuple,
    width: int,
    variant: Variant,
    signs: tuple,
) -> tuple[int, str] | None:
    if variant.update not in UPDATES or (variant.optimizer in STATEFUL and variant.update != BATCH):
        return None
    if variant.optimizer >= FIRST_STEPPED:  # the optimisers run through their table entry
        return None
    X = np.frombuffer(x_bytes).reshape(x_shape)
    Y = np.frombuffer(y_bytes).reshape(y_shape)
    per_unit = X.shape[1] + 1 + Y.shape[1]
    sign_array = np.array(signs).reshape(y_shape)
    # Smaller tiles until the source is short enough (a smaller last tile
    # doubles the tile code, so a smaller tile can make a shorter source).
    for most in range(MAX_TILE_STATEFUL if variant.optimizer in STATEFUL else MAX_TILE, 0, -1):
        tile = choose_tile(width, per_unit, X.shape[0], most)
        if tile < 1:
            return None
        text = _source(X, Y, sign_array, width, tile, variant)
        if text.count("\n") <= codegen.MAX_LINES:
            return tile, text
    return None


def _plan(X: np.ndarray, Y: np.ndarray, width: int, recipe: Recipe) -> tuple[int, str] | None:
    """(tile, source) for a shape (the task's 0/1 patterns, coded by ``recipe``), or
    None if no tile fits."""
    signs = recipe.signs(Y)
    X, Y = recipe.code(X, Y)
    return _plan_for(
        X.tobytes(),
        Y.tobytes(),
        X.shape,
        Y.shape,
        int(width),
        recipe.variant,
        tuple(signs.ravel().tolist()),
    )


def fits(X: np.ndarray, Y: np.ndarray, width: int, recipe: Recipe = DEFAULT) -> bool:
    """Whether a tile of this shape vectorises and compiles in a few seconds
    (:data:`MAX_TILE_PARAMS`, :data:`codegen.MAX_LINES`) for a recipe the
    generated kernels implement (:data:`UPDATES`; the optimisers of
    :data:`STATEFUL` with batch updates only); any width then fits."""
    return width >= 1 and _plan(X, Y, width, recipe) is not None


def _fitting_plan(X: np.ndarray, Y: np.ndarray, width: int, recipe: Recipe) -> tuple[int, str]:
    found = _plan(X, Y, width, recipe)
    if found is None:
        raise ValueError(
            f"no tiled kernel for a {X.shape[1]}-{width}-{Y.shape[1]} network "
            f"with {recipe.update} updates and the {recipe.optimizer} "
            "optimizer"
        )
    return found


def tile_for(X: np.ndarray, Y: np.ndarray, width: int, recipe: Recipe = DEFAULT) -> int:
    """Hidden units per tile for this shape (ValueError if it does not fit)."""
    return _fitting_plan(X, Y, width, recipe)[0]


def load(X: np.ndarray, Y: np.ndarray, width: int, recipe: Recipe = DEFAULT):
    """Import (writing it first if needed) the generated kernel module for a shape."""
    return cache.load("tiled", _fitting_plan(X, Y, width, recipe)[1])


def train(
    X: np.ndarray,
    Y: np.ndarray,
    recipe: Recipe,
    theta: np.ndarray,
    state: np.ndarray,
    lr: np.ndarray,
    fast: bool,
    **run,
) -> BatchResult:
    """Train with the generated kernel; arguments as prepared by :func:`kernels.train_batch`
    (``X``, ``Y``: the task's 0/1 patterns; ``theta``: the flat parameters;
    ``state``: the optimiser's rows, then Adam's powers, updated in place)."""
    n_in, n_out = X.shape[1], Y.shape[1]
    width = (theta.shape[0] - n_out) // (n_in + 1 + n_out)
    module = load(X, Y, width, recipe)
    Xc, Yc = recipe.code(X, Y)
    lay = _Layout(X.shape[0], n_in, width, n_out, recipe.variant)
    theta, events, final_loss, outputs, curve = codegen.run(
        module, NB, lay.work_rows, Xc, Yc, theta, state, lr, fast, constants=recipe.constants, **run
    )
    return BatchResult(
        **unflatten(theta, n_in, width, n_out),
        epoch_solved=events[SOLVED],
        epoch_converged=events[CONVERGED],
        epoch_diverged=events[DIVERGED],
        epoch_mse_target=events[HIT],
        final_loss=final_loss,
        outputs=outputs,
        loss_curve=curve,
    )
