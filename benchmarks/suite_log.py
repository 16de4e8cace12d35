"""A pytest plugin for benchmarks/suite.py: each compile and each test's CPU.

Loaded with ``-p suite_log`` (benchmarks/ on the path) and active only where
``SUITE_LOG`` names a folder. Every process of the run (the controller and
each xdist worker) appends JSON lines to a file of its own there:

- ``compile``: one function compiled by Numba on a thread with no compile
  under way (nested compiles, the pieces a kernel calls, are counted in it),
  its CPU seconds, a key that tells variants apart, whether it stopped with
  an exception, and the test that triggered it;
- ``test``: a test's own CPU, its reaped children's CPU and its wall time;
- ``collected``: the process's CPU from its start to the end of collection.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import threading
import time

import pytest
from numba.core import event

_state = {"out": None, "test": "(collection)"}
_local = threading.local()


def _write(record: dict) -> None:
    _state["out"].write(json.dumps({**record, "pid": os.getpid()}) + "\n")
    _state["out"].flush()


def _key(dispatcher, args) -> tuple[str, str]:
    """The compiled function's name, and a key that also holds what its
    closure captured (a general kernel's variant) and its argument types."""
    func = getattr(dispatcher, "py_func", None)
    name = f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', '?')}"
    cells = [cell.cell_contents for cell in (getattr(func, "__closure__", None) or ())]
    text = repr((name, cells, str(args)))
    return name, hashlib.sha1(text.encode()).hexdigest()[:16]


class _Compiles(event.Listener):
    """Logs each compile that starts on a thread with no compile under way."""

    def on_start(self, ev) -> None:
        _local.__dict__.setdefault("stack", []).append(time.thread_time())

    def on_end(self, ev) -> None:
        start = _local.stack.pop()
        if _local.stack:
            return
        data = ev.data or {}
        name, key = _key(data.get("dispatcher"), data.get("args"))
        cpu = time.thread_time() - start
        # A compile that raised: a probe that refuses to compile (kernels.cache.
        # runs_cached), or a retry with literal arguments. (Numba's Event.is_failed
        # reads the other way round: True when nothing was raised.)
        failed = getattr(ev, "_exc_details", None) is not None
        record = {"kind": "compile", "name": name, "key": key, "cpu": cpu, "failed": failed}
        _write({**record, "test": _state["test"]})


def pytest_configure(config) -> None:
    folder = os.environ.get("SUITE_LOG")
    if folder:
        _state["out"] = open(os.path.join(folder, f"{os.getpid()}.jsonl"), "a")  # noqa: SIM115
        event.register("numba:compile", _Compiles())


def _cpu() -> tuple[float, float]:
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def pytest_collection_finish(session) -> None:
    if _state["out"] is not None:
        _write({"kind": "collected", "cpu": _cpu()[0]})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if _state["out"] is None:
        yield
        return
    _state["test"] = item.nodeid
    (own, children), start = _cpu(), time.monotonic()
    yield
    own_after, children_after = _cpu()
    _write(
        {
            "kind": "test",
            "test": item.nodeid,
            "own": own_after - own,
            "children": children_after - children,
            "wall": time.monotonic() - start,
        }
    )
