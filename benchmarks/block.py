"""Networks per cache block of the general kernel (``kernels.train.BLOCK``) and
of the generated kernel (``kernels.tile_layout.NB``), and samples per chunk
of the generated kernel whose samples run in a loop (``kernels.tiled.CHUNK``):
each kernel's time per sample-epoch at each size, on tasks from XOR to
spirals, and the sizes within 10% of each task's best on all of them.

    python benchmarks/block.py             # B = 1024 networks, E = 300 epochs
    python benchmarks/block.py --quick     # B = 256, E = 100

Batch gradient descent, logistic units, squared error, float64, fast
arithmetic, one thread. Each figure is the median of ``--repeat`` timings.
The generated kernel's block size is a constant of its source: each size
generates (and compiles) its own module.
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tasks import options, three_classes  # noqa: E402

from kernels import get_task, init_batch, tile_layout, tiled, train_batch  # noqa: E402
from kernels.train import BLOCK  # noqa: E402
from sweep.bench import timed  # noqa: E402
from sweep.store.provenance import cpu_name  # noqa: E402

SIZES = (16, 32, 64, 128, 256, 512, 1024)
TILED_SIZES = (8, 16, 32, 64, 128)
CHUNKS = (1, 2, 4, 8)
#: A block size is "near the best" on a task within this factor of its fastest
#: (about the run-to-run spread of these timings on a shared machine).
NEAR = 1.10


def _time(X, Y, width: int, batch: int, epochs: int, repeat: int, **run) -> float:
    """ns per sample-epoch per network."""
    params = init_batch(np.arange(batch), X.shape[1], width, Y.shape[1], -1.0, 1.0)
    train_batch(X, Y, params, 0.1, 2, **run)  # compiled outside the timing
    seconds = timed(lambda: train_batch(X, Y, params, 0.1, epochs, **run), repeat)
    return seconds / (batch * epochs * X.shape[0]) * 1e9


def measure(batch: int, epochs: int, repeat: int) -> dict[str, dict[int, float]]:
    """The general kernel: ns per sample-epoch per network, by task and block size."""
    tasks = {
        "xor (H = 8)": (*get_task("xor"), 8),
        "parity4 (H = 8)": (*get_task("parity4"), 8),
        "150 x 4 -> 3 (H = 8)": (*three_classes(), 8),
        "spirals (H = 16)": (*get_task("spirals"), 16),
    }
    return {
        name: {
            block: _time(X, Y, width, batch, epochs, repeat, block=block, kernel="general")
            for block in SIZES
        }
        for name, (X, Y, width) in tasks.items()
    }


def _by_constant(module, name: str, values, tasks: dict, batch: int, epochs: int, repeat: int):
    """The generated kernel's time on ``tasks`` with ``module.name`` set to each
    of ``values`` (a constant read when a source is planned), then restored."""
    default = getattr(module, name)
    out: dict[str, dict[int, float]] = {task: {} for task in tasks}
    try:
        for value in values:
            setattr(module, name, value)
            for task, (X, Y, width) in tasks.items():
                out[task][value] = _time(X, Y, width, batch, epochs, repeat, kernel="tiled")
    finally:
        setattr(module, name, default)
    return out


def measure_tiled(batch: int, epochs: int, repeat: int) -> dict[str, dict[int, float]]:
    """The generated kernel: the same, by its block size (``tile_layout.NB``, the
    default every source is written with)."""
    tasks = {
        "xor (H = 2)": (*get_task("xor"), 2),
        "xor (H = 8)": (*get_task("xor"), 8),
        "parity3 (H = 4)": (*get_task("parity3"), 4),
    }
    return _by_constant(tile_layout, "NB", TILED_SIZES, tasks, batch, epochs, repeat)


def measure_chunks(batch: int, epochs: int, repeat: int) -> dict[str, dict[int, float]]:
    """The generated kernel whose samples run in a loop: the same, by samples per
    chunk (``kernels.tiled.CHUNK``; the planner takes smaller chunks and tiles
    where a source would be too long)."""
    tasks = {
        "parity4 (H = 8)": (*get_task("parity4"), 8),
        "150 x 4 -> 3 (H = 8)": (*three_classes(), 8),
        "spirals (H = 16)": (*get_task("spirals"), 16),
    }
    return _by_constant(tiled, "CHUNK", CHUNKS, tasks, batch, epochs, repeat)


def report(times: dict[str, dict[int, float]], sizes: tuple[int, ...], constant: str) -> str:
    header = "task".ljust(22) + "".join(f"{size:>8}" for size in sizes)
    lines = [header, "-" * len(header)]
    near = set(sizes)
    for name, by_size in times.items():
        best = min(by_size.values())
        near &= {size for size, ns in by_size.items() if ns <= NEAR * best}
        lines.append(name.ljust(22) + "".join(f"{by_size[s]:>8.1f}" for s in sizes))
    lines.append(f"within {NEAR:.2f}x of the best on every task: {sorted(near) or 'none'}")
    lines.append(constant)
    return "\n".join(lines)


def main() -> None:
    batch, epochs, repeat = options(__doc__.splitlines()[0])
    print(f"CPU: {cpu_name()}; B = {batch}, E = {epochs}, float64, fast, one thread")
    print("ns per sample-epoch per network, by networks per block; the general kernel:")
    print(report(measure(batch, epochs, repeat), SIZES, f"kernels.train.BLOCK = {BLOCK}"))
    print("\nthe generated kernel:")
    constant = f"kernels.tile_layout.NB = {tile_layout.NB}"
    print(report(measure_tiled(batch, epochs, repeat), TILED_SIZES, constant))
    print("\nthe generated kernel with its samples in a loop, by samples per chunk:")
    constant = f"kernels.tiled.CHUNK = {tiled.CHUNK}"
    print(report(measure_chunks(batch, epochs, repeat), CHUNKS, constant))


if __name__ == "__main__":
    main()
