"""Where compiled kernels are kept between processes, and what keys them.

The general kernel is cached by Numba (``cache=True``); a generated kernel is a
module written to :func:`cache_dir` and imported from there, so Numba's cache
keeps it too. Both carry :func:`source_stamp`, a hash of every source a kernel
compiles in: editing one never reuses a stale compiled kernel. The pieces both
are built from (:mod:`kernels.parts`) are cached with that stamp too
(:class:`StampedCache`).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from numba.core import event
from numba.core.caching import (
    CompileResultCacheImpl,
    FunctionCache,
    InTreeCacheLocator,
    UserProvidedCacheLocator,
    UserWideCacheLocator,
)

#: Every source a kernel compiles in; a change to any gives new cache keys.
SOURCES = (
    "numerics.py",
    "trig.py",
    "primitives.py",
    "draws.py",
    "initialisers.py",
    "parts.py",
    "activations.py",
    "losses.py",
    "optimizers.py",
    "step.py",
    "recipe.py",
    "orders.py",
    "model.py",
    "passes.py",
    "deep.py",
    "update.py",
    "general.py",
)
_ENV_CACHE = "SWEEP_KERNEL_CACHE"


@functools.cache
def source_stamp() -> str:
    """A hash of :data:`SOURCES`, read once per process (every piece's cache and
    every generated source asks for it; an edit takes effect in a new process,
    as the edited modules do)."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in SOURCES:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


class _Stamped:
    """A Numba cache locator whose freshness is its function's file and every
    source in :data:`SOURCES`: Numba's own stamp is the function's file alone,
    which would keep a compiled piece after an edit to a piece it calls."""

    def get_source_stamp(self):
        return super().get_source_stamp(), source_stamp()


class _StampedImpl(CompileResultCacheImpl):
    _locator_classes = [
        type(f"Stamped{base.__name__}", (_Stamped, base), {})
        for base in (UserProvidedCacheLocator, InTreeCacheLocator, UserWideCacheLocator)
    ]


class StampedCache(FunctionCache):
    """Numba's on-disk cache of a compiled function, stamped as :class:`_Stamped`."""

    _impl_class = _StampedImpl


def cache_dir() -> Path:
    """Where generated kernels (and Numba's cache of them) are kept.

    ``$SWEEP_KERNEL_CACHE``, else ``$XDG_CACHE_HOME/tinynet-sweep/kernels``
    (``~/.cache/...``).
    """
    if os.environ.get(_ENV_CACHE):
        return Path(os.environ[_ENV_CACHE])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "tinynet-sweep" / "kernels"


@functools.cache
def writable_cache_dir() -> Path:
    """:func:`cache_dir`, or a temporary folder when it cannot be written."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder
    except OSError:
        pass
    # No persistent cache: kernels compile once per process.
    return Path(tempfile.mkdtemp(prefix="tinynet-sweep-kernels-"))


_MODULES: dict[str, ModuleType] = {}
# Threads (joblib's threading backend) may ask for the same module at once:
# one writes and imports it, the others wait and share it.
_LOADING = threading.Lock()


def load(generator: str, text: str) -> ModuleType:
    """Import (writing it first if needed) a generated kernel module."""
    name = f"tinynet_{generator}_" + hashlib.sha256(text.encode()).hexdigest()[:20]
    with _LOADING:
        if name not in _MODULES:
            _MODULES[name] = _import(name, text)
        return _MODULES[name]


def _import(name: str, text: str) -> ModuleType:
    path = writable_cache_dir() / f"{name}.py"
    if not path.exists():  # never rewrite: a new mtime would invalidate Numba's cache
        tmp = path.with_name(f".{name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    # Numba's cache imports the module by name when it loads compiled code.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class _WouldCompile(Exception):
    """Raised where Numba starts a compile in a thread that :func:`runs_cached` probes."""


class _Refuse(event.Listener):
    def __init__(self, thread: int):
        self.thread = thread

    def on_start(self, ev: event.Event) -> None:
        if threading.get_ident() == self.thread:  # other threads compile as usual
            raise _WouldCompile

    def on_end(self, ev: event.Event) -> None:
        pass


def runs_cached(call: Callable[[], object]) -> bool:
    """Run ``call`` with compiled code that the caches hold: True if it ran, False
    if it stopped where Numba would have started a compile (nothing compiled)."""
    with event.install_listener("numba:compile", _Refuse(threading.get_ident())):
        try:
            call()
        except _WouldCompile:
            return False
    return True
