"""A worker's task (train a chunk) and the rows the driver builds from it."""

import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa

from sweep.config.schema import SCHEMA
from sweep.config.study import make_config
from sweep.runner.plan import plan
from sweep.runner.rows import chunk_rows, run_chunk, to_table


def test_a_worker_returns_its_index_and_the_driver_builds_the_same_rows():
    chunk = plan(make_config(seeds="0:6", lr="0.5,2", width=2, epochs=30))[0]
    index, result, seconds = run_chunk(chunk, 7)
    assert seconds > 0
    assert index == 7 and result.final_loss.shape == (chunk.size,)
    table = to_table(chunk, result)
    assert table.schema == SCHEMA and table.num_rows == chunk.size
    assert table.equals(chunk_rows(chunk)[0])
    np.testing.assert_array_equal(table["seed"].to_numpy(), chunk.seeds)
    assert isinstance(table["loss_curve"].combine_chunks(), pa.ListArray)


def test_a_worker_never_imports_pandas():
    # pyarrow imports pandas with the first array it builds (0.25 s of every
    # worker's start): rows are built by the driver.
    script = textwrap.dedent("""
        import pickle, sys
        from sweep.config.study import make_config
        from sweep.runner.plan import plan
        data = pickle.dumps(plan(make_config(seeds="0:4", lr=0.5, width=2, epochs=20))[0])
        for name in [m for m in sys.modules if m.startswith(("pandas", "sweep"))]:
            del sys.modules[name]  # a fresh worker: unpickles the chunk, runs the task
        from sweep.runner.rows import run_chunk
        index, result, seconds = run_chunk(pickle.loads(data), 0)
        print(result.final_loss.size, "pandas" in sys.modules)
    """)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["4", "False"]


def test_a_chunk_with_restarts_counts_them_and_total_epochs():
    config = make_config(
        seeds="0:30", lr="4,8", width=2, epochs=600, tol=0.2, init_low=-1.0, restart_after=100
    )
    table = chunk_rows(plan(config)[0])[0].to_pandas()
    restarts = table["restarts"].to_numpy()
    assert table["restart_after"].eq(100).all() and restarts.max() >= 2 and (restarts == 0).any()
    done = table["epoch_converged"].notna().to_numpy()
    epochs = table["epoch_converged"].to_numpy(dtype=float, na_value=-1)
    # A converged attempt began at restarts x N and converged within its N epochs.
    assert (epochs[done] >= restarts[done] * 100).all()
    assert (epochs[done] <= restarts[done] * 100 + 100).all()
    assert (restarts[~done] == 5).all()  # restarted at every boundary before the last epoch


def test_shortcut_weights_are_stored_only_for_networks_that_have_them():
    import pytest

    from kernels import get_task, init_batch, train_batch

    config = make_config(
        seeds="0:20",
        lr=0.5,
        width=1,
        epochs=2000,
        momentum=0.9,
        init_low=-0.5,
        init_high=0.5,
        shortcuts="false,true",
    )
    tables = [chunk_rows(chunk)[0].to_pandas() for chunk in plan(config)]
    rows = {bool(t["shortcuts"].iloc[0]): t for t in tables}
    assert rows[False]["w_shortcut"].isna().all()
    assert rows[True]["w_shortcut"].map(len).eq(2).all()  # XOR: 2 inputs x 1 output
    # One hidden unit cannot compute XOR; with direct input -> output weights it can.
    assert not rows[False]["converged"].any() and rows[True]["converged"].mean() > 0.5
    X, Y = get_task("xor")
    with pytest.raises(ValueError, match="shortcuts"):
        train_batch(X, Y, init_batch([0], 2, 1, 1, shortcuts=True), 0.5, 5, kernel="tiled")


def test_a_second_hidden_layer_is_stored_in_its_own_columns():
    config = make_config(seeds="0:6", lr=2.0, width=2, width2="0,3", epochs=50)
    rows = {
        int(t["width2"][0].as_py()): t.to_pandas()
        for t in (chunk_rows(chunk)[0] for chunk in plan(config))
    }
    assert rows[0]["w_hidden2"].isna().all() and rows[0]["b_hidden2"].isna().all()
    assert rows[3]["w_hidden2"].map(len).eq(6).all() and rows[3]["b_hidden2"].map(len).eq(3).all()
    assert rows[3]["w_out"].map(len).eq(3).all()  # from the second layer's three units
