"""Held-out metrics: a numpy forward pass from the stored final weights agrees."""

import numpy as np
import pytest

import sweep
from kernels import init_batch, train_batch
from kernels.evaluate import held_out
from kernels.recipe import DEFAULT, Recipe


def forward(X, w_hidden, b_hidden, w_out, b_out, hidden, output):
    """One network's outputs, written from the model's equations."""
    return output(hidden(X @ w_hidden + b_hidden) @ w_out + b_out)


def logistic(a):
    with np.errstate(over="ignore"):  # exp(-a) overflows to inf: the output is then 0
        return 1 / (1 + np.exp(-a))


@pytest.mark.parametrize("regression", [False, True])
def test_held_out_metrics_are_those_of_the_final_weights(regression):
    rng = np.random.default_rng(7)
    X, X_test = rng.normal(size=(30, 3)), rng.normal(size=(11, 3))
    if regression:
        Y, Y_test = np.sin(X[:, :1]), np.sin(X_test[:, :1])
        recipe, hidden, output = Recipe(output_activation="linear"), logistic, (lambda a: a)
    else:
        Y, Y_test = (X[:, :2] > 0).astype(float), (X_test[:, :2] > 0).astype(float)
        recipe, hidden, output = DEFAULT, logistic, logistic
    params = init_batch(np.arange(6), 3, 4, Y.shape[1], -1.0, 1.0)
    lr = np.geomspace(0.01, 0.5, 6)
    # Any final weights will do: the default recipe's (a kernel other tests
    # compile), measured with ``recipe``'s output.
    result = train_batch(X, Y, params, lr, 300, exp="exact", kernel="general")
    loss, accuracy = held_out(X_test, Y_test, result, recipe, "exact", not regression)
    for j in range(6):
        w = [getattr(result, k)[..., j] for k in ("w_hidden", "b_hidden", "w_out", "b_out")]
        out = forward(X_test, *w, hidden, output)
        np.testing.assert_allclose(loss[j], np.mean((Y_test - out) ** 2), rtol=1e-12)
        if not regression:
            right = ((out > 0.5) == (Y_test > 0.5)).all(axis=1)
            assert accuracy[j] == right.mean()
    assert (accuracy is None) == regression


def test_a_sweep_s_test_columns_are_measured_on_its_test_set(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    task = sweep.Task("quadrants", X[:30], Y[:30], X_test=X[30:], Y_test=Y[30:])
    df = sweep.run(
        task=[task, "xor"],
        seeds="0:5",
        lr=1,
        width=3,
        epochs=400,
        out=tmp_path / "q",
        progress=False,
        backend="sequential",
    )
    mine = df[df.task == "quadrants"]
    assert df[df.task == "xor"][["test_loss", "test_accuracy"]].isna().all().all()
    for _, row in mine.iterrows():
        w = [
            np.reshape(row[k], s)
            for k, s in (("w_hidden", (2, 3)), ("b_hidden", 3), ("w_out", (3, 1)), ("b_out", 1))
        ]
        out = forward(X[30:], *w, logistic, logistic)
        np.testing.assert_allclose(row["test_loss"], np.mean((Y[30:] - out) ** 2), rtol=1e-12)
        assert row["test_accuracy"] == ((out > 0.5) == (Y[30:] > 0.5)).mean()
    table = sweep.report(tmp_path / "q", by="task").table.set_index("task")
    assert table.loc["quadrants", "test_accuracy"] == pytest.approx(mine["test_accuracy"].mean())
    low, high = table.loc["quadrants", ["test_accuracy_low", "test_accuracy_high"]]
    assert 0 <= low <= mine["test_accuracy"].mean() <= high <= 1
    assert np.isnan(table.loc["xor", "test_loss"])
