"""What stopping a cell at a precision does to its estimate: bias and coverage, by
simulation (Bernoulli draws, no training).

A study run to a precision (``sweep run --precision``) adds seeds to a cell in
doubling rounds and stops once the 95% Wilson interval of its rate has
half-width at most the target (:mod:`sweep.runner.precision`, the same
rule, imported here). Stopping on the data is optional stopping: this
measures, for true rates p and targets h, the mean estimate minus p (bias),
how often the final interval holds p (coverage, nominally 95%), the mean
half-width reached and the seeds spent.

    python benchmarks/precision.py [--repetitions 2000] [--first 100]
"""

from __future__ import annotations

import argparse

import numpy as np

from sweep.intervals import wilson_interval
from sweep.runner.precision import Outcomes, Target, half_width, interval


def simulate(
    p: float, precision: float, repetitions: int, first: int, most: int, rng: np.random.Generator
) -> dict:
    """One (p, precision) case over ``repetitions`` independent cells."""
    target = Target(precision, "converged", 0, first, most)
    rounds = target.rounds()
    estimates, covered, halves, seeds = [], 0, [], []
    for _ in range(repetitions):
        draws = rng.random(rounds[-1]) < p
        for n in rounds:
            outcomes = Outcomes(draws[:n], draws[:n], np.full(n, np.nan))
            half = half_width("converged", outcomes)
            if half <= precision or n == rounds[-1]:
                break
        estimate, low, high = interval("converged", outcomes)
        estimates.append(estimate)
        covered += low <= p <= high
        halves.append(half)
        seeds.append(n)
    return {
        "p": p,
        "precision": precision,
        "bias": float(np.mean(estimates) - p),
        "coverage": covered / repetitions,
        "half_width": float(np.mean(halves)),
        "mean_seeds": float(np.mean(seeds)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=2000)
    parser.add_argument("--first", type=int, default=100, help="seeds in the first round")
    parser.add_argument("--max-seeds", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(
        f"# {args.repetitions} repetitions, first round {args.first} seeds, doubling, at most "
        f"{args.max_seeds:,}; the rule of sweep.runner.precision"
    )
    print(
        "| true rate | precision | bias | coverage [95% interval] | mean half-width | mean seeds |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for precision in (0.01, 0.02):
        for p in (0.01, 0.1, 0.5, 0.9):
            r = simulate(p, precision, args.repetitions, args.first, args.max_seeds, rng)
            # A coverage is itself a rate over the repetitions: its own interval.
            covered = round(r["coverage"] * args.repetitions)
            low, high = wilson_interval(covered, args.repetitions)
            print(
                f"| {p:g} | {precision:g} | {r['bias']:+.5f} | {100 * r['coverage']:.1f}% "
                f"[{100 * low:.1f}, {100 * high:.1f}] | {r['half_width']:.4f} | "
                f"{r['mean_seeds']:,.0f} |"
            )


if __name__ == "__main__":
    main()
