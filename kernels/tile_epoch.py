"""A generated kernel's epoch, emitted: its prologue, the statistics of an
epoch, the update of a parameter, divergence and the epilogue (the tiles'
own passes are :mod:`kernels.tile_passes`')."""

from __future__ import annotations

import numpy as np

from .codegen import (
    CONVERGED,
    DIVERGED,
    HIT,
    LIVE,
    N_EVENTS,
    SIGNATURE,
    SOLVED,
    Arithmetic,
    Writer,
    constant,
)
from .optimizers import FIRST_STEPPED, step_settings
from .recipe import ADAM, IRPROP, OPTIMIZERS, QUICKPROP, RPROP
from .tile_layout import STATEFUL, Layout


def error_terms(
    w: Writer, ar: Arithmetic, Y: np.ndarray, signs: np.ndarray, p: int, o: int, total: str
) -> None:
    """Emit the output ``yhat`` from its pre-activation, and its error's statistics."""
    w(f"yhat = {ar.activate('OUT', total)}")
    w(f"e = {constant(Y[p, o])} - yhat")
    w(f"worst, miss, sse = {ar.observe('e', signs[p, o])}")


def statistics(w: Writer) -> None:
    """Emit the events of epoch k (live networks only) and its loss."""
    w(f"ok = events[ev + {LIVE * w.nb} + j] != 0")
    w("mse = sse / n_terms")
    names = {SOLVED: "solved", CONVERGED: "converged", HIT: "hit"}
    for row, name in names.items():
        w(f"{name} = events[ev + {row * w.nb} + j]")
    w(
        "solved, converged, hit = record(epoch, ok, solved, converged, hit, worst, miss, mse, "
        "margin_t, tol_t, target_t)"
    )
    for row, name in names.items():
        w(f"events[ev + {row * w.nb} + j] = {name}")
    w("curve[row + j] = mse  # the scratch row unless k is recorded")
    w("if early_stop:  # frozen once solved and converged")
    w("    ok = ok & (not ((solved >= 0) & (converged >= 0)))")


def update(
    w: Writer,
    ar: Arithmetic,
    lay: Layout,
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
    if lay.optimizer == ADAM:  # this update's bias corrections (see advance_powers)
        w(
            f"a_step, a_root = adam_scales(lr_j, theta[th + {lay.powers * w.nb} + j], "
            f"theta[th + {(lay.powers + 1) * w.nb} + j])"
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
            elif lay.optimizer >= FIRST_STEPPED:  # decay enters the gradient (kernels.update)
                if weight and lay.decay:
                    w(f"g = {ar.madd('-lam_t', name, grad)}")
                    grad = "g"
                if lay.slots == 1:
                    old, new = f"{old}, zero", f"{new}, _"
                call = ar.step(lay.optimizer, name, grad, old)
            else:
                call = ar.descend(decay, name, grad, old)
            w(f"new, {new} = {call}")
            for q, place in enumerate(state):
                w(f"{place} = select(ok, n{q}, q{q})")
        else:
            w(f"new, _ = {ar.descend(decay, name, grad, 'zero')}")
        if check:
            w(f"check = {ar.madd('new', 'zero', 'check')}")
        w(f"theta[{offset} + j] = select(ok, new, {name})")


def advance_powers(w: Writer, lay: Layout) -> None:
    """Emit Adam's beta1^t and beta2^t, advanced to this update for network ``j``
    (every network, as the general kernel does: a frozen one never uses them)."""
    for q, beta in enumerate(("b1_t", "b2_t")):
        power = f"theta[th + {(lay.powers + q) * w.nb} + j]"
        w(f"{power} = {power} * {beta}")


def mark_diverged(w: Writer, check: str) -> None:
    """Emit the end of an epoch for network ``j``: diverged if ``check`` is NaN."""
    w(f"bad = ok & ({check} != {check})")
    diverged = f"events[ev + {DIVERGED * w.nb} + j]"
    w(f"{diverged} = select(bad, after, {diverged})")
    w("ok = ok & (not bad)")
    w(f"events[ev + {LIVE * w.nb} + j] = ok")
    w("any_live = any_live | ok")


def check_parameters(w: Writer, ar: Arithmetic, lay: Layout) -> None:
    """Emit ``check`` over every parameter (the online update's divergence test)."""
    w(f"for r in range({lay.n_params}):")
    w(f"    for j in range({w.nb}):")
    w(f"        c = work[{lay.check * w.nb} + j]")
    parameter = f"theta[th + r * {w.nb} + j]"
    w(f"        work[{lay.check * w.nb} + j] = {ar.madd(parameter, 'zero', 'c')}")


def prologue(
    w: Writer, fast: bool, lay: Layout, n_samples: int | str, signature: str = SIGNATURE
) -> None:
    """Emit a kernel's ``def`` line and the per-block offsets (``w.depth`` ends at
    2); ``n_samples`` a number, or the name of one known at run time."""
    w("@njit(**JIT)")
    w(f"def train_{'fast' if fast else 'exact'}({signature}):")
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
    if lay.optimizer >= FIRST_STEPPED:
        own = ", ".join(f"dt({name})" for name in step_settings(OPTIMIZERS[lay.optimizer]))
        w(f"own0_t, own1_t, own2_t = {own}")
    terms = n_samples * lay.n_out if isinstance(n_samples, int) else f"{n_samples} * {lay.n_out}"
    w(f"n_terms = dt({terms})")
    w(f"n_blocks = lr.size // {w.nb}")
    w("n_points = points.size")
    w("for b in range(n_blocks):")
    w.depth = 2
    w(f"th = b * {lay.n_rows * w.nb}")
    w(f"ev = b * {N_EVENTS * w.nb}")
    w(f"net = b * {w.nb}")
    w(f"out = b * {terms} * {w.nb}" if isinstance(n_samples, str) else f"out = b * {terms * w.nb}")
    w(f"cv = b * (n_points + 1) * {w.nb}")
    w(f"scratch = cv + n_points * {w.nb}")
    w("end = epochs")
    w("nxt = 0  # the next loss-curve point to record (points: its epochs, ascending)")


def epochs_start(w: Writer) -> None:
    """Emit the loop over epochs and the start of epoch ``k`` (``w.depth`` ends at 3)."""
    w("k = 0")
    w("while True:")
    w.depth = 3
    w("if stop[0]:  # asked to stop (kernels.stop): the caller discards the results")
    w("    return")
    w("last = k == end  # then statistics, outputs and loss at theta_end, no update")
    epoch_head(w)


def epochs_end(w: Writer, lay: Layout) -> None:
    """Emit the end of epoch ``k`` (divergence, early stop) and of the block."""
    # A boolean, not a count: a 64-bit sum would cap float32 at 8 lanes per vector.
    w("any_live = False")
    w(f"for j in range({w.nb}):")
    w.depth = 4
    w(f"ok = events[ev + {LIVE * w.nb} + j] != 0")
    mark_diverged(w, f"work[{lay.check * w.nb} + j]")
    w.depth = 3
    w("k += 1")
    w("if early_stop and not any_live:")
    w("    end = k")
    w.depth = 2
    epilogue(w)


def epoch_head(w: Writer) -> None:
    """Emit the start of epoch ``k``: its curve row and event stamps."""
    w("recorded = nxt < n_points and points[nxt] == k")
    w(f"row = select(recorded, cv + nxt * {w.nb}, scratch)")
    w("nxt += recorded")
    w("epoch, after = it(k), it(k + 1)")


def epilogue(w: Writer) -> None:
    """Emit the end of a block (at ``w.depth`` 2): a flat curve after an early stop."""
    w("for later in range(nxt, n_points):  # stopped early: the frozen loss stays flat")
    w(f"    for j in range({w.nb}):")
    w(f"        curve[cv + later * {w.nb} + j] = final_loss[net + j]")
