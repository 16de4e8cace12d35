"""The ``sweep`` command: exit codes, one-line errors, kill and resume."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

import sweep
from sweep.cli import main

TINY = ["--seeds", "0:6", "--lr", "0.5,5", "--width", "2", "--epochs", "200"]


def sweep_cmd(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "sweep", *args], capture_output=True, text=True, timeout=120, **kw
    )


def test_subprocesses_run_the_package_under_test():
    import kernels

    code = "import kernels, sweep; print(kernels.__file__); print(sweep.__file__)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == [kernels.__file__, sweep.__file__], proc.stderr


def test_run_prints_a_summary_and_python_m_sweep_works(tmp_path):
    proc = sweep_cmd("run", *TINY, "--out", str(tmp_path / "r"))
    assert proc.returncode == 0, proc.stderr
    assert "12 trials" in proc.stdout and "lr \\ width" in proc.stdout
    assert len(sweep.load(tmp_path / "r")) == 12


_LOADED = """
import sys
from sweep.cli import main
try:
    main(sys.argv[1:])
except BaseException:  # --help's exit, or bad input's
    pass
print(sorted(m for m in ("numba", "pandas", "pyarrow.dataset", "joblib") if m in sys.modules))
"""


@pytest.mark.parametrize(
    "args", [["--help"], ["run", "--help"], ["run", "--width", "x"], ["report", "--help"]]
)
def test_help_and_bad_input_load_no_heavy_library(args, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-c", _LOADED, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert proc.stdout.splitlines()[-1] == "[]", proc.stderr
    assert not list(tmp_path.iterdir())


def test_help_explains_every_option():
    proc = sweep_cmd("run", "--help")
    assert proc.returncode == 0
    for flag in [
        "--config",
        "--task",
        "--seeds",
        "--lr",
        "--width",
        "--epochs",
        "--tol",
        "--init-low",
        "--init-high",
        "--dtype",
        "--out",
        "--name",
        "--jobs",
        "--backend",
        "--quiet",
        "--overwrite",
        "--momentum",
        "--update",
        "--activation",
        "--output-activation",
        "--loss",
        "--inputs",
        "--targets",
        "--weight-decay",
        "--mse-target",
    ]:
        assert flag in proc.stdout
    assert "TSS" in proc.stdout and "RMS" in proc.stdout  # how --mse-target converts


#: One of each kind of refusal (a value, a name, a file, two fields together, an
#: option of a part not chosen); test_bad_flags runs the rest in-process.
@pytest.mark.parametrize(
    "args",
    [
        ["--lr", "nan"],
        ["--task", "nand"],
        ["--config", "/nonexistent/sweep.toml"],
        ["--tol", "0.9", "--targets", "0.1:0.9"],
        ["--optimizer", "rmsprop", "--adagrad-eps", "1e-6"],
    ],
)
def test_bad_input_in_a_real_process_is_one_line_exit_2(args, tmp_path):
    proc = sweep_cmd("run", *args, "--out", str(tmp_path / "o"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


BAD_CLI = [
    (["--lr", "-0.1"], "lr"),
    (["--width", "0"], "width"),
    (["--epochs", "-1"], "epochs"),
    (["--momentum", "1"], "momentum"),
    (["--targets", "0.9:0.1"], "targets"),
    (["--mse-target", "0"], "mse_target"),
    (["--loss", "xent", "--output-activation", "tanh"], "loss"),
    (["--seeds", ""], "seeds"),
    (["--seeds", "-3"], "seeds"),
    (["--seeds", "1:x"], "seeds"),
    (["--lr", "0"], "lr"),
    (["--lr", "inf"], "lr"),
    (["--lr", "log:0:1:3"], "lr"),
    (["--width", "-1"], "width"),
    (["--width", "2.5"], "width"),
    (["--tol", "1.5"], "tol"),
    (["--init-low", "2"], "init_low"),
    (["--dtype", "half"], "dtype"),
    (["--jobs", "0"], "jobs"),
    (["--jobs", "two"], "jobs"),
    (["--backend", "mpi"], "backend"),
    (["--name", "a/b"], "name"),
    (["--chunk-size", "0"], "chunk_size"),
    (["--curve-every", "x"], "curve_every"),
    (["--exp", "approx"], "exp"),
    (["--epochs", "1e3"], "epochs"),
    (["--seeds", "0:5000000", "--lr", "log:0.1:1:20"], "grid"),
    (["--momentum", "-0.5"], "momentum"),
    (["--weight-decay", "-1"], "weight_decay"),
    (["--update", "minibatch"], "update"),
    (["--update", "ordered"], "batch_size"),
    (["--batch-size", "4"], "batch_size"),
    (["--activation", "softplus"], "activation"),
    (["--output-activation", "softmax"], "output_activation"),
    (["--loss", "mse"], "loss"),
    (["--inputs", "ternary"], "inputs"),
    (["--targets", "0:1:2"], "targets"),
    (["--targets", "1:1"], "targets"),
    (["--loss", "xent", "--output-activation", "tanh", "--targets", "-1:1"], "loss"),
    (["--targets", "-1:1"], "targets"),
    (["--activation", "linear"], "activation"),
    (["--loss", "atanh", "--output-activation", "linear"], "loss"),
    (["--rms-decay", "0.5"], "rms_decay"),  # a setting of an optimiser not chosen
    (["--optimizer", "delta-bar-delta", "--dbd-phi", "1"], "dbd_phi"),
    (["--optimizer", "adagrad", "--momentum", "0.9"], "optimizer"),
    (["--task", "table:0110,101"], "task"),
    (["--task", "xor,table:01x0"], "task"),
    (["--init", "normal"], "init"),
    (["--init", "glorot", "--init-radius", "1"], "init"),
    (["--mse-target", "-0.01"], "mse_target"),
    (["--store", "weights"], "store"),
    (["--bogus", "1"], "No such option"),
]


@pytest.mark.parametrize("args, field", BAD_CLI)
def test_bad_flags(args, field, tmp_path, capsys):
    out = tmp_path / "o"
    with pytest.raises(SystemExit) as info:
        main(["run", *args, "--out", str(out), "--quiet"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and field in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(
    "toml, field",
    [
        ("seeds = 'x'", "seeds"),
        ("lr = [0.1, -1]", "lr"),
        ("width = [1, 0]", "width"),
        ("colour = 1", "unknown key"),
        ("seeds = [1,", "malformed TOML"),
        ("task = 3", "task"),
        ("epochs = true", "epochs"),
    ],
)
def test_bad_toml_files(toml, field, tmp_path, capsys):
    cfg = tmp_path / "s.toml"
    cfg.write_text(toml)
    with pytest.raises(SystemExit) as info:
        main(["run", "--config", str(cfg), "--out", str(tmp_path / "o"), "--quiet"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert field in err and len(err.strip().splitlines()) == 1


def test_config_file_with_flag_overrides(tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text('seeds = "0:3"\nlr = [0.5]\nwidth = 2\nepochs = 100\nname = "fromfile"\n')
    out = tmp_path / "o"
    main(["run", "--config", str(cfg), "--seeds", "0:5", "--out", str(out), "--quiet"])
    df = sweep.load(out)
    assert sorted(df.seed) == [0, 1, 2, 3, 4] and set(df.epochs) == {100}


def test_bad_input_leaves_existing_results_untouched(tmp_path, capsys):
    out = tmp_path / "r"
    main(["run", *TINY, "--out", str(out), "--quiet"])
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    for args in (["--lr", "-1"], ["--seeds", "1:7"], ["--width", "0"]):
        with pytest.raises(SystemExit):
            main(["run", *TINY, *args, "--out", str(out), "--quiet"])
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert "different sweep" in capsys.readouterr().err


def test_report_formats(tmp_path, capsys):
    out = tmp_path / "r"
    main(["run", *TINY, "--out", str(out), "--quiet"])
    main(["report", str(out), "--format", "csv"])
    csv = capsys.readouterr().out
    assert csv.splitlines()[0].startswith("lr,trials,converged,rate")  # what varies: lr
    main(["report", str(out), "--format", "json", "--by", "lr"])
    rows = json.loads(capsys.readouterr().out)
    assert [r["lr"] for r in rows] == [0.5, 5.0] and all(r["trials"] == 6 for r in rows)
    main(["report", str(out), "--format", "markdown"])
    said, table = capsys.readouterr().out.split("\n\n")  # a paragraph, then the table
    assert said == "fixed: xor · 200 epochs · tol 0.1 · init U[0, 1) · width 2"
    assert table.startswith("|   lr |")
    main(["report", str(out)])
    assert "median epochs" in capsys.readouterr().out
    for by, problem in [
        ("colour", "'colour' is not a column"),
        ("converged", "is an outcome"),
        ("outputs", "is an outcome"),
        ("lr,lr", "given twice"),
    ]:
        with pytest.raises(SystemExit) as info:
            main(["report", str(out), "--by", by])
        err = capsys.readouterr().err
        assert info.value.code == 2 and err.startswith("error: by: ") and problem in err
        assert len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit):
        main(["report", str(tmp_path / "missing")])


def test_the_summary_and_the_report_show_every_axis_that_varies(tmp_path, capsys):
    out = tmp_path / "r"
    # Two axes beside lr and width that compile no other kernel.
    main(["run", *TINY, "--tol", "0.1,0.3", "--init-radius", "0.5,1", "--out", str(out)])
    text = capsys.readouterr().out
    assert text.startswith("48 trials")  # 6 seeds x 2 lr x 2 tols x 2 radii
    for tol, low, high in [("0.1", "-0.5", "0.5"), ("0.1", "-1", "1"), ("0.3", "-1", "1")]:
        assert f"tol = {tol}, init_low = {low}, init_high = {high}\n" in text
    main(["report", str(out), "--format", "csv"])
    header = capsys.readouterr().out.splitlines()[0]
    assert header.startswith("lr,tol,init_low,init_high,trials")


KILL = [
    "--seeds",
    "0:240",
    "--lr",
    "0.3,1,3",
    "--width",
    "1:4",
    "--epochs",
    "20000",
    "--chunk-size",
    "24",
    "--quiet",
]


@pytest.mark.parametrize("after_parts, jobs", [(1, "1"), (12, "2")])
def test_sigkill_then_rerun_gives_exactly_the_uninterrupted_rows(after_parts, jobs, tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sweep", "run", *KILL, "--jobs", jobs, "--out", str(out)],
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while len(list(out.glob("*.parquet"))) < after_parts and time.monotonic() < deadline:
        assert proc.poll() is None, "the sweep finished before it could be killed"
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)  # the driver and its workers, like a crash
    proc.wait()
    with pytest.warns(UserWarning, match="incomplete: .* of the sweep's 2,160 trials"):
        stored = len(sweep.load(out))
    assert 0 < stored < 240 * 3 * 3
    again = sweep_cmd("run", *KILL, "--jobs", jobs, "--out", str(out))
    assert again.returncode == 0, again.stderr
    resumed = sweep.load(out)
    axes = dict(zip(["seeds", "lr", "width", "epochs"], KILL[1:8:2], strict=True))
    want = sweep.run(out=tmp_path / "whole", backend="sequential", progress=False, **axes)
    assert resumed["trial_id"].is_unique and len(resumed) == 240 * 3 * 3
    pd.testing.assert_frame_equal(resumed, want)
    assert not list(out.glob(".tmp-*"))


def test_the_cli_keeps_lokys_spurious_resource_warnings_off_stderr(monkeypatch, tmp_path):
    from sweep.cli import QUIET_RESOURCE_TRACKER

    monkeypatch.setenv("PYTHONWARNINGS", "default::DeprecationWarning")
    with pytest.raises(SystemExit):
        main(["run", "--lr", "-1", "--out", str(tmp_path / "o")])
    assert os.environ["PYTHONWARNINGS"] == f"default::DeprecationWarning,{QUIET_RESOURCE_TRACKER}"
    # What joblib leaves behind after a worker crash (joblib issue #1620): a
    # registered folder that was never created. The tracker warns at exit
    # unless it inherits the filter.
    script = (
        "from joblib.externals.loky.backend import resource_tracker as rt\n"
        "rt.ensure_running()\n"
        f"rt.register({str(tmp_path / 'never-created')!r}, 'folder')\n"
    )
    for warnings_env, quiet in (("", False), (QUIET_RESOURCE_TRACKER, True)):
        env = {**os.environ, "PYTHONWARNINGS": warnings_env}
        proc = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
        )
        assert ("resource_tracker" not in proc.stderr) == quiet, proc.stderr


def test_run_ends_with_where_the_results_are(tmp_path):
    out = tmp_path / "r"
    first = sweep_cmd("run", *TINY, "--out", str(out))  # stdout and stderr are pipes here
    assert first.returncode == 0, first.stderr
    assert first.stderr.strip().splitlines()[-1] == (
        f"results in {out}: 12 trials (12 trained now, 0 already stored)"
    )
    again = sweep_cmd("run", *TINY, "--out", str(out))
    assert again.stderr.strip().splitlines()[-1].endswith("(0 trained now, 12 already stored)")


def test_a_refused_run_writes_nothing_not_even_a_lock(tmp_path, capsys):
    out = tmp_path / "taken"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit) as info:
        main(["run", *TINY, "--out", str(out), "--quiet"])
    assert info.value.code == 2 and "holds no sweep" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def _deep_toml(tmp_path) -> str:
    path = tmp_path / "deep.toml"
    path.write_text("lr = " + "[" * 100_000 + "]" * 100_000 + "\n")  # 200 kB of nesting
    return str(path)


@pytest.mark.parametrize(
    "args, field",
    [
        (["--jobs", "100000"], "jobs"),
        (["--jobs", "100000", "--force"], "jobs"),
        (["--jobs", str(len(os.sched_getaffinity(0)) + 1)], "would only compete"),
        (["--scheduler", "not a url", "--backend", "dask"], "scheduler"),
        (["--scheduler", "tcp://localhost:8786"], "needs --backend dask"),
        (["--seeds", "0:4294967296", "--force", "--dry-run"], "grid"),
        (["--epochs", "1000000000", "--curve-every", "1", "--dry-run"], "curve_every"),
        (["--config", "DEEP"], "nested 100000 levels"),
    ],
)
def test_hostile_input_is_refused_before_anything_is_allocated_or_written(args, field, tmp_path):
    args = [_deep_toml(tmp_path) if a == "DEEP" else a for a in args]
    out = tmp_path / "o"
    started = time.monotonic()
    proc = sweep_cmd("run", *args, "--out", str(out))
    assert proc.returncode == 2 and field in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not out.exists() and time.monotonic() - started < 30
