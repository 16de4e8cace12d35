"""What earlier runs on this machine took, against the planner's estimate.

Every run that trains for a second or more records its estimated and measured
training time next to the compiled kernels (``throughput.json`` in
:func:`kernels.cache.writable_cache_dir`); ``sweep run --dry-run`` scales
the planner's cost model by their median ratio. A run's ratio is the median
over its chunks, so the few that compiled a kernel do not count.
"""

from __future__ import annotations

import json
import os
import statistics
from pathlib import Path

from kernels.cache import writable_cache_dir

#: Runs remembered (the most recent).
KEEP = 20
#: The cost model a remembered run was measured against: a run remembered
#: against another model says nothing about this one, and is not read.
MODEL = 2
#: Shortest training worth remembering, in seconds (start-up would dominate).
MIN_SECONDS = 1.0
#: Fewest chunks worth remembering: a chunk that compiles a kernel takes
#: seconds for milliseconds of estimated work, and each worker's first chunk
#: may compile one, so the median ratio needs more chunks than that.
MIN_CHUNKS = 5


def _file() -> Path:
    return writable_cache_dir() / "throughput.json"


def _read() -> list[dict]:
    try:
        runs = json.loads(_file().read_text())
        return [
            r
            for r in runs
            if r.get("model") == MODEL and r.get("estimated", 0) > 0 and r.get("measured", 0) > 0
        ]
    except (OSError, ValueError, TypeError, AttributeError):
        return []


def record(estimated: float, measured: float) -> None:
    """Remember one run's estimated and measured seconds (quietly: a cache)."""
    if measured < MIN_SECONDS or estimated <= 0:
        return
    runs = (_read() + [{"model": MODEL, "estimated": estimated, "measured": measured}])[-KEEP:]
    path = _file()
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        tmp.write_text(json.dumps(runs))
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def record_chunks(timings: list[tuple[float, float]]) -> None:
    """Remember a run from its chunks' (estimated, measured) seconds: the median
    ratio, so that the chunks that compiled a kernel do not count (a run of
    fewer than :data:`MIN_CHUNKS` chunks is not remembered: compiling could be
    most of it)."""
    if len(timings) < MIN_CHUNKS:
        return
    estimated = sum(e for e, _ in timings)
    measured = sum(m for _, m in timings)
    ratios = [m / e for e, m in timings if e > 0]
    if ratios and measured >= MIN_SECONDS:
        record(estimated, estimated * statistics.median(ratios))


def factor() -> tuple[float, int]:
    """(measured / estimated, runs it is the median of); (1.0, 0) with none."""
    runs = _read()
    if not runs:
        return 1.0, 0
    return statistics.median(r["measured"] / r["estimated"] for r in runs), len(runs)
