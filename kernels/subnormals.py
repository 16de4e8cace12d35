"""Subnormal numbers kept (IEEE) or flushed to zero: the recipe's ``subnormals``.

``flush`` sets the FTZ and DAZ bits of x86's MXCSR (through LLVM's
``stmxcsr``/``ldmxcsr``) in the calling thread while a batch trains, and
restores them after: subnormal operands and results then count as zero, in
the kernels and in numpy (the reference) alike. x86 computes with subnormals
in slow microcode; sign-based optimisers (the Rprops) saturate units within
tens of epochs, whose backpropagation then produces them in numbers, which
makes their epochs several times longer (docs/performance.md). Flushing
changes results wherever a subnormal would have mattered (a flushed
gradient is zero, and Rprop takes no step on it): it is the arithmetic XLA
uses on the CPU, not IEEE's, and ``keep`` is the default.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

#: MXCSR's flush-to-zero (results) and denormals-are-zero (operands) bits.
FTZ_DAZ = 0x8040


@intrinsic
def _set_mxcsr_bits(typingctx, mask, value):
    """Set MXCSR's ``mask`` bits to ``value``'s; return what MXCSR was."""
    sig = types.uint32(types.uint32, types.uint32)

    def codegen(context, builder, signature, args):
        i8p = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [i8p])
        store = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse.stmxcsr")
        load = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.sse.ldmxcsr")
        slot = cgutils.alloca_once(builder, ir.IntType(32))
        builder.call(store, [builder.bitcast(slot, i8p)])
        old = builder.load(slot)
        kept = builder.and_(old, builder.not_(args[0]))
        builder.store(builder.or_(kept, builder.and_(args[1], args[0])), slot)
        builder.call(load, [builder.bitcast(slot, i8p)])
        return old

    return sig, codegen


@njit(cache=True)
def _set_bits(mask, value):
    return _set_mxcsr_bits(mask, value)


@contextlib.contextmanager
def flushed() -> Iterator[None]:
    """Subnormal operands and results count as zero in this thread meanwhile."""
    old = _set_bits(np.uint32(FTZ_DAZ), np.uint32(FTZ_DAZ))
    try:
        yield
    finally:
        _set_bits(np.uint32(FTZ_DAZ), np.uint32(old))


def arithmetic(mode: str) -> contextlib.AbstractContextManager:
    """The context a batch trains in: :func:`flushed` for ``flush``, else none."""
    return flushed() if mode == "flush" else contextlib.nullcontext()
