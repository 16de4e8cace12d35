"""Where a generated kernel keeps things: its block size and the rows of its
parameters, optimiser state and scratch (:class:`Layout`, and
:class:`LoopLayout` for the kernel whose samples run in a loop), for
:mod:`kernels.tiled`."""

from __future__ import annotations

from .codegen import Writer
from .model import entry_row, param_offsets
from .optimizers import TABLE
from .recipe import ADAM, OPTIMIZERS, STATE_SLOTS, Variant

#: Networks per block, the default of :class:`Layout` (a constant of each
#: generated source, ``NB``); measured in benchmarks/block.py.
NB = 32
#: Optimisers (codes) with state of their own: those that take no momentum.
STATEFUL = tuple(code for code, entry in enumerate(TABLE) if entry.momentum == "none")


class Layout:
    """Row offsets (in units of ``nb``, networks per block) of the parameters
    in ``theta`` and of the per-block scratch in ``work``. A tile's
    parameters are addressed from two bases: ``tb`` (row of its first unit:
    input weights and biases) and ``tw`` (its first unit's output weights,
    ``n_out`` rows per unit). The
    optimiser's state follows the parameters, a block of ``n_params`` rows per
    quantity (:attr:`kernels.recipe.Recipe.state_slots`): quantity ``q`` of a
    parameter lies ``q * velocity`` after it. Adam's beta1^t and beta2^t
    follow, one row each (``powers``)."""

    def __init__(
        self, n_samples: int, n_in: int, width: int, n_out: int, variant: Variant, nb: int = 0
    ):
        self.nb = nb or NB  # read when called: benchmarks/block.py sets it
        self.n_in, self.width, self.n_out = n_in, width, n_out
        self.variant = variant
        self.decay = variant.decay
        self.optimizer = variant.optimizer
        self.bh, self.wo, self.bo, self.n_params = param_offsets(n_in, width, n_out)
        self.velocity = self.n_params * self.nb
        self.slots = STATE_SLOTS[OPTIMIZERS[variant.optimizer]] or int(variant.momentum > 0)
        self.powers = self.n_params * (1 + self.slots)
        self.n_rows = self.powers + 2 * (variant.optimizer == ADAM)
        self.acc = n_samples * width  # output sums, then output deltas
        self.check = self.acc + n_samples * n_out
        self.work_rows = self.check + 1

    def unit_params(self, u: int, tb: str = "tb", tw: str = "tw") -> list[tuple[str, str, bool]]:
        """(name, offset less ``j``, is a weight) of the tile's unit ``u``: in
        ``theta``, or in rows laid out alike from the bases ``tb`` and ``tw``."""
        nb = self.nb
        return (
            [
                (f"wh{i}_{u}", f"{tb} + {entry_row(0, i, u, self.width) * nb}", True)
                for i in range(self.n_in)
            ]
            + [(f"bh{u}", f"{tb} + {(self.bh + u) * nb}", False)]
            + [
                (f"wo{u}_{o}", f"{tw} + {entry_row(self.wo, u, o, self.n_out) * nb}", True)
                for o in range(self.n_out)
            ]
        )

    def param_bases(self, w: Writer, first: str, names: tuple[str, str], start: str) -> None:
        """Emit ``names``: where the parameters of the tile whose first unit is
        ``first`` are read from (:meth:`unit_params`), in rows laid out as the
        parameters from ``start``: its first input weight and bias, and its
        first output weight."""
        w(f"{names[0]} = {start} + {first} * {entry_row(0, 0, 1, self.width) * self.nb}")
        w(f"{names[1]} = {start} + {first} * {entry_row(0, 1, 0, self.n_out) * self.nb}")

    def bases(self, w: Writer, first: str) -> None:
        """Emit the tile's bases in ``theta`` (``tb``, ``tw``) and ``work`` (``wb``)."""
        self.param_bases(w, first, ("tb", "tw"), "th")
        w(f"wb = {first} * {self.nb}")

    def hidden(self, p: int, u: int) -> int:
        return p * self.width + u

    def out(self, p: int, o: int) -> int:
        return self.acc + p * self.n_out + o


class LoopLayout(Layout):
    """:class:`Layout` with ``work`` holding a chunk's hidden outputs and output
    sums, then the gradient sums (rows as the parameters') and the epoch's
    statistics (worst error, worst miss, sum of squares); ``dense``: for
    tasks without a zero input."""

    def __init__(
        self,
        chunk: int,
        n_in: int,
        width: int,
        n_out: int,
        variant: Variant,
        nb: int = 0,
        dense: bool = False,
    ):
        super().__init__(chunk, n_in, width, n_out, variant, nb)
        self.chunk, self.dense = chunk, dense
        self.grads = self.work_rows
        self.stats = self.grads + self.n_params
        self.work_rows = self.stats + 3

    def grad_bases(self, w: Writer, first: str) -> None:
        """Emit the bases of a tile's gradient sums in ``work`` (``gb``, ``gw``)."""
        self.param_bases(w, first, ("gb", "gw"), str(self.grads * self.nb))

    def stat(self, k: int) -> str:
        """Network ``j``'s statistic ``k`` (0 worst error, 1 worst miss, 2 sum of squares)."""
        return f"work[{(self.stats + k) * self.nb} + j]"
