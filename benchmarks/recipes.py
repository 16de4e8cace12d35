"""Training recipes: ns per network-epoch against plain GD, the previous release and JAX.

    python benchmarks/recipes.py             # B = 4,096 networks, E = 2,000 epochs
    python benchmarks/recipes.py --quick     # B = 1,024, E = 500
    python benchmarks/recipes.py --previous HEAD~1   # and every recipe in that commit's tree
                                                     # (and whether its code is this tree's)

XOR 2-H-1, the generated (tiled) kernel, fast exp, float64, one thread. Every
round times each case once, interleaved, so all see the same machine load;
the kernels of this tree and of the release before the training recipes
(``--baseline``, a temporary git worktree) each run in a worker process of
their own, pinned with this one (JAX) to the same CPU. Figures are medians
over ``--repeat`` rounds. Goals (issue "Training recipes"): the default
recipe within 3% of the release at H = 2, 8 and 32; at H = 8 momentum <=
1.25x plain GD, online updates <= 1.6x, tanh <= 1.15x; momentum and online
updates >= 3x JAX ``jit(vmap)`` running the same recipe.

Online updates make one update per sample, four an XOR epoch, and each
sample after the first is run forward again at the new weights. Printed
beside their ratio: GD's epoch plus three more of GD's updates
(benchmarks/update_floor.py), a lower bound that leaves the forward passes out.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import kernel  # noqa: F401  (pins one thread for BLAS and XLA before numpy loads)
import numpy as np
from peers import jax_vmap
from same_code import add_worktree, machine_code, remove_worktree, same_code
from update_floor import update_ns

from kernels import get_task, init_batch
from kernels.recipe import Recipe
from sweep.store.provenance import cpu_name

ROOT = Path(__file__).resolve().parent.parent
#: The last commit before the training recipes (release 0.1.0).
BASELINE = "00ffb25"
RECIPES = {
    "plain GD": Recipe(),
    "momentum 0.9": Recipe(momentum=0.9),
    "online": Recipe(update="online"),
    "tanh hidden": Recipe(activation="tanh"),
    "shuffled (general kernel)": Recipe(update="shuffled"),
    "mini-batches of 2 (general kernel)": Recipe(update="ordered", batch_size=2),
    "arctan hidden": Recipe(activation="arctan"),
    "elliott hidden": Recipe(activation="elliott"),
    "symmetric, atanh error": Recipe(
        activation="symmetric", output_activation="symmetric", loss="atanh", targets=(-0.5, 0.5)
    ),
}
#: What a worker process runs, in its tree: one timing per request (a recipe as
#: the keyword arguments of Recipe off their defaults, {} for the notebook's: the
#: release has no Recipe).
_WORKER = """
import json, os, sys, time
import numpy as np
from kernels import get_task, init_batch, train_batch
os.sched_setaffinity(0, {int(sys.argv[1])})
X, Y = get_task("xor")
for line in sys.stdin:
    width, batch, epochs, fields = line.split(" ", 3)
    width, batch, epochs, fields = int(width), int(batch), int(epochs), json.loads(fields)
    run, seeds = dict(kernel="tiled"), {}
    if fields:
        from kernels.recipe import Recipe
        recipe = Recipe(**{k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()})
        general = recipe.update in ("shuffled", "ordered")
        run = dict(recipe=recipe, kernel="general" if general else "tiled")
        seeds = dict(seeds=np.arange(batch))
    p = init_batch(np.arange(batch), 2, width, 1)
    head = {k: v[..., :8] for k, v in p.items()}
    train_batch(X, Y, head, 0.1, 2, **run, **{k: v[:8] for k, v in seeds.items()})  # compiled
    t = time.perf_counter()
    train_batch(X, Y, p, 0.1, epochs, **run, **seeds)
    print((time.perf_counter() - t) / (batch * epochs) * 1e9, flush=True)
"""


class Worker:
    """The kernels of one tree (this one, or a git worktree of ``ref``), timed in a
    process of their own pinned to ``cpu``."""

    def __init__(self, cpu: int, ref: str | None = None):
        self.ref, self.folder = ref, ROOT
        env = {**os.environ, "PYTHONSAFEPATH": "1"}
        if ref is not None:
            self.folder = add_worktree(ref)
            env["SWEEP_KERNEL_CACHE"] = str(self.folder / ".kernels")
        env["PYTHONPATH"] = str(self.folder)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(cpu)],
            cwd=self.folder,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def knows(self, recipe: Recipe) -> bool:
        """Whether this tree's recipes have every part ``recipe`` names."""
        names = (recipe.activation, recipe.output_activation, recipe.loss)
        script = (
            "import sys; from kernels import recipe as r; names = set(r.ACTIVATIONS) | "
            f"set(r.LOSSES); sys.exit(0 if {set(names)!r} <= names else 1)"
        )
        env = {**os.environ, "PYTHONPATH": str(self.folder), "PYTHONSAFEPATH": "1"}
        return subprocess.run([sys.executable, "-c", script], env=env).returncode == 0

    def ns(self, width: int, batch: int, epochs: int, recipe: Recipe) -> float:
        default = dataclasses.asdict(Recipe())  # only what differs: an older tree has fewer
        fields = {k: v for k, v in dataclasses.asdict(recipe).items() if v != default[k]}
        self.proc.stdin.write(f"{width} {batch} {epochs} {json.dumps(fields)}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the worker of {self.folder} stopped")
        return float(line)

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()
        if self.ref is not None:
            remove_worktree(self.folder)


def jax_case(width: int, batch: int, epochs: int, recipe: Recipe):
    """A callable that runs JAX's ``jit(vmap)`` of the recipe and returns ns per
    network-epoch (compiled first)."""
    X, Y = get_task("xor")
    params = init_batch(np.arange(batch), 2, width, 1)
    fn = jax_vmap(
        X,
        Y,
        params,
        0.1,
        epochs,
        momentum=recipe.momentum,
        online=recipe.update == "online",
        tanh=recipe.activation == "tanh",
    )

    def timed() -> float:
        t = time.perf_counter()
        fn()
        return (time.perf_counter() - t) / (batch * epochs) * 1e9

    return timed


def measure(
    batch: int, epochs: int, rounds: int, baseline: str | None, previous: str | None = None
) -> list[dict]:
    """Rows of (approach, recipe, width, median ns per network-epoch)."""
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    here = Worker(cpu)
    before = Worker(cpu, baseline) if baseline else None
    last = Worker(cpu, previous) if previous else None
    try:
        cases = {}
        if last is not None:  # every recipe its tree knows, in the same rounds
            for name, recipe in RECIPES.items():
                for width in (2, 8, 32) if name == "plain GD" else (8,):
                    if last.knows(recipe):
                        cases[("previous", name, width)] = functools.partial(
                            last.ns, width, batch, epochs, recipe
                        )
        for width in (2, 8, 32):
            for worker, label in ((here, "kernel"), (before, "release 0.1.0")):
                if worker is not None:
                    cases[(label, "plain GD", width)] = functools.partial(
                        worker.ns, width, batch, epochs, Recipe()
                    )
        for name, recipe in RECIPES.items():
            if name != "plain GD":
                cases[("kernel", name, 8)] = functools.partial(here.ns, 8, batch, epochs, recipe)
        try:
            for name in ("plain GD", "momentum 0.9", "online"):
                # JAX's cost per network falls with the batch: give it the same one.
                cases[("jax jit(vmap)", name, 8)] = jax_case(8, batch, epochs, RECIPES[name])
        except ImportError:
            print(
                "# jax is not installed: its rows are skipped (pip install '.[bench]')",
                file=sys.stderr,
            )
        for timed in cases.values():
            timed()  # compiled, and caches warm, outside the timings
        times: dict = {key: [] for key in cases}
        for _ in range(rounds):
            for key, timed in cases.items():
                times[key].append(timed())
        same = same_code(machine_code(ROOT), machine_code(last.folder)) if last else set()
    finally:
        for worker in (here, before, last):
            if worker is not None:
                worker.close()
    return [
        {
            "approach": a,
            "recipe": r,
            "width": w,
            "ns": statistics.median(t),
            "same_code": a == "previous" and r == "plain GD" and w in same,
        }
        for (a, r, w), t in times.items()
    ]


def ratios(rows: list[dict], update_gd: float | None = None) -> list[str]:
    """The goals' ratios, each computed from figures of this one run (``update_gd``:
    GD's update alone at H = 8, ns per network, for the online update's floor)."""

    def ns(approach: str, recipe: str, width: int) -> float | None:
        hits = [
            r["ns"]
            for r in rows
            if (r["approach"], r["recipe"], r["width"]) == (approach, recipe, width)
        ]
        return hits[0] if hits else None

    out = []
    for width in (2, 8, 32):
        now, then = ns("kernel", "plain GD", width), ns("release 0.1.0", "plain GD", width)
        if then:
            out.append(f"plain GD, H = {width}: {now / then:.3f}x the release (goal <= 1.03)")
    for name in RECIPES:
        for width in (2, 8, 32):
            then = ns("previous", name, width)
            if then:
                goal = " (goal <= 1.03)" if name == "plain GD" else ""
                if any(r["same_code"] and r["width"] == width for r in rows if name == "plain GD"):
                    goal = " (goal <= 1.03; the same machine code: the ratio is noise)"
                ratio = ns("kernel", name, width) / then
                out.append(f"{name}, H = {width}: {ratio:.3f}x the previous commit{goal}")
    base = ns("kernel", "plain GD", 8)
    goals = {"momentum 0.9": 1.25, "online": 1.6, "tanh hidden": 1.15}
    for name in RECIPES:
        if name != "plain GD":
            notes = [f"goal <= {goals[name]}"] if name in goals else []
            if name == "online" and update_gd:
                updates = get_task("xor")[0].shape[0]  # one per sample
                floor = 1 + (updates - 1) * update_gd / base
                notes.append(f"with {updates - 1} more updates {floor:.2f}x, a lower bound")
            goal = f" ({'; '.join(notes)})" if notes else ""
            out.append(f"{name}, H = 8: {ns('kernel', name, 8) / base:.2f}x plain GD{goal}")
    for name in ("plain GD", "momentum 0.9", "online"):
        jax = ns("jax jit(vmap)", name, 8)
        if jax:
            goal = " (goal >= 3)" if name != "plain GD" else ""
            out.append(f"{name}, H = 8: JAX / kernel = {jax / ns('kernel', name, 8):.2f}x{goal}")
    return out


def format_rows(rows: list[dict]) -> str:
    from tabulate import tabulate

    table = [[r["approach"], r["recipe"], r["width"], r["ns"]] for r in rows]
    return tabulate(table, headers=["approach", "recipe", "H", "ns/net-epoch"], floatfmt=".1f")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="B = 1,024, E = 500")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (figures are medians)")
    parser.add_argument(
        "--baseline",
        default=BASELINE,
        help=f"git ref of the release to compare with (default {BASELINE}; 'none' to skip)",
    )
    parser.add_argument(
        "--previous",
        help="git ref of a commit to time every recipe it has against (e.g. HEAD~1)",
    )
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args()
    batch, epochs = (1024, 500) if args.quick else (4096, 2000)
    print(
        f"# {cpu_name()}, 1 thread, XOR 2-H-1, float64, fast exp, B = {batch}, "
        f"E = {epochs}, median of {args.repeat} interleaved rounds"
    )
    baseline = None if args.baseline == "none" else args.baseline
    rows = measure(batch, epochs, args.repeat, baseline, args.previous)
    print(format_rows(rows))
    for line in ratios(rows, update_ns(Recipe(), 8)):
        print(line)
    if args.json:
        args.json.write_text(json.dumps({"cpu": cpu_name(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
