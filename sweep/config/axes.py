"""The axes of a sweep, defined once: every trial parameter, its column and its rules.

One row of :data:`AXES` per parameter gives its config key (also the TOML key,
the keyword of ``sweep.run`` and, with dashes, the CLI flag), its column in
the results and that column's Arrow type, its default, how its spec is
parsed and checked, its help text, and how it enters the trial id. The
config (:mod:`sweep.config`), the grid and its ids (:mod:`sweep.config.grid`), the
results schema (:mod:`sweep.config.schema`), the rows (:mod:`sweep.runner.rows`), the CLI
(:mod:`sweep.cli`) and the reports read this table: adding an axis is one
row here (plus, for a training recipe, its field in
:class:`kernels.recipe.Recipe`). An optimiser's settings are rows made from
their table (:data:`kernels.optimizers.SETTINGS`), and the help of the parts'
axes is written from the parts' tables.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from kernels import DTYPES, EXP_MODES, activations, initialisers, losses, optimizers, tasks
from kernels.recipe import DEFAULT, INPUTS, OPTIMIZER_SETTINGS

from ..config import specs
from ..errors import ConfigError

#: Largest hidden width accepted (memory per network grows with it).
MAX_WIDTH = 4096
#: Seeds must fit numpy's RandomState.
MAX_SEED = 2**32 - 1


def _each(ok: Callable[[Any], bool], problem: str) -> Callable[[str, tuple], None]:
    """A check that every value satisfies ``ok`` (``problem`` formats the value)."""

    def check(field: str, values: tuple | range) -> None:
        if isinstance(values, range) and values.step == 1:
            values = (values[0], values[-1])  # checks are bounds: a range's ends decide
        for v in values:
            if not ok(v):
                raise ConfigError(field, problem.format(v=v))

    return check


def _finite(v: Any) -> bool:
    return v is not None and math.isfinite(v)


@dataclass(frozen=True)
class Axis:
    """One trial parameter (see the module docstring)."""

    column: str
    arrow: pa.DataType
    default: Any
    parse: Callable[[str, Any], tuple]
    help: str
    check: Callable[[str, tuple], None] | None = None
    key: str = ""  # config key, if not the column's name
    per_trial: bool = False  # varies within a chunk (seed, lr); else part of the shape
    single: bool = False  # one value per sweep
    recipe: bool = False  # a field of kernels.recipe.Recipe
    #: Always part of the trial id (the first axes); the others enter it only
    #: when they differ from their default, so that the ids of trials that
    #: existed before an axis did never change.
    classic: bool = False
    #: The axis this one is set from (no flag, no config key): it varies on its
    #: own only where one value of that axis has several of this one.
    derived_from: str = ""

    @property
    def name(self) -> str:
        return self.key or self.column

    @property
    def derived(self) -> bool:
        return bool(self.derived_from)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def id_default(self) -> Any:
        """The value that leaves the trial id as it was before the axis existed."""
        return None if self.classic else self.parse(self.name, self.default)[0]


def _parts(table: tuple, **where: bool) -> str:
    """A table of parts' entries (those with every ``where`` attribute), with equations."""
    chosen = [e for e in table if all(getattr(e, k) == v for k, v in where.items())]
    return ", ".join(f"{e.name} ({e.equation})" for e in chosen)


def _setting_axes(settings: tuple) -> tuple[Axis, ...]:
    """The axes of optimiser settings (:data:`kernels.optimizers.SETTINGS`)."""
    return tuple(
        Axis(
            s.name,
            pa.float64(),
            s.default,
            specs.float_spec,
            f"{s.help} ({s.valid}; {', '.join(OPTIMIZER_SETTINGS[s.name])} only)",
            recipe=True,
        )
        for s in settings
    )


def _which(table: tuple, test: Callable[[Any], bool], what: str) -> str:
    """``"what: a, b; "``: the names of a table's entries that pass ``test``."""
    return f"{what}: {', '.join(e.name for e in table if test(e))}; "


def _names(choices: tuple[str, ...]) -> Callable[[str, tuple], None]:
    return _each(lambda v: v in choices, "must be one of " + ", ".join(choices) + ", got {v!r}")


AXES: tuple[Axis, ...] = (
    Axis(
        "task",
        pa.string(),
        "xor",
        specs.task_spec,
        f"Task(s), comma-separated: {tasks.KNOWN}; a truth table lists each "
        "output's bits for the input patterns in binary counting order, first input "
        "most significant; or a file: .csv (a header row; columns named y... are "
        "targets, the others inputs) or .npz (arrays X, Y, optionally X_test, Y_test). "
        "Targets other than 0 and 1 make a regression task.",
        classic=True,
    ),
    Axis(
        "seed",
        pa.int64(),
        "0:1000",
        specs.seed_spec,
        "Seeds: 314, 0:1000 (half-open range) or 1,5,9.",
        _each(lambda v: 0 <= v <= MAX_SEED, f"seed {{v}} is outside 0..{MAX_SEED}"),
        key="seeds",
        per_trial=True,
        classic=True,
    ),
    Axis(
        "lr",
        pa.float64(),
        "log:0.01:10:7",
        specs.float_spec,
        "Learning rates: 0.1, 0.05,0.1,0.5, log:0.01:10:13 (13 log-spaced values, ends "
        "included) or lin:0.1:2:20.",
        _each(lambda v: _finite(v) and v > 0, "must be positive and finite, got {v!r}"),
        per_trial=True,
        classic=True,
    ),
    Axis(
        "width",
        pa.int64(),
        "1:7",
        specs.int_spec,
        "Hidden widths: 2, 2,3,4 or 1:9 (half-open range).",
        _each(lambda v: 1 <= v <= MAX_WIDTH, f"must be between 1 and {MAX_WIDTH}, got {{v}}"),
        classic=True,
    ),
    Axis(
        "epochs",
        pa.int64(),
        10_000,
        specs.int_spec,
        "Epochs of training per trial (0: no training, statistics of the initial weights).",
        _each(lambda v: v >= 0, "must be at least 0, got {v}"),
        classic=True,
    ),
    Axis(
        "tol",
        pa.float64(),
        0.1,
        specs.float_spec,
        "Converged when max |y - yhat| < tol, 0 < tol < HIGH - LOW of the targets.",
        _each(lambda v: _finite(v) and v > 0, "must be positive, got {v!r}"),
        classic=True,
    ),
    Axis(
        "init_low",
        pa.float64(),
        0.0,
        specs.float_spec,
        "Initial weights ~ uniform[init_low, init_high) (pairs with init_low >= "
        "init_high are skipped).",
        _each(_finite, "must be finite, got {v!r}"),
        classic=True,
    ),
    Axis(
        "init_high",
        pa.float64(),
        1.0,
        specs.float_spec,
        "Upper end of the initial weight range.",
        _each(_finite, "must be finite, got {v!r}"),
        classic=True,
    ),
    Axis(
        "dtype",
        pa.string(),
        "float64",
        specs.name_spec,
        "float64 or float32 (or both: float64,float32).",
        _names(tuple(DTYPES)),
        classic=True,
    ),
    Axis(
        "exp",
        pa.string(),
        "fast",
        specs.name_spec,
        "exp in the kernel: fast (vectorised, within 1 ulp of libm) or exact (libm; "
        "bit-identical to the numpy reference).",
        _names(EXP_MODES),
        single=True,
        classic=True,
    ),
    Axis(
        "early_stop",
        pa.bool_(),
        False,
        lambda f, v: (specs.bool_spec(f, v),),
        "Stop training each network once it is solved and converged (its epoch "
        "statistics stay exact; final loss and weights are those of that epoch).",
        single=True,
        classic=True,
    ),
    Axis(
        "momentum",
        pa.float64(),
        DEFAULT.momentum,
        specs.float_spec,
        "Heavy-ball momentum mu in [0, 1): v <- mu v - lr g, w <- w + v.",
        recipe=True,
    ),
    Axis(
        "update",
        pa.string(),
        DEFAULT.update,
        specs.name_spec,
        "batch (one update per epoch, the whole task), online (one per sample, in "
        "order), shuffled (one per sample, or per mini-batch of --batch-size, a new "
        "order each epoch from the seed) or ordered (one per mini-batch of "
        "--batch-size samples, in order).",
        recipe=True,
    ),
    Axis(
        "activation",
        pa.string(),
        DEFAULT.activation,
        specs.name_spec,
        f"Hidden units: {_parts(activations.TABLE, hidden=True)}.",
        recipe=True,
    ),
    Axis(
        "output_activation",
        pa.string(),
        DEFAULT.output_activation,
        specs.name_spec,
        f"Output units: {_parts(activations.TABLE, output=True)}; the targets must lie "
        "in the outputs' range.",
        recipe=True,
    ),
    Axis(
        "loss",
        pa.string(),
        DEFAULT.loss,
        specs.name_spec,
        "Training loss (README, Parts): "
        + ", ".join(f"{entry.name} (with {entry.needs})" for entry in losses.TABLE)
        + ".",
        recipe=True,
    ),
    Axis(
        "inputs",
        pa.string(),
        DEFAULT.inputs,
        specs.name_spec,
        f"Input bits coded {' or '.join(INPUTS)} (0/1 or -1/+1).",
        recipe=True,
    ),
    Axis(
        "targets",
        pa.string(),
        DEFAULT.targets_text,
        specs.pair_spec,
        "Target bits coded LOW:HIGH, e.g. 0:1, 0.1:0.9, -1:1 (comma list of pairs).",
        recipe=True,
    ),
    Axis(
        "weight_decay",
        pa.float64(),
        DEFAULT.weight_decay,
        specs.float_spec,
        "Weight decay lambda >= 0: each update adds lambda w to the gradient of every "
        "weight (not the biases).",
        recipe=True,
    ),
    Axis(
        "mse_target",
        pa.float64(),
        None,
        specs.optional_float_spec,
        "Also record epoch_mse_target, the first epoch whose MSE is below X (X > 0). "
        "A TSS criterion T is MSE = T / N (N = samples x outputs); an RMS criterion R "
        "is MSE = R^2. [default: none]",
        _each(lambda v: v is None or (_finite(v) and v > 0), "must be positive, got {v!r}"),
    ),
    Axis(
        "optimizer",
        pa.string(),
        DEFAULT.optimizer,
        specs.name_spec,
        f"{', '.join(optimizers.NAMES)} (README, Parts). gd is gradient descent, with "
        "--momentum the heavy ball; "
        + _which(optimizers.TABLE, lambda e: e.momentum == "needed", "momentum > 0 needed")
        + _which(optimizers.TABLE, lambda e: e.momentum == "none", "no momentum")
        + _which(optimizers.TABLE, lambda e: e.batch_only, "batch updates only")
        + _which(optimizers.TABLE, lambda e: "lr" in e.state, "each weight's first step is --lr")
        + "their settings are the flags below, each refused by the optimisers that do not "
        "use it.",
        recipe=True,
    ),
    # Axes keep their places (an id lists the axes off their defaults in this
    # order): the settings from rms_decay on come last.
    *_setting_axes(optimizers.SETTINGS[:8]),
    Axis(
        "width2",
        pa.int64(),
        0,
        specs.int_spec,
        "Units of a second hidden layer (0: none), e.g. --width 2 --width2 2 for "
        "2-2-2-1; comma lists and ranges as --width. Its weights are drawn after the "
        "first layer's and stored in w_hidden2, b_hidden2. The general kernel trains it.",
        _each(lambda v: 0 <= v <= MAX_WIDTH, f"must be between 0 and {MAX_WIDTH}, got {{v}}"),
    ),
    Axis(
        "shortcuts",
        pa.bool_(),
        False,
        specs.bools_spec,
        "Direct input -> output weights besides the hidden layer (true, false or "
        "false,true), as in the 1986 XOR network with one hidden unit; drawn after the "
        "other weights, stored in w_shortcut. The general kernel trains them.",
    ),
    Axis(
        "restart_after",
        pa.int64(),
        0,
        specs.int_spec,
        "Restart a network that has not converged within N epochs of its attempt, "
        "from the next draws of its seed's generator, within the same --epochs budget "
        "(0: never). Epoch columns count total epochs; restarts counts them.",
        _each(lambda v: v >= 0, "must be at least 0, got {v}"),
    ),
    Axis(
        "prime_offset",
        pa.float64(),
        DEFAULT.prime_offset,
        specs.float_spec,
        "Added to each unit's activation derivative in backpropagation (>= 0; Fahlman "
        "1988 used 0.1 against flat spots). Not a gradient any more: any optimiser "
        "follows the changed slopes.",
        recipe=True,
    ),
    Axis(
        "subnormals",
        pa.string(),
        DEFAULT.subnormals,
        specs.name_spec,
        "keep (IEEE arithmetic) or flush: subnormal numbers count as zero while the "
        "networks train, as in XLA on the CPU (x86 only). Flushing changes results where "
        "a subnormal matters (Rprop takes no step on a flushed gradient) and makes "
        "saturated networks, which the Rprops make, several times faster.",
        recipe=True,
    ),
    *_setting_axes(optimizers.SETTINGS[8:]),
    Axis(
        "init",
        pa.string(),
        initialisers.NAMES[0],
        specs.name_spec,
        f"Initial weights: {_parts(initialisers.TABLE)}; "
        + _which(initialisers.TABLE, lambda e: e.radius, "with --init-radius R").rstrip("; ")
        + ".",
        _names(initialisers.NAMES),
    ),
    Axis(
        "batch_size",
        pa.int64(),
        0,
        specs.int_spec,
        "Samples per update of --update ordered or shuffled (0: shuffled's own, 1): "
        "mini-batches of K samples, the last one of an epoch shorter if K does not divide "
        "the task; each update sums its samples' gradients, as batch sums the task's.",
        recipe=True,
    ),
    Axis(
        "task_digest",
        pa.string(),
        "",
        lambda field, value: (str(value),),
        "The content digest of a task given as data (a truth table, a file, arrays; "
        "empty for a built-in task): it, not the task's name, enters the trial id.",
        derived_from="task",
    ),
)

BY_NAME = {axis.name: axis for axis in AXES}
BY_COLUMN = {axis.column: axis for axis in AXES}
#: Columns of the trial parameters, in key (and sort) order.
PARAM_COLUMNS = tuple(axis.column for axis in AXES)
#: Axes shared by a chunk's trials (the shape), in order.
SHAPE_AXES = tuple(axis for axis in AXES if not axis.per_trial)
#: Columns set from another axis, and that axis's column.
DERIVED_FROM = {axis.column: axis.derived_from for axis in AXES if axis.derived}
#: Axes of the training recipe, by Recipe field.
RECIPE_AXES = tuple(axis for axis in AXES if axis.recipe)
#: Settings given by a flag of their own but stored as other columns: what a
#: query or ``--by`` names instead.
STORED_AS = {"init_radius": "--init-radius R is stored as init_low = -R and init_high = R"}


def not_a_column(name: str, columns: Sequence[str], otherwise: str = "") -> str:
    """Why ``name`` names no column, with where its values are if it is a
    setting stored as others, or the columns it is close to (a misspelling);
    else ``otherwise``."""
    if name in STORED_AS:
        return f"not a column of the results: {STORED_AS[name]}"
    close = difflib.get_close_matches(name, columns, n=2, cutoff=0.75)
    hint = f"; did you mean {' or '.join(close)}?" if close else f" {otherwise}".rstrip()
    return "not a column of the results" + hint


def shape_key_of(values: Mapping[str, Any]) -> str:
    """A shape's part of a trial id's key, from its shape axes' values by name: the
    classic axes always, the others only away from their default, so that ids
    of trials that existed before an axis did never change (an axis missing
    from ``values``, a column older parts lack, is at its default)."""
    parts = []
    data = bool(values.get("task_digest"))  # its digest, not its name, keys a data task
    for axis in SHAPE_AXES:
        if data and axis.name == "task":
            continue
        if axis.classic or axis.name in values and values[axis.name] != axis.id_default:
            parts.append(f"{axis.column}={values[axis.name]!r}")
    return "|".join(parts)
