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
