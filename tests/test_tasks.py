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


def test_a_truth_table_is_its_outputs_in_binary_counting_order():
    for name in ("xor", "and", "parity3"):
        X, Y = get_task(name)
        table = "table:" + "".join(str(int(v)) for v in Y[:, 0])
        for got, want in zip(get_task(table), (X, Y), strict=True):
            np.testing.assert_array_equal(got, want)
    X, Y = get_task("table:0110,1000")  # two outputs: XOR and NOR
    np.testing.assert_array_equal(X, get_task("xor")[0])
    np.testing.assert_array_equal(Y, [[0, 1], [1, 0], [1, 0], [0, 0]])
    assert get_task("table:01")[0].shape == (2, 1)


@pytest.mark.parametrize(
    "bad, words",
    [
        ("table:011", "2^inputs"),
        ("table:0120", "0s and 1s"),
        ("table:0110,10", "different lengths"),
        ("table:", "0s and 1s"),
        ("table:0", "2^inputs"),
        ("table:" + "0" * 2**14, "2^inputs"),
    ],
)
def test_a_bad_truth_table_is_refused_naming_the_fault(bad, words):
    with pytest.raises(ValueError, match="truth table") as info:
        get_task(bad)
    assert words in str(info.value)


@pytest.mark.parametrize(
    "bad", ["nand", "parity1", "parity9", "encoder1", "XOR", "", "majority4", "add5", "symmetry1"]
)
def test_unknown_tasks_are_refused(bad):
    assert not is_task(bad)
    with pytest.raises(ValueError, match="unknown task"):
        get_task(bad)


def test_every_listed_task_exists():
    assert all(is_task(name) for name in task_names())


def test_spirals_are_wieland_s_194_points():
    X, Y = get_task("spirals")
    assert X.shape == (194, 2) and Y[:, 0].tolist() == [1.0, 0.0] * 97
    np.testing.assert_array_equal(X[1::2], -X[0::2])  # each point, then its mirror
    i = np.arange(97)
    np.testing.assert_allclose(np.hypot(*X[0::2].T), 6.5 * (104 - i) / 104, atol=1e-5)
    turned = np.arctan2(X[2::2, 0], X[2::2, 1]) - np.arctan2(X[0:-2:2, 0], X[0:-2:2, 1])
    np.testing.assert_allclose(np.mod(turned, 2 * np.pi), np.pi / 16, atol=1e-4)
    assert (np.round(X, 5) == X).all() and len(np.unique(X, axis=0)) == 194
    assert is_task("spirals") and "spirals" in task_names()
