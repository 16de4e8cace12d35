"""A training recipe: how a network is trained, besides its shape and learning rate.

One frozen value, :class:`Recipe`, names every choice of the training step:
activations, loss, update mode, momentum, weight decay, the optimiser, the
sigmoid-prime offset, the coding of inputs and targets, and whether
subnormal numbers are kept. Its defaults are
the notebook's: logistic units, squared error, full-batch gradient descent,
0/1 inputs and targets. The arithmetic of
each choice is in :mod:`kernels.step` (compiled) and :mod:`kernels.reference`
(numpy); the equations are in :mod:`kernels.model`. Activations and losses
are tables of parts (:mod:`kernels.activations`, :mod:`kernels.losses`):
their names, where each may be used and which targets it can train towards
come from there.

Validation lives here, once: :meth:`Recipe.check` raises :class:`RecipeError`
naming the field, which the sweep turns into its one-line error.
"""

from __future__ import annotations

import math
import platform
from dataclasses import dataclass, fields
from typing import NamedTuple

import numpy as np

from . import activations, losses

#: Names of each choice; a name's position is its code in compiled kernels.
ACTIVATIONS = activations.NAMES
LOSSES = losses.NAMES
UPDATES = ("batch", "online", "shuffled")
INPUTS = ("binary", "bipolar")
OPTIMIZERS = ("gd", "nesterov", "adam", "rprop", "irprop-", "quickprop")
#: Subnormal numbers kept (IEEE) or flushed to zero (kernels.subnormals; x86 only).
SUBNORMALS = ("keep", "flush")

BATCH, ONLINE, SHUFFLED = range(len(UPDATES))
#: Codes of :attr:`Variant.momentum`: none, heavy ball, Nesterov.
HEAVY_BALL, NESTEROV = 1, 2
#: Codes of :attr:`Variant.optimizer` for the rules with state of their own.
ADAM, RPROP, IRPROP, QUICKPROP = (
    OPTIMIZERS.index(name) for name in ("adam", "rprop", "irprop-", "quickprop")
)
#: Optimisers that adapt each step to the whole task's gradient: batch updates only.
BATCH_ONLY = ("rprop", "irprop-", "quickprop")
#: Settings only some optimisers use, with the optimisers that use them.
OPTIMIZER_SETTINGS = {
    "beta1": ("adam",),
    "beta2": ("adam",),
    "adam_eps": ("adam",),
    "eta_plus": ("rprop", "irprop-"),
    "eta_minus": ("rprop", "irprop-"),
    "delta_max": ("rprop", "irprop-"),
    "delta_min": ("rprop", "irprop-"),
    "max_factor": ("quickprop",),
}
#: Quantities of state each optimiser keeps per parameter (a block of rows each).
STATE_SLOTS = {"gd": 0, "nesterov": 1, "adam": 2, "rprop": 3, "irprop-": 2, "quickprop": 2}


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


class Constants(NamedTuple):
    """A recipe's numbers, as the general kernel receives them (run-time values)."""

    momentum: float
    weight_decay: float
    beta1: float
    beta2: float
    adam_eps: float
    eta_plus: float
    eta_minus: float
    delta_max: float
    delta_min: float
    max_factor: float
    prime_offset: float


def format_number(value: float) -> str:
    """A float as short text: ``0``, ``0.1``, ``-1`` (integers without ``.0``)."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class Recipe:
    """How networks are trained (see the module docstring and :mod:`kernels.model`)."""

    activation: str = "logistic"
    output_activation: str = "logistic"
    loss: str = "sse"
    update: str = "batch"
    momentum: float = 0.0
    weight_decay: float = 0.0
    inputs: str = "binary"
    targets: tuple[float, float] = (0.0, 1.0)
    optimizer: str = "gd"
    beta1: float = 0.9
    beta2: float = 0.999
    adam_eps: float = 1e-8
    eta_plus: float = 1.2
    eta_minus: float = 0.5
    delta_max: float = 50.0
    delta_min: float = 1e-6
    max_factor: float = 1.75
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
        number("beta1", lambda v: 0 <= v < 1, "in [0, 1)")
        number("beta2", lambda v: 0 <= v < 1, "in [0, 1)")
        number("adam_eps", lambda v: v > 0, "positive and finite")
        number("eta_plus", lambda v: v > 1, "above 1")
        number("eta_minus", lambda v: 0 < v < 1, "in (0, 1)")
        number("delta_min", lambda v: v > 0, "positive")
        number("delta_max", lambda v: v > self.delta_min, "above delta_min")
        number("max_factor", lambda v: v > 0, "positive")
        number("prime_offset", lambda v: v >= 0, "finite and at least 0")
        self._check_optimizer()
        if self.subnormals == "flush" and platform.machine().lower() not in ("x86_64", "amd64"):
            raise RecipeError(
                "subnormals", f"flush sets x86's MXCSR: this machine is {platform.machine()}"
            )
        low, high = self.targets
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise RecipeError("targets", f"LOW must be below HIGH, got {self.targets_text}")
        output = activations.BY_NAME[self.output_activation]
        if not output.low <= low < high <= output.high:
            raise RecipeError(
                "targets",
                f"{output.name} outputs reach [{output.low:g}, {output.high:g}] only, "
                f"got {self.targets_text}",
            )
        problem = losses.BY_NAME[self.loss].refuse(output, low, high)
        if problem:
            raise RecipeError("loss", problem)

    def _check_optimizer(self) -> None:
        """The optimiser with the settings it gives a meaning to, and no others."""
        name, mu = self.optimizer, self.momentum
        if name == "nesterov" and mu == 0:
            raise RecipeError(
                "optimizer",
                "nesterov needs momentum > 0 (its look-ahead is the momentum term), got momentum 0",
            )
        if STATE_SLOTS[name] > 1 and mu > 0:  # a rule with state of its own
            raise RecipeError(
                "optimizer",
                f"{name} has no heavy-ball momentum; momentum must be 0 with it, got {mu!r}",
            )
        if name in BATCH_ONLY and self.update != "batch":
            raise RecipeError(
                "optimizer",
                f"{name} adapts each step to the whole task's "
                f"gradient: batch updates only, got {self.update}",
            )
        for setting, users in OPTIMIZER_SETTINGS.items():
            value, default = getattr(self, setting), self.__dataclass_fields__[setting].default
            if name not in users and value != default:
                raise RecipeError(
                    setting,
                    f"only {', '.join(users)} uses it (optimizer is "
                    f"{name}); leave it at {default!r}",
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
        """A task's 0/1 patterns in this recipe's coding: inputs 0/1 or -1/+1,
        target bits LOW/HIGH (float64)."""
        X = np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64)
        if self.inputs == "bipolar":
            X = np.where(X > 0.5, 1.0, -1.0)
        low, high = (float(v) for v in self.targets)
        return X, np.where(Y > 0.5, high, low)

    def signs(self, Y: np.ndarray) -> np.ndarray:
        """+1 where a task's target bit is HIGH, -1 where it is LOW (0/1 patterns)."""
        return np.where(np.asarray(Y) > 0.5, 1.0, -1.0)


#: The notebook's recipe.
DEFAULT = Recipe()
#: Recipe fields, in order.
RECIPE_FIELDS = tuple(f.name for f in fields(Recipe))
