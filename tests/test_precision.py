"""Studies to a precision (sweep.runner.precision): the stopping rule, equality with
a fixed sweep, resume, the seeds saved, bad input."""

import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

import sweep
from sweep.config.grid import blocks
from sweep.config.precision import Precision
from sweep.config.study import make_config, make_study
from sweep.intervals import wilson_interval
from sweep.runner.precision import Cell, Outcomes, Target, half_width, judge

SHAPE = next(blocks(make_config(seeds="0:2", lr=0.5, width=2, epochs=0))).shape


def _outcomes(rate: float, n: int, rng: np.random.Generator) -> Outcomes:
    hits = rng.random(n) < rate
    epochs = np.where(hits, rng.integers(100, 200, n), np.nan)
    return Outcomes(hits, hits, epochs)


def test_rounds_double_from_the_first_block_up_to_the_cap():
    assert Target(0.01, "converged", 0, 100, 1000).rounds() == [100, 200, 400, 800, 1000]
    assert Target(0.01, "converged", 5, 100, 100).rounds() == [100]
    # a rate of 1/2 needs (1.96 / (2 * 0.01))^2 = 9,604 seeds: round 12,800
    assert Target(0.01, "converged", 0, 100, 100_000).worst_case() == 12_800


def test_the_rule_closes_a_cell_once_its_interval_is_narrow_enough():
    rng = np.random.default_rng(0)
    target = Target(0.02, "converged", 0, 100, 1600)
    cells = [Cell(SHAPE, lr) for lr in (1.0, 2.0, 3.0)]
    sure, even = _outcomes(1.0, 100, rng), _outcomes(0.5, 100, rng)
    assert half_width("converged", sure) <= 0.02 < half_width("converged", even)
    judge(cells[:2], target, 100, {id(cells[0]): sure, id(cells[1]): even})
    assert not cells[0].open and cells[1].open and not cells[0].capped
    judge(cells[1:2], target, 1600, {id(cells[1]): _outcomes(0.5, 1600, rng)})
    assert not cells[1].open and cells[1].capped  # the cap, not the target, stopped it
    # the median's interval: relative half-width, from order statistics
    spread = Outcomes(np.ones(400, bool), np.ones(400, bool), rng.normal(1000, 50, 400))
    assert 0 < half_width("median-epochs", spread) < 0.01
    assert half_width("median-epochs", Outcomes(*(np.zeros(3, bool),) * 2, np.ones(3))) == np.inf


AXES = dict(lr="0.5,5", width="1,2", epochs=1500, backend="sequential", progress=False)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    out = tmp_path_factory.mktemp("precision") / "s"
    return out, sweep.run(out=out, seeds="0:50", precision=0.04, **AXES)


def test_a_study_stops_sure_cells_at_once_and_runs_even_ones_to_the_target(study):
    out, df = study
    n = df.groupby(["lr", "width"]).size()
    assert n[(0.5, 1)] == n[(5.0, 1)] == 50  # never converge: the first round decides
    assert n[(0.5, 2)] > 50  # about 3/4 converge: more rounds
    rates = df.groupby(["lr", "width"]).converged.agg(["sum", "size"])
    low, high = wilson_interval(rates["sum"], rates["size"])
    assert ((high - low) / 2 <= 0.04).all()


def test_a_study_equals_a_fixed_sweep_over_the_same_seeds(study, tmp_path):
    out, df = study
    most = int(df.groupby(["lr", "width"]).size().max())
    fixed = sweep.run(out=tmp_path / "fixed", seeds=f"0:{most}", **AXES)
    n = df.groupby(["lr", "width"]).seed.transform("size")
    same = fixed.merge(df[["trial_id"]], on="trial_id")
    assert len(same) == len(df)  # every trial of the study, id for id
    mine = df.sort_values("trial_id", ignore_index=True).drop(columns="trial_id")
    theirs = fixed[fixed.trial_id.isin(df.trial_id)].sort_values("trial_id", ignore_index=True)
    pd.testing.assert_frame_equal(mine, theirs.drop(columns="trial_id"))
    assert (df.seed < n).all()  # the first n seeds of each cell


def test_a_rerun_trains_nothing_and_a_tighter_precision_only_the_extra_rounds(study, tmp_path):
    out, df = study
    assert sweep.train(out=out, seeds="0:50", precision=0.04, **AXES).trained == 0
    tighter = tmp_path / "t"
    shutil.copytree(out, tighter)
    more = sweep.train(out=tighter, seeds="0:50", precision=0.02, **AXES)
    again = sweep.run(out=tmp_path / "fresh", seeds="0:50", precision=0.02, **AXES)
    assert more.trained == len(again) - len(df)


def test_a_study_killed_between_rounds_is_completed_by_a_rerun(tmp_path, study):
    out = tmp_path / "k"
    args = [
        sys.executable,
        "-m",
        "sweep",
        "run",
        "--seeds",
        "0:50",
        "--lr",
        "0.5,5",
        "--width",
        "1,2",
        "--epochs",
        "1500",
        "--precision",
        "0.04",
        "--chunk-size",
        "10",
        "--jobs",
        "1",
        "--quiet",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(args, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(list(out.glob("part-*.parquet"))) < 22 and time.monotonic() < deadline:
        assert proc.poll() is None, "the study finished before it could be killed"
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # in the second round (20 parts: the first)
    proc.wait()
    rerun = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    pd.testing.assert_frame_equal(sweep.load(out), study[1])


@pytest.mark.parametrize(
    "args, field",
    [
        (["--precision", "0.5"], "precision"),
        (["--precision", "0"], "precision"),
        (["--precision", "0.01", "--max-seeds", "50"], "max_seeds"),
        (
            ["--precision", "0.01", "--precision-of", "median-epochs", "--epochs", "0"],
            "median-epochs needs training",
        ),
        (["--precision", "0.01", "--seeds", "1,5,9"], "seeds"),
        (["--precision-of", "solved"], "only with --precision"),
    ],
)
def test_bad_precision_input_is_one_line_and_writes_nothing(args, field, tmp_path):
    out = tmp_path / "o"
    args = ["--seeds", "0:100", *args] if "--seeds" not in args else args
    proc = subprocess.run(
        [sys.executable, "-m", "sweep", "run", *args, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and field in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not out.exists()


def test_a_dry_run_projects_from_a_pilot_round_or_the_stored_trials(study, tmp_path):
    axes = {k: v for k, v in AXES.items() if k != "progress"}
    text = sweep.dry_run(out=tmp_path / "new", seeds="0:50", precision=0.04, **axes)
    assert "from a pilot round of 200 trials" in text and not (tmp_path / "new").exists()
    stored = sweep.dry_run(out=study[0], seeds="0:50", precision=0.04, **axes)
    assert "from the stored trials" in stored and "0 to train" in stored


def test_a_precision_survives_the_sidecar_and_a_union_is_refused():
    cfg = make_config(seeds="0:100", lr=0.5, precision=0.01, max_seeds=400)
    assert cfg.precision == Precision(0.01, "converged", 400)
    assert make_config(cfg.to_dict()) == cfg
    with pytest.raises(sweep.ConfigError, match="precision: runs one grid"):
        make_study({"precision": 0.01, "grids": [{"width": 2}, {"width": 3}]})


def test_the_report_says_which_groups_reached_the_precision(study):
    notes = sweep.report(study[0]).notes
    assert any("4 of 4 groups reached it" in n and "50-" in n for n in notes), notes


@pytest.mark.parametrize("trials, seeds", [([1000, 1000], "in 1,000"), ([100, 400], "in 100-400")])
def test_a_precision_note_names_the_seeds_the_groups_ran(trials, seeds):
    from sweep.reporting.reports import precision_note

    table = pd.DataFrame({"trials": trials, "rate_low": [0.70, 0.80], "rate_high": [0.78, 0.99]})
    note = precision_note(table, Precision(0.05, "converged", 100_000))
    assert note.endswith(f"1 of 2 groups reached it, {seeds} seeds a group")
