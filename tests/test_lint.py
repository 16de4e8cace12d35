"""The code is ruff-clean (lint and format), checked with every test run."""

import ast
import io
import re
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]])
def test_ruff(command):
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    proc = subprocess.run([ruff, *command], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("package", ["kernels", "sweep"])
def test_no_function_branches_beyond_complexity_20(package):
    # A kernel reads as a few loops over pieces: its branches live in the pieces.
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    command = ["check", package, "--select", "C901"]
    options = ["--config", "lint.mccabe.max-complexity = 20"]
    proc = subprocess.run(
        [ruff, *command, *options], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


#: What a comment or docstring must not carry: measured figures (times, sizes,
#: speed-ups), machine names, and stories of earlier code. Figures belong in
#: benchmarks/ output and docs/performance.md, history in git.
ROT = re.compile(
    r"(?<![\w.])\d[\d.,]*(?:-\d[\d.,]*)?\s?(ns|µs|us|ms|s|kB|MB|GB)\b(?!-)"
    r"|\d[\d.]*\s?(%|x|×|times)\s+(faster|slower)|\b(faster|slower) than\b"
    r"|\bused to\b|\breplaced\b|\bbefore this (change|commit)\b|→"
    r"|\bZen ?\d\b|\bXeon\b|\bEPYC\b|\bAVX-?512\b|\bAVX2\b|\bGHz\b",
    re.IGNORECASE,
)


def rotting(source: str) -> list[tuple[int, str]]:
    """(line, text) of the comments and docstrings in ``source`` that :data:`ROT` flags."""
    found = [
        (tok.start[0], tok.string)
        for tok in tokenize.generate_tokens(io.StringIO(source).readline)
        if tok.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            doc = ast.get_docstring(node, clean=False) or ""
            found += [(node.body[0].lineno + i, line) for i, line in enumerate(doc.splitlines())]
    return [(line, text) for line, text in found if ROT.search(text)]


def test_the_check_finds_a_planted_figure():
    assert rotting("x = 1  # 30 s → 21 s\n")
    assert rotting('def f():\n    """Takes 13.5 ns on a Zen 4."""\n')
    assert not rotting("x = 1  # the pass stays in cache\n")


@pytest.mark.parametrize("package", ["sweep", "kernels"])
def test_comments_say_why_not_how_fast(package):
    flagged = [
        f"{path.relative_to(ROOT)}:{line}: {text.strip()}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, text in rotting(path.read_text())
    ]
    assert not flagged


def repeated_runs(sources: dict[str, str], length: int = 6) -> list[list[tuple[str, int]]]:
    """Places where the same ``length`` code lines of function bodies (stripped;
    blank lines, comments and docstrings left out) stand more than once."""
    places: dict[tuple[str, ...], list[tuple[str, int]]] = {}
    for name, source in sources.items():
        lines = source.splitlines()
        body: set[int] = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef):
                statements = node.body
                if isinstance(statements[0], ast.Expr) and isinstance(
                    statements[0].value, ast.Constant
                ):
                    statements = statements[1:]  # the docstring
                for statement in statements:
                    body.update(range(statement.lineno, statement.end_lineno + 1))
        code = [
            (n, lines[n - 1].strip())
            for n in sorted(body)
            if lines[n - 1].strip() and not lines[n - 1].strip().startswith("#")
        ]
        for k in range(len(code) - length + 1):
            run = tuple(text for _, text in code[k : k + length])
            places.setdefault(run, []).append((name, code[k][0]))
    return [where for where in places.values() if len(where) > 1]


def test_the_repeat_check_finds_a_planted_copy():
    loop = "    for j in range(nb):\n" + "".join(f"        a[{i}] = b[{i}]\n" for i in range(6))
    sources = {"one.py": f"def f(a, b, nb):\n{loop}", "two.py": f"def g(a, b, nb):\n{loop}"}
    assert repeated_runs(sources) == [
        [("one.py", 2), ("two.py", 2)],
        [("one.py", 3), ("two.py", 3)],
    ]


def test_no_six_code_lines_repeat_inside_kernels():
    # One piece per piece of arithmetic (kernels.passes, kernels.update):
    # a loop written twice is a loop that can drift.
    sources = {path.name: path.read_text() for path in sorted((ROOT / "kernels").glob("*.py"))}
    assert repeated_runs(sources) == []


@pytest.mark.xdist_group("grouping-check")
def test_tests_in_one_xdist_group_run_in_one_worker(request):
    """The groups that let one worker compile a kernel once take effect: xdist
    marks a grouped test's id (pytest 9.2 with pytest-xdist 3.8 silently does
    not, hence pyproject.toml's pin)."""
    if not hasattr(request.config, "workerinput"):
        pytest.skip("the suite runs in xdist workers; this run does not")
    assert request.node.nodeid.endswith("@grouping-check")
