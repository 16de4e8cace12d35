"""A flag that stops every kernel running in this process within one epoch.

On heavy shapes one kernel call runs for minutes with the GIL released, out
of reach of Python's signal handlers. So each kernel reads a one-byte array
once an epoch and returns early when it is set. Its results are then
incomplete: :func:`kernels.train_batch` raises :class:`Stopped` rather than
return them. Reading the flag changes no arithmetic: results are unchanged.
"""

import numpy as np

#: The flag the driver's signal handlers set; passed to kernels as ``stop``.
FLAG = np.zeros(1, dtype=np.uint8)


class Stopped(Exception):
    """A kernel returned early because its stop flag was set."""


def request_stop(flag: np.ndarray = FLAG) -> None:
    """Ask every kernel reading ``flag`` to return at its next epoch."""
    flag[0] = 1


def clear(flag: np.ndarray = FLAG) -> None:
    """Let kernels run again (a new run in the same process)."""
    flag[0] = 0
