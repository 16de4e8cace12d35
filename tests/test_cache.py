"""The kernels' cache: its folder (a temporary one when it cannot be written) and
generated modules, written once and imported once."""

import ast
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from numba import njit

from kernels import cache


def test_an_unwritable_cache_falls_back_to_a_temporary_folder(tmp_path, monkeypatch):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("SWEEP_KERNEL_CACHE", str(blocked / "kernels"))
    cache.writable_cache_dir.cache_clear()
    try:
        folder = cache.writable_cache_dir()
        assert folder.is_dir() and folder != blocked / "kernels"
    finally:
        cache.writable_cache_dir.cache_clear()


def test_threads_loading_one_new_kernel_share_one_module(tmp_path, monkeypatch):
    monkeypatch.setenv("SWEEP_KERNEL_CACHE", str(tmp_path))
    cache.writable_cache_dir.cache_clear()
    try:
        text = f"# a module of its own: {tmp_path.name}\nVALUE = 1\n"
        with ThreadPoolExecutor(8) as pool:
            modules = list(pool.map(lambda _: cache.load("tiled", text), range(32)))
    finally:
        cache.writable_cache_dir.cache_clear()
    assert all(m is modules[0] for m in modules)
    assert [p.name for p in tmp_path.iterdir()] == [f"{modules[0].__name__}.py"]


def _reached(name: str, seen: set[str]) -> set[str]:
    """The kernels modules ``name`` imports, directly or through others."""
    tree = ast.parse((Path(cache.__file__).parent / f"{name}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found = [node.module] if node.module else [alias.name for alias in node.names]
            for module in found:
                if module not in seen:
                    seen.add(module)
                    _reached(module, seen)
    return seen


def test_the_stamp_covers_every_source_the_general_kernel_compiles_in():
    # A module left out would leave a stale kernel in the cache after an edit.
    reached = _reached("general", {"general"}) - {"cache"}
    assert {f"{name}.py" for name in reached} <= set(cache.SOURCES)


def test_pieces_are_cached_with_a_stamp_of_every_kernel_source(monkeypatch):
    from numba.core.registry import cpu_target

    from kernels import get_task, init_batch, train_batch
    from kernels.passes import forward

    # Compiled here, or by another process into the same cache: on disk either way.
    X, Y = get_task("xor")
    train_batch(X, Y, init_batch(range(2), 2, 2, 1), 0.5, 2, exp="exact", kernel="general")
    assert isinstance(forward._cache, cache.StampedCache)

    def loaded() -> list:
        """What a new process's dispatcher loads from the cache (Numba's index of
        the piece: its keys start with the signature)."""
        stored = cache.StampedCache(forward.py_func)
        signatures = [key[0] for key in stored._cache_file._load_index()]
        return [stored.load_overload(s, cpu_target.target_context) for s in signatures] or [None]

    assert all(found is not None for found in loaded())
    # An edit to any kernel source, not only to the piece's own file, is a miss.
    monkeypatch.setattr(cache, "source_stamp", lambda: "an edited source")
    assert loaded() == [None]


def test_a_piece_with_nowhere_to_cache_is_compiled_each_time():
    from numba import njit
    from numba.core.caching import NullCache

    from kernels.parts import piece

    namespace: dict = {}
    exec("def twice(x):\n    return 2 * x", namespace)  # no file: Numba finds no cache folder
    twice = piece(namespace["twice"])
    assert isinstance(twice._cache, NullCache)
    assert njit(lambda x: twice(x))(21) == 42


def test_a_probe_runs_what_is_compiled_and_compiles_nothing_itself():
    @njit
    def twice(x):
        return 2 * x

    @njit
    def thrice(x):
        return 3 * x

    ran = []

    def call():
        with ThreadPoolExecutor(1) as pool:  # another thread compiles as usual meanwhile
            assert pool.submit(thrice, 1.0).result() == 3.0
        ran.append(twice(2.0))

    assert not cache.runs_cached(call)
    assert ran == [] and twice.signatures == [] and thrice.signatures  # stopped before compiling
    twice(1.0)
    assert cache.runs_cached(call) and ran == [4.0]
