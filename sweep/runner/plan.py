"""Cut the trials still to run into chunks: one chunk = one kernel call.

The plan also picks each shape's kernel (:func:`kernels.choose.choose_kernel`,
from the work this run has for the shape): the generated (tiled) kernel where
compiling it pays, the general one elsewhere. Both give identical results, so
the choice is a matter of speed only.

Chunk size comes from a cost model calibrated with ``benchmarks/kernel.py``
(one core, ns per unit of work, below). A chunk aims at ``TARGET_SECONDS``
of work: long enough that joblib's per-task overhead is lost in it, short
enough for a lively progress bar, a
fair share of work between workers and little work lost to a kill.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from kernels import activations, optimizers
from kernels.choose import choose_kernel
from kernels.model import curve_length, param_shapes

from ..config import ids
from ..config.grid import (
    COMPILED_IDS_FROM,
    Block,
    Shape,
    blocks,
    recipe_of,
    shape_key,
    task_of,
    trial_ids,
)
from ..config.options import MAX_CHUNK_SIZE
from ..config.study import Study, SweepConfig
from ..store.coverage import Stored, covers

TARGET_SECONDS = 0.5
MIN_CHUNK = 64
MAX_CHUNK = MAX_CHUNK_SIZE
#: Most float64 values one chunk's rows may hold (list offsets are int32).
MAX_CHUNK_VALUES = 2**26
#: The first chunk is cut into this many pieces (an early first result).
FIRST_SPLIT = 4
#: Chunks per worker to aim for at least, so the last chunks balance out.
CHUNKS_PER_WORKER = 4

#: (dtype, exp, kernel): ns per unit, measured on XOR H = 2, 4, 8 and parity3 H = 2.
_NS_PER_UNIT = {
    ("float64", "fast", "general"): 0.30,
    ("float64", "fast", "tiled"): 0.19,
    ("float64", "exact", "general"): 0.84,
    ("float64", "exact", "tiled"): 0.85,
    ("float32", "fast", "general"): 0.13,
    ("float32", "fast", "tiled"): 0.08,
    ("float32", "exact", "general"): 0.58,
    ("float32", "exact", "tiled"): 0.48,
}
#: Cost of an epoch relative to plain batch gradient descent on the same
#: kernel, from benchmarks/recipes.py: one update per sample in order, in a
#: new order (general kernel), mini-batches of 2 in order (general kernel);
#: momentum. Mini-batches cost as much as their pass over the samples, whatever K.
_UPDATE_COST = {"batch": 1.0, "online": 2.1, "shuffled": 2.4, "ordered": 2.1}
_MOMENTUM_COST = 1.2
#: A trial's cost besides its training, single core, in ns: building its row and
#: storing it, per row and per stored float value (benchmarks/estimates.py
#: derives both from runs of 0 epochs: its "rows" table).
NS_PER_ROW = 1500.0
NS_PER_VALUE = 110.0


def values_per_trial(shape: Shape, store: str = "full") -> int:
    """Float values one trial's row holds (weights, outputs, loss curve)."""
    if store == "summary":
        return 0
    X, Y = task_of(shape)
    n_in, n_out = X.shape[1], Y.shape[1]
    params = sum(
        int(np.prod(s))
        for s in param_shapes(n_in, shape.width, n_out, shape.shortcuts, shape.width2).values()
    )
    return params + len(X) * n_out + curve_length(shape.epochs, shape.curve_every, shape.curve)


def ns_per_network_epoch(shape: Shape, kernel: str = "general") -> float:
    """Estimated single-core cost of one network for one epoch, in ns."""
    X, Y = task_of(shape)
    n_samples, n_in = X.shape
    n_out = Y.shape[1]
    width, width2 = shape.width, shape.width2
    units = n_samples * (
        width * (n_in + 3) + width2 * (2 * width + 3) + (width2 or width) * 2 * n_out + 3 * n_out
    )
    recipe = _UPDATE_COST[shape.update] * (_MOMENTUM_COST if shape.momentum > 0 else 1.0)
    optimizer = optimizers.BY_NAME[shape.optimizer]
    flushed = shape.subnormals == "flush" and optimizer.flushed_cost is not None
    recipe *= optimizer.flushed_cost if flushed else optimizer.cost
    recipe *= activations.BY_NAME[shape.activation].cost
    return _NS_PER_UNIT[(shape.dtype, shape.exp, kernel)] * units * recipe


def row_seconds(shape: Shape, store: str = "full") -> float:
    """Estimated single-core seconds to build and store one trial's row."""
    return (NS_PER_ROW + NS_PER_VALUE * values_per_trial(shape, store)) * 1e-9


def kernel_for(shape: Shape, trials: int) -> str:
    """The kernel that trains ``trials`` trials of ``shape`` in this run."""
    if shape.shortcuts or shape.width2:  # the generated kernels have one hidden layer, no more
        return "general"
    X, Y = task_of(shape)
    return choose_kernel(X, Y, shape.width, shape.exp, trials * shape.epochs, recipe_of(shape))


@dataclass(eq=False)
class Chunk:
    """Trials ``start:stop`` of a block (one shape), trained together by one kernel call.

    Its seeds and lrs are drawn from the block when first asked for (in the
    worker thread, or as the chunk is sent to a worker process) and let go
    once its rows are stored (:meth:`release`): the plan of a huge sweep holds
    ranges, not trials.
    """

    block: Block
    start: int
    stop: int
    kernel: str = "general"
    store: str = "full"  # what to keep of each trial (sweep.config.schema.STORES)
    compiled_ids: bool = False  # hash ids with sweep.config.ids (a run of many trials)

    @property
    def shape(self) -> Shape:
        return self.block.shape

    @functools.cached_property
    def _trials(self) -> tuple[np.ndarray, np.ndarray]:
        return self.block.take(self.start, self.stop)

    @property
    def seeds(self) -> np.ndarray:  # int64
        return self._trials[0]

    @property
    def lrs(self) -> np.ndarray:  # float64
        return self._trials[1]

    @property
    def known_ids(self) -> np.ndarray | None:
        """The ids (numbers), where planning needed them."""
        ids = self.block.ids
        return None if ids is None else ids[self.start : self.stop]

    @functools.cached_property
    def ids(self) -> np.ndarray:
        """Trial ids (str objects). Computed when first asked for (by the
        driver, as it stores the rows, while workers train) unless planning
        already had them: hashing a chunk's ids holds the GIL."""
        if self.known_ids is not None:
            return ids.to_text(self.known_ids)
        return trial_ids(self.shape, self.seeds, self.lrs, self.compiled_ids)

    def id_array(self) -> pa.StringArray:
        """The ids as Arrow text, for the rows (no Python strings when compiled)."""
        if self.known_ids is not None:
            return ids.to_arrow(self.known_ids)
        if self.compiled_ids:
            return ids.to_arrow(ids.id_numbers(shape_key(self.shape), self.seeds, self.lrs))
        return pa.array(self.ids.tolist(), type=pa.string())

    @property
    def covers(self) -> dict | None:
        """The chunk's trials as its part's manifest line records them (None: not a
        rectangle, then found by id; see :mod:`sweep.store.coverage`)."""
        rectangle = self.block.rectangle(self.start, self.stop)
        return None if rectangle is None else covers(shape_key(self.shape), rectangle)

    @property
    def size(self) -> int:
        return self.stop - self.start

    def release(self) -> None:
        """Drop the trials' arrays and ids once the chunk's rows are stored: the
        plan's list of chunks lives for the whole run."""
        self.__dict__.pop("ids", None)
        self.__dict__.pop("_trials", None)

    def __getstate__(self) -> dict:
        # Sent to a worker process: its own trials, not the block's.
        seeds, lrs = (
            self._trials if "_trials" in self.__dict__ else self.block.take(self.start, self.stop)
        )
        own = Block(self.shape, seeds, lrs, paired=True, ids=self.known_ids)
        state = {k: v for k, v in self.__dict__.items() if k not in ("ids", "_trials")}
        return {**state, "block": own, "start": 0, "stop": self.size}

    def parts(self, size: int) -> list[Chunk]:
        """This chunk cut into chunks of at most ``size`` trials."""
        return [
            Chunk(self.block, a, b, self.kernel, self.store, self.compiled_ids)
            for a, b in self.block.cuts(self.start, self.stop, size)
        ]

    @property
    def est_seconds(self) -> float:
        ns = ns_per_network_epoch(self.shape, self.kernel)
        return self.size * (
            (self.shape.epochs + 1) * ns * 1e-9 + row_seconds(self.shape, self.store)
        )


@dataclass(frozen=True)
class Piece:
    """Trials of one shape still to train, the kernel that will train them, and the
    size of its chunks: the plan before its chunks are made (what a dry run counts)."""

    block: Block
    kernel: str
    size: int

    @property
    def chunks(self) -> int:
        return -(-len(self.block) // self.size)

    @property
    def seconds_per_trial(self) -> float:
        shape = self.block.shape
        # Epoch k = 0 (statistics only) costs about a forward pass: count it as one.
        return (shape.epochs + 1) * ns_per_network_epoch(shape, self.kernel) * 1e-9


def pieces(
    config: SweepConfig | Study | list[Block],
    done: Stored | Collection[str] | np.ndarray = frozenset(),
    jobs: int = 1,
    chunk_size: int | None = None,
) -> list[Piece]:
    """The trials of ``config`` (or of blocks of trials) not stored already (``done``:
    see :func:`plan`), by shape, with each one's kernel and chunk size."""
    stored = Stored.of(done)
    source = config if isinstance(config, list) else blocks(config)
    todo = [piece for block in source for piece in stored.missing(block) if len(piece)]
    total = sum(len(piece) for piece in todo)
    fair = max(MIN_CHUNK, math.ceil(total / (CHUNKS_PER_WORKER * max(1, jobs))))
    out = []
    for block in todo:
        piece = Piece(block, kernel_for(block.shape, len(block)), 1)
        size = int(min(MAX_CHUNK, fair, max(MIN_CHUNK, TARGET_SECONDS / piece.seconds_per_trial)))
        most = MAX_CHUNK_VALUES // max(1, values_per_trial(block.shape))
        out.append(Piece(block, piece.kernel, chunk_size or max(1, min(size, most))))
    return out


def plan(
    config: SweepConfig | Study | list[Block],
    done: Stored | Collection[str] | np.ndarray = frozenset(),
    jobs: int = 1,
    chunk_size: int | None = None,
    store: str = "full",
) -> list[Chunk]:
    """Chunks holding every trial of ``config`` not stored already: ``done`` is what
    a folder holds (:class:`sweep.store.coverage.Stored`), or ids as text or numbers
    (:func:`sweep.config.ids.from_arrow`).

    ``chunk_size`` fixes the networks per chunk (default: from the cost
    model); ``store``: what the chunks' rows keep. Most expensive chunks come
    first, so the tail of a parallel run is short, except that the very
    first chunk is cut in pieces so the first result arrives early.
    """
    todo = pieces(config, done, jobs, chunk_size)
    compiled_ids = sum(len(p.block) for p in todo) >= COMPILED_IDS_FROM
    chunks: list[Chunk] = []
    for piece in todo:
        whole = Chunk(piece.block, 0, len(piece.block), piece.kernel, store, compiled_ids)
        chunks += whole.parts(piece.size)
    chunks.sort(key=lambda c: c.est_seconds, reverse=True)
    if chunk_size is None and chunks and chunks[0].size >= FIRST_SPLIT * MIN_CHUNK:
        # The first result arrives sooner (and shows the run is alive) when
        # the first chunk is cut into short pieces.
        first = chunks.pop(0)
        chunks = first.parts(-(-first.size // FIRST_SPLIT)) + chunks
    return chunks
