"""A task as data: validation, the content digest, and equality."""

import numpy as np
import pytest

from kernels import get_task
from sweep.config.task_data import MAX_SAMPLES, MAX_UNITS, Task


def test_the_digest_is_the_data_s_not_the_name_s():
    X, Y = get_task("xor")
    a, b = Task("a", X, Y), Task("b", X.tolist(), Y[:, 0].astype(int))
    assert a.digest == b.digest and len(a.digest) == 16
    assert a != b and a == Task("a", X, Y) and hash(a) == hash(Task("a", X, Y))
    assert Task("a", X, 1 - Y).digest != a.digest
    assert Task("a", X, Y, X_test=X[:1], Y_test=Y[:1]).digest != a.digest
    assert a.classes and a.binary_inputs and a.describe()["kind"] == "classification"
    assert not Task("r", X, Y * 0.5).classes and not Task("r", X * 2, Y).binary_inputs


@pytest.mark.parametrize(
    "kwargs, fault",
    [
        (dict(name="a,b"), "without commas"),
        (dict(name=""), "without commas"),
        (dict(Y=np.zeros((3, 1))), "have 4 and 3 rows"),
        (dict(X=np.zeros((4, 2, 1))), "must be 2-D"),
        (dict(X=np.full((4, 2), np.inf)), "row 1, column 1 is inf"),
        (dict(X=[["a", "b"]] * 4), "numbers only"),
        (dict(X_test=np.zeros((1, 2))), "give both X_test and Y_test"),
        (dict(X_test=np.zeros((1, 3)), Y_test=np.zeros((1, 1))), "the test set has 3 inputs"),
        (dict(X=np.zeros((MAX_SAMPLES + 1, 1)), Y=np.zeros(MAX_SAMPLES + 1)), "10,000"),
        (dict(X=np.zeros((4, MAX_UNITS + 1))), "65 inputs; 1 to 64"),
        (dict(X=np.zeros((0, 2)), Y=np.zeros((0, 1))), "0 samples"),
    ],
)
def test_bad_arrays_are_named(kwargs, fault):
    X, Y = get_task("xor")
    given = dict(name="mine", X=X, Y=Y) | kwargs
    with pytest.raises(ValueError, match=fault):
        Task(**given)


def test_a_split_is_fixed_by_its_seed_and_keeps_the_order():
    X, Y = get_task("parity4")
    task = Task("p", X, Y)
    a, b, c = task.split(0.25, 1), task.split(0.25, 1), task.split(0.25, 2)
    assert a == b and a.digest != c.digest and a.digest != task.digest
    assert len(a.X_test) == 4 and len(a.X) == 12
    # every sample once, each side in the task's order
    codes = lambda x: (x @ 2 ** np.arange(3, -1, -1)).tolist()  # noqa: E731
    assert sorted(codes(a.X) + codes(a.X_test)) == list(range(16))
    assert codes(a.X) == sorted(codes(a.X)) and codes(a.X_test) == sorted(codes(a.X_test))
    with pytest.raises(ValueError, match="empty test set"):
        task.split(0.01, 0)
    with pytest.raises(ValueError, match="empty training set"):
        task.split(0.99, 0)
    with pytest.raises(ValueError, match="has a test set of its own"):
        a.split(0.5, 0)
