"""A shape-specialised kernel: one fused pass over the networks per epoch.

The general kernel (:mod:`kernels.train`) takes the shape at run time, so its
loops over samples and hidden units sit outside the vectorised loop over
networks, and every pass stores its intermediates (hidden outputs, deltas,
gradient sums) to memory. For a small shape this module generates a kernel
whose loop body is the whole epoch of one network written out as straight-line
code: its parameters are loaded once, gradients stay in registers, and each
epoch is one pass over the networks. On XOR that is 1.3-1.6x faster.

The generated source is plain, readable Python (see :func:`source`) written
to a cache folder and imported, so Numba's on-disk cache keeps the compiled
kernel between processes. Its file name hashes the source, which embeds a
hash of :mod:`kernels.train` (where the exp and sigmoid live): editing them
never reuses a stale compiled kernel.

Results equal the general kernel's, in both ``exp`` modes: the generated code
performs the same operations in the same order, fused multiply-adds
included (both write them out with :func:`kernels.train.madd`). Which kernel
runs is a matter of speed only. Every parameter row lives in one flat array at
constant offsets from a block of ``NB`` networks: LLVM then proves the rows
independent and vectorises without runtime alias checks, which it gives up
on beyond a handful of arrays.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType

import numpy as np

from .model import BatchResult, curve_epochs

#: Networks per block: the block's parameters stay in the L1 cache (measured
#: on XOR: 64 and 128 equal, 256 slower from H = 8).
NB = 64
#: Limits of :func:`fits`. Compile time grows with the generated source (one
#: exp variant and dtype: 1.3 s at 450 lines (XOR, H = 2), 3.5 s at 1,000,
#: 5.7 s at 1,300); 1,200 lines is XOR up to H = 10, parity3 up to H = 5.
MAX_LINES = 1200
#: Past ~60 parameters per network LLVM's loop-access analysis gives up on the
#: loop body and the kernel runs scalar, 3-4x slower than the general one
#: (measured: XOR H = 15, 61 parameters, vectorised; H = 16, 65, did not).
MAX_PARAMS = 56
#: Least work (network-epochs) for which unrolling pays in :func:`worth`:
#: about 0.05 s of training, against 1-4 s to compile a new shape (once per
#: machine, then loaded from the cache in 10 ms).
MIN_WORK = 2_000_000
#: Bump to regenerate every cached kernel.
GENERATOR_VERSION = 1
#: Rows of ``events``: epochs solved, converged, diverged (-1: never), live.
SOLVED, CONVERGED, DIVERGED, LIVE = range(4)
_TRAIN_SOURCE = Path(__file__).with_name("train.py")
_ENV_CACHE = "SWEEP_KERNEL_CACHE"


def _param_rows(n_in: int, width: int, n_out: int) -> list[str]:
    """Names of a network's parameters in init (and flattening) order."""
    return (
        [f"wh{i}_{h}" for i in range(n_in) for h in range(width)]
        + [f"bh{h}" for h in range(width)]
        + [f"wo{h}_{o}" for h in range(width) for o in range(n_out)]
        + [f"bo{o}" for o in range(n_out)]
    )


class _Writer:
    """Accumulates indented source lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def __call__(self, line: str = "") -> None:
        self.lines.append("    " * self.depth + line if line else "")


def _constant(value: float) -> str:
    return {0.0: "zero", 1.0: "one"}.get(float(value), f"dt({float(value)!r})")


class _Arithmetic:
    """Expressions in one variant's arithmetic (what :func:`kernels.train.madd`
    and ``_sigmoid`` compile to), written out so that Numba has nothing to
    inline: inlining hundreds of helper calls made compiling 3-5x slower."""

    def __init__(self, fast: bool):
        self.fast = fast

    def madd(self, a: str, b: str, c: str) -> str:
        """a * b + c: fused in ``fast``, else rounded twice (c is evaluated first)."""
        return f"_fmuladd({a}, {b}, {c})" if self.fast else f"{c} + {a} * {b}"

    def sigmoid(self, x: str) -> str:
        exp = "sigmoid_exp" if self.fast else "np.exp"
        return f"one / (one + {exp}(-({x})))"

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


def _forward(w: _Writer, ar: _Arithmetic, X: np.ndarray, Y: np.ndarray, width: int,
             backward: bool) -> set[str]:  # fmt: skip
    """Emit one network's pass over every sample: forward, and gradient sums if ``backward``.

    The operations and their order are the general kernel's (and in ``exact``
    mode the reference's): inputs equal to 0 are skipped, sums run in index
    order. Returns the names of the gradient sums that received a term.
    """
    n_samples, n_in = X.shape
    n_out = Y.shape[1]
    sums: set[str] = set()

    def accumulate(name: str, a: str, b: str) -> None:
        w(f"{name} = {ar.chain([(a, b)], name if name in sums else None)}")
        sums.add(name)

    w("worst = zero")
    w("sse = zero")
    for p in range(n_samples):
        inputs = [(_constant(X[p, i]), i) for i in range(n_in) if X[p, i] != 0]
        w(f"# sample {p}: x = {X[p].tolist()}, y = {Y[p].tolist()}")
        for h in range(width):
            terms = [(x, f"wh{i}_{h}") for x, i in inputs]
            if not terms:
                act = f"zero + bh{h}"
            elif len(terms) == 1:
                act = ar.chain(terms, f"bh{h}")
            else:
                act = f"{ar.chain(terms)} + bh{h}"
            w(f"s{h} = {ar.sigmoid(act)}")
        for o in range(n_out):
            total = ar.chain([(f"s{h}", f"wo{h}_{o}") for h in range(width)])
            w(f"yhat = {ar.sigmoid(f'{total} + bo{o}')}")
            w(f"e = {_constant(Y[p, o])} - yhat")
            w("ae = abs(e)")
            w("worst = ae if ae > worst else worst")
            w(f"sse = {ar.madd('e', 'e', 'sse')}")
            if backward:
                w(f"d{o} = e * (yhat * (one - yhat))")
                accumulate(f"gbo{o}", "one", f"d{o}")
            else:
                w(f"outputs[out + {(p * n_out + o) * NB} + j] = yhat")
        if not backward:
            continue
        for h in range(width):
            for o in range(n_out):
                accumulate(f"gwo{h}_{o}", f"s{h}", f"d{o}")
            err = ar.chain([(f"d{o}", f"wo{h}_{o}") for o in range(n_out)])
            w(f"delta = ({err}) * (s{h} * (one - s{h}))")
            accumulate(f"gbh{h}", "one", "delta")
            for x, i in inputs:
                accumulate(f"gwh{i}_{h}", x, "delta")
    return sums


def _statistics(w: _Writer) -> None:
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


def _kernel(X: np.ndarray, Y: np.ndarray, width: int, fast: bool) -> list[str]:
    """Source lines of ``train_fast`` or ``train_exact`` (see the module docstring)."""
    n_samples, n_in = X.shape
    n_out = Y.shape[1]
    rows = _param_rows(n_in, width, n_out)
    ar = _Arithmetic(fast)
    w = _Writer()
    w("@njit(**_JIT)")
    w(f"def train_{'fast' if fast else 'exact'}(theta, lr, events, curve, outputs, final_loss, "
      "epochs, tol,")  # fmt: skip
    w("                curve_every, early_stop):")
    w.depth = 1
    w('"""Train every block of NB networks; flat arrays, block-major (see kernels.unrolled)."""')
    w("dt = theta.dtype.type")
    w("it = events.dtype.type  # epochs in the events' own width (int32 for float32)")
    w("zero, one, half, tol_t = dt(0.0), dt(1.0), dt(0.5), dt(tol)")
    w(f"n_terms = dt({n_samples * n_out})")
    w(f"n_blocks = lr.size // {NB}")
    w("n_points = epochs // curve_every + 1 if curve_every > 0 else 0")
    w("for b in range(n_blocks):")
    w.depth = 2
    w(f"th = b * {len(rows) * NB}")
    w(f"ev = b * {4 * NB}")
    w(f"net = b * {NB}")
    w(f"out = b * {n_samples * n_out * NB}")
    w(f"cv = b * (n_points + 1) * {NB}")
    w(f"scratch = cv + n_points * {NB}")
    w("end = epochs")
    w("for k in range(epochs):")
    w.depth = 3
    w("recorded = curve_every > 0 and k % curve_every == 0")
    w(f"row = cv + (k // curve_every) * {NB} if recorded else scratch")
    w("epoch, after = it(k), it(k + 1)")
    # A boolean, not a count: a 64-bit sum would cap float32 at 8 lanes per vector.
    w("any_live = False")
    w(f"for j in range({NB}):")
    w.depth = 4
    for q, name in enumerate(rows):
        w(f"{name} = theta[th + {q * NB} + j]")
    started = _forward(w, ar, X, Y, width, backward=True)
    _statistics(w)
    w("if early_stop:  # frozen once solved and converged")
    w("    ok = ok & (not ((solved >= 0) & (converged >= 0)))")
    w("lr_j = lr[net + j]")
    w("check = zero  # sums new * 0: NaN exactly when a new parameter is not finite")
    for q, name in enumerate(rows):
        grad = f"g{name}" if f"g{name}" in started else "zero"
        w(f"new = {ar.madd('lr_j', grad, name)}")
        w(f"check = {ar.madd('new', 'zero', 'check')}")
        w(f"theta[th + {q * NB} + j] = new if ok else {name}")
    w("bad = ok & (check != check)")
    w(f"events[ev + {DIVERGED * NB} + j] = after if bad else events[ev + {DIVERGED * NB} + j]")
    w("ok = ok & (not bad)")
    w(f"events[ev + {LIVE * NB} + j] = ok")
    w("any_live = any_live | ok")
    w.depth = 3
    w("if early_stop and not any_live:")
    w("    end = k + 1")
    w("    break")
    w.depth = 2
    w("# The last epoch: statistics, outputs and loss at theta_end, no update.")
    w("k = end")
    w("recorded = curve_every > 0 and k % curve_every == 0")
    w(f"row = cv + (k // curve_every) * {NB} if recorded else scratch")
    w("epoch = it(k)")
    w(f"for j in range({NB}):")
    w.depth = 3
    for q, name in enumerate(rows):
        w(f"{name} = theta[th + {q * NB} + j]")
    _forward(w, ar, X, Y, width, backward=False)
    _statistics(w)
    w("final_loss[net + j] = sse / n_terms")
    w.depth = 2
    w("if curve_every > 0:  # stopped early: the frozen loss stays flat")
    w("    for later in range(end // curve_every + 1, n_points):")
    w(f"        for j in range({NB}):")
    w(f"            curve[cv + later * {NB} + j] = final_loss[net + j]")
    return w.lines


def source(X: np.ndarray, Y: np.ndarray, width: int) -> str:
    """The generated kernel module for task ``(X, Y)`` and ``width`` hidden units."""
    n_samples, n_in = X.shape
    n_out = Y.shape[1]
    stamp = hashlib.sha256(_TRAIN_SOURCE.read_bytes()).hexdigest()[:16]
    head = [
        f'"""Generated by kernels.unrolled (version {GENERATOR_VERSION}): '
        f'{n_in}-{width}-{n_out} network, {n_samples} samples."""',
        f"# kernels/train.py sha256: {stamp}",
        "import numpy as np",
        "from numba import njit",
        "",
        "from kernels.train import _JIT, _fmuladd, sigmoid_exp",
        "",
        f"X = np.array({X.tolist()!r})",
        f"Y = np.array({Y.tolist()!r})",
        f"WIDTH = {width}",
        f"PARAMS = {_param_rows(n_in, width, n_out)!r}",
        "",
        "",
    ]
    body = _kernel(X, Y, width, True) + ["", ""] + _kernel(X, Y, width, False)
    return "\n".join(head + body) + "\n"


@functools.lru_cache(maxsize=256)
def _source_for(x_bytes: bytes, y_bytes: bytes, x_shape: tuple, y_shape: tuple,
                width: int) -> str:  # fmt: skip
    X = np.frombuffer(x_bytes).reshape(x_shape)
    Y = np.frombuffer(y_bytes).reshape(y_shape)
    return source(X, Y, width)


def _cached_source(X: np.ndarray, Y: np.ndarray, width: int) -> str:
    X = np.ascontiguousarray(X, dtype=np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    return _source_for(X.tobytes(), Y.tobytes(), X.shape, Y.shape, int(width))


def fits(X: np.ndarray, Y: np.ndarray, width: int) -> bool:
    """Whether the unrolled kernel is offered for this shape: small enough to
    compile in a few seconds and to vectorise (:data:`MAX_LINES`, :data:`MAX_PARAMS`)."""
    n_params = len(_param_rows(X.shape[1], width, Y.shape[1]))
    return n_params <= MAX_PARAMS and _cached_source(X, Y, width).count("\n") <= MAX_LINES


def worth(X: np.ndarray, Y: np.ndarray, width: int, exp: str, work: float) -> bool:
    """Whether to unroll ``work`` network-epochs of this shape (what ``kernel="auto"`` does).

    Only for the fast exp: with libm's exp (``exact``) both kernels spend
    their time in scalar exp calls and run at the same speed.
    """
    return exp == "fast" and work >= MIN_WORK and fits(X, Y, width)


def cache_dir() -> Path:
    """Where generated kernels (and Numba's cache of them) are kept.

    ``$SWEEP_KERNEL_CACHE``, else ``$XDG_CACHE_HOME/tinynet-sweep/kernels``
    (``~/.cache/...``).
    """
    if os.environ.get(_ENV_CACHE):
        return Path(os.environ[_ENV_CACHE])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tinynet-sweep" / "kernels"


@functools.cache
def _writable_cache_dir() -> Path:
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder
    except OSError:
        pass
    # No persistent cache: kernels compile once per process.
    return Path(tempfile.mkdtemp(prefix="tinynet-sweep-kernels-"))


_MODULES: dict[str, ModuleType] = {}


def load(X: np.ndarray, Y: np.ndarray, width: int) -> ModuleType:
    """Import (writing it first if needed) the generated kernel module for a shape."""
    text = _cached_source(X, Y, width)
    name = "tinynet_unrolled_" + hashlib.sha256(text.encode()).hexdigest()[:20]
    if name in _MODULES:
        return _MODULES[name]
    path = _writable_cache_dir() / f"{name}.py"
    if not path.exists():  # never rewrite: a new mtime would invalidate Numba's cache
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    # Numba's cache imports the module by name when it loads compiled code.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    _MODULES[name] = module
    return module


def _blocked(rows: np.ndarray, n_blocks: int) -> np.ndarray:
    """(r, n) network-last rows as a flat block-major array (b, r, NB), zero-padded."""
    r, n = rows.shape
    padded = np.zeros((r, n_blocks * NB), dtype=rows.dtype)
    padded[:, :n] = rows
    return np.ascontiguousarray(padded.reshape(r, n_blocks, NB).transpose(1, 0, 2)).reshape(-1)


def _unblocked(flat: np.ndarray, n_rows: int, n: int) -> np.ndarray:
    """Inverse of :func:`_blocked`: (r, n) rows from a flat block-major array."""
    blocks = flat.reshape(-1, n_rows, NB).transpose(1, 0, 2)
    return np.ascontiguousarray(blocks.reshape(n_rows, -1)[:, :n])


def train(
    X: np.ndarray, Y: np.ndarray, wh: np.ndarray, bh: np.ndarray, wo: np.ndarray,
    bo: np.ndarray, lr: np.ndarray, epochs: int, tol: float, curve_every: int, exp: str,
    early_stop: bool,
) -> BatchResult:  # fmt: skip
    """Train with the generated kernel; arguments as prepared by :func:`kernels.train_batch`."""
    module = load(X, Y, bh.shape[0])
    n_in, width, n = wh.shape
    n_out = bo.shape[0]
    n_samples = X.shape[0]
    dtype = bh.dtype
    flat = np.concatenate([wh.reshape(-1, n), bh, wo.reshape(-1, n), bo])
    n_rows = flat.shape[0]
    n_blocks = -(-n // NB)
    theta = _blocked(flat, n_blocks)
    lr_b = _blocked(lr[None, :], n_blocks)
    # Event epochs as wide as the floats: int64 lanes would halve float32's width.
    int_type = np.int32 if dtype == np.float32 and epochs < 2**31 - 1 else np.int64
    events = np.full((4, n_blocks * NB), -1, dtype=int_type)  # every event: "never"
    events[LIVE] = 0  # padding networks are never live
    events[LIVE, :n] = 1
    events = _blocked(events, n_blocks)
    points = curve_epochs(epochs, curve_every).size
    curve = np.zeros(n_blocks * (points + 1) * NB, dtype=dtype)
    outputs = np.empty(n_blocks * n_samples * n_out * NB, dtype=dtype)
    final_loss = np.empty(n_blocks * NB, dtype=dtype)
    kernel = module.train_fast if exp == "fast" else module.train_exact
    kernel(theta, lr_b, events, curve, outputs, final_loss, int(epochs), float(tol),
           int(curve_every), bool(early_stop))  # fmt: skip
    params = _unblocked(theta, n_rows, n)
    ev = _unblocked(events, 4, n).astype(np.int64)
    cuts = np.cumsum([n_in * width, width, width * n_out])
    w_hidden, b_hidden, w_out, b_out = np.split(params, cuts)
    return BatchResult(
        w_hidden=w_hidden.reshape(n_in, width, n),
        b_hidden=b_hidden,
        w_out=w_out.reshape(width, n_out, n),
        b_out=b_out,
        epoch_solved=ev[SOLVED],
        epoch_converged=ev[CONVERGED],
        epoch_diverged=ev[DIVERGED],
        final_loss=final_loss[:n],
        outputs=_unblocked(outputs, n_samples * n_out, n).reshape(n_samples, n_out, n),
        loss_curve=_unblocked(curve, points + 1, n)[:points],
    )
