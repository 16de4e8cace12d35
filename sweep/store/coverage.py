"""What a results folder already holds, in the plan's terms.

A part written by a run is recorded in the manifest with the rectangle of
trials it holds (:meth:`sweep.config.grid.Block.rectangle`: one shape, seeds lo..hi-1,
some lrs). Resuming subtracts those intervals from each block of trials,
which costs the length of the manifest, not the number of trials: a 10^7-
trial sweep is not hashed again to find the few missing. Parts recorded
without a rectangle (written before rectangles were, adopted, or holding
scattered seeds) are matched by id, as before: only the trials that the
rectangles leave are hashed then.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..config.grid import Block, shape_key, trial_numbers

#: One part's trials: seeds lo <= s < hi, each with every one of lrs.
Rectangle = tuple[int, int, tuple[float, ...]]


def covers(shape_key: str, rectangle: Rectangle) -> dict:
    """A rectangle as its manifest line records it (JSON floats round-trip exactly)."""
    lo, hi, lrs = rectangle
    return {"shape": shape_key, "seeds": [lo, hi], "lrs": list(lrs)}


def _merged(spans: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted disjoint (starts, stops) covering the same integers as ``spans``."""
    spans.sort()
    starts, stops = [], []
    for lo, hi in spans:
        if stops and lo <= stops[-1]:
            stops[-1] = max(stops[-1], hi)
        else:
            starts.append(lo)
            stops.append(hi)
    return np.asarray(starts, dtype=np.int64), np.asarray(stops, dtype=np.int64)


def _inside(seeds: np.ndarray, starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Which seeds fall in one of the disjoint sorted intervals."""
    at = np.searchsorted(starts, seeds, side="right") - 1
    return (at >= 0) & (seeds < stops[np.maximum(at, 0)])


def _gaps(seeds: range, starts: np.ndarray, stops: np.ndarray) -> list[range]:
    """The parts of a step-1 range outside the intervals."""
    gaps, pos = [], seeds.start
    for lo, hi in zip(starts.tolist(), stops.tolist(), strict=True):
        if hi <= pos:
            continue
        if lo >= seeds.stop:
            break
        if lo > pos:
            gaps.append(range(pos, lo))
        pos = max(pos, hi)
    if pos < seeds.stop:
        gaps.append(range(pos, seeds.stop))
    return gaps


@dataclass(frozen=True)
class Trials:
    """The trials one part holds: its shape key and rectangles (one, if the part is a
    rectangle; else a run of seeds for each lr), and how many."""

    key: str
    rectangles: tuple[Rectangle, ...]
    rows: int

    @property
    def covers(self) -> dict | None:
        """The part's trials as its manifest line records them (None: not one rectangle)."""
        if len(self.rectangles) != 1:
            return None
        return covers(self.key, self.rectangles[0])

    @classmethod
    def of(cls, record: dict, rows: int) -> Trials:
        """The trials a manifest line's ``covers`` names."""
        lo, hi = record["seeds"]
        lrs = tuple(float(x) for x in record["lrs"])
        return cls(record["shape"], ((int(lo), int(hi), lrs),), rows)

    @classmethod
    def from_columns(cls, key: str, seeds: np.ndarray, lrs: np.ndarray) -> Trials:
        """The trials of aligned seed and lr columns of one shape; ValueError if a
        trial is there twice."""
        pairs = np.empty(len(seeds), dtype=[("lr", np.float64), ("seed", np.int64)])
        pairs["lr"], pairs["seed"] = lrs, seeds
        pairs.sort()
        if len(pairs) > 1 and np.any(pairs[1:] == pairs[:-1]):
            raise ValueError("holds a trial twice")
        runs: dict[tuple[int, int], list[float]] = {}
        for lr in np.unique(pairs["lr"]).tolist():
            these = pairs["seed"][pairs["lr"] == lr]
            breaks = np.flatnonzero(np.diff(these) != 1) + 1
            starts, stops = these[np.r_[0, breaks]], these[np.r_[breaks - 1, len(these) - 1]] + 1
            for lo, hi in zip(starts.tolist(), stops.tolist(), strict=True):
                runs.setdefault((lo, hi), []).append(lr)
        if len(runs) == 1:  # one rectangle: every lr over the same seeds
            (((lo, hi), lr_list),) = runs.items()
            return cls(key, ((lo, hi, tuple(lr_list)),), len(seeds))
        return cls(key, tuple((lo, hi, tuple(v)) for (lo, hi), v in runs.items()), len(seeds))


class _Spans:
    """Disjoint seed intervals of one shape and lr, sorted, each with the part
    that holds it."""

    def __init__(self):
        self.starts: list[int] = []
        self.stops: list[int] = []
        self.owners: list[str] = []

    def overlap(self, lo: int, hi: int) -> str | None:
        """The part holding a seed of [lo, hi), if any."""
        i = bisect.bisect_right(self.starts, lo) - 1
        if i >= 0 and self.stops[i] > lo:
            return self.owners[i]
        if i + 1 < len(self.starts) and self.starts[i + 1] < hi:
            return self.owners[i + 1]
        return None

    def add(self, lo: int, hi: int, owner: str) -> None:
        i = bisect.bisect_right(self.starts, lo)
        self.starts.insert(i, lo)
        self.stops.insert(i, hi)
        self.owners.insert(i, owner)


@dataclass
class Stored:
    """The trials in a folder's intact parts: rectangles by shape key, the ids
    (sorted numbers) of trials known only by id, and how many rows in all.

    Parts added with :meth:`add_part` are checked against each other: a part
    that holds a trial another part holds is :meth:`overlap`.
    """

    rectangles: dict[str, list[Rectangle]] = field(default_factory=dict)
    ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    count: int = 0
    _spans: dict[tuple[str, float], _Spans] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, done: Stored | Collection[str] | np.ndarray) -> Stored:
        """``done`` as :class:`Stored`: ids as text or numbers are trials known by id."""
        if isinstance(done, Stored):
            return done
        from ..config.ids import as_numbers

        ids = as_numbers(done) if len(done) else np.zeros(0, dtype=np.uint64)
        return cls(ids=ids, count=len(ids))

    def add(self, record: dict, rows: int) -> None:
        """Count a part recorded with ``record`` (:func:`covers`)."""
        self.add_part("", Trials.of(record, rows))

    def overlap(self, trials: Trials) -> str | None:
        """The part already added that holds one of ``trials``, if any."""
        for lo, hi, lrs in trials.rectangles:
            for lr in lrs:
                spans = self._spans.get((trials.key, lr))
                owner = spans.overlap(lo, hi) if spans is not None else None
                if owner is not None:
                    return owner
        return None

    def add_part(self, name: str, trials: Trials) -> None:
        """Count the trials of part ``name`` (which must not :meth:`overlap`)."""
        self.rectangles.setdefault(trials.key, []).extend(trials.rectangles)
        for lo, hi, lrs in trials.rectangles:
            for lr in lrs:
                self._spans.setdefault((trials.key, lr), _Spans()).add(lo, hi, name)
        self.count += trials.rows

    def _intervals(self, key: str) -> dict[float, tuple[np.ndarray, np.ndarray]]:
        by_lr: dict[float, list[tuple[int, int]]] = {}
        for lo, hi, lrs in self.rectangles.get(key, ()):
            for lr in lrs:
                by_lr.setdefault(lr, []).append((lo, hi))
        return {lr: _merged(spans) for lr, spans in by_lr.items()}

    def missing(self, block: Block) -> Iterator[Block]:
        """The trials of ``block`` not stored, as blocks (ranges stay ranges)."""
        intervals = self._intervals(shape_key(block.shape)) if self.rectangles else {}
        pieces = list(_outside(block, intervals)) if intervals else [block]
        if not len(self.ids):
            yield from pieces
            return
        from ..config.ids import among

        for piece in pieces:
            seeds, lrs = piece.take(0, len(piece))
            numbers = trial_numbers(piece.shape, seeds, lrs)
            keep = ~among(numbers, self.ids)
            yield Block(piece.shape, seeds[keep], lrs[keep], paired=True, ids=numbers[keep])


def _outside(
    block: Block, intervals: dict[float, tuple[np.ndarray, np.ndarray]]
) -> Iterator[Block]:
    """The trials of ``block`` in none of the intervals (by lr)."""
    if not block.paired and isinstance(block.seeds, range) and block.seeds.step == 1:
        # Lrs with the same gaps (all of them, when whole rows were stored)
        # stay one product per gap.
        groups: dict[tuple[range, ...], list[float]] = {}
        for lr in block.lrs.tolist():
            spans = intervals.get(lr)
            gaps = _gaps(block.seeds, *spans) if spans else [block.seeds]
            groups.setdefault(tuple(gaps), []).append(lr)
        for gaps, lrs in groups.items():
            for gap in gaps:
                yield Block(block.shape, gap, np.asarray(lrs, dtype=np.float64))
        return
    seeds, lrs = block.take(0, len(block))
    stored = np.zeros(len(seeds), dtype=bool)
    for lr, spans in intervals.items():
        these = lrs == lr
        stored[these] = _inside(seeds[these], *spans)
    yield Block(block.shape, seeds[~stored], lrs[~stored], paired=True)
