"""The ``sweep`` program's process set-up (sweep/__main__.py)."""

import gc
import os
import subprocess
import sys

import pytest

from sweep import __main__ as program


@pytest.fixture
def frozen(monkeypatch):
    calls = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append(True))
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    return calls


def test_the_program_skips_blas_threads_and_the_collector_at_exit(monkeypatch, frozen):
    monkeypatch.setattr(sys, "argv", ["sweep", "--version"])
    program.main()
    assert frozen == [True] and os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setattr(sys, "argv", ["sweep", "run", "--lr", "nan"])
    with pytest.raises(SystemExit):  # errors exit through the same door
        program.main()
    assert frozen == [True, True]


def test_a_users_blas_setting_wins(monkeypatch, frozen):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    monkeypatch.setattr(sys, "argv", ["sweep", "--version"])
    program.main()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "3"


def test_the_cli_called_from_python_leaves_the_process_alone(frozen):
    from sweep.cli import main

    main(["--version"])
    assert frozen == [] and "OPENBLAS_NUM_THREADS" not in os.environ


def test_the_program_module_loads_nothing_before_its_setting():
    # The setting only works if numpy is not loaded yet when main() runs.
    script = "import sys, sweep.__main__\nprint(sorted({'numpy', 'numba'} & set(sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stderr
