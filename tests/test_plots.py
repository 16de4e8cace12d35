"""Every figure renders from a small real sweep into a valid PNG."""

from pathlib import Path

import pytest

import sweep
from sweep.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def real_sweep(tmp_path_factory):
    out = tmp_path_factory.mktemp("plots") / "s"
    sweep.run(
        out=out,
        seeds="0:30",
        lr="log:0.1:10:3",
        width="1:4",
        epochs=800,
        progress=False,
        backend="sequential",
    )
    return out


def test_report_writes_every_plot_as_a_sensible_png(real_sweep, tmp_path, capsys):
    plots = tmp_path / "plots"
    main(["report", str(real_sweep), "--plots", str(plots)])
    names = sorted(p.name for p in plots.iterdir())
    assert names == [
        "convergence_rate.png",
        "loss_curves.png",
        "median_epochs.png",
        "time_to_converge.png",
    ]
    for png in plots.iterdir():
        data = png.read_bytes()
        assert data.startswith(PNG)
        width = int.from_bytes(data[16:20], "big")
        height = int.from_bytes(data[20:24], "big")
        assert 500 <= width <= 4000 and 300 <= height <= 4000 and len(data) > 20_000
    assert "wrote" in capsys.readouterr().err


def test_plots_for_other_grouping_keys(real_sweep, tmp_path):
    from sweep.reporting.aggregate import aggregate
    from sweep.reporting.plots import write_plots

    paths = write_plots(aggregate(real_sweep, curves=True), tmp_path, by=["width"])
    assert len(paths) == 4 and all(p.stat().st_size > 10_000 for p in paths)


@pytest.mark.parametrize(
    "rate, text",
    [
        (0.0, "0%"),
        (1.0, "100%"),
        (0.5, "50%"),
        (0.999, "99.90%"),
        (0.004, "0.40%"),
        (0.9996, "99.960%"),
        (0.0004, "0.040%"),
        (0.000498, "0.050%"),
        (0.026, "3%"),
    ],
)
def test_heatmap_percentages_never_round_to_a_false_0_or_100(rate, text):
    from sweep.reporting.text import percent

    assert percent(rate) == text


@pytest.fixture
def titles(monkeypatch):
    """The titles of the figures saved while the test runs, by file name."""
    from matplotlib.figure import Figure

    seen = {}
    save = Figure.savefig

    def record(fig, file, *args, **kwargs):
        seen[Path(file).name] = fig.get_suptitle()
        return save(fig, file, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    return seen


@pytest.mark.parametrize(
    "task, digest, said",
    [
        ("xor", "", "xor"),
        ("table:0110", "0123456789abcdef", "table:0110"),  # the name is the data
        ("sine", "f93732660dcb8910", "sine (data f9373266)"),  # a file: its data's digest
    ],
)
def test_the_fixed_settings_name_a_task_by_its_data(task, digest, said):
    from sweep.reporting.titles import fixed_settings

    fixed = {"task": task, "task_digest": digest, "epochs": 300, "tol": 0.1}
    assert fixed_settings(fixed) == f"{said} · 300 epochs · tol 0.1"


def test_every_figure_says_what_it_shows_and_the_settings_it_fixes(real_sweep, tmp_path, titles):
    sweep.report(real_sweep, plots=tmp_path)
    assert len(titles) == 4
    for name, text in titles.items():
        what, settings = text.split("\n")
        assert what[0].isupper() and "=" not in what, name  # not a panel's title
        # The design, defaults included: xor, tol 0.1 and U[0, 1) are the defaults.
        assert settings == "270 trials · xor · 800 epochs · tol 0.1 · init U[0, 1)", name


def test_a_random_search_is_shown_in_bins_of_each_sampled_axis(tmp_path, titles):
    out = tmp_path / "s"
    sweep.run(
        out=out,
        lr="loguniform:0.1:10",
        momentum="uniform:0:0.9",
        samples=40,
        seeds="0:4",
        width="2,3",
        epochs=300,
        progress=False,
        backend="sequential",
    )
    shown = sweep.report(out, plots=tmp_path / "figures")
    blocks = shown.table.groupby("axis", sort=False)
    assert [axis for axis, _ in blocks] == ["lr", "momentum"]
    for _, block in blocks:
        assert block.groupby("width")["points"].sum().tolist() == [40, 40]
        assert (block["low"] < block["high"]).all() and len(block) <= 20
        assert ((block.rate_low <= block.rate) & (block.rate <= block.rate_high)).all()
    lr = shown.table[shown.table.axis == "lr"]
    assert lr["high"].max() == pytest.approx(10) and lr["low"].min() == pytest.approx(0.1)
    assert (lr["high"] / lr["low"]).round(6).nunique() == 1  # log-spaced bins
    assert "lr: sampled loguniform:0.1:10 (40 points), in 10 log-spaced bins" in shown.text
    assert "pooled over the other sampled axes: momentum (40 points)" in shown.text
    assert len(shown.text.splitlines()) < 60  # no table per point
    assert sorted(titles) == [
        "loss_curves.png",
        "rate_by_sampled_axis.png",
        "rate_by_sampled_pair.png",
        "time_to_converge.png",
    ]
    for name, text in titles.items():
        assert text.split("\n")[-1].startswith("320 trials") and "300 epochs" in text, name
    for curves in ("loss_curves.png", "time_to_converge.png"):  # lr in bins, momentum pooled
        assert "pooled over: momentum (40 values)" in titles[curves]
    page = tmp_path / "r.html"
    sweep.report(out, html=page)
    assert page.read_text().count("log-spaced bins") == 2  # convergence and failures
    from sweep.reporting.aggregate import aggregate
    from sweep.reporting.summary import summary

    said = summary(aggregate(out))
    assert said.startswith("320 trials") and "momentum: sampled uniform:0:0.9" in said
    assert len(said.splitlines()) < 60


@pytest.mark.parametrize(
    "n, shape", [(1, (1, 1)), (4, (1, 4)), (5, (2, 3)), (8, (2, 4)), (9, (3, 3))]
)
def test_panels_fill_their_rows_evenly(n, shape):
    import matplotlib.pyplot as plt

    from sweep.reporting.plots import _grid

    fig, axes = _grid(n, 2.0, 2.0, 1)
    assert axes.shape == shape and sum(ax.get_visible() for ax in axes.flat) == n
    plt.close(fig)


def test_a_regression_task_s_heatmap_is_its_mean_final_mse(tmp_path, monkeypatch):
    import pandas as pd
    from matplotlib.figure import Figure

    from sweep.reporting.aggregate import Aggregate
    from sweep.reporting.heatmaps import heatmaps_of
    from sweep.reporting.plots import _heatmaps

    cells = {}
    save = Figure.savefig

    def record(fig, file, *args, **kwargs):  # the text written on each figure's cells
        cells[Path(file).name] = sorted(t.get_text() for ax in fig.axes for t in ax.texts)
        return save(fig, file, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    nan, never = float("nan"), pd.array([None] * 6, dtype="Int64")
    df = pd.DataFrame(
        {
            "task": "wave",
            "lr": [0.1, 0.1, 1.0, 1.0, 0.1, 0.1],  # no trial at lr 1, width 3
            "width": [2, 2, 2, 2, 3, 3],
            "converged": False,
            "epoch_converged": never,
            "epoch_solved": never,
            "diverged": [False, False, True, True, False, False],
            "final_loss": [0.2, 0.4, nan, nan, 0.1, 0.1],
        }
    )
    agg = Aggregate.from_frame(df)
    assert [spec.file for spec in heatmaps_of(agg)] == ["convergence_rate.png", "median_epochs.png"]
    agg.regression = frozenset({"wave"})
    specs = heatmaps_of(agg)
    assert [spec.file for spec in specs] == ["convergence_rate.png", "mean_final_mse.png"]
    for spec in specs:
        _heatmaps(agg, ["lr", "width"], spec, tmp_path / spec.file)
    assert cells["mean_final_mse.png"] == ["0.1", "0.3", "diverged", "n/a"]
    assert cells["convergence_rate.png"] == ["0%", "0%", "0%", "n/a"]
    mixed = Aggregate.from_frame(pd.concat([df, df.assign(task="xor")]))
    mixed.regression = frozenset({"wave"})
    assert [spec.file for spec in heatmaps_of(mixed)][1:] == [
        "median_epochs.png",
        "mean_final_mse.png",
    ]
