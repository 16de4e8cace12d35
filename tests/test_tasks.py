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


def _bits(code: int, n: int) -> list[int]:
    return [(code >> (n - 1 - i)) & 1 for i in range(n)]


@pytest.mark.parametrize("n", range(2, 9))
def test_symmetry_is_one_when_the_pattern_reads_the_same_backwards(n):
    X, Y = get_task(f"symmetry{n}")
    want = [int(_bits(c, n) == _bits(c, n)[::-1]) for c in range(2**n)]
    np.testing.assert_array_equal(X, [_bits(c, n) for c in range(2**n)])
    np.testing.assert_array_equal(Y[:, 0], want)
    assert Y.sum() == 2 ** ((n + 1) // 2)  # the first half decides the rest


@pytest.mark.parametrize("n", [3, 5, 7, 9])
def test_majority_is_one_when_most_inputs_are_on(n):
    X, Y = get_task(f"majority{n}")
    np.testing.assert_array_equal(Y[:, 0], [int(sum(_bits(c, n)) > n // 2) for c in range(2**n)])


@pytest.mark.parametrize("n", range(1, 5))
def test_add_outputs_the_sum_of_its_two_numbers(n):
    X, Y = get_task(f"add{n}")
    assert X.shape == (4**n, 2 * n) and Y.shape == (4**n, n + 1)
    for code in range(4**n):
        a, b = code >> n, code & (2**n - 1)  # the first n inputs, then the next n
        np.testing.assert_array_equal(X[code], _bits(code, 2 * n))
        np.testing.assert_array_equal(Y[code], _bits(a + b, n + 1))


@pytest.mark.parametrize(
    "bad", ["nand", "parity1", "parity9", "encoder1", "XOR", "", "majority4", "add5", "symmetry1"]
)
def test_unknown_tasks_are_refused(bad):
    assert not is_task(bad)
    with pytest.raises(ValueError, match="unknown task"):
        get_task(bad)


def test_every_listed_task_exists():
    assert all(is_task(name) for name in task_names())
