"""Reports computed part by part (sweep.reporting.aggregate): the same statistics as
the frame-based analysis, without loading the rows; rare rates that show;
paired and complementary comparisons; figures' titles."""

import math

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sweep
from sweep.errors import ConfigError
from sweep.intervals import wilson_interval
from sweep.reporting import analysis, reports  # noqa: F401 (imported before patching)
from sweep.reporting.aggregate import aggregate
from sweep.reporting.paired import mcnemar_p, paired_interval
from sweep.reporting.text import failure_table, rate_text
from sweep.reporting.titles import title

#: One worker runs this module: its sweep (the ``varied`` fixture) is trained once.
pytestmark = pytest.mark.xdist_group("test_aggregate")


@pytest.fixture(scope="module")
def varied(tmp_path_factory):
    out = tmp_path_factory.mktemp("agg") / "s"
    df = sweep.run(
        out=out,
        seeds="0:60",
        lr="0.3,2",
        width="1,2,3",
        tol="0.1,0.2",  # a third axis that compiles no other kernel
        epochs=600,
        chunk_size=37,
        backend="sequential",
        progress=False,
    )
    return out, df


@pytest.mark.parametrize("keys", [["lr", "width", "tol"], ["width"], ["tol", "lr"]])
def test_the_streamed_statistics_are_the_in_memory_ones(varied, keys):
    out, df = varied
    agg = aggregate(out, failures=True)
    pd.testing.assert_frame_equal(
        agg.table(keys), analysis.convergence_table(df, keys), check_exact=False, rtol=1e-12
    )
    pd.testing.assert_frame_equal(
        agg.time_to_converge(keys, points=40), analysis.time_to_converge(df, keys, points=40)
    )
    pd.testing.assert_frame_equal(
        agg.failure_table(keys), failure_table(df, keys), check_dtype=False
    )
    assert agg.varying() == analysis.varying(df) and agg.trials == len(df)
    assert agg.pooled_note(["lr"]) == analysis.pooled_note(df, ["lr"])


def test_reports_never_load_every_row(varied, monkeypatch):
    from sweep.store import reader

    def refuse(*args, **kwargs):
        raise AssertionError("a report read the whole folder")

    monkeypatch.setattr(reader, "read", refuse)
    monkeypatch.setattr(reader, "load", refuse)
    report = sweep.report(varied[0], where="width > 1", failures=True)
    assert report.table["trials"].sum() == 60 * 2 * 2 * 2  # widths 2 and 3


@pytest.mark.parametrize(
    "k, n, text",
    [
        (498, 1_000_000, "0.0498% [0.0456%, 0.0544%]"),
        (8, 10, "80.0% [49.0%, 94.3%]"),
        (0, 400, "0% [0%, 0.95%]"),
        (400, 400, "100% [99.05%, 100%]"),
    ],
)
def test_a_rate_shows_as_many_digits_as_its_interval_needs(k, n, text):
    low, high = wilson_interval(k, n)
    assert rate_text(k / n, float(low), float(high)) == text


@given(st.integers(1, 10**8), st.data())
def test_a_count_above_zero_never_reads_as_zero(n, data):
    k = data.draw(st.integers(1, n))
    low, high = wilson_interval(k, n)
    shown = rate_text(k / n, float(low), float(high)).split()[0]
    assert float(shown.rstrip("%")) > 0 and (k == n or float(shown.rstrip("%")) < 100)


def test_trials_of_a_run_of_no_epochs_are_untrained_not_slow(tmp_path):
    out = tmp_path / "g"
    sweep.run(out=out, seeds="0:300", lr=1, width=2, epochs=0, init_radius=10, progress=False)
    table = sweep.report(out, failures=True).table
    assert table["slow"].sum() == 0 and table["stuck"].sum() == 0
    assert table["untrained"].sum() + table["converged"].sum() == 300


def test_a_selection_is_compared_with_the_rest_and_overlaps_are_refused(varied):
    out, df = varied
    alone = sweep.compare_report(out, where_a="tol == 0.1", by="lr")
    assert any("B: the rest of the folder" in line for line in alone.text.splitlines()[:3])
    with pytest.raises(ConfigError, match="share 120 trials"):
        sweep.compare_report(out, where_a="tol == 0.1", where_b="width == 2")


def test_a_paired_comparison_is_narrower_than_an_unpaired_one(tmp_path):
    out = tmp_path / "m"
    df = sweep.run(out=out, seeds="0:1000", lr="0.5,1", width=2, epochs=2000, progress=False)
    paired = sweep.compare_report(out, where_a="lr == 0.5", where_b="lr == 1")
    assert "paired by seed" in paired.text and paired.table["pairs"].tolist() == [1000]
    a, b = df[df.lr == 0.5], df[df.lr == 1]
    unpaired = analysis.compare(a, b, by=["width"])
    width_paired = (paired.table["difference_high"] - paired.table["difference_low"]).item()
    width_unpaired = (unpaired["difference_high"] - unpaired["difference_low"]).item()
    assert width_paired < width_unpaired
    assert paired.table["difference"].iloc[0] == pytest.approx(
        unpaired["difference"].iloc[0], abs=1e-12
    )


def test_mcnemar_and_the_paired_interval_by_hand():
    assert mcnemar_p(0, 0) == 1.0
    assert mcnemar_p(10, 0) == pytest.approx(2 * 0.5**10)
    diff, low, high = paired_interval(40, 5, 15, 40)
    assert diff == pytest.approx(0.1) and -1 <= low < diff < high <= 1
    # no discordant pairs: the difference is 0 and the interval holds it
    diff, low, high = paired_interval(50, 0, 0, 50)
    assert diff == 0 and low < 0 < high


def test_a_figure_title_is_two_lines_of_the_design_and_what_is_not_the_default():
    fixed = {
        "task": "xor",
        "epochs": 10_000,
        "tol": 0.1,
        "optimizer": "gd",
        "beta1": 0.9,
        "momentum": 0.9,
        "init": "uniform",
        "init_low": -0.5,
        "init_high": 0.5,
        "lr": 0.5,
    }
    text = title(4_000, fixed, "Convergence rate")
    assert text.count("\n") == 1 and "beta1" not in text and "optimizer" not in text
    # The design is stated even where it is the default (xor, tol 0.1).
    assert "4,000 trials · xor · 10,000 epochs · tol 0.1 · init U[-0.5, 0.5)" in text
    assert "momentum 0.9" in text
    # A radius is not a range: the initialiser says which.
    normal = title(1, {**fixed, "init": "normal", "init_low": -2.0, "init_high": 2.0}, "x")
    assert "init N(0, R²), R 2" in normal and "U[" not in normal and "normal" not in normal
    long = title(1, {"lr": 0.5, "task": "a" * 300, "momentum": 0.5}, "x")
    assert long.count("\n") == 1 and len(long.splitlines()[1]) <= 140


def test_one_trial_is_drawn(varied, tmp_path):
    out, df = varied
    trial = df[df.converged].trial_id.iloc[0]
    fig = sweep.plot_trial(out, trial, out=tmp_path / "t.png")
    assert len(fig.axes) == 2 and (tmp_path / "t.png").stat().st_size > 10_000
    when = df[df.trial_id == trial].epoch_converged.iloc[0]
    assert f"seed {df[df.trial_id == trial].seed.iloc[0]}, converged at epoch {when:,}\n" in (
        fig.get_suptitle()
    )
    assert math.isclose(
        fig.axes[0].lines[0].get_ydata()[-1], df[df.trial_id == trial].loss_curve.iloc[0][-1]
    )
    with pytest.raises(ConfigError, match="no trial"):
        sweep.plot_trial(out, "0" * 16)


def test_a_notebook_gets_a_bar_and_a_report_renders_as_html(varied, monkeypatch):
    import sys
    import types

    from sweep.runner.training import progress_wanted

    shell = types.SimpleNamespace(config={"IPKernelApp": {}})
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    assert progress_wanted()
    html = sweep.report(varied[0], by="lr")._repr_html_()
    assert html.count("<tr") == 3 and "converged" in html
    assert "<p>pooled over: width (3 values), tol (2)</p><table" in html  # above it


def test_a_dry_run_says_when_the_run_would_be_refused(varied):
    text = sweep.dry_run(out=varied[0], seeds="0:60", lr=0.3, width=2, epochs=600)
    assert "the run would be refused: out:" in text and "--extend" in text
