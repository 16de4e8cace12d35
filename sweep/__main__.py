"""The ``sweep`` program (also ``python -m sweep``): :func:`sweep.cli.main` in a
process of its own, which it sets up for a one-shot command."""

import gc
import os
import sys
import threading


def main() -> None:
    """Run the ``sweep`` command line, then let the process exit promptly."""
    # Before numpy loads (a user's own setting wins): this process never
    # calls BLAS, and OpenBLAS's idle threads (numpy's, and scipy's when
    # Numba finds it) spin at start, on the cores the kernels use.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from .cli import main as cli_main

    try:
        cli_main()
    except SystemExit as e:
        if any(t.name == "sweep-chunk" and t.is_alive() for t in threading.enumerate()):
            # A stop leaves a chunk's thread behind, which may be compiling a
            # kernel; finalising the interpreter around LLVM at work crashes
            # now and then (SIGSEGV instead of 130). The results are written
            # and closed by now: leave without finalising.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(e.code if isinstance(e.code, int) else 1)
        raise
    finally:
        # Nothing is left to collect: spare the interpreter's shutdown its
        # garbage-collector passes over Numba's and pandas' many objects.
        gc.freeze()


if __name__ == "__main__":
    main()
