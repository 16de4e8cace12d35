"""A training recipe: how a network is trained, besides its shape and learning rate.

One frozen value, :class:`Recipe`, names every choice of the training step:
activations, loss, update mode, momentum, weight decay, the optimiser, the
sigmoid-prime offset, the coding of inputs and targets, and whether
subnormal numbers are kept. Its defaults are
the notebook's: logistic units, squared error, full-batch gradient descent,
0/1 inputs and targets. The arithmetic of
each choice is in :mod:`kernels.step` (compiled) and :mod:`kernels.reference`
(numpy); the equations are in :mod:`kernels.model`. Activations, losses and
optimisers are tables of parts (:mod:`kernels.activations`,
:mod:`kernels.losses`, :mod:`kernels.optimizers`): their names, where each
may be used, which targets it can train towards, and the optimisers'
settings (fields of :class:`Recipe`, with their checks) come from there.

Validation lives here, once: :meth:`Recipe.check` raises :class:`RecipeError`
naming the field, which the sweep turns into its one-line error.
"""

from __future__ import annotations

import dataclasses
import math
import platform
from dataclasses import dataclass, make_dataclass
from typing import NamedTuple

import numpy as np

from . import activations, losses, optimizers

#: Names of each choice; a name's position is its code in compiled kernels.
ACTIVATIONS = activations.NAMES
LOSSES = losses.NAMES
UPDATES = ("batch", "online", "shuffled", "ordered")
INPUTS = ("binary", "bipolar")
OPTIMIZERS = optimizers.NAMES
#: Subnormal numbers kept (IEEE) or flushed to zero (kernels.subnormals; x86 only).
SUBNORMALS = ("keep", "flush")

BATCH, ONLINE, SHUFFLED, ORDERED = range(len(UPDATES))
#: Codes of :attr:`Variant.momentum`: none, heavy ball, Nesterov.
HEAVY_BALL, NESTEROV = 1, 2
#: Codes of :attr:`Variant.optimizer` for the rules with state of their own.
ADAM, RPROP, IRPROP, QUICKPROP = (
    OPTIMIZERS.index(name) for name in ("adam", "rprop", "irprop-", "quickprop")
)
#: Settings only some optimisers use, with the optimisers that use them.
OPTIMIZER_SETTINGS = {
    s.name: tuple(e.name for e in optimizers.TABLE if s.name in e.settings)
    for s in optimizers.SETTINGS
}
#: Quantities of state each optimiser keeps per parameter (a block of rows each).
STATE_SLOTS = {entry.name: len(entry.state) for entry in optimizers.TABLE}


class RecipeError(ValueError):
    """An invalid recipe; ``field`` names the setting at fault."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class Variant(NamedTuple):
    """The part of a recipe a kernel is compiled for (codes and switches).

    Everything else (momentum and weight decay values, targets, the
    optimiser's constants, the prime offset) is a run-time number. Momentum (0:
    none, :data:`HEAVY_BALL` or :data:`NESTEROV`), decay and ``prime`` (a
    sigmoid-prime offset above 0) are switches so that a recipe without them
    runs the notebook's arithmetic, operation for operation. ``optimizer`` is
    the index in :data:`OPTIMIZERS`.
    """

    activation: int
    output_activation: int
    loss: int
    update: int
    momentum: int
    decay: bool
    optimizer: int = 0
    prime: bool = False


#: A recipe's numbers, as the general kernel receives them (run-time values):
#: momentum, weight decay, every optimiser setting, the sigmoid-prime offset.
Constants = NamedTuple(
    "Constants",
    [(name, float) for name in ("momentum", "weight_decay", *optimizers.BY_SETTING)]
    + [("prime_offset", float)],
)


def format_number(value: float) -> str:
    """A float as short text: ``0``, ``0.1``, ``-1`` (integers without ``.0``)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class _Choices:
    """The recipe's fields but the optimisers' settings (:class:`Recipe` adds them)."""

    activation: str = "logistic"
    output_activation: str = "logistic"
    loss: str = "sse"
    update: str = "batch"
    #: Samples per update with ``ordered`` or ``shuffled`` (0: the update's own, 1).
    batch_size: int = 0
    momentum: float = 0.0
    weight_decay: float = 0.0
    inputs: str = "binary"
    targets: tuple[float, float] = (0.0, 1.0)
    optimizer: str = "gd"
    prime_offset: float = 0.0
    subnormals: str = "keep"

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """RecipeError (naming the field) unless every setting is valid together."""
        choices = {
            "activation": activations.HIDDEN,
            "output_activation": activations.OUTPUT,
            "loss": LOSSES,
            "update": UPDATES,
            "inputs": INPUTS,
            "optimizer": OPTIMIZERS,
            "subnormals": SUBNORMALS,
        }
        for field, names in choices.items():
            value = getattr(self, field)
            if value in activations.NAMES and value not in names:
                where = "outputs" if value in activations.OUTPUT else "hidden units"
                raise RecipeError(field, f"{value} is for {where} only")
            if value not in names:
                raise RecipeError(field, f"must be one of {', '.join(names)}, got {value!r}")

        def number(name: str, ok, what: str) -> None:
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and ok(value)):
                raise RecipeError(name, f"must be {what}, got {value!r}")

        number("momentum", lambda v: 0 <= v < 1, "in [0, 1)")
        number("weight_decay", lambda v: v >= 0, "finite and at least 0")
        for setting in sorted(optimizers.SETTINGS, key=lambda s: bool(s.above)):
            least = getattr(self, setting.above) if setting.above else -math.inf
            number(setting.name, lambda v, s=setting, m=least: s.ok(v) and v > m, setting.valid)
        number("prime_offset", lambda v: v >= 0, "finite and at least 0")
        self._check_batch_size()
        self._check_optimizer()
        if self.subnormals == "flush" and platform.machine().lower() not in ("x86_64", "amd64"):
            raise RecipeError(
                "subnormals", f"flush sets x86's MXCSR: this machine is {platform.machine()}"
            )
        low, high = self.targets
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise RecipeError("targets", f"LOW must be below HIGH, got {self.targets_text}")
        unreachable = self.unreachable(low, high)
        if unreachable and unreachable[0] == "outputs":
            raise RecipeError("targets", f"{unreachable[1]}, got {self.targets_text}")
        if unreachable:
            raise RecipeError(*unreachable)

    def unreachable(self, low: float, high: float) -> tuple[str, str] | None:
        """Why this recipe cannot train towards targets in [low, high]: ("outputs",
        why) if its outputs cannot reach them, ("loss", why) if its loss cannot take
        them; None if it can."""
        output = activations.BY_NAME[self.output_activation]
        if not output.low <= low <= high <= output.high:
            return "outputs", f"{output.name} outputs reach [{output.low:g}, {output.high:g}] only"
        problem = losses.BY_NAME[self.loss].refuse(output, low, high)
        return ("loss", problem) if problem else None

    def _check_batch_size(self) -> None:
        """A batch size with the updates that take one: ordered needs it, shuffled may
        have it, batch (the whole task) and online (1) are their own."""
        k = self.batch_size
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 0:
            raise RecipeError("batch_size", f"must be a whole number >= 1, got {k!r}")
        if self.update == "ordered" and k == 0:
            raise RecipeError("batch_size", "the ordered update takes mini-batches: give K >= 1")
        if self.update in ("batch", "online") and k not in (0, 1 if self.update == "online" else 0):
            whole = "the whole task" if self.update == "batch" else "one sample"
            raise RecipeError(
                "batch_size",
                f"{self.update} updates take {whole}; mini-batches of {k} are "
                "--update ordered (or shuffled)",
            )

    def samples_per_update(self, n_samples: int) -> int:
        """How many samples' gradients each update sums, on a task of ``n_samples``."""
        if self.update == "batch":
            return n_samples
        return min(max(self.batch_size, 1), n_samples)

    def _check_optimizer(self) -> None:
        """The optimiser with the settings it gives a meaning to, and no others."""
        entry, mu = optimizers.BY_NAME[self.optimizer], self.momentum
        if entry.momentum == "needed" and mu == 0:
            raise RecipeError(
                "optimizer",
                f"{entry.name} needs momentum > 0 (its look-ahead is the momentum term), "
                "got momentum 0",
            )
        if entry.momentum == "none" and mu > 0:
            raise RecipeError(
                "optimizer",
                f"{entry.name} has no heavy-ball momentum; momentum must be 0 with it, got {mu!r}",
            )
        if entry.batch_only and self.update != "batch":
            raise RecipeError(
                "optimizer",
                f"{entry.name} adapts each step to the whole task's "
                f"gradient: batch updates only, got {self.update}",
            )
        for setting in optimizers.SETTINGS:
            value, users = getattr(self, setting.name), OPTIMIZER_SETTINGS[setting.name]
            if setting.name not in entry.settings and value != setting.default:
                raise RecipeError(
                    setting.name,
                    f"only {', '.join(users)} uses it (optimizer is "
                    f"{entry.name}); leave it at {setting.default!r}",
                )

    def check_tol(self, tol: float) -> None:
        """RecipeError unless ``tol`` lies in (0, HIGH - LOW)."""
        span = self.targets[1] - self.targets[0]
        if not 0 < tol < span:
            raise RecipeError(
                "tol",
                f"must be in (0, {format_number(span)}) for targets "
                f"{self.targets_text}, got {tol!r}",
            )

    @property
    def targets_text(self) -> str:
        """The targets as ``LOW:HIGH`` (``0:1``, ``0.1:0.9``)."""
        return ":".join(format_number(v) for v in self.targets)

    @property
    def variant(self) -> Variant:
        """What a compiled kernel is specialised for."""
        return Variant(
            ACTIVATIONS.index(self.activation),
            ACTIVATIONS.index(self.output_activation),
            LOSSES.index(self.loss),
            UPDATES.index(self.update),
            self.momentum_code,
            self.weight_decay > 0,
            OPTIMIZERS.index(self.optimizer),
            self.prime_offset > 0,
        )

    @property
    def constants(self) -> Constants:
        """The numbers a kernel runs with (see :class:`Constants`)."""
        return Constants(*(float(getattr(self, name)) for name in Constants._fields))

    @property
    def momentum_code(self) -> int:
        """:attr:`Variant.momentum`: 0 without momentum, else the kind."""
        if self.momentum == 0:
            return 0
        return NESTEROV if self.optimizer == "nesterov" else HEAVY_BALL

    @property
    def state_slots(self) -> int:
        """Quantities of state the optimiser keeps per parameter (momentum: 1)."""
        return STATE_SLOTS[self.optimizer] or int(self.momentum > 0)

    @property
    def margin(self) -> float:
        """Half the distance between the targets: an output is on its target's side
        of the midpoint when its signed error is below this (see kernels.model)."""
        return (self.targets[1] - self.targets[0]) / 2

    def code(self, X: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A task's patterns in this recipe's coding (float64): inputs 0/1 or -1/+1,
        target bits LOW/HIGH; other targets (a regression task's) as they are."""
        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        if self.inputs == "bipolar":
            X = np.where(X > 0.5, 1.0, -1.0)
        low, high = (float(v) for v in self.targets)
        return X, np.where(Y == 1.0, high, np.where(Y == 0.0, low, Y))

    def signs(self, Y: np.ndarray) -> np.ndarray:
        """+1 where a task's target bit is HIGH, -1 where it is LOW (0/1 patterns)."""
        return np.where(np.asarray(Y) > 0.5, 1.0, -1.0)


Recipe = make_dataclass(
    "Recipe",
    [(s.name, float, dataclasses.field(default=s.default)) for s in optimizers.SETTINGS],
    bases=(_Choices,),
    frozen=True,
)
Recipe.__module__ = __name__
Recipe.__doc__ = """How networks are trained (see the module docstring and
:mod:`kernels.model`): the choices of :class:`_Choices` and every optimiser
setting of :data:`kernels.optimizers.SETTINGS`, each at its default."""

#: The notebook's recipe.
DEFAULT = Recipe()
