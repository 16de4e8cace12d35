"""Studies to a precision: seeds added to each cell, in rounds, until the 95%
interval of its statistic is as narrow as asked.

A cell is one combination of the non-seed axes (a shape and a learning
rate). Round k trains seeds ``start + n(k-1) .. start + n(k) - 1`` of every
cell still open, where ``n(k) = first * 2**k`` (at most ``max_seeds``): a
cell's trials are always the first n seeds of its range, so its results
equal a fixed sweep over those seeds, trial ids included. After each round
a cell closes once its interval's half-width is at most the target (or it
reached ``max_seeds``). The rule reads only the first n(k) seeds, so where a
cell stops depends on its outcomes alone, never on interruptions: a rerun
of the same command retrains nothing and resumes where the run stopped.

Statistics: ``converged`` and ``solved`` rates (Wilson interval, half-width
in absolute rate), ``median-epochs`` (the median epochs to converge among
converged trials, its order-statistic interval, half-width relative to
the median).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..config.grid import Block, blocks, key_numbers, shape_key
from ..config.ids import from_arrow
from ..config.study import SweepConfig
from ..errors import SweepError
from ..intervals import Z95, median_interval, wilson_interval
from ..store.reader import read
from .training import Trainer


@dataclass(frozen=True)
class Target:
    """A study's precision (:class:`sweep.config.precision.Precision`) and its rounds
    (``first`` seeds from ``start``, doubling, at most ``most`` a cell)."""

    precision: float
    of: str
    start: int
    first: int
    most: int

    @classmethod
    def of_config(cls, config: SweepConfig) -> Target:
        seeds, aim = config.seeds, config.precision
        return cls(aim.half_width, aim.of, seeds[0], len(seeds), aim.max_seeds)

    def rounds(self) -> list[int]:
        """Each round's seeds per cell, cumulative: first, 2 first, 4 first, ... most."""
        out, n = [], self.first
        while True:
            out.append(min(n, self.most))
            if n >= self.most:
                return out
            n *= 2

    def worst_case(self) -> int:
        """Seeds a cell may need: for a rate, those that bring a rate of 1/2 to the
        target (the widest interval), on the rounds' schedule; else ``most``."""
        if self.of == "median-epochs":
            return self.most
        needed = (Z95 / (2 * self.precision)) ** 2
        return next((n for n in self.rounds() if n >= needed), self.most)


@dataclass(frozen=True)
class Outcomes:
    """One cell's outcomes on its first n seeds, in seed order."""

    converged: np.ndarray  # bool
    solved: np.ndarray  # bool
    epochs: np.ndarray  # epochs to converge (NaN: never)

    @property
    def n(self) -> int:
        return self.converged.size


def interval(of: str, outcomes: Outcomes) -> tuple[float, float, float]:
    """(estimate, low, high) of the statistic ``of`` (NaN bounds: none yet)."""
    if of == "median-epochs":
        return median_interval(outcomes.epochs[outcomes.converged])
    hits = outcomes.converged if of == "converged" else outcomes.solved
    low, high = wilson_interval(hits.sum(), hits.size)
    return float(hits.mean()) if hits.size else math.nan, float(low), float(high)


def half_width(of: str, outcomes: Outcomes) -> float:
    """Half the interval's width: absolute for a rate, relative to the median for
    ``median-epochs`` (infinite while there is no interval)."""
    estimate, low, high = interval(of, outcomes)
    if math.isnan(low) or math.isnan(high):
        return math.inf
    half = (high - low) / 2
    if of == "median-epochs":
        return half / estimate if estimate > 0 else math.inf
    return half


@dataclass
class Cell:
    """One cell of a study: its shape and learning rate, the seeds its completed
    rounds hold, and whether it is still open."""

    shape: object
    lr: float
    n: int = 0
    open: bool = True
    capped: bool = False
    half: float = math.inf
    key: str = field(init=False)

    def __post_init__(self) -> None:
        self.key = shape_key(self.shape)

    @property
    def label(self) -> str:
        """The cell's axis values that vary in a study (for messages): lr and width."""
        return f"lr {self.lr:g}, width {self.shape.width}"


def cells_of(config: SweepConfig) -> list[Cell]:
    """Every cell of a study, in the sweep's order."""
    return [Cell(block.shape, float(lr)) for block in blocks(config) for lr in block.lrs]


def round_blocks(cells: Iterable[Cell], target: Target, lo: int, hi: int) -> list[Block]:
    """The trials of seeds ``start + lo .. start + hi - 1`` of ``cells``, as blocks (one
    per shape, its lrs together)."""
    by_shape: dict[object, list[float]] = {}
    for cell in cells:
        by_shape.setdefault(cell.shape, []).append(cell.lr)
    seeds = range(target.start + lo, target.start + hi)
    return [
        Block(shape, seeds, np.asarray(lrs, dtype=np.float64)) for shape, lrs in by_shape.items()
    ]


def judge(cells: Iterable[Cell], target: Target, n: int, outcomes: dict[int, Outcomes]) -> None:
    """Close the cells (``id(cell)`` -> their outcomes on ``n`` seeds) whose interval
    reached the target, or whose round reached ``max_seeds``."""
    for cell in cells:
        cell.n = n
        cell.half = half_width(target.of, outcomes[id(cell)])
        if cell.half <= target.precision:
            cell.open = False
        elif n >= target.most:
            cell.open, cell.capped = False, True


def describe(cells: list[Cell], target: Target) -> str:
    """One line on what a study reached: cells at the target, their seeds, and the
    cells that stopped at ``max_seeds``."""
    reached = [c for c in cells if not c.open and not c.capped]
    capped = [c for c in cells if c.capped]
    what = "relative half-width" if target.of == "median-epochs" else "half-width"
    seeds = sorted({c.n for c in reached})
    span = (
        f" in {seeds[0]:,}-{seeds[-1]:,} seeds"
        if len(seeds) > 1
        else (f" in {seeds[0]:,} seeds" if seeds else "")
    )
    line = (
        f"precision: {len(reached)} of {len(cells)} cells reached a 95% {what} of "
        f"{target.precision:g} on {target.of}{span}"
    )
    if capped:
        shown = "; ".join(c.label for c in capped[:5]) + ("; ..." if len(capped) > 5 else "")
        line += f"; {len(capped)} stopped at --max-seeds {target.most:,} ({shown})"
    return line


def outcomes(table: pa.Table, cells: list[Cell], target: Target, n: int) -> dict[int, Outcomes]:
    """Each cell's outcomes on its first ``n`` seeds, from rows holding them (by trial
    id: a cell's trials are its shape's, lr's and seeds' ids)."""
    ids = from_arrow(table.column("trial_id"))
    order = np.argsort(ids)
    ids = ids[order]
    converged = table.column("converged").to_numpy(zero_copy_only=False)[order]
    solved = table.column("epoch_solved").is_valid().to_numpy(zero_copy_only=False)[order]
    epochs = table.column("epoch_converged").cast(pa.float64()).fill_null(np.nan)
    epochs = epochs.to_numpy(zero_copy_only=False)[order]
    seeds = np.arange(target.start, target.start + n, dtype=np.int64)
    found = {}
    for cell in cells:
        want = key_numbers(cell.key, seeds, np.full(n, cell.lr))
        at = np.minimum(np.searchsorted(ids, want), max(len(ids) - 1, 0))
        if not len(ids) or not np.array_equal(ids[at], want):
            raise SweepError(
                f"the trials of {cell.label} are not all stored; run the same command again"
            )
        found[id(cell)] = Outcomes(converged[at], solved[at], epochs[at])
    return found


def stored_outcomes(path: Path) -> pa.Table:
    """The stored rows' ids and statistics (what :func:`outcomes` reads)."""
    return read(path, list(OUTCOME_COLUMNS), params=False).table


#: The columns the rule reads.
OUTCOME_COLUMNS = ("converged", "epoch_solved", "epoch_converged")


def expected_seeds(target: Target, seen: Outcomes) -> int:
    """The seeds a cell is likely to run, projected from its outcomes so far: the
    first round whose interval, at the rate (or spread) seen, reaches the target."""
    if target.of == "median-epochs":
        half = half_width(target.of, seen)
        needed = seen.n * (half / target.precision) ** 2 if math.isfinite(half) else math.inf
    else:
        hits = seen.converged if target.of == "converged" else seen.solved
        p = float(hits.mean()) if hits.size else 0.5
        needed = next(
            (n for n in target.rounds() if _rate_half_width(p, n) <= target.precision), math.inf
        )
    return next((n for n in target.rounds() if n >= max(needed, seen.n)), target.most)


def _rate_half_width(p: float, n: int) -> float:
    low, high = wilson_interval(round(p * n), n)
    return float(high - low) / 2


def run_rounds(trainer: Trainer, config: SweepConfig) -> list[Cell]:
    """Train ``config``'s cells round by round until each reaches its precision (or
    ``max_seeds``); the cells, judged."""
    target = Target.of_config(config)
    cells = cells_of(config)
    previous = 0
    for k, n in enumerate(target.rounds()):
        still = [cell for cell in cells if cell.open]
        if not still:
            break
        what = f"round {k + 1} ({n:,} seeds): {len(still)} of {len(cells)} cells open"
        trainer.train(round_blocks(still, target, previous, n), what)
        judge(still, target, n, outcomes(stored_outcomes(trainer.store.path), still, target, n))
        previous = n
    return cells


@dataclass
class Forecast:
    """What a study to a precision is likely to run: the trials expected in all, the
    blocks still to train, and what the projection rests on."""

    expected: int
    todo: list[Block]
    basis: str


def forecast(config: SweepConfig, stored: pa.Table | None, pilot) -> Forecast:
    """Project each cell's seeds from its outcomes: the stored trials' (``stored``,
    rows with :data:`OUTCOME_COLUMNS`), else a pilot round: ``pilot(blocks)`` trains
    the first round's blocks without storing them and returns their rows."""
    target = Target.of_config(config)
    cells = cells_of(config)
    seen: dict[int, Outcomes] = {}
    for n in reversed(target.rounds()) if stored is not None else ():
        still = [cell for cell in cells if id(cell) not in seen]
        for cell in still:
            try:
                seen |= outcomes(stored, [cell], target, n)
            except SweepError:
                continue
    basis = "from the stored trials"
    missing = [cell for cell in cells if id(cell) not in seen]
    if missing:
        rows = pilot(round_blocks(missing, target, 0, target.first))
        seen |= outcomes(rows, missing, target, target.first)
        basis = (
            f"from a pilot round of {len(missing) * target.first:,} trials, trained now "
            "and not stored"
        )
        if len(missing) < len(cells):
            basis = "from the stored trials and " + basis[5:]
    expected, todo = 0, []
    for cell in cells:
        n = expected_seeds(target, seen[id(cell)])
        expected += n
        done = seen[id(cell)].n if id(cell) not in {id(c) for c in missing} else 0
        if n > done:
            todo += round_blocks([cell], target, done, n)
    return Forecast(expected, todo, basis)
