import numpy as np
import pytest

from kernels import get_task, is_task, task_names


def test_xor_is_the_notebooks_data():
    X, Y = get_task("xor")
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(Y, [[0], [1], [1], [0]])
    assert X.dtype == Y.dtype == np.float64


@pytest.mark.parametrize(
    "name, column",
    [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("xnor", [1, 0, 0, 1])],
)
def test_gates(name, column):
    X, Y = get_task(name)
    np.testing.assert_array_equal(Y[:, 0], column)


@pytest.mark.parametrize("n", range(2, 9))
def test_parity_is_binary_counting_order(n):
    X, Y = get_task(f"parity{n}")
    assert X.shape == (2**n, n) and Y.shape == (2**n, 1)
    codes = X @ (2 ** np.arange(n - 1, -1, -1))
    np.testing.assert_array_equal(codes, np.arange(2**n))
    np.testing.assert_array_equal(Y[:, 0], [bin(c).count("1") % 2 for c in range(2**n)])


def test_encoder_maps_one_hot_to_itself():
    X, Y = get_task("encoder8")
    np.testing.assert_array_equal(X, np.eye(8))
    np.testing.assert_array_equal(Y, np.eye(8))


@pytest.mark.parametrize("bad", ["nand", "parity1", "parity9", "encoder1", "XOR", ""])
def test_unknown_tasks_are_refused(bad):
    assert not is_task(bad)
    with pytest.raises(ValueError, match="unknown task"):
        get_task(bad)


def test_every_listed_task_exists():
    assert all(is_task(name) for name in task_names())
