"""The import graph of sweep/ and kernels/: layers that import only downward, no
cycles, and imports inside functions only where they defer a heavy library."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
#: sweep's layers, lowest first; a module may import its own layer's modules and
#: those of lower layers (kernels sits below them all, and imports none of them).
LAYERS = [
    ("kernels",),
    ("sweep.errors", "sweep.intervals"),
    ("sweep.config",),
    ("sweep.store",),
    ("sweep.runner", "sweep.reporting"),  # peers: neither imports the other
    ("sweep.api",),
    ("sweep.bench", "sweep.run_command"),
    ("sweep.cli",),
    ("sweep.__main__", "sweep"),
]
#: Libraries worth deferring into a function: each takes tenths of a second to
#: import (or starts a compiler, or a cluster).
HEAVY = ("pandas", "matplotlib", "scipy", "dask", "distributed", "numba", "llvmlite", "tqdm",
         "joblib.externals.loky", "torch", "jax", "pyarrow.dataset", "pyarrow.acero")  # fmt: skip


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _target(module: str, is_package: bool, node: ast.ImportFrom) -> list[str]:
    """What ``from ... import names`` imports: each name within its module."""
    if node.level == 0:
        base = node.module
    else:
        parts = module.split(".") if is_package else module.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    return [f"{base}.{a.name}" for a in node.names]


def _type_checking(node: ast.AST) -> bool:
    """An ``if TYPE_CHECKING:`` block (imports for annotations only, never run)."""
    return isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"


class Module:
    def __init__(self, path: Path):
        self.name = _name(path)
        tree = ast.parse(path.read_text())
        inner = {
            id(n)
            for f in ast.walk(tree)
            if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
            for n in ast.walk(f)
        }
        never = {id(n) for b in ast.walk(tree) if _type_checking(b) for n in ast.walk(b)}
        self.top: set[str] = set()
        self.inner: list[tuple[int, str]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = _target(self.name, path.name == "__init__.py", node)
            else:
                continue
            if id(node) in never:
                continue
            if id(node) in inner:
                self.inner += [(node.lineno, n) for n in names]
            else:
                self.top.update(names)


MODULES = {
    m.name: m for root in ("sweep", "kernels") for m in map(Module, (ROOT / root).rglob("*.py"))
}


def _ours(name: str) -> str | None:
    """The module of ours that an imported name is (or lies in), if any."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _place(module: str) -> tuple[int, str]:
    """The layer of a module, and the member of the layer it belongs to."""
    for rank, members in enumerate(LAYERS):
        for m in members:
            if module == m or (m != "sweep" and module.startswith(m + ".")):
                return rank, m
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def _edges(module: Module, inner: bool = True) -> set[str]:
    names = module.top | ({n for _, n in module.inner} if inner else set())
    return {t for n in names if (t := _ours(n)) and t != module.name}


def test_every_import_goes_down_or_within_its_own_package():
    upward = []
    for module in MODULES.values():
        (a, mine), edges = _place(module.name), _edges(module, inner=module.name != "sweep")
        for target in edges:
            b, theirs = _place(target)
            if b > a or (b == a and theirs != mine):
                upward.append(f"{module.name} -> {target}")
    assert not upward


def test_no_module_imports_itself_through_others():
    # Imports as a module loads (a package's lazy exports import on first use).
    cycles = []
    for start in MODULES:
        stack, seen = [(start, [start])], set()
        while stack:
            node, path = stack.pop()
            for nxt in _edges(MODULES[node], inner=False):
                if nxt == start:
                    cycles.append(" -> ".join([*path, nxt]))
                elif nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    assert not cycles


def _loads(name: str, seen: set[str] | None = None) -> set[str]:
    """The heavy libraries importing ``name`` loads (module-level imports, transitively)."""
    seen = set() if seen is None else seen
    heavy = {h for h in HEAVY if name == h or name.startswith(h + ".")}
    ours = _ours(name)
    if ours is None or ours in seen:
        return heavy
    seen.add(ours)
    for n in MODULES[ours].top:
        heavy |= _loads(n, seen)
    return heavy


def test_imports_inside_functions_only_defer_heavy_libraries():
    needless = []
    for module in MODULES.values():
        loaded = set().union(*(_loads(n) for n in module.top)) if module.top else set()
        for line, name in module.inner:
            if not (_loads(name) - loaded) and name.rpartition(".")[0] not in HEAVY:
                needless.append(f"{module.name}:{line} imports {name}")
    # The packages' lazy exports, and the program's set-up before numpy loads.
    allowed = {"sweep", "kernels", "sweep.__main__"}
    assert not [n for n in needless if n.split(":")[0] not in allowed]


#: Most lines of a module, and the modules allowed more, with the reason.
MAX_LINES = 370
EXCEPTIONS = {
    "sweep.config.axes": "a table of data: one entry per trial parameter",
    "kernels.reference": "the oracle: one plain transcription of the model, read whole",
}


@pytest.mark.parametrize("root", ["sweep", "kernels"])
def test_modules_stay_small(root):
    large = {
        _name(p): n
        for p in (ROOT / root).rglob("*.py")
        if (n := len(p.read_text().splitlines())) > MAX_LINES and _name(p) not in EXCEPTIONS
    }
    assert not large


@pytest.mark.parametrize("package", ["kernels", "sweep"])
def test_the_installed_package_carries_every_module(package):
    # The tests import what pip installed: a subpackage the build leaves out
    # fails here by name, not as an import error in thirty other files.
    installed = Path(__import__(package).__file__).parent
    source = ROOT / package
    wanted = {p.relative_to(source) for p in source.rglob("*.py")}
    present = {p.relative_to(installed) for p in installed.rglob("*.py")}
    assert sorted(wanted - present) == []
