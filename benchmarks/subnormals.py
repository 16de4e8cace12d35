"""Flush subnormals to zero in this thread, for diagnostics only.

Sets the FTZ and DAZ bits of x86's MXCSR (through LLVM's ``ldmxcsr``), which
numpy and Numba code in the same thread then obey. Results computed so are
not the engine's (a flushed gradient is zero: Rprop takes no step on it):
benchmarks time with it only to show what subnormal arithmetic costs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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


@njit
def _set_bits(mask, value):
    return _set_mxcsr_bits(mask, value)


@contextmanager
def flushed() -> Iterator[None]:
    """Subnormal operands and results count as zero in this thread meanwhile."""
    old = _set_bits(np.uint32(FTZ_DAZ), np.uint32(FTZ_DAZ))
    try:
        yield
    finally:
        _set_bits(np.uint32(FTZ_DAZ), np.uint32(old))


if __name__ == "__main__":
    tiny = np.array([1e-310])
    with flushed():
        assert (tiny * 1.0)[0] == 0.0
    assert (tiny * 1.0)[0] == 1e-310
    print("FTZ/DAZ on and off: ok")
