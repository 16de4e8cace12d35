"""Optimisers: ns per network-epoch against plain gradient descent, measured in one run.

    python benchmarks/optimizers.py [--batch 4096] [--epochs 500] [--repeat 5]

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
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import kernel  # noqa: F401  (pins one thread for BLAS and XLA before numpy loads)
from peers import jax_optimizer
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--epochs", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-jax", action="store_true", help="leave JAX out")
    args = parser.parse_args()
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
    update_times: dict[tuple[str, int], list[float]] = {key: [] for key in update_timers}
    times: dict[tuple[str, int], list[float]] = {key: [] for key in cases}
    flushed_times: dict[tuple[str, int], list[float]] = {key: [] for key in cases}
    jax_times: dict[tuple[str, int], list[float]] = {key: [] for key in jax}
    for _ in range(args.repeat):
        for key in cases:
            t0 = time.perf_counter()
            run(*key, args.epochs)
            times[key].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            run(*key, args.epochs, "flush")
            flushed_times[key].append(time.perf_counter() - t0)
            if key in jax:
                t0 = time.perf_counter()
                jax[key]()
                jax_times[key].append(time.perf_counter() - t0)
            if key in update_timers:
                update_times[key].append(update_timers[key]())
    print(
        f"# {cpu_name()}, 1 thread, XOR 2-H-1, float64, fast exp, B = {args.batch}, "
        f"E = {args.epochs}, medians of {args.repeat}"
    )
    print(
        f"{'optimizer':>18} {'H':>2} {'kernel':>8} {'ns/net-epoch':>13} {'x gd':>6} "
        f"{'x gd general':>13} {'jax ns':>8} {'x jax':>6} "
        f"{'flushed ns':>11} {'x gd':>6} {'update ns':>10} {'est x gd':>9} {'over':>6}"
    )

    def ns(key: tuple[str, int], measured=times) -> float:
        return statistics.median(measured[key]) / (args.batch * args.epochs) * 1e9

    updates = {key: statistics.median(values) for key, values in update_times.items()}

    def alone(name: str, h: int, flushed_ratio: float) -> str:
        if (name, h) not in updates:
            return f"{'-':>10} {'-':>9} {'-':>6}"
        estimate = floor(ns(("gd", h)), updates[("gd", h)], updates[(name, h)])
        over = f"{flushed_ratio / estimate - 1:+.0%}"
        return f"{updates[(name, h)]:>10.1f} {estimate:>9.2f} {over:>6}"

    for name, h in sorted(times, key=lambda key: key[1]):
        mine, flushed_mine = ns((name, h)), ns((name, h), flushed_times)
        theirs = (
            f"{ns((name, h), jax_times):>8.1f} {ns((name, h), jax_times) / mine:>6.2f}"
            if (name, h) in jax
            else f"{'-':>8} {'-':>6}"
        )
        flushed_ratio = flushed_mine / ns(("gd", h), flushed_times)
        print(
            f"{name:>18} {h:>2} {kernels[(name, h)]:>8} {mine:>13.1f} "
            f"{mine / ns(('gd', h)):>6.2f} {mine / ns(('gd (general)', h)):>13.2f} "
            f"{theirs} {flushed_mine:>11.1f} "
            f"{flushed_ratio:>6.2f} {alone(name, h, flushed_ratio)}"
        )


if __name__ == "__main__":
    main()
