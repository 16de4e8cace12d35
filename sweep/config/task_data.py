"""A task as data: inputs ``X``, targets ``Y``, an optional held-out test set, and a
content digest.

Every source of a user's own problem becomes a :class:`Task`: a truth table
(``table:0110``), a file (:mod:`sweep.config.task_files`) or arrays given in
Python. The digest, not the name, enters the trial id, so the same data gives
the same trials whatever its source, and edited data is a different sweep.
Built-in tasks (``xor``, ``parity3``, ...) stay names: their ids never change.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field

import numpy as np

from kernels.tasks import TABLE

#: Largest task accepted: samples, and inputs or outputs.
MAX_SAMPLES = 10_000
MAX_UNITS = 64


def _matrix(field_name: str, value: object, where: str) -> np.ndarray:
    """``value`` as a finite float64 matrix (a vector is one column); ValueError naming
    ``where`` and the field otherwise."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {field_name} must hold numbers only") from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"{where}: {field_name} must be 2-D (samples x units), got {array.ndim}-D")
    if not np.isfinite(array).all():
        row, column = np.argwhere(~np.isfinite(array))[0]
        value = float(array[row, column])
        raise ValueError(
            f"{where}: {field_name} row {row + 1}, column {column + 1} is {value}: "
            "numbers must be finite"
        )
    return np.ascontiguousarray(array)


def _sized(name: str, X: np.ndarray, Y: np.ndarray, where: str) -> None:
    if len(X) != len(Y):
        raise ValueError(f"{where}: {name} have {len(X)} and {len(Y)} rows")
    if not 1 <= len(X) <= MAX_SAMPLES:
        raise ValueError(f"{where}: {name} has {len(X)} samples; 1 to {MAX_SAMPLES:,} are accepted")
    for what, array in (("inputs", X), ("outputs", Y)):
        if not 1 <= array.shape[1] <= MAX_UNITS:
            raise ValueError(
                f"{where}: {name} has {array.shape[1]} {what}; 1 to {MAX_UNITS} are accepted"
            )


def _digest(*arrays: np.ndarray | None) -> str:
    h = hashlib.blake2b(digest_size=8)
    for array in arrays:
        h.update(b"-" if array is None else repr(array.shape).encode() + array.tobytes())
    return h.hexdigest()


@dataclass(frozen=True, eq=False)
class Task:
    """Named data to train on: ``X`` (samples x inputs) and ``Y`` (samples x
    outputs), optionally a held-out ``X_test``, ``Y_test``.

    Targets of 0 and 1 only make a classification task, coded by the sweep's
    ``targets`` and ``inputs`` settings as the built-in tasks are; any other
    targets make a regression task, trained on as given. ``source`` says where
    the data came from (recorded with the results). Tasks are equal when their
    names and data are.
    """

    name: str
    X: np.ndarray
    Y: np.ndarray
    X_test: np.ndarray | None = None
    Y_test: np.ndarray | None = None
    source: str = "python"
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        where = f"task {self.name!r}"
        table = isinstance(self.name, str) and self.name.startswith(TABLE)  # columns, commas
        if (
            not isinstance(self.name, str)
            or not self.name.strip()
            or "," in self.name
            and not table
        ):
            raise ValueError(f"a task's name is a text without commas, got {self.name!r}")
        set_ = object.__setattr__
        set_(self, "X", _matrix("X", self.X, where))
        set_(self, "Y", _matrix("Y", self.Y, where))
        _sized("X, Y", self.X, self.Y, where)
        if (self.X_test is None) != (self.Y_test is None):
            raise ValueError(f"{where}: give both X_test and Y_test, or neither")
        if self.X_test is not None:
            set_(self, "X_test", _matrix("X_test", self.X_test, where))
            set_(self, "Y_test", _matrix("Y_test", self.Y_test, where))
            _sized("X_test, Y_test", self.X_test, self.Y_test, where)
            pairs = (("inputs", self.X, self.X_test), ("outputs", self.Y, self.Y_test))
            for kind, train, test in pairs:
                if train.shape[1] != test.shape[1]:
                    raise ValueError(
                        f"{where}: the test set has {test.shape[1]} {kind}, the training set "
                        f"{train.shape[1]}"
                    )
        set_(self, "digest", _digest(self.X, self.Y, self.X_test, self.Y_test))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Task) and (self.name, self.digest) == (other.name, other.digest)

    def __hash__(self) -> int:
        return hash((self.name, self.digest))

    def __repr__(self) -> str:
        test = f", {len(self.X_test)} test" if self.X_test is not None else ""
        return (
            f"Task({self.name!r}, {len(self.X)} samples x {self.X.shape[1]} in -> "
            f"{self.Y.shape[1]} out{test}, digest {self.digest})"
        )

    @property
    def label(self) -> str:
        """The task's name, and its file if it came from one (for messages)."""
        return f"{self.name!r}" + (f" ({self.source})" if self.source.startswith("file") else "")

    @functools.cached_property  # asked per chunk and per recipe: the arrays do not change
    def classes(self) -> bool:
        """Whether the targets are class labels, 0 and 1 (else: regression)."""
        return bool(np.isin(self.Y, (0.0, 1.0)).all())

    @functools.cached_property
    def binary_inputs(self) -> bool:
        """Whether every input is 0 or 1 (what ``--inputs bipolar`` recodes)."""
        return bool(np.isin(self.X, (0.0, 1.0)).all())

    def split(self, fraction: float, seed: int) -> Task:
        """This task with a held-out test set: ``round(fraction * samples)`` samples
        drawn by ``np.random.default_rng(seed).permutation``, in their order; the
        training set keeps the rest in its order. ValueError if either is empty
        or the task has a test set already."""
        if self.X_test is not None:
            raise ValueError(f"task {self.name!r} has a test set of its own")
        n = len(self.X)
        test = np.sort(np.random.default_rng(seed).permutation(n)[: round(fraction * n)])
        if not 0 < len(test) < n:
            side = "test" if len(test) == 0 else "training"
            raise ValueError(
                f"a fraction of {fraction:g} of task {self.name!r}'s {n} samples leaves an "
                f"empty {side} set"
            )
        train = np.setdiff1d(np.arange(n), test)
        source = f"{self.source}; test set: {fraction:g} of it, split seed {seed}"
        X, Y = self.X, self.Y
        return Task(self.name, X[train], Y[train], X[test], Y[test], source=source)

    def describe(self) -> dict:
        """Where the data came from and its size (JSON-able: the sidecar keeps it)."""
        out = {
            "digest": self.digest,
            "source": self.source,
            "samples": len(self.X),
            "inputs": self.X.shape[1],
            "outputs": self.Y.shape[1],
            "kind": "classification" if self.classes else "regression",
        }
        if self.X_test is not None:
            out["test_samples"] = len(self.X_test)
        return out
