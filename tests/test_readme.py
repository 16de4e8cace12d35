"""The README's and docs' Python examples run as written (on small sweeps), and the
README stays a guide: short, with its details in docs/."""

import re
from pathlib import Path

import sweep

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))


def python_blocks(page: Path = README) -> dict[str, str]:
    """Python code blocks of a page, keyed by the heading above them."""
    blocks, heading = {}, ""
    for line_block in re.split(r"(?m)^(## .*)$", page.read_text()):
        if line_block.startswith("## "):
            heading = line_block[3:].strip()
            continue
        for code in re.findall(r"```python\n(.*?)```", line_block, re.S):
            blocks.setdefault(heading, code)
    return blocks


def test_every_python_block_is_run_by_a_test():
    run_here = {
        ("README.md", "Analyse"),
        ("README.md", "Running sweeps"),
        ("model.md", "The model"),
    }
    found = {(page.name, heading) for page in [README, *DOCS] for heading in python_blocks(page)}
    assert found == run_here


def test_the_readme_is_a_guide_and_links_its_details():
    text = README.read_text()
    assert len(text.splitlines()) <= 300
    for page in DOCS:
        if page.suffix == ".md":
            assert f"docs/{page.name}" in text, page.name


def test_analyse_example(tmp_path, monkeypatch):
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
    exec(python_blocks()["Analyse"], {})


def test_running_sweeps_example(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = python_blocks()["Running sweeps"].replace('"0:200"', '"0:20"')
    exec(code.replace("epochs=2000", "epochs=200"), {})
    assert "width" in capsys.readouterr().out
    assert len(sweep.load(tmp_path / "results" / "demo")) == 20 * 5 * 4


def test_kernel_api_example():
    code = python_blocks(ROOT / "docs" / "model.md")["The model"]
    code = code.replace("10_000", "2000").replace("4096", "64").replace("lr=0.1", "lr=1.0")
    exec(code, {})
