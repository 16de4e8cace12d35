"""ns per network-epoch of the fused kernel vs numpy, JAX and PyTorch, in one run.

    python benchmarks/kernel.py            # B = 4096, E = 10,000, H = 2, 8, 32
    python benchmarks/kernel.py --quick    # B = 1024, E = 2,000, H = 2, 8

One thread everywhere (BLAS, XLA and torch pinned before they load); each
figure is the median of ``--repeat`` timings. JAX and PyTorch rows appear
when those are installed (``pip install -e '.[bench]'``).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault(
    "XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import sys  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import jax_vmap, notebook_loop, numpy_batched, torch_batched  # noqa: E402

from kernels import get_task, init_batch, reference, tiled, train_batch  # noqa: E402
from sweep.bench import timed
from sweep.store.provenance import cpu_name

PEERS = {"jax": jax_vmap, "torch": torch_batched}


def measure(batch: int, epochs: int, widths: list[int], repeat: int) -> list[dict]:
    """Rows of (approach, width, dtype, ns per network-epoch)."""
    X, Y = get_task("xor")
    rows = []
    for width in widths:
        p64 = init_batch(np.arange(batch), 2, width, 1)
        p32 = init_batch(np.arange(batch), 2, width, 1, dtype=np.float32)
        head = {k: v[..., :4] for k, v in p64.items()}
        kernels = ["tiled", "general"] if tiled.fits(X, Y, width) else ["general"]
        cases = []
        for kernel in kernels:
            for p, exp in ((p64, "fast"), (p32, "fast"), (p64, "exact")):
                if exp == "exact" and kernel == "tiled":
                    continue  # libm's exp dominates: the same speed as the general kernel
                train_batch(
                    X, Y, {k: v[..., :8] for k, v in p.items()}, 0.1, 2, exp=exp, kernel=kernel
                )  # compiled (or loaded) outside the timing
                dtype = p["b_out"].dtype.name
                cases.append(
                    (
                        f"kernel {exp}, {kernel}",
                        dtype,
                        batch,
                        epochs,
                        partial(train_batch, X, Y, p, 0.1, epochs, exp=exp, kernel=kernel),
                    )
                )
        cases += [
            (
                "numpy batched",
                "float64",
                batch,
                epochs // 10,
                partial(numpy_batched, X, Y, p64, 0.1, epochs // 10),
            ),
            # ~0.1-0.3 s per timing: long enough to be stable, short enough to repeat.
            ("notebook loop", "float64", 4, 1000, partial(notebook_loop, X, Y, head, 0.1, 1000, 4)),
            (
                "numpy reference",
                "float64",
                4,
                1000,
                partial(reference.train_batch, X, Y, head, 0.1, 1000, 0.1, 0),
            ),
        ]
        for name, make in PEERS.items():
            if importlib.util.find_spec(name) is None:
                print(f"# {name} is not installed: its rows are skipped", file=sys.stderr)
                continue
            for dtype in (np.float64, np.float32):
                run = make(X, Y, p64, 0.1, epochs // 5, dtype)  # compiled outside the timing
                cases.append(
                    (
                        f"{name} batched" if name == "torch" else "jax jit(vmap)",
                        np.dtype(dtype).name,
                        batch,
                        epochs // 5,
                        run,
                    )
                )
        for name, dtype, networks, n_epochs, fn in cases:
            ns = timed(fn, repeat) / (networks * n_epochs) * 1e9
            rows.append({"approach": name, "width": width, "dtype": dtype, "ns": ns})
    add_ratios(rows)
    return rows


def add_ratios(rows: list[dict]) -> None:
    """x_notebook, x_reference and x_jax (same width and dtype) on every row."""

    def find(name: str, width: int, dtype: str = "float64") -> float | None:
        hits = [
            r["ns"] for r in rows if (r["approach"], r["width"], r["dtype"]) == (name, width, dtype)
        ]
        return hits[0] if hits else None

    for r in rows:
        nb, ref = find("notebook loop", r["width"]), find("numpy reference", r["width"])
        jax = find("jax jit(vmap)", r["width"], r["dtype"])
        r["x_notebook"] = nb / r["ns"] if nb else None
        r["x_reference"] = ref / r["ns"] if ref else None
        r["x_jax"] = jax / r["ns"] if jax else None


def format_rows(rows: list[dict]) -> str:
    from tabulate import tabulate

    table = [
        [
            r["approach"],
            r["width"],
            r["dtype"],
            r["ns"],
            r["x_notebook"],
            r["x_reference"],
            r["x_jax"],
        ]
        for r in rows
    ]
    return tabulate(
        table,
        headers=[
            "approach",
            "H",
            "dtype",
            "ns/net-epoch",
            "x notebook",
            "x reference",
            "x JAX (same dtype)",
        ],
        floatfmt=".1f",
        missingval="",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="B=1024, E=2000, H=2,8")
    parser.add_argument("--repeat", type=int, default=3, help="timings per figure (median)")
    parser.add_argument("--widths", help="comma-separated hidden widths (default 2,8,32)")
    args = parser.parse_args()
    batch, epochs, widths = (1024, 2000, [2, 8]) if args.quick else (4096, 10_000, [2, 8, 32])
    if args.widths:
        widths = [int(w) for w in args.widths.split(",")]
    print(f"# {cpu_name()}, 1 thread, XOR 2-H-1, B={batch}, E={epochs}, median of {args.repeat}")
    print(format_rows(measure(batch, epochs, widths, args.repeat)))


if __name__ == "__main__":
    main()
