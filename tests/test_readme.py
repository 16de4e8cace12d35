"""The README's and docs' Python examples run as written (on small sweeps), and the
README stays a guide: short, with its details in docs/."""

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import sweep
from kernels import activations, initialisers, losses, optimizers
from sweep.cli import main

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
        ("tasks.md", "Classification and regression"),
    }
    found = {(page.name, heading) for page in [README, *DOCS] for heading in python_blocks(page)}
    assert found == run_here


def test_the_readme_is_a_guide_and_links_its_details():
    text = README.read_text()
    assert len(text.splitlines()) <= 300
    for page in DOCS:
        if page.suffix == ".md":
            assert f"docs/{page.name}" in text, page.name


def parts_rows() -> list[str]:
    """The README's table of parts, row by row, from the tables in kernels/."""
    rows = []
    for e in activations.TABLE:
        where = ", ".join(k for k in ("hidden", "output") if getattr(e, k))
        rows.append(
            f"| `{e.name}` | activation ({where}) | {e.equation}; f′ = {e.derivative} "
            f"| outputs in [{e.low:g}, {e.high:g}] | {e.source} |"
        )
    rows += [f"| `{x.name}` | loss | {x.equation} | {x.needs} | {x.source} |" for x in losses.TABLE]
    for o in optimizers.TABLE:
        flags = [
            f"--{n.replace('_', '-')} {optimizers.BY_SETTING[n].default:g}" for n in o.settings
        ]
        if o.momentum != "none":
            flags.append(f"--momentum {'> 0' if o.momentum == 'needed' else '>= 0'}")
        kind = "optimiser (batch updates)" if o.batch_only else "optimiser"
        rows.append(f"| `{o.name}` | {kind} | {o.equation} | `{'`, `'.join(flags)}` | {o.source} |")
    for i in initialisers.TABLE:
        flags = "`--init-radius R`" if i.radius else "`--init-low`, `--init-high`"
        rows.append(f"| `{i.name}` | initialiser | {i.equation} | {flags} | {i.source} |")
    return rows


def test_the_table_of_parts_is_the_tables_in_kernels():
    kinds = ("| activation (", "| loss |", "| optimiser", "| initialiser |")
    rows = [line for line in README.read_text().splitlines() if any(k in line for k in kinds)]
    assert rows == parts_rows()


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


def test_own_task_example(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = python_blocks(ROOT / "docs" / "tasks.md")["Classification and regression"]
    exec(code.replace("3000", "300").replace('"0:20"', '"0:3"'), {})
    assert len(sweep.load(tmp_path / "results" / "line")) == 3


def test_kernel_api_example():
    code = python_blocks(ROOT / "docs" / "model.md")["The model"]
    code = code.replace("10_000", "2000").replace("4096", "64").replace("lr=0.1", "lr=1.0")
    exec(code, {})


#: Pages whose shell examples run in order, in one fresh folder, as a reader would.
WALKED = [README, *(ROOT / "docs" / f"{page}.md" for page in ("model", "classics", "tasks"))]
#: Shrinks every `sweep run` (flags given last win): the walk checks that the
#: commands run, in order, on what earlier ones wrote; their statistics are
#: the classics tests' business.
SMALL = ["--seeds", "0:2", "--epochs", "20", "--quiet"]


def shell_examples(page: Path) -> list[tuple[str, str]]:
    """A page's examples in order: ("toml", text) for a TOML block, ("sh", line)
    for each command of a bash block and each inline `sweep run ...`."""
    found = []
    pattern = r"```(bash|toml)\n(.*?)```|`(sweep run [^`]*)`"
    for block in re.finditer(pattern, page.read_text(), re.S):
        kind, body, inline = block.groups()
        if kind == "toml":
            found.append(("toml", body))
        elif inline:
            found.append(("sh", " ".join(inline.split())))
        else:
            for line in body.replace("\\\n", " ").splitlines():
                found.append(("sh", line.strip()))
    return found


def test_the_shell_examples_run_top_to_bottom_in_a_fresh_folder(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    ran = []
    for page in WALKED:
        for kind, text in shell_examples(page):
            if kind == "toml":
                (tmp_path / "sweep.toml").write_text(text)
                continue
            words = shlex.split(text, comments=True)
            if "&&" in words:  # the install commands: what they run once installed
                words = words[words.index("&&", len(words) - 4) + 1 :]
                words[0] = Path(words[0]).name
            if words[0] == "pytest":
                continue  # this very suite
            if words[:2] == ["sweep", "bench"]:
                words.append("--help")  # its timings take a minute: tests/test_bench.py
            if words[0] == "dask" or "--scheduler" in words or words[0].startswith("NUMBA"):
                continue  # needs a cluster: tests/test_execute.py starts a local one
            if words[0] == "python":
                subprocess.run([sys.executable, *words[1:]], check=True, capture_output=True)
            else:
                assert words[0] == "sweep", text
                argv = words[1:] + (SMALL if words[1] == "run" else [])
                with pytest.raises(SystemExit) as stop:
                    main(argv)
                    raise SystemExit(0)
                assert stop.value.code == 0, (page.name, text)
            ran.append(text)
    assert sum("sweep run" in t for t in ran) >= 8 and any("compare" in t for t in ran)
