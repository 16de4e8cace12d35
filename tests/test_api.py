"""End to end through the Python API: rows, types, values, resume, readers."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

import sweep
from kernels import get_task, init_batch, train_batch
from sweep.config.schema import COLUMNS

SMALL = dict(
    task="xor,parity3",
    seeds="0:20",
    lr="0.5,2",
    width="2,3",
    epochs=300,
    curve_every=50,
    progress=False,
)


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "small"
    return out, sweep.run(out=out, backend="sequential", chunk_size=16, **SMALL)


def test_one_row_per_trial_with_the_documented_columns(small_sweep):
    out, df = small_sweep
    assert len(df) == 2 * 20 * 2 * 2 and df["trial_id"].is_unique
    assert tuple(df.columns) == COLUMNS
    assert df["epoch_converged"].dtype == "Int64" and df["converged"].dtype == bool
    assert df["lr"].dtype == np.float64 and df["seed"].dtype == np.int64
    assert (df["converged"] == df["epoch_converged"].notna()).all()
    assert df["loss_curve"].map(len).eq(7).all()


def test_values_are_the_kernels(small_sweep):
    _, df = small_sweep
    rows = df[(df.task == "parity3") & (df.width == 3) & (df.lr == 2.0)].sort_values("seed")
    X, Y = get_task("parity3")
    direct = train_batch(X, Y, init_batch(rows.seed.to_numpy(), 3, 3, 1), 2.0, 300, 0.1, 50)
    np.testing.assert_array_equal(np.stack(rows.final_loss), direct.final_loss)
    np.testing.assert_array_equal(np.stack(rows.w_hidden), direct.flat_params()[:, :9])
    np.testing.assert_array_equal(np.stack(rows.loss_curve), direct.loss_curve.T)
    np.testing.assert_array_equal(
        rows.epoch_converged.fillna(-1).to_numpy(dtype=np.int64), direct.epoch_converged
    )


def test_pandas_and_duckdb_read_the_folder(small_sweep):
    out, df = small_sweep
    via_pandas = pd.read_parquet(out)
    assert len(via_pandas) == len(df) and set(via_pandas.trial_id) == set(df.trial_id)
    assert via_pandas["epoch_converged"].dtype == "Int64"
    n, conv = duckdb.sql(
        f"select count(*), sum(converged::int) from read_parquet('{out}/*.parquet')"
    ).fetchall()[0]
    assert n == len(df) and conv == int(df.converged.sum())
    assert sweep.load(out).equals(df)


def test_rerun_trains_nothing_and_changes_nothing(small_sweep):
    out, df = small_sweep
    parts = sorted(out.glob("*.parquet"))
    again = sweep.run(out=out, backend="sequential", **SMALL)
    assert sorted(out.glob("*.parquet")) == parts
    pd.testing.assert_frame_equal(again, df)


def test_resume_after_losing_parts_gives_identical_rows(small_sweep, tmp_path):
    out, df = small_sweep
    copy = tmp_path / "copy"
    copy.mkdir()
    for f in out.iterdir():
        if f.name != ".lock":
            (copy / f.name).write_bytes(f.read_bytes())
    for part in sorted(copy.glob("*.parquet"))[::2]:  # as if the run died early
        part.unlink()
    resumed = sweep.run(out=copy, backend="sequential", chunk_size=5, **SMALL)
    pd.testing.assert_frame_equal(resumed, df)


def test_progress_bar_counts_every_trial_and_announces_a_resume(tmp_path, capsys):
    settings = {**SMALL, "task": "xor", "width": "2", "progress": True}
    out = tmp_path / "bar"
    sweep.train(out=out, backend="sequential", chunk_size=16, **settings)
    first = capsys.readouterr().err
    assert "40/40" in first and "trial" in first and "resuming" not in first
    parts = sorted(out.glob("*.parquet"))
    parts[0].unlink()  # as if the run died before its last write
    sweep.train(out=out, backend="sequential", chunk_size=16, **settings)
    again = capsys.readouterr()
    assert "resuming: 24 trials already stored" in again.err and "16/16" in again.err
    assert again.out == ""  # stdout is for results


def test_a_hidden_bar_leaves_tqdm_unloaded(tmp_path):
    code = (
        "import sys, sweep; sweep.train(out=sys.argv[1], task='xor', seeds='0:2', "
        "lr='0.5', width='2', epochs=10, progress=False); "
        "assert 'tqdm' not in sys.modules, 'tqdm loaded'"
    )
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "quiet")], check=True)


def test_parallel_backends_give_identical_rows(small_sweep, tmp_path):
    _, df = small_sweep
    for backend in ("loky", "threading"):
        got = sweep.run(out=tmp_path / backend, backend=backend, jobs=2, **SMALL)
        pd.testing.assert_frame_equal(got, df)


def test_metadata_is_stored_with_the_results(small_sweep):
    import json

    import pyarrow.parquet as pq

    out, _ = small_sweep
    side = json.loads((out / "_sweep.json").read_text())
    assert side["specs"][0]["seeds"] == "0:20"
    assert "numba" in side["versions"] and side["created"]
    meta = pq.read_schema(next(out.glob("*.parquet"))).metadata
    assert json.loads(meta[b"sweep"])["spec"]["epochs"] == [300]


def test_a_sweep_on_the_tiled_kernel_stores_the_general_kernels_values(tmp_path):
    from kernels import codegen
    from sweep.runner.plan import plan

    epochs = 1000
    seeds = -(-codegen.MIN_WORK // epochs)  # enough work for the plan to generate xor H = 2
    axes = dict(seeds=f"0:{seeds}", lr=2.0, width=2, epochs=epochs, curve_every=100)
    assert {c.kernel for c in plan(sweep.make_config(**axes))} == {"tiled"}
    df = sweep.run(out=tmp_path / "u", backend="sequential", progress=False, **axes)
    df = df.sort_values("seed")
    X, Y = get_task("xor")
    params = init_batch(df.seed.to_numpy(), 2, 2, 1)
    direct = train_batch(X, Y, params, 2.0, epochs, 0.1, 100, kernel="general")
    np.testing.assert_array_equal(np.stack(df.loss_curve), direct.loss_curve.T)
    np.testing.assert_array_equal(np.stack(df.w_out), direct.flat_params()[:, 6:8])
    np.testing.assert_array_equal(
        df.epoch_converged.fillna(-1).to_numpy(dtype=np.int64), direct.epoch_converged
    )


def test_float32_sweep_stores_float64_columns(tmp_path):
    df = sweep.run(
        out=tmp_path / "f32",
        seeds="0:4",
        lr=0.5,
        width=2,
        epochs=50,
        dtype="float32",
        progress=False,
        backend="sequential",
    )
    assert df["final_loss"].dtype == np.float64 and (df["dtype"] == "float32").all()


def test_a_different_sweep_is_refused_and_leaves_results_untouched(small_sweep):
    out, df = small_sweep
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    with pytest.raises(sweep.ConfigError, match="different sweep .*differs in seeds"):
        sweep.run(out=out, **{**SMALL, "seeds": "1:21"})  # drops seed 0
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_more_seeds_or_values_grow_a_sweep_without_a_flag(tmp_path):
    out = tmp_path / "g"
    base = dict(width=2, epochs=50, progress=False, backend="sequential")
    first = sweep.run(out=out, seeds="0:4", lr=0.5, **base)
    parts = set(out.glob("*.parquet"))
    grown = sweep.run(out=out, seeds="0:6", lr="0.5,1", **base)  # a superset: no flag needed
    assert len(grown) == 12 and set(first.trial_id) < set(grown.trial_id)
    assert parts < set(out.glob("*.parquet"))  # the stored parts stay; new trials added
    sidecar = json.loads((out / "_sweep.json").read_text())
    assert len(sidecar["specs"]) == 1 and sidecar["runs"][-1]["grew_from"][0]["seeds"] == "0:4"
    for changed in (dict(seeds="0:6", lr=0.5, epochs=60), dict(seeds="1:6", lr="0.5,1")):
        with pytest.raises(sweep.ConfigError, match="does not contain"):
            sweep.run(out=out, **{**base, **changed})


def test_extend_and_overwrite(tmp_path):
    out = tmp_path / "x"
    base = dict(lr=0.5, width=2, epochs=50, progress=False, backend="sequential")
    sweep.run(out=out, seeds="0:4", **base)
    extended = sweep.run(out=out, seeds="0:6", extend=True, **base)
    assert len(extended) == 6 and len(sweep.load(out)) == 6
    replaced = sweep.run(out=out, seeds="10:12", overwrite=True, **base)
    assert len(replaced) == 2 and sorted(sweep.load(out).seed) == [10, 11]


def test_refusals(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(sweep.ConfigError, match="is a file"):
        sweep.run(out=a_file, seeds=1, progress=False)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(sweep.ConfigError, match="holds no sweep"):
        sweep.run(out=foreign, seeds=1, progress=False)
    assert (foreign / "notes.txt").read_text() == "mine"
    with pytest.raises(sweep.ConfigError, match="^grid: .*exceeds the limit"):
        sweep.run(out=tmp_path / "huge", seeds="0:4000000", lr="log:0.01:10:7", width="1:3")
    assert not (tmp_path / "huge").exists()


def test_a_locked_folder_is_refused(tmp_path):
    import fcntl

    out = tmp_path / "locked"
    sweep.run(out=out, seeds="0:2", lr=0.5, width=2, epochs=20, progress=False)
    with open(out / ".lock", "a") as held:  # another process's flock, as a run holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(sweep.SweepError, match="in use"):
            sweep.run(out=out, seeds="0:2", lr=0.5, width=2, epochs=20, progress=False)


#: A folder written by release 0.1.0 (commit 00ffb25), before the training recipes.
RELEASE_0_1 = Path(__file__).parent / "data" / "results-0.1.0"
RELEASE_0_1_SWEEP = dict(
    task="xor,parity3", seeds="0:6", lr="0.5,3", width="2,3", epochs=60, curve_every=20
)


def test_a_folder_of_the_previous_release_resumes_with_nothing_to_train(tmp_path):
    out = tmp_path / "old"
    shutil.copytree(RELEASE_0_1, out)
    before = sorted(p.name for p in out.glob("*.parquet"))
    df = sweep.run(out=out, backend="sequential", progress=False, **RELEASE_0_1_SWEEP)
    assert sorted(p.name for p in out.glob("*.parquet")) == before  # nothing trained
    assert len(df) == 48 and tuple(df.columns) == COLUMNS
    # Its trials ran the default recipe: the new columns say so.
    assert (df["momentum"] == 0).all() and (df["update"] == "batch").all()
    assert (df.targets == "0:1").all() and (df.activation == "logistic").all()
    assert df.mse_target.isna().all() and df.epoch_mse_target.isna().all()
    fresh = sweep.run(
        out=tmp_path / "new", backend="sequential", progress=False, **RELEASE_0_1_SWEEP
    )
    pd.testing.assert_frame_equal(df, fresh)  # the same ids and values, bit for bit
    old, new = (sweep.report(folder).table for folder in (RELEASE_0_1, tmp_path / "new"))
    pd.testing.assert_frame_equal(old, new)  # its parts lack columns: read as their defaults


def test_random_search_union_and_paired_init_ranges_end_to_end(tmp_path):
    base = dict(epochs=60, progress=False, backend="sequential")
    sampled = sweep.run(
        out=tmp_path / "s", seeds="0:3", lr="loguniform:0.05:5", samples=8, width=2, **base
    )
    assert len(sampled) == 24 and sampled.lr.nunique() == 8
    again = sweep.train(
        out=tmp_path / "s", seeds="0:3", lr="loguniform:0.05:5", samples=8, width=2, **base
    )
    assert again.trained == 0 and again.stored_before == 24  # resumes: the same points
    grown = sweep.train(
        out=tmp_path / "s", seeds="0:3", lr="loguniform:0.05:5", samples=16, width=2, **base
    )
    assert grown.trained == 24 and grown.stored_before == 24  # 8 more points, no flag
    paired = sweep.run(
        out=tmp_path / "r", seeds="0:4", lr=0.5, width=2, init_radius="0.5,2", **base
    )
    assert sorted(set(zip(paired.init_low, paired.init_high, strict=True))) == [
        (-2.0, 2.0),
        (-0.5, 0.5),
    ]
    toml = tmp_path / "union.toml"
    toml.write_text(
        'seeds = "0:4"\nepochs = 60\n[[grid]]\nlr = [0.5, 1.0]\nwidth = 2\n'
        "[[grid]]\nlr = [1.0, 2.0]\nwidth = [2, 3]\n"
    )
    union = sweep.run(toml, out=tmp_path / "u", progress=False, backend="sequential")
    assert len(union) == 4 * (3 + 2) and union.trial_id.is_unique


def test_log_spaced_loss_curves_start_at_epoch_0(tmp_path):
    from kernels.model import curve_epochs

    df = sweep.run(
        out=tmp_path / "c",
        seeds="0:3",
        lr=1.0,
        width=2,
        epochs=5000,
        curve="log",
        progress=False,
        backend="sequential",
    )
    points = curve_epochs(5000, 100, "log")
    assert points[0] == 0 and points[1] == 1 and points[-1] == 5000 and 100 <= len(points) <= 102
    assert (df.curve == "log").all() and df.loss_curve.map(len).eq(len(points)).all()
    assert df.loss_curve.map(lambda c: c[-1]).tolist() == df.final_loss.tolist()


def test_a_dry_run_estimates_and_writes_nothing(tmp_path):
    out = tmp_path / "dry"
    text = sweep.dry_run(out=out, seeds="0:100", lr="0.5,1", width="2,3", epochs=1000)
    assert "trials: 400 in 2 shapes" in text and "time:" in text and "disk:" in text
    assert not out.exists()


def test_summary_storage_keeps_the_statistics_without_the_arrays(tmp_path, small_sweep):
    _, full = small_sweep
    out = tmp_path / "summary"
    summary = sweep.run(out=out, backend="sequential", chunk_size=16, store="summary", **SMALL)
    arrays = ["outputs", "loss_curve", "w_hidden", "b_hidden", "w_out", "b_out"]
    pd.testing.assert_frame_equal(summary.drop(columns=arrays), full.drop(columns=arrays))
    assert summary[arrays].isna().all().all()  # read as nulls, in every reader
    assert not set(arrays) & set(pd.read_parquet(out).columns)
    assert sweep.report(out, failures=True).table.trials.sum() == len(full)


def test_summary_storage_of_random_guessing_is_compact(tmp_path):
    out = tmp_path / "guess"
    sweep.run(out=out, seeds="0:20000", lr=0.5, width=2, epochs=0, store="summary", progress=False)
    size = sum(p.stat().st_size for p in out.glob("*.parquet"))
    assert size / 20_000 <= 40  # bytes a trial (issue: scale)
