"""Optimisers: ns per network-epoch against plain gradient descent, measured in one run.

    python benchmarks/optimizers.py [--batch 4096] [--epochs 500] [--repeat 5]
    python benchmarks/optimizers.py --no-jax --processes 7   # pooled over 7 processes

XOR 2-H-1 at H = 2 and 8, fast exp, float64, one thread, each optimiser on
the kernel a sweep of long trials picks for it (the generated one), and gd
on the general kernel too. Every round times
each case once, interleaved, so all see the same machine load; figures are
medians over ``--repeat`` rounds; JAX ``jit(vmap)`` of the same update
rules (benchmarks/peers.py, without the statistics the kernels keep) is
timed in the same rounds. The goals (issue "classic optimisers"): each
optimiser within 1.6x of plain GD, and at least 3x JAX's speed (``x jax``:
JAX's time over ours). ``--no-jax`` leaves JAX out.

The optimisers that step by sign (Rprop, iRprop-, Quickprop's jumps) drive
weights large within tens of epochs; saturated units then backpropagate
subnormal numbers, which x86 handles in slow microcode. Each case is also
timed with the recipe's ``subnormals="flush"`` (``flushed``: subnormals count
as zero, which changes results; kernels/subnormals.py) to show what that
arithmetic costs.

``est x gd`` is what the optimiser's update alone adds to GD's epoch
(benchmarks/update_floor.py: the kernels' update code timed by itself, data
in L1): the ratio an optimiser reaches when the rest of its epoch is GD's.
``over`` is how far its flushed time (the estimate has no subnormals) is
above that estimate (goal, issue "one entry per part": within 10% at H = 8).

Both the update's time and the epoch's move with where a process's code and
data land, and by more than repeats within it spread (benchmarks/processes.py).
``--processes N`` measures in N fresh processes, one after another, and gives
the median of their medians, with each process's ``over`` beside it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import time

import kernel  # noqa: F401  (pins one thread for BLAS and XLA before numpy loads)
from peers import jax_optimizer
from processes import in_processes, median_of
from update_floor import floor, update_timer

from kernels import get_task, init_batch, train_batch
from kernels.choose import choose_kernel
from kernels.recipe import Recipe
from sweep.store.provenance import cpu_name

OPTIMIZERS = {
    "gd": Recipe(),
    "gd, momentum 0.9": Recipe(momentum=0.9),
    "nesterov 0.9": Recipe(optimizer="nesterov", momentum=0.9),
    "adam": Recipe(optimizer="adam"),
    "rprop": Recipe(optimizer="rprop"),
    "irprop-": Recipe(optimizer="irprop-"),
    "quickprop": Recipe(optimizer="quickprop"),
    "rmsprop": Recipe(optimizer="rmsprop"),
    "adagrad": Recipe(optimizer="adagrad"),
    "delta-bar-delta": Recipe(optimizer="delta-bar-delta"),
}


def _label(name: str, h: int) -> str:
    return f"{name}|{h}"


def measure(args: argparse.Namespace) -> dict:
    """This process's medians, in ns per network-epoch (``update``: per network
    and update), by :func:`_label` of optimiser and width."""
    X, Y = get_task("xor")
    cases = {(name, h): recipe for h in (2, 8) for name, recipe in OPTIMIZERS.items()}
    params = {h: init_batch(range(args.batch), 2, h, 1, -1.0, 1.0) for h in (2, 8)}

    # The kernel a sweep of 10,000-epoch trials would pick; and gd on the
    # general kernel too, the same kernel as the optimisers it lacks.
    work = args.batch * 10_000
    kernels = {
        (name, h): choose_kernel(X, Y, h, "fast", work, recipe)
        for (name, h), recipe in cases.items()
    }
    for h in (2, 8):
        cases[("gd (general)", h)] = OPTIMIZERS["gd"]
        kernels[("gd (general)", h)] = "general"

    def run(name: str, h: int, epochs: int, subnormals: str = "keep") -> None:
        recipe = dataclasses.replace(cases[(name, h)], subnormals=subnormals)
        train_batch(
            X, Y, params[h], 0.1, epochs, curve_every=0, kernel=kernels[(name, h)], recipe=recipe
        )

    for key in cases:  # compiles, untimed
        run(*key, 1)
    jax = (
        {}
        if args.no_jax
        else {  # compiled as they are built
            key: jax_optimizer(X, Y, params[key[1]], 0.1, args.epochs, recipe)
            for key, recipe in cases.items()
            if key[0] != "gd (general)"
        }
    )
    # The update alone, per optimiser and width (in L1: 64 networks), timed in
    # the same rounds.
    update_timers = {
        key: update_timer(recipe, key[1], batch=64, reps=50_000)
        for key, recipe in cases.items()
        if key[0] != "gd (general)"
    }
    updates: dict[tuple[str, int], list[float]] = {key: [] for key in update_timers}
    times: dict[tuple[str, int], list[float]] = {key: [] for key in cases}
    flushed: dict[tuple[str, int], list[float]] = {key: [] for key in cases}
    jax_times: dict[tuple[str, int], list[float]] = {key: [] for key in jax}
    for _ in range(args.repeat):
        for key in cases:
            t0 = time.perf_counter()
            run(*key, args.epochs)
            times[key].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            run(*key, args.epochs, "flush")
            flushed[key].append(time.perf_counter() - t0)
            if key in jax:
                t0 = time.perf_counter()
                jax[key]()
                jax_times[key].append(time.perf_counter() - t0)
            if key in update_timers:
                updates[key].append(update_timers[key]())
    per_net_epoch = 1e9 / (args.batch * args.epochs)

    def medians(measured: dict, scale: float = per_net_epoch) -> dict[str, float]:
        return {_label(*key): statistics.median(v) * scale for key, v in measured.items()}

    return {
        "cpu": cpu_name(),
        "kernels": {_label(*key): chosen for key, chosen in kernels.items()},
        "times": medians(times),
        "flushed": medians(flushed),
        "jax": medians(jax_times),
        "update": medians(updates, 1.0),
    }


def estimate(result: dict, name: str, h: int) -> float | None:
    """The optimiser's update-floor estimate, x GD (None where it has none)."""
    updates, gd = result["update"], _label("gd", h)
    if _label(name, h) not in updates:
        return None
    return floor(result["times"][gd], updates[gd], updates[_label(name, h)])


def over(result: dict, name: str, h: int) -> float | None:
    """How far the optimiser's flushed epoch is above its update-floor estimate
    (None where it has none)."""
    floor_ratio, flushed = estimate(result, name, h), result["flushed"]
    if floor_ratio is None:
        return None
    return flushed[_label(name, h)] / flushed[_label("gd", h)] / floor_ratio - 1


def show(args: argparse.Namespace, results: list[dict]) -> None:
    """The table: each figure the median over ``results`` (one per process),
    ``over`` with its range over the processes when there are several."""
    pooled = {
        "kernels": results[0]["kernels"],
        **{field: median_of(results, field) for field in ("times", "flushed", "jax", "update")},
    }
    processes = f", medians of {len(results)} processes' medians" if len(results) > 1 else ""
    print(
        f"# {results[0]['cpu']}, 1 thread, XOR 2-H-1, float64, fast exp, B = {args.batch}, "
        f"E = {args.epochs}, medians of {args.repeat}{processes}"
    )
    spread = f" {'over in each process':>24}" if len(results) > 1 else ""
    print(
        f"{'optimizer':>18} {'H':>2} {'kernel':>8} {'ns/net-epoch':>13} {'x gd':>6} "
        f"{'x gd general':>13} {'jax ns':>8} {'x jax':>6} "
        f"{'flushed ns':>11} {'x gd':>6} {'update ns':>10} {'est x gd':>9} {'over':>6}{spread}"
    )
    times, flushed, jax, updates = (pooled[f] for f in ("times", "flushed", "jax", "update"))
    for key in sorted(times, key=lambda label: int(label.split("|")[1])):
        name, h = key.split("|")[0], int(key.split("|")[1])
        mine, flushed_mine = times[key], flushed[key]
        theirs = f"{jax[key]:>8.1f} {jax[key] / mine:>6.2f}" if key in jax else f"{'-':>8} {'-':>6}"
        flushed_ratio = flushed_mine / flushed[_label("gd", h)]
        floor_columns = f"{'-':>10} {'-':>9} {'-':>6}"
        each = ""
        if key in updates:
            floor_ratio = estimate(pooled, name, h)
            floor_columns = (
                f"{updates[key]:>10.1f} {floor_ratio:>9.2f} {over(pooled, name, h):>+6.0%}"
            )
            if len(results) > 1:
                each = " " + " ".join(f"{over(r, name, h):+.0%}" for r in results)
        print(
            f"{name:>18} {h:>2} {pooled['kernels'][key]:>8} {mine:>13.1f} "
            f"{mine / times[_label('gd', h)]:>6.2f} "
            f"{mine / times[_label('gd (general)', h)]:>13.2f} "
            f"{theirs} {flushed_mine:>11.1f} {flushed_ratio:>6.2f} {floor_columns}{each}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4096, help="networks per run")
    parser.add_argument("--epochs", type=int, default=500, help="epochs per timed run")
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds per process")
    parser.add_argument("--no-jax", action="store_true", help="leave JAX out")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="measure in this many fresh processes and pool their medians",
    )
    parser.add_argument("--json", action="store_true", help="print this process's medians")
    args = parser.parse_args()
    if args.json or args.processes == 1:
        result = measure(args)
        if args.json:
            print(json.dumps(result))
        else:
            show(args, [result])
        return
    argv = [f"--batch={args.batch}", f"--epochs={args.epochs}", f"--repeat={args.repeat}"]
    show(args, in_processes(__file__, argv + ["--no-jax"] * args.no_jax, args.processes))


if __name__ == "__main__":
    main()
