"""What each value of the ``task`` axis names: a built-in task (kept as its name) or
data (a :class:`~sweep.config.task_data.Task`).

A value is, in this order: a name a stored sweep's spec lists with its digest;
an existing file (``.csv`` or ``.npz``, even one named like a built-in: a note
says so); a truth table (``table:0110``); a built-in name; or a ``Task``
given in Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kernels import tasks as builtin
from kernels.recipe import Recipe

from ..errors import ConfigError, require
from . import specs
from .axes import MAX_SEED
from .task_data import Task
from .task_files import SUFFIXES, read_task


@dataclass(frozen=True)
class Resolved:
    """The task axis resolved: its names in order, the digest of each data task,
    the data of those given in this run (a stored spec gives digests only), and
    notes for the run's first lines."""

    names: tuple[str, ...]
    digests: dict[str, str] = field(default_factory=dict)
    data: dict[str, Task] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def at_hand(self) -> list[Task]:
        """Every task whose data is at hand: the data tasks given, and the built-ins."""
        return [
            self.data.get(name) or Task(name, *builtin.get_task(name), source="built-in")
            for name in self.names
            if name in self.data or name not in self.digests
        ]


def _items(value: Any) -> list[Any]:
    """The axis value as a list of names and Tasks (texts split as the task spec
    splits them)."""
    if isinstance(value, Task):
        return [value]
    if isinstance(value, Sequence) and not isinstance(value, str):
        out: list[Any] = []
        for item in value:
            out.extend(_items(item))
        return out
    return list(specs.task_spec("task", value))


def _one(item: Any, stored: Mapping[str, str], notes: list[str]) -> str | Task:
    """A built-in's name, a stored data task's name, or a Task."""
    if isinstance(item, Task):
        return item
    if not isinstance(item, str):
        raise ConfigError("task", f"expected a task name, file or sweep.Task, got {item!r}")
    if item in stored:
        return item
    path = Path(item)
    if path.suffix.lower() in SUFFIXES or path.is_file():
        task = read_task(path, item)
        if builtin.is_task(item):
            notes.append(f"task {item!r} is the file {path.resolve()}, not the built-in task")
        return task
    if item.startswith(builtin.TABLE):
        return Task(item, *builtin.truth_table(item), source="truth table")
    builtin.get_task(item)  # ValueError naming the known tasks
    return item


def resolve(
    value: Any,
    stored: Mapping[str, str] | None = None,
    split: tuple[float, int] | None = None,
) -> Resolved:
    """Resolve the task axis's value (``stored``: a stored spec's digests by task
    name); ConfigError naming the fault (the file, row and column where there are).
    ``split``: (fraction, seed), hold out this fraction of each task's samples as
    its test set (:meth:`Task.split`; built-in tasks become data)."""
    if stored is not None and not (
        isinstance(stored, Mapping) and all(isinstance(v, str) for v in stored.values())
    ):
        raise ConfigError("tasks", "expected a table of task names and their digests")
    stored = dict(stored or {})
    notes: list[str] = []
    seen: dict[str, str | None] = {}  # each name's digest (None: a built-in)
    digests: dict[str, str] = {}
    data: dict[str, Task] = {}
    for item in _items(value):
        try:
            one = _one(item, stored, notes)
            if split is not None and not (isinstance(one, str) and one in stored):
                if isinstance(one, str):
                    one = Task(one, *builtin.get_task(one), source="built-in")
                one = one.split(*split)
        except ValueError as e:
            known = f"; or a {' or '.join(SUFFIXES)} file" if "unknown task" in str(e) else ""
            raise ConfigError("task", f"{e}{known}") from None
        name = one.name if isinstance(one, Task) else one
        digest = one.digest if isinstance(one, Task) else stored.get(one)
        if seen.get(name, digest) != digest:
            raise ConfigError("task", f"two different tasks are named {name!r}")
        twin = next((n for n, d in digests.items() if d == digest and n != name), None)
        if digest is not None and twin is not None:
            raise ConfigError(
                "task", f"{twin!r} and {name!r} hold the same data: their trials would be one"
            )
        seen[name] = digest
        if digest is not None:
            digests[name] = digest
        if isinstance(one, Task):
            data[name] = one
    if not seen:
        raise ConfigError("task", "expected at least one task")
    return Resolved(tuple(seen), digests, data, tuple(notes))


def check_recipe(task: Task, recipe: Recipe, early_stop: bool) -> None:
    """ConfigError unless ``recipe`` can train on ``task``: a regression task's targets
    within the outputs' reach and the loss's, taken as given (no coding)."""
    where = task.label
    if recipe.inputs == "bipolar" and not task.binary_inputs:
        raise ConfigError("inputs", f"bipolar recodes inputs of 0 and 1; {where} has others")
    if task.classes:
        return
    if recipe.targets != (0.0, 1.0):
        raise ConfigError(
            "targets", f"codes class labels 0 and 1; {where} is a regression task: leave it 0:1"
        )
    if early_stop:
        raise ConfigError("early_stop", f"waits for a solved network; {where} is regression")
    low, high = float(task.Y.min()), float(task.Y.max())
    unreachable = recipe.unreachable(low, high)
    if unreachable and unreachable[0] == "outputs":
        raise ConfigError(
            "task",
            f"{where} has targets in [{low:g}, {high:g}]; {unreachable[1]} (a linear "
            "output reaches any)",
        )
    if unreachable:
        raise ConfigError("loss", f"{unreachable[1]} ({where})")


def split_of(raw: Mapping[str, Any]) -> tuple[float, int] | None:
    """A config's ``test_fraction`` and ``split_seed``, validated (None: no split)."""
    if raw["test_fraction"] is None:
        require("split_seed", raw["split_seed"] == 0, "splits a test set: give --test-fraction")
        return None
    fraction = specs.float_spec("test_fraction", raw["test_fraction"])
    ok = len(fraction) == 1 and 0 < fraction[0] < 1
    require("test_fraction", ok, f"must be one number in (0, 1), got {raw['test_fraction']!r}")
    seed = specs.int_spec("split_seed", raw["split_seed"])
    ok = len(seed) == 1 and 0 <= seed[0] <= MAX_SEED
    require("split_seed", ok, f"must be one number from 0 to {MAX_SEED}, got {seed}")
    return fraction[0], seed[0]
