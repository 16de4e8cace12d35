"""The README's Python examples run as written (on a small sweep)."""

import re
from pathlib import Path

import sweep

README = Path(__file__).resolve().parent.parent / "README.md"


def python_blocks() -> dict[str, str]:
    """Python code blocks keyed by the heading above them."""
    blocks, heading = {}, ""
    for line_block in re.split(r"(?m)^(## .*)$", README.read_text()):
        if line_block.startswith("## "):
            heading = line_block[3:].strip()
            continue
        for code in re.findall(r"```python\n(.*?)```", line_block, re.S):
            blocks.setdefault(heading, code)
    return blocks


def test_analyse_in_pandas_example(tmp_path, monkeypatch):
    out = tmp_path / "results" / "xor"
    sweep.run(
        out=out,
        seeds="0:40",
        lr="0.3,1",
        width="2,3",
        epochs=1500,
        progress=False,
        backend="sequential",
    )
    monkeypatch.chdir(tmp_path)
    exec(python_blocks()["Analyse in pandas"], {})


def test_kernel_api_example():
    code = python_blocks()["The model"].replace("10_000", "2000").replace("4096", "64")
    code = code.replace("lr=0.1", "lr=1.0")  # converges within the shorter run
    exec(code, {})
