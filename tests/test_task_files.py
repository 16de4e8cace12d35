"""Tasks read from files: CSV and .npz, and every fault named by file, row and column."""

import numpy as np
import pytest

from sweep.config.task_files import read_task


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_csv_s_y_columns_are_targets_the_others_inputs(tmp_path):
    path = write(tmp_path, "mine.csv", "a,y1,b,y2\n0,1,0.5,0\n1,0,-2,1\n\n")
    task = read_task(path, "mine.csv")
    assert task.name == "mine" and task.source == f"file {path.resolve()}"
    np.testing.assert_array_equal(task.X, [[0, 0.5], [1, -2]])
    np.testing.assert_array_equal(task.Y, [[1, 0], [0, 1]])


def test_a_csv_s_text_is_parsed_once_and_each_reader_gets_arrays_of_its_own(tmp_path):
    from sweep.config import task_files

    path = write(tmp_path, "twice.csv", "a,y\n0,1\n1,0\n")
    task_files._parse_csv.cache_clear()
    first = read_task(path, "twice.csv")
    first.X[0, 0] = 7.0  # a reader's change stays its own
    again = read_task(path, "twice.csv")
    assert task_files._parse_csv.cache_info().hits == 1 and again.X[0, 0] == 0
    write(tmp_path, "twice.csv", "a,y\n0,1\n1,1\n")  # the same size, other data
    np.testing.assert_array_equal(read_task(path, "twice.csv").Y, [[1], [1]])


def test_an_npz_holds_x_y_and_a_test_set(tmp_path):
    path = tmp_path / "d.npz"
    X, Y = np.arange(6.0).reshape(3, 2), np.array([0, 1, 1])
    np.savez(path, X=X, Y=Y, X_test=X[:1], Y_test=Y[:1])
    task = read_task(path, "d.npz")
    np.testing.assert_array_equal(task.Y, Y[:, None])  # a vector is one column
    assert task.X_test.shape == (1, 2) and task.Y_test.shape == (1, 1)


CSV_FAULTS = [
    ("a,y\n0,1\n1\n", "row 3 has 1 cells, the header 2"),
    ("a,y\n0,1\n1,\n", "row 3, column 'y' is empty"),
    ("a,y\n0,1\nnan,1\n", "row 3, column 'a': 'nan' is not a finite number"),
    ("a,y\n0,1\n1,inf\n", "row 3, column 'y': 'inf' is not a finite number"),
    ("a,y\n0,one\n", "row 2, column 'y': 'one' is not a number"),
    ("a,b\n0,1\n", "no target column (targets are the columns named y...)"),
    ("y,y2\n0,1\n", "no input column (every column is named y...)"),
    ("a,y\n", "no rows of data"),
    ("", "no header row"),
]


@pytest.mark.parametrize("text, fault", CSV_FAULTS)
def test_a_bad_csv_is_named_with_its_row_and_column(tmp_path, text, fault):
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(ValueError) as info:
        read_task(path, "data/bad.csv")
    assert str(info.value) == f"data/bad.csv: {fault}"


def test_bad_npz_files(tmp_path):
    cases = {
        "noy.npz": dict(X=np.zeros((2, 1))),
        "rows.npz": dict(X=np.zeros((2, 1)), Y=np.zeros(3)),
        "text.npz": dict(X=np.array([["a"]]), Y=np.zeros(1)),
        "objects.npz": dict(X=np.array([[1, None]], dtype=object), Y=np.zeros(1)),
        "nan.npz": dict(X=np.array([[1.0, np.nan]]), Y=np.zeros(1)),
    }
    faults = {}
    for name, arrays in cases.items():
        np.savez(tmp_path / name, **arrays)
        with pytest.raises(ValueError) as info:
            read_task(tmp_path / name, name)
        faults[name] = str(info.value)
    assert faults["noy.npz"] == "noy.npz: no array 'Y' (it holds X)"
    assert faults["rows.npz"] == "rows.npz: X, Y have 2 and 3 rows"
    assert faults["text.npz"] == "text.npz: array 'X' holds <U1, not numbers"
    assert faults["objects.npz"] == "objects.npz: holds arrays of Python objects; numbers only"
    assert faults["nan.npz"].startswith("nan.npz: X row 1, column 2 is nan")
    (tmp_path / "zip.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="zip.npz: not an .npz archive"):
        read_task(tmp_path / "zip.npz", "zip.npz")


def test_missing_and_unknown_files(tmp_path):
    with pytest.raises(ValueError, match="^gone.csv: no such file$"):
        read_task(tmp_path / "gone.csv", "gone.csv")
    write(tmp_path, "d.json", "{}")
    with pytest.raises(ValueError, match="a task file is .csv or .npz"):
        read_task(tmp_path / "d.json", "d.json")
