"""Users' own tasks: the kernel against JAX ``jit(vmap)`` and ``torch.func.vmap``
on tasks larger than the truth tables, and the cost of a sample-epoch against XOR's.

    python benchmarks/tasks.py             # B = 1024 networks, E = 300 epochs
    python benchmarks/tasks.py --quick     # B = 256, E = 100

Batch gradient descent, logistic units, squared error, float64, one thread
everywhere; every approach trains the same networks from the same weights
(their final output weights are compared). Tasks: ``spirals`` (194 x 2, H =
16), a 150 x 4 -> 3 classification task of random data (H = 8), and XOR at
the same widths. The kernel is the one a sweep of each shape runs once its
work repays compiling (the generated one wherever it fits), and the general
kernel beside it. Each figure is the median of ``--repeat`` timings.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import jax_vmap, torch_vmap  # noqa: E402

from kernels import get_task, init_batch, tiled, train_batch  # noqa: E402
from sweep.bench import timed  # noqa: E402
from sweep.store.provenance import cpu_name  # noqa: E402

#: Small enough that no trajectory is chaotic over the epochs timed: the approaches'
#: rounding differences stay at rounding, so their weights can be compared.
LR = 0.01
PEERS = {"jax jit(vmap)": ("jax", jax_vmap), "torch.func.vmap": ("torch", torch_vmap)}


def three_classes() -> tuple[np.ndarray, np.ndarray]:
    """150 samples of 4 normal inputs, one of 3 classes each (one-hot): the size of
    Fisher's iris, from a fixed generator."""
    rng = np.random.default_rng(150)
    X = rng.normal(size=(150, 4))
    labels = np.argmax(X @ rng.normal(size=(4, 3)), axis=1)
    return X, np.eye(3)[labels]


def measure(batch: int, epochs: int, repeat: int) -> list[dict]:
    """One row per (task, approach): ns per network-epoch and per sample-epoch."""
    tasks = {
        "spirals": (*get_task("spirals"), 16),
        "150 x 4 -> 3": (*three_classes(), 8),
        "xor (H = 16)": (*get_task("xor"), 16),
        "xor (H = 8)": (*get_task("xor"), 8),
    }
    rows = []
    for task, (X, Y, width) in tasks.items():
        params = init_batch(np.arange(batch), X.shape[1], width, Y.shape[1], -0.5, 0.5)
        head = {k: v[..., :8] for k, v in params.items()}
        # The kernel a sweep of this shape runs once its work repays compiling
        # (kernels.choose): the generated one wherever it fits.
        chosen = "tiled" if tiled.fits(X, Y, width) else "general"
        kernels = {f"kernel ({chosen})": chosen, "kernel (general)": "general"}
        cases = {}
        for name, kind in kernels.items():
            train_batch(X, Y, head, 0.1, 2, kernel=kind)  # compiled outside the timing
            cases[name] = lambda X=X, Y=Y, p=params, k=kind: train_batch(
                X, Y, p, LR, epochs, kernel=k
            )
        kernel = train_batch(X, Y, params, LR, epochs, kernel=chosen)
        for name, (module, make) in PEERS.items():
            if importlib.util.find_spec(module) is None:
                print(f"# {module} is not installed: its rows are skipped", file=sys.stderr)
                continue
            run = make(X, Y, params, LR, epochs)
            np.testing.assert_allclose(run(), kernel.w_out, rtol=1e-6, atol=1e-9)
            cases[name] = run
        for i, (name, fn) in enumerate(cases.items()):
            ns = timed(fn, repeat) / (batch * epochs) * 1e9
            rows.append(
                {
                    "task": task,
                    "approach": name,
                    "ns": ns,
                    "per_sample": ns / len(X),
                    "first": i == 0,
                }
            )
    return rows


def report(rows: list[dict]) -> str:
    from tabulate import tabulate

    kernel = {r["task"]: r for r in rows if r["first"]}  # the kernel a sweep runs
    table = [
        [r["task"], r["approach"], r["ns"], r["per_sample"], r["ns"] / kernel[r["task"]]["ns"]]
        for r in rows
    ]
    lines = [
        tabulate(
            table,
            headers=["task", "approach", "ns/network-epoch", "ns/sample-epoch", "x kernel"],
            floatfmt=".3g",
        )
    ]
    for task, xor in (("spirals", "xor (H = 16)"), ("150 x 4 -> 3", "xor (H = 8)")):
        ratio = kernel[task]["per_sample"] / kernel[xor]["per_sample"]
        lines.append(f"{task}: a sample-epoch costs {ratio:.2f}x XOR's at the same width")
    return "\n".join(lines)


def options(description: str) -> tuple[int, int, int]:
    """(networks, epochs, repeats) from the command line (``--quick``, ``--repeat``)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    batch, epochs = (256, 100) if args.quick else (1024, 300)
    return batch, epochs, args.repeat


def main() -> None:
    batch, epochs, repeat = options(__doc__.splitlines()[0])
    print(f"CPU: {cpu_name()}; B = {batch}, E = {epochs}, float64, one thread")
    print(report(measure(batch, epochs, repeat)))


if __name__ == "__main__":
    main()
