"""Tables of parts, compiled: one call that picks a part by its code.

A kind of part (an activation, a loss) is a table: a tuple of entries, each
with its name, its data and its pieces, plain Python over
:mod:`kernels.primitives`, all pieces of a kind with one signature. A part's
code in compiled kernels is its position in its table. :func:`by_code`
compiles a table's pieces into the one function the kernels call with that
code; Numba types the code as a literal (it is a constant of every kernel,
:class:`kernels.recipe.Variant`), so a compiled kernel holds only its own
part's branch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

import numpy as np
from numba import config, types
from numba.core.registry import CPUDispatcher
from numba.extending import overload

from . import primitives
from .cache import StampedCache
from .numerics import JIT, logistic, madd, tanh
from .trig import fast_arctan, fast_cos

#: Options of the compiled pieces. Cached on disk with a stamp of every
#: kernel source (kernels.cache.StampedCache), not of their own file alone: a
#: piece calls pieces of other files, and an edit to one must never leave a
#: stale piece in the cache. Processes compiling kernels side by side (test
#: workers, a sweep's first run) then compile each piece once. Without the
#: wrappers that let Python (or C) call a function: only compiled code calls
#: a piece, and Numba otherwise builds both for every piece in every variant,
#: which is compile time spent on code nothing runs.
PIECE = {**JIT, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}


class Piece(CPUDispatcher):
    """A compiled piece. A call from Python is refused with a TypeError: without
    its CPython wrapper, Numba would call a null pointer (numba issue 2541)."""

    def __call__(self, *args, **kwargs):
        raise TypeError(
            f"{self.py_func.__module__}.{self.py_func.__qualname__} is a piece of the "
            "compiled kernels: call it from compiled code (numba.njit), not from Python"
        )


def piece(func: Callable) -> Callable:
    """``func`` compiled with :data:`PIECE`'s options, for compiled callers only."""
    if config.DISABLE_JIT:
        return func
    options = {key: value for key, value in PIECE.items() if key != "cache"}
    compiled = Piece(py_func=func, locals={}, targetoptions={"nopython": True, **options})
    if PIECE["cache"]:
        # Numba finding no folder to write a cache in: compiled in each process.
        with contextlib.suppress(RuntimeError):
            compiled._cache = StampedCache(func)
    return compiled


def _compiled_as(primitive: Callable, implementation: Callable) -> None:
    """Compiled code that calls ``primitive`` runs ``implementation`` (same arguments)."""
    overload(primitive, jit_options=JIT, strict=False)(lambda *args: implementation)


# The primitives pieces are written in (kernels.primitives), compiled: the
# kernels' own arithmetic (kernels.numerics; ``like`` is overloaded there).
# ``fast`` is a literal in every kernel: the branch on it is gone before LLVM.
_compiled_as(primitives.madd, lambda a, b, c, fast: madd(a, b, c, fast))
_compiled_as(primitives.logistic, lambda a, fast: logistic(a, fast))
_compiled_as(primitives.tanh, lambda a, fast: tanh(a, fast))
_compiled_as(primitives.arctan, lambda a, fast: fast_arctan(a) if fast else np.arctan(a))
_compiled_as(primitives.cos, lambda a, fast: fast_cos(a) if fast else np.cos(a))


def by_code(name: str, pieces: Sequence[Callable], arguments: str) -> Callable:
    """A ``name(code, arguments...)`` for compiled code that returns
    ``pieces[code](arguments...)``, each piece compiled.

    Where the code is a literal (a kernel's :class:`kernels.recipe.Variant`),
    the call is the one piece's, and only that piece is compiled; a code known
    at run time only (a test's loop over a table) gets one ``if`` per code.
    """
    head = f"(code, {arguments}):"
    namespace = {f"piece{code}": piece(part) for code, part in enumerate(pieces)}
    lines = [f"def _chain{head}"]
    for code in range(len(pieces) - 1):
        lines += [f"    if code == {code}:", f"        return piece{code}({arguments})"]
    lines.append(f"    return piece{len(pieces) - 1}({arguments})")
    for code in range(len(pieces)):
        lines += [f"def _one{code}{head}", f"    return piece{code}({arguments})"]
    # The name compiled code calls, and the overload that picks its code's piece
    # (Numba requires the overload's argument names to be the function's).
    lines += [f"def _stub{head}", f"    raise TypeError('{name} runs in compiled code only')"]
    lines += [f"def _pick{head}", f"    return _choose(code, {arguments})"]
    namespace["_choose"] = lambda code, *_: (
        namespace[f"_one{code.literal_value}"]
        if isinstance(code, types.IntegerLiteral)
        else namespace["_chain"]
    )
    exec(compile("\n".join(lines), f"<kernels.parts.{name}>", "exec"), namespace)  # noqa: S102
    stub = namespace["_stub"]
    stub.__name__ = stub.__qualname__ = name
    # Written here, with no file for a cache to stamp: compiled in each process.
    options = {**PIECE, "cache": False}
    overload(stub, jit_options=options, prefer_literal=True)(namespace["_pick"])
    return stub
