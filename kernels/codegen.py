"""Generated kernels: arithmetic as source, the on-disk cache, the block layout.

:mod:`kernels.tiled` writes a kernel's source for one shape (task and width)
as plain, readable Python, which is saved to a cache folder and imported, so
Numba's on-disk cache keeps the compiled kernel between processes. A
module's file name hashes its source, which embeds a hash of
:mod:`kernels.train` (where the exp and sigmoid live): editing them never
reuses a stale compiled kernel.

A generated kernel performs the general kernel's operations in the same
order, fused multiply-adds included (:class:`Arithmetic` writes out what
:func:`kernels.train.madd` and ``_sigmoid`` compile to), so its results equal
the general kernel's bit for bit in both ``exp`` modes. Which kernel runs is a
matter of speed.

Layout: networks in blocks of ``nb``; every per-network row (parameters,
events, loss curve, outputs) lives in one flat array, block-major, at
constant offsets from the block: LLVM then proves the rows independent and
vectorises without runtime alias checks, which it gives up on beyond a
handful of arrays.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import numpy as np

from .model import BatchResult, curve_epochs

#: Bump to regenerate every cached kernel.
GENERATOR_VERSION = 2
#: Least work (network-epochs) for which a generated kernel pays: about 0.05 s
#: of training, against 1.5-4 s to compile a new shape (once per machine, then
#: loaded from the cache in 10 ms).
MIN_WORK = 2_000_000
#: Most lines of a generated module (its fast and exact variants). Compile
#: time grows with it (1.3 s at 450 lines, 3.5 s at 1,000, 5.7 s at 1,300).
MAX_LINES = 1200
#: Rows of ``events``: epochs solved, converged, diverged (-1: never), live.
SOLVED, CONVERGED, DIVERGED, LIVE = range(4)
_TRAIN_SOURCE = Path(__file__).with_name("train.py")
_ENV_CACHE = "SWEEP_KERNEL_CACHE"
#: What a generated kernel is called with (see :func:`run`).
SIGNATURE = ("theta, lr, events, curve, outputs, final_loss, work, epochs, tol, curve_every, "
             "early_stop")  # fmt: skip


def param_rows(n_in: int, width: int, n_out: int) -> list[str]:
    """Names of a network's parameters in init (and flattening) order."""
    return (
        [f"wh{i}_{h}" for i in range(n_in) for h in range(width)]
        + [f"bh{h}" for h in range(width)]
        + [f"wo{h}_{o}" for h in range(width) for o in range(n_out)]
        + [f"bo{o}" for o in range(n_out)]
    )


class Writer:
    """Accumulates indented source lines (``depth``: the indentation level)."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

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
    """Expressions in one variant's arithmetic (what :func:`kernels.train.madd`
    and ``_sigmoid`` compile to), written out so that Numba has nothing to
    inline: inlining hundreds of helper calls made compiling 3-5x slower."""

    def __init__(self, fast: bool):
        self.fast = fast

    def madd(self, a: str, b: str, c: str) -> str:
        """a * b + c: fused in ``fast``, else rounded twice (c is evaluated first)."""
        return f"_fmuladd({a}, {b}, {c})" if self.fast else f"{c} + {a} * {b}"

    def sigmoid(self, x: str) -> str:
        if self.fast:
            return f"one / (one + sigmoid_exp_neg({x}))"
        return f"one / (one + np.exp(-({x})))"

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

    def activation(self, X: np.ndarray, p: int, weight: Callable[[int], str], bias: str) -> str:
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


def module_source(generator: str, X: np.ndarray, Y: np.ndarray, width: int,
                  variants: list[list[str]]) -> str:  # fmt: skip
    """A generated module: header, then the kernel ``variants`` (fast, exact)."""
    n_samples, n_in = X.shape
    n_out = Y.shape[1]
    stamp = hashlib.sha256(_TRAIN_SOURCE.read_bytes()).hexdigest()[:16]
    head = [
        f'"""Generated by kernels.{generator} (version {GENERATOR_VERSION}): '
        f'{n_in}-{width}-{n_out} network, {n_samples} samples."""',
        f"# kernels/train.py sha256: {stamp}",
        "import numpy as np",
        "from numba import njit",
        "",
        "from kernels.train import _JIT, _fmuladd, sigmoid_exp_neg",
        "",
        f"X = np.array({X.tolist()!r})",
        f"Y = np.array({Y.tolist()!r})",
        f"WIDTH = {width}",
        f"PARAMS = {param_rows(n_in, width, n_out)!r}",
        "",
        "",
    ]
    body: list[str] = []
    for lines in variants:
        body += (["", ""] if body else []) + lines
    return "\n".join(head + body) + "\n"


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
def writable_cache_dir() -> Path:
    """:func:`cache_dir`, or a temporary folder when it cannot be written."""
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
# Threads (joblib's threading backend) may ask for the same module at once:
# one writes and imports it, the others wait and share it.
_LOADING = threading.Lock()


def load(generator: str, text: str) -> ModuleType:
    """Import (writing it first if needed) a generated kernel module."""
    name = f"tinynet_{generator}_" + hashlib.sha256(text.encode()).hexdigest()[:20]
    with _LOADING:
        if name not in _MODULES:
            _MODULES[name] = _import(name, text)
        return _MODULES[name]


def _import(name: str, text: str) -> ModuleType:
    path = writable_cache_dir() / f"{name}.py"
    if not path.exists():  # never rewrite: a new mtime would invalidate Numba's cache
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    # Numba's cache imports the module by name when it loads compiled code.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def blocked(rows: np.ndarray, n_blocks: int, nb: int) -> np.ndarray:
    """(r, n) network-last rows as a flat block-major array (b, r, nb), zero-padded."""
    r, n = rows.shape
    padded = np.zeros((r, n_blocks * nb), dtype=rows.dtype)
    padded[:, :n] = rows
    return np.ascontiguousarray(padded.reshape(r, n_blocks, nb).transpose(1, 0, 2)).reshape(-1)


def unblocked(flat: np.ndarray, n_rows: int, n: int, nb: int) -> np.ndarray:
    """Inverse of :func:`blocked`: (r, n) rows from a flat block-major array."""
    blocks = flat.reshape(-1, n_rows, nb).transpose(1, 0, 2)
    return np.ascontiguousarray(blocks.reshape(n_rows, -1)[:, :n])


def run(
    module: ModuleType, nb: int, work_rows: int, X: np.ndarray, Y: np.ndarray,
    wh: np.ndarray, bh: np.ndarray, wo: np.ndarray, bo: np.ndarray, lr: np.ndarray,
    epochs: int, tol: float, curve_every: int, exp: str, early_stop: bool,
) -> BatchResult:  # fmt: skip
    """Train with a generated kernel (blocks of ``nb`` networks, ``work_rows`` rows
    of scratch per block); arguments as prepared by :func:`kernels.train_batch`."""
    n_in, width, n = wh.shape
    n_out = bo.shape[0]
    n_samples = X.shape[0]
    dtype = bh.dtype
    flat = np.concatenate([wh.reshape(-1, n), bh, wo.reshape(-1, n), bo])
    n_rows = flat.shape[0]
    n_blocks = -(-n // nb)
    theta = blocked(flat, n_blocks, nb)
    lr_b = blocked(lr[None, :], n_blocks, nb)
    # Event epochs as wide as the floats: int64 lanes would halve float32's width.
    int_type = np.int32 if dtype == np.float32 and epochs < 2**31 - 1 else np.int64
    events = np.full((4, n_blocks * nb), -1, dtype=int_type)  # every event: "never"
    events[LIVE] = 0  # padding networks are never live
    events[LIVE, :n] = 1
    events = blocked(events, n_blocks, nb)
    points = curve_epochs(epochs, curve_every).size
    curve = np.zeros(n_blocks * (points + 1) * nb, dtype=dtype)
    outputs = np.empty(n_blocks * n_samples * n_out * nb, dtype=dtype)
    final_loss = np.empty(n_blocks * nb, dtype=dtype)
    work = np.zeros(work_rows * nb, dtype=dtype)
    kernel = module.train_fast if exp == "fast" else module.train_exact
    kernel(theta, lr_b, events, curve, outputs, final_loss, work, int(epochs), float(tol),
           int(curve_every), bool(early_stop))  # fmt: skip
    params = unblocked(theta, n_rows, n, nb)
    ev = unblocked(events, 4, n, nb).astype(np.int64)
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
        outputs=unblocked(outputs, n_samples * n_out, n, nb).reshape(n_samples, n_out, n),
        loss_curve=unblocked(curve, points + 1, n, nb)[:points],
    )
