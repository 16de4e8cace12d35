"""Tasks from anywhere: every source of the same data gives the same trials; data is
checked against the recipe; a changed file is a different sweep."""

import subprocess
import sys

import numpy as np
import pytest

import sweep
from sweep.config.grid import grid_frame, shapes, task_of
from sweep.config.study import make_config, make_study
from sweep.config.task_data import MAX_SAMPLES, MAX_UNITS
from sweep.errors import ConfigError, SweepError

TINY = dict(seeds="0:4", lr="0.5,3", width=2, epochs=120, progress=False, backend="sequential")
#: Two outputs: xor and and, in binary counting order.
TABLE = "table:0110,0001"
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([[0, 0], [1, 0], [1, 0], [0, 1]], dtype=float)


def test_every_source_of_the_same_data_gives_the_same_trials_ids_and_rows(tmp_path):
    (tmp_path / "gates.csv").write_text(
        "a,b,y_xor,y_and\n"
        + "".join(
            f"{int(x0)},{int(x1)},{int(y0)},{int(y1)}\n"
            for (x0, x1), (y0, y1) in zip(X, Y, strict=True)
        )
    )
    np.savez(tmp_path / "gates.npz", X=X, Y=Y)
    sources = {
        "table": TABLE,
        "csv": str(tmp_path / "gates.csv"),
        "npz": str(tmp_path / "gates.npz"),
        "arrays": sweep.Task("gates", X, Y),
    }
    frames = {k: sweep.run(task=v, out=tmp_path / k, **TINY) for k, v in sources.items()}
    names = {k: set(f["task"]) for k, f in frames.items()}
    assert names == {"table": {TABLE}, "csv": {"gates"}, "npz": {"gates"}, "arrays": {"gates"}}
    first = frames["table"].drop(columns="task").sort_values("trial_id", ignore_index=True)
    assert len(first) == 8 and first["task_digest"].nunique() == 1
    for frame in frames.values():
        rest = frame.drop(columns="task").sort_values("trial_id", ignore_index=True)
        assert rest.equals(first)
    xor = sweep.run(task="xor", out=tmp_path / "xor", **TINY)
    assert set(xor["task_digest"]) == {""}  # built-in tasks keep their ids
    assert not set(xor["trial_id"]) & set(first["trial_id"])


def test_a_task_given_twice_is_one_task():
    config = make_config(task=["xor", "xor", sweep.Task("m", X, Y), sweep.Task("m", X, Y)])
    assert config.values["task"] == ("xor", "m")


def test_a_stored_spec_keeps_the_digest_not_the_data():
    config = make_config(task=["xor", sweep.Task("mine", X, Y)], seeds="0:3", lr=0.5)
    spec = config.to_dict()
    assert spec["task"] == ["xor", "mine"] and spec["tasks"] == {"mine": config.tasks["mine"]}
    again = make_study(spec)
    assert again == config and again.to_dict() == spec
    assert grid_frame(again)["trial_id"].tolist() == grid_frame(config)["trial_id"].tolist()
    stored = [s for s in shapes(again) if s.task == "mine"][0]
    with pytest.raises(SweepError, match="'mine': its data is not at hand"):
        task_of(stored)
    assert (
        task_of([s for s in shapes(config) if s.task == "mine"][0])[1] is config.task_data["mine"].Y
    )


REGRESSION = sweep.Task("wave", X, [[0.2], [0.9], [-0.4], [1.5]])


@pytest.mark.parametrize(
    "settings, field, fault",
    [
        (
            dict(task=REGRESSION),
            "task",
            r"targets in \[-0.4, 1.5\]; logistic outputs reach \[0, 1\]",
        ),
        (
            dict(task=REGRESSION, output_activation="linear", targets="0.1:0.9"),
            "targets",
            "regression",
        ),
        (
            dict(task=REGRESSION, output_activation="linear", early_stop=True),
            "early_stop",
            "regression",
        ),
        (dict(task=sweep.Task("r", X * 3, Y), inputs="bipolar"), "inputs", "has others"),
        (dict(task="spirals", inputs="bipolar"), "inputs", "'spirals' has others"),
        (
            dict(task=sweep.Task("s", X, [[0.5]] * 4), output_activation="tanh", loss="atanh"),
            "loss",
            "atanh",
        ),
        (
            dict(task=[sweep.Task("a", X, Y), sweep.Task("a", X, 1 - Y)]),
            "task",
            "two different tasks",
        ),
        (dict(task=[sweep.Task("a", X, Y), sweep.Task("b", X, Y)]), "task", "hold the same data"),
        (dict(task=["xor", sweep.Task("xor", X, Y)]), "task", "two different tasks"),
        (dict(task="xor", tasks=["x"]), "tasks", "a table of task names"),
        (dict(task="nand"), "task", "unknown task 'nand'.*or a .csv or .npz file"),
        (dict(task="missing.npz"), "task", "missing.npz: no such file"),
    ],
)
def test_data_the_recipe_cannot_train_on_is_refused(settings, field, fault):
    with pytest.raises(ConfigError) as info:
        make_config(seeds="0:2", lr=0.5, **settings)
    assert info.value.field == field
    assert info.value.problem == info.value.problem.strip() and "\n" not in info.value.problem
    assert __import__("re").search(fault, info.value.problem), info.value.problem


@pytest.fixture(scope="module")
def line(tmp_path_factory):
    """A regression sweep (a linear output on a line): its folder, rows and task."""
    X, Y = [[0.0], [0.5], [1.0]], [[-0.3], [0.1], [0.5]]
    task = sweep.Task("line", X, Y, X_test=[[0.25], [0.75]], Y_test=[[-0.1], [0.3]])
    out = tmp_path_factory.mktemp("line") / "r"
    settings = TINY | dict(lr="0.02,0.2,50", epochs=2000)  # lr 50 diverges
    df = sweep.run(task=task, output_activation="linear", tol=0.05, out=out, **settings)
    return out, df, task


def test_regression_has_no_solved_and_converges_when_every_error_is_within_tol(line):
    folder, df, task = line
    assert df["epoch_solved"].isna().all() and df["converged"].any()
    kept = df[~df["diverged"]]  # lr 50 diverges
    outputs = np.stack(kept["outputs"]).reshape(len(kept), 3)
    err = np.abs(outputs - task.Y[:, 0]).max(axis=1)
    assert ((err < 0.05) == kept["converged"]).all()
    table = sweep.report(folder).table
    assert table["solved_rate"].isna().all() and table["trials"].tolist() == [4, 4, 4]
    assert table["diverged_rate"].tolist() == [0, 0, 1]
    # A diverged trial is drawn as one: its epoch, its loss on a log axis, no outputs.
    row = df[df["diverged"]].iloc[0]
    fig = sweep.plot_trial(folder, row["trial_id"])
    assert f"diverged at epoch {row['epoch_diverged']:,}" in fig.get_suptitle()
    loss, outputs = fig.axes
    assert loss.get_yscale() == "log" and 1e10 < loss.get_ylim()[1] <= 1e100
    assert [t.get_text() for t in outputs.texts] == ["no outputs: a parameter is not finite"]
    fig.canvas.draw()  # an axis up to 1e100 draws


def test_a_comparison_of_regression_runs_gives_the_difference_of_their_final_mses(line):
    folder, df, _ = line
    loss = {lr: df[df.lr == lr].sort_values("seed").final_loss.to_numpy() for lr in (0.02, 0.2)}
    # Same seeds, lr alone apart: the mean of the pairs' differences.
    paired = sweep.compare_report(folder, where_a="lr == 0.02", where_b="lr == 0.2").table
    d = loss[0.2] - loss[0.02]
    assert paired.loss_difference.iloc[0] == pytest.approx(d.mean(), rel=1e-12)
    half = 1.959963984540054 * d.std(ddof=1) / np.sqrt(d.size)
    assert paired.loss_difference_high.iloc[0] == pytest.approx(d.mean() + half, rel=1e-12)
    test = {lr: df[df.lr == lr].sort_values("seed").test_loss.to_numpy() for lr in (0.02, 0.2)}
    assert paired.test_loss_difference.iloc[0] == pytest.approx((test[0.2] - test[0.02]).mean())
    # Grouped by width alone, two folders: the two means' difference (Welch's
    # standard error); B's networks all diverged at lr 50, so B has no mean.
    apart = sweep.compare_report(
        folder, folder, where_a="lr == 0.02", where_b="lr == 0.2", by="width"
    )
    error = np.sqrt(loss[0.02].var(ddof=1) / 4 + loss[0.2].var(ddof=1) / 4)
    assert apart.table.loss_difference_low.iloc[0] == pytest.approx(
        d.mean() - 1.96 * error, rel=1e-3
    )
    assert apart.table.test_loss_b.iloc[0] == pytest.approx(test[0.2].mean())  # the test set's
    wild = sweep.compare_report(
        folder, folder, where_a="lr == 0.02", where_b="lr == 50", by="width"
    )
    assert np.isnan(wild.table.loss_b.iloc[0]) and wild.text.splitlines()[-1].split()[-1] == "-"


def test_a_changed_file_is_another_sweep(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "xor"  # a file named like a built-in task: the file wins, and says so
    data.write_text("a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")
    done = sweep.train(task="xor", out="o", **TINY)
    assert done.config.notes == (f"task 'xor' is the file {data}, not the built-in task",)
    assert sweep.train(task="xor", out="o", **TINY).trained == 0
    (tmp_path / "away").mkdir()
    monkeypatch.chdir(tmp_path / "away")  # no file named xor here: the built-in
    with pytest.raises(ConfigError, match=r"'xor' holds other data"):
        sweep.train(task="xor", out=tmp_path / "o", extend=True, **TINY)
    monkeypatch.chdir(tmp_path)
    data.write_text("a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,1\n")
    for extend in (False, True):
        with pytest.raises(
            ConfigError, match=rf"'xor' \(file {data}\) holds other data .* --overwrite"
        ):
            sweep.train(task="xor", out="o", extend=extend, **TINY)
    assert sweep.train(task="xor", out="o", overwrite=True, **TINY).trained == 8
    sidecar = __import__("json").loads((tmp_path / "o" / "_sweep.json").read_text())
    assert sidecar["tasks"]["xor"]["source"] == f"file {data}"


def test_a_bad_file_in_a_real_process_is_one_line_exit_2_and_nothing_written(tmp_path):
    (tmp_path / "bad.csv").write_text("a,y\n0,1\n1,x\n")
    proc = subprocess.run(
        [sys.executable, "-m", "sweep", "run", "--task", "bad.csv", "--out", "o"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "error: task: bad.csv: row 3, column 'y': 'x' is not a number"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


def test_test_fraction_splits_every_task_the_same_way_each_time():
    config = make_config(task="parity3,xor", test_fraction=0.25, split_seed=4, seeds="0:2", lr=1)
    again = make_config(task="parity3,xor", test_fraction=0.25, split_seed=4, seeds="0:2", lr=1)
    assert set(config.task_data) == {"parity3", "xor"}  # built-in tasks become data
    assert config.tasks == again.tasks and config.to_dict()["test_fraction"] == 0.25
    assert len(config.task_data["xor"].X_test) == 1 and len(config.task_data["parity3"].X) == 6
    assert "split seed 4" in config.task_data["xor"].describe()["source"]
    assert make_study(config.to_dict()) == config
    for settings, field in [
        (dict(test_fraction=1), "test_fraction"),
        (dict(test_fraction="0.1,0.2"), "test_fraction"),
        (dict(split_seed=3), "split_seed"),
        (dict(test_fraction=0.1), "task"),  # xor's 4 samples: no test sample
    ]:
        with pytest.raises(ConfigError) as info:
            make_config(task="xor", **settings)
        assert info.value.field == field


def test_the_largest_task_trains_and_its_samples_are_counted(tmp_path):
    rng = np.random.default_rng(0)
    shape = (MAX_SAMPLES, MAX_UNITS)
    big = sweep.Task("big", rng.normal(size=shape), rng.integers(0, 2, shape))
    small = sweep.Task("small", big.X[:100], big.Y[:100])
    plan = dict(seeds="0:2", lr=0.5, width=2, epochs=2)
    memory = [
        sweep.dry_run(task=task, out=tmp_path / task.name, **plan).splitlines()[-1]
        for task in (big, small)
    ]
    assert memory[0] != memory[1]  # a row holds the outputs of every sample
    df = sweep.run(task=big, out=tmp_path / "big", progress=False, backend="sequential", **plan)
    assert len(df) == 2 and len(df["outputs"][0]) == MAX_SAMPLES * MAX_UNITS
