"""Where the test suite's time goes, cold: compiling against everything else.

    python benchmarks/suite.py                  # the whole suite, as CI runs it
    python benchmarks/suite.py tests/test_tiled.py -n 0

Runs pytest (this tree's settings, with any arguments given) with empty
Numba and kernel caches and the plugin benchmarks/suite_log.py, then
prints: the run's wall and CPU time; every function Numba compiled at the
top level (kernels, with the pieces they compile counted in) and whether any
was compiled twice (two workers each paying for it); the tests' own CPU
besides compiling, their subprocesses' and the workers' start and
collection; and the floor these put under the wall time on the run's
workers, however the tests are scheduled: CPU-seconds over workers. The
install that CI does before the suite is not included.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from sweep.store.provenance import cpu_name

ROOT = Path(__file__).resolve().parent.parent


def kind(name: str) -> str:
    """What a compiled function is: a general or generated kernel, or other code."""
    if name.endswith("train_block"):
        return "general kernels"
    if name.startswith("tinynet_tiled"):
        return "generated kernels"
    return "other functions"


def summarise(records: list[dict], workers: int) -> dict:
    """The run's CPU by what it was spent on, from the plugin's records."""
    stopped = [r for r in records if r["kind"] == "compile" and r.get("failed")]
    compiles = [r for r in records if r["kind"] == "compile" and not r.get("failed")]
    tests = [r for r in records if r["kind"] == "test"]
    by_kind: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    per_file: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    again = [0, 0.0]
    where: dict[str, list[str]] = defaultdict(list)
    for r in compiles:
        where[r["key"]].append(f"{r['name']} in {r['test']}")
        if len(where[r["key"]]) > 1:
            again[0] += 1
            again[1] += r["cpu"]
        by_kind[kind(r["name"])][0] += 1
        by_kind[kind(r["name"])][1] += r["cpu"]
    for r in compiles + stopped:
        per_file[r["test"].split("::")[0]]["compile"] += r["cpu"]
    for r in tests:
        row = per_file[r["test"].split("::")[0]]
        row["children"] += r["children"]
        row["wall"] += r["wall"]
        row["own"] += r["own"]
    compile_cpu = sum(r["cpu"] for r in compiles + stopped)
    own = sum(r["own"] for r in tests)
    children = sum(r["children"] for r in tests)
    at_collection = sum(r["cpu"] for r in compiles if r["test"] == "(collection)")
    start = sum(r["cpu"] for r in records if r["kind"] == "collected") - at_collection
    other = own - (compile_cpu - at_collection)
    return {
        "distinct": len(where),
        "compiled again": again,
        "stopped": [len(stopped), sum(r["cpu"] for r in stopped)],
        "repeats": [found for found in where.values() if len(found) > 1],
        "by kind": dict(by_kind),
        "compile": compile_cpu,
        "tests' other own": other,
        "subprocesses": children,
        "start and collection": start,
        "floor": (compile_cpu + other + children + start) / workers,
        "compile floor": compile_cpu / workers,
        "per file": {name: dict(row) for name, row in per_file.items()},
    }


def run(pytest_args: list[str]) -> tuple[list[dict], float, float]:
    """Run pytest cold with the plugin; its records, wall seconds and CPU-seconds."""
    with tempfile.TemporaryDirectory(prefix="suite-") as tmp:
        log = Path(tmp, "log")
        log.mkdir()
        env = {k: v for k, v in os.environ.items() if k != "SWEEP_KERNEL_CACHE"}
        path = [str(ROOT / "benchmarks"), env.get("PYTHONPATH", "")]
        env.update(
            NUMBA_CACHE_DIR=str(Path(tmp, "numba")),
            SUITE_LOG=str(log),
            PYTHONPATH=os.pathsep.join(p for p in path if p),
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "suite_log", *pytest_args]
        if subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode:
            print("# pytest failed: the figures below count the run as it went")
        wall = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = sum(getattr(after, f) - getattr(before, f) for f in ("ru_utime", "ru_stime"))
        records = [json.loads(line) for f in log.glob("*.jsonl") for line in f.open()]
    return records, wall, cpu


def workers_of(records: list[dict]) -> int:
    """How many processes ran tests (the xdist workers, or pytest's own)."""
    return max(1, len({r["pid"] for r in records if r["kind"] == "test"}))


def show(summary: dict, wall: float, cpu: float, workers: int) -> None:
    print(f"# {cpu_name()}, {workers} test workers, empty caches")
    print(f"wall {wall:.0f} s, CPU {cpu:.0f} s (user + sys, every process)")
    n, again = summary["distinct"], summary["compiled again"]
    print(f"compiled: {n} distinct functions, {summary['compile']:.0f} CPU-s")
    for name, (count, seconds) in sorted(summary["by kind"].items()):
        print(f"  {name}: {count} compiles, {seconds:.0f} CPU-s")
    print(f"  compiled more than once: {again[0]} ({again[1]:.0f} CPU-s)")
    for found in summary["repeats"]:
        print("    " + "\n      ".join(found))
    count, seconds = summary["stopped"]
    print(f"  stopped by an exception (probes, literal retries): {count} ({seconds:.0f} CPU-s)")
    other, start = summary["tests' other own"], summary["start and collection"]
    print(f"tests' own CPU besides compiling: {other:.0f} CPU-s")
    print(f"their subprocesses (compiles included): {summary['subprocesses']:.0f} CPU-s")
    print(f"the processes' start and collection: {start:.0f} CPU-s")
    rest = cpu - summary["compile"] - other - summary["subprocesses"] - start
    print(f"the rest (pytest's controller, teardown, exits): {rest:.0f} CPU-s")
    print(
        f"floor on {workers} workers: {summary['floor']:.0f} s "
        f"(compiling alone: {summary['compile floor']:.0f} s)"
    )
    print(f"\n{'test file':<34} {'compile':>8} {'other':>7} {'subproc':>8} {'wall':>7}")
    rows = sorted(summary["per file"].items(), key=lambda kv: -kv[1].get("wall", 0.0))
    for name, row in rows[:20]:
        other = row.get("own", 0.0) - row.get("compile", 0.0)
        print(
            f"{name:<34} {row.get('compile', 0.0):8.1f} {other:7.1f} "
            f"{row.get('children', 0.0):8.1f} {row.get('wall', 0.0):7.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the summary here")
    args, pytest_args = parser.parse_known_args()
    records, wall, cpu = run(pytest_args)
    workers = workers_of(records)
    summary = summarise(records, workers)
    show(summary, wall, cpu, workers)
    if args.json:
        args.json.write_text(json.dumps({"wall": wall, "cpu": cpu, **summary}, indent=1))


if __name__ == "__main__":
    main()
