"""Every figure renders from a small real sweep into a valid PNG."""

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
    from sweep.reporting.plots import write_plots

    paths = write_plots(sweep.load(real_sweep), tmp_path, by=["width"])
    assert len(paths) == 4 and all(p.stat().st_size > 10_000 for p in paths)


@pytest.mark.parametrize(
    "rate, text",
    [
        (0.0, "0%"),
        (1.0, "100%"),
        (0.5, "50%"),
        (0.999, "99.9%"),
        (0.004, "0.4%"),
        (0.9996, ">99.9%"),
        (0.0004, "<0.1%"),
        (0.026, "3%"),
    ],
)
def test_heatmap_percentages_never_round_to_a_false_0_or_100(rate, text):
    from sweep.reporting.text import percent

    assert percent(rate) == text
