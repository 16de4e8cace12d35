"""Whether two trees train the default recipe with the same machine code.

    python benchmarks/same_code.py --previous HEAD~1

A speed ratio against another commit is only as sure as the machine is quiet:
two trees with the same kernels measured 0.85-1.07x apart on a shared
machine (benchmarks/history/2026-12-08T0000Z-recipes-a-a-noise.txt). Where
both trees compile the default recipe's generated kernel (XOR 2-H-1, float64,
fast exp) to the same instructions, they train at the same speed by
construction, whatever a timing says. This prints, for H = 2, 8 and 32,
whether they do; ``benchmarks/recipes.py --previous`` says it beside its
ratios. Each tree compiles afresh in a process of its own (Numba cannot show
the instructions of code it loaded from its cache).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDTHS = (2, 8, 32)

#: Run in a tree: a digest of the instructions of each width's generated kernel,
#: with labels and symbol names (which hold module names and counters) blanked.
_DIGESTS = """
import hashlib, json, re, sys
import numpy as np
from kernels import get_task, init_batch, train_batch
X, Y = get_task("xor")
digests = {}
for width in json.loads(sys.argv[1]):
    before = {name for name in sys.modules if name.startswith("tinynet_tiled_")}
    train_batch(X, Y, init_batch(np.arange(8), 2, width, 1), 0.1, 2, kernel="tiled")
    new = [m for n, m in sys.modules.items() if n.startswith("tinynet_tiled_") and n not in before]
    if len(new) != 1:
        continue
    asm = "".join(text for _, text in sorted(new[0].train_fast.inspect_asm().items(), key=str))
    asm = re.sub(r"\\.L\\w+|_ZN[\\w$]+|tinynet_tiled_\\w+", "_", asm)
    digests[width] = hashlib.sha256(asm.encode()).hexdigest()[:16]
print(json.dumps(digests))
"""


def machine_code(folder: Path, widths: tuple[int, ...] = WIDTHS) -> dict[int, str]:
    """A digest of the instructions the tree in ``folder`` trains the default
    recipe with, by width (a width whose kernel the tree does not generate so
    is left out)."""
    with tempfile.TemporaryDirectory(prefix="sweep-same-code-") as scratch:
        env = {
            **os.environ,
            "PYTHONPATH": str(folder),
            "PYTHONSAFEPATH": "1",
            "NUMBA_CACHE_DIR": str(Path(scratch) / "numba"),
            "SWEEP_KERNEL_CACHE": scratch,
        }
        done = subprocess.run(
            [sys.executable, "-c", _DIGESTS, json.dumps(list(widths))],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    return {int(width): digest for width, digest in json.loads(done.stdout).items()}


def same_code(here: dict[int, str], there: dict[int, str]) -> set[int]:
    """The widths both trees train with the same instructions."""
    return {width for width, digest in here.items() if there.get(width) == digest}


def add_worktree(ref: str) -> Path:
    """A temporary git worktree of ``ref`` (remove it with :func:`remove_worktree`)."""
    folder = Path(tempfile.mkdtemp(prefix="sweep-baseline-"))
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(folder), ref],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return folder


def remove_worktree(folder: Path) -> None:
    subprocess.run(
        ["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT, capture_output=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--previous", default="HEAD~1", help="git ref to compare with")
    args = parser.parse_args()
    there = add_worktree(args.previous)
    try:
        theirs = machine_code(there)
    finally:
        remove_worktree(there)
    ours = machine_code(ROOT)
    same = same_code(ours, theirs)
    for width in WIDTHS:
        if width in same:
            verdict = f"the same machine code as {args.previous}"
        elif width in ours and width in theirs:
            verdict = f"other machine code than {args.previous}"
        else:
            verdict = (
                f"no generated kernel in {'this tree' if width not in ours else args.previous}"
            )
        print(f"plain GD, H = {width}: {verdict}")


if __name__ == "__main__":
    main()
