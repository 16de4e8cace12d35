"""Statistics on synthetic frames with answers worked out by hand."""

import numpy as np
import pandas as pd
import pytest

from sweep.reporting.aggregate import Aggregate
from sweep.reporting.analysis import (
    compare,
    convergence_table,
    epoch_grid,
    failure_modes,
    pooled_note,
    time_to_converge,
    varying,
    wilson_interval,
)


def frame(groups):
    """Rows from {(lr, width): [epoch_converged or None, ...]} with 100-epoch budgets."""
    rows = []
    for (lr, width), epochs in groups.items():
        for e in epochs:
            rows.append(
                {
                    "lr": lr,
                    "width": width,
                    "epochs": 100,
                    "converged": e is not None,
                    "epoch_converged": e,
                    "epoch_solved": e,
                    "diverged": False,
                    "final_loss": 0.01 if e is not None else 0.2,
                    "loss_curve": [0.3, 0.2, 0.1, 0.01]
                    if e is not None
                    else [0.3, 0.25, 0.25, 0.25],
                }
            )
    df = pd.DataFrame(rows)
    df["epoch_converged"] = df["epoch_converged"].astype("Int64")
    df["epoch_solved"] = df["epoch_solved"].astype("Int64")
    return df


def test_wilson_interval_against_hand_computed_values():
    # 8/10 at z = 1.96: centre 0.71674, half-width 0.22658 (Wilson 1927; Newcombe 1998 table I).
    low, high = wilson_interval(8, 10)
    assert low == pytest.approx(0.4902, abs=1e-4) and high == pytest.approx(0.9433, abs=1e-4)
    low, high = wilson_interval(0, 10)
    assert low == 0 and high == pytest.approx(0.2775, abs=1e-4)  # exactly 0, not 2e-19
    low, high = wilson_interval(10, 10)
    assert low == pytest.approx(0.7225, abs=1e-4) and high == 1
    k, n = np.arange(0, 1001), np.full(1001, 1000)
    low, high = wilson_interval(k, n)
    assert (low >= 0).all() and (low <= k / n).all() and (k / n <= high).all() and (high <= 1).all()
    assert np.isnan(wilson_interval(0, 0)[0])


def test_a_digest_varies_only_where_one_task_name_has_several():
    df = frame({(0.1, 2): [10, None, 30, None]})
    # Built-in tasks have no digest, a truth table its own: the task names tell
    # them apart, and no table shows the digest.
    df["task"] = ["xor", "xor", "table:0110", "table:0110"]
    df["task_digest"] = ["", "", "dfe945b3a4948edd", "dfe945b3a4948edd"]
    assert varying(df) == ["task"]
    assert pooled_note(df, ["task"]) is None
    assert Aggregate.from_frame(df).varying() == ["task"]
    # One file edited between two runs into one folder: the same name, two
    # contents, which a table keyed by the name alone would pool.
    df["task"] = "data.csv"
    df["task_digest"] = ["aaaa", "aaaa", "bbbb", "bbbb"]
    assert varying(df) == ["task_digest"]
    assert pooled_note(df, []) == "pooled over: task_digest (2 values)"
    assert Aggregate.from_frame(df).varying() == ["task_digest"]


def test_convergence_table():
    df = frame({(0.1, 2): [10, 20, 30, None], (1.0, 2): [None, None], (0.1, 3): [5, 5, 7]})
    t = convergence_table(df).set_index(["lr", "width"])
    assert list(t.index) == [(0.1, 2), (0.1, 3), (1.0, 2)]  # order from the data, sorted
    row = t.loc[(0.1, 2)]
    assert row.trials == 4 and row.converged == 3 and row.rate == 0.75
    assert row.epochs_median == 20 and row.epochs_p10 == pytest.approx(12.0)
    assert row.rate_low == pytest.approx(wilson_interval(3, 4)[0])
    zero = t.loc[(1.0, 2)]
    assert zero.rate == 0 and np.isnan(zero.epochs_median) and zero.rate_low == 0
    assert t.loc[(0.1, 3)].epochs_median == 5


def test_convergence_table_any_keys_and_empty_frames():
    df = frame({(0.1, 2): [10, None], (0.5, 2): [3]})
    by_width = convergence_table(df, "width")
    assert by_width.width.tolist() == [2] and by_width.trials.tolist() == [3]
    assert convergence_table(df.iloc[:0]).empty
    with pytest.raises(KeyError, match="colour"):
        convergence_table(df, "colour")


def test_time_to_converge_censors_never_converged_trials():
    df = frame({(0.1, 2): [10, 20, None, None]})
    curve = time_to_converge(df)
    f = dict(zip(curve.epoch, curve.fraction_converged, strict=True))
    assert f[0] == 0 and f[10] == 0.25 and f[20] == 0.5 and f[100] == 0.5
    assert curve.fraction_converged.is_monotonic_increasing
    assert (curve.trials == 4).all()
    # Each point's band is the Wilson interval of its count: 2 of 4 by epoch 20.
    band = curve.set_index("epoch").loc[[0, 20], ["fraction_low", "fraction_high"]]
    assert band.iloc[0].tolist() == [0.0, pytest.approx(0.4899, abs=1e-4)]
    assert band.iloc[1].tolist() == pytest.approx([0.1500, 0.8500], abs=1e-4)
    low, high = curve.fraction_low, curve.fraction_high
    assert ((low >= 0) & (low <= curve.fraction_converged)).all()
    assert ((curve.fraction_converged <= high) & (high <= 1)).all()


def test_all_diverged_group():
    df = frame({(50.0, 2): [None, None]})
    df["diverged"] = True
    t = convergence_table(df)
    assert t.diverged_rate.iloc[0] == 1 and t.rate.iloc[0] == 0
    assert (failure_modes(df).failure == "diverged").all()


def test_failure_modes_classify_and_do_not_mutate():
    df = frame({(0.1, 2): [10, None, None]})
    df.loc[2, "loss_curve"] = [0.3, 0.29, 0.28, 0.2]  # still falling at the end
    before = df.copy()
    out = failure_modes(df)
    assert out.failure.tolist() == ["converged", "stuck", "slow"]
    pd.testing.assert_frame_equal(df, before)
    assert "failure" not in df


def test_compare_two_sweeps():
    a = frame({(0.1, 2): [1] * 50 + [None] * 50})
    b = frame({(0.1, 2): [1] * 80 + [None] * 20})
    c = compare(a, b)
    row = c.iloc[0]
    assert row.difference == pytest.approx(0.3)
    assert 0 < row.difference_low < 0.3 < row.difference_high < 0.5
    same = compare(a, a).iloc[0]
    assert same.difference == 0 and same.difference_low < 0 < same.difference_high


def test_a_curves_epochs_are_fine_on_a_linear_axis_and_a_log_one():
    grid = epoch_grid(10_000, 200, np.array([5_000]))
    assert grid[0] == 0 and grid[-1] == 10_000 and (np.diff(grid) > 0).all()
    assert np.diff(grid).max() <= 10_000 / 199 + 1  # even steps late on
    assert {1, 2, 3, 4, 5} <= set(grid.tolist())  # log steps early on
    assert len(grid) <= 2 * 200 + 2
    assert epoch_grid(100, None, np.array([7, 9])).tolist() == [0, 7, 9, 100]  # exact
