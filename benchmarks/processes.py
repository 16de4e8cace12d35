"""One benchmark run in several fresh processes, its figures pooled.

Where a process's code and data land (its stack, its heap, the generated
modules) is fixed for its whole life, and a timing can carry that placement's
luck in every repeat: repeats inside one process do not average it away
(Mytkowicz et al., "Producing wrong data without doing anything obviously
wrong!", ASPLOS 2009, found a program's environment size alone moving its
speed). Each child here gets an environment of another size, which moves its
stack, and runs the same script with ``--json``; the caller pools the
children's figures, e.g. as the median of their medians.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

#: Bytes the environment grows by from one child to the next.
PAD_STEP = 208


def in_processes(script: str | Path, argv: list[str], n: int) -> list[dict]:
    """What ``script`` prints with ``--json`` when run with ``argv`` in each of
    ``n`` processes, one after another."""
    results = []
    for i in range(n):
        env = {**os.environ, "SWEEP_BENCH_PAD": "x" * (PAD_STEP * i)}
        done = subprocess.run(
            [sys.executable, str(script), *argv, "--json"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        results.append(json.loads(done.stdout))
    return results


def median_of(results: list[dict], field: str) -> dict[str, float]:
    """Each key of ``field`` in every result, as the median over the results."""
    keys = results[0][field]
    return {key: statistics.median(result[field][key] for result in results) for key in keys}
