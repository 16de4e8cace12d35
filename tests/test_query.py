"""``--where`` queries are data: a small grammar, evaluated on columns, never run as code."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import sweep
from sweep.config.query import where_mask
from sweep.config.schema import SCHEMA
from sweep.errors import ConfigError

FRAME = pd.DataFrame(
    {
        "lr": [0.1, 1.0, 2.0, 5.0],
        "task": ["xor", "and", "xor", "or"],
        "width": [1, 3, 4, 2],
        "converged": [True, False, True, False],
        "epoch_converged": pd.array([5, None, 7, None], dtype="Int64"),
        "mse_target": [np.nan, 0.1, np.nan, 0.2],
    }
)

ACCEPTED = [
    ("lr > 0.5", FRAME.lr > 0.5),
    ("task == 'xor' and lr < 1", (FRAME.task == "xor") & (FRAME.lr < 1)),
    ("width in [1, 4]", FRAME.width.isin([1, 4])),
    ("task not in ['xor', 'or']", ~FRAME.task.isin(["xor", "or"])),
    ("not converged", ~FRAME.converged),
    ("converged == true or width == 2", FRAME.converged | (FRAME.width == 2)),
    ("0.5 < lr <= 2", (FRAME.lr > 0.5) & (FRAME.lr <= 2)),
    ("lr * 2 - 1 > 0 and -lr > -3", (FRAME.lr * 2 - 1 > 0) & (-FRAME.lr > -3)),
    ("width / 2 > 1.5", FRAME.width / 2 > 1.5),
    ("width % 2 == 0", FRAME.width % 2 == 0),
    ("lr ** 2 >= 4", FRAME.lr**2 >= 4),
    ("mse_target == null", FRAME.mse_target.isna()),
    ("mse_target != null", FRAME.mse_target.notna()),
    # A comparison with a missing value is false, as in SQL, and so is its negation.
    ("epoch_converged > 5", pd.Series([False, False, True, False])),
    ("not epoch_converged > 5", pd.Series([True, False, False, False])),
    # 1 and 0 for true and false, as pandas takes them.
    ("converged == 1", FRAME.converged),
    ("0 == converged or width == 2", ~FRAME.converged | (FRAME.width == 2)),
    ("converged in [0]", ~FRAME.converged),
]


@pytest.mark.parametrize("query, want", ACCEPTED)
def test_the_grammar_selects_what_it_says(query, want):
    assert where_mask(FRAME, query, SCHEMA).tolist() == want.tolist()


REFUSED = [
    ("lr > lr.__class__", "'lr.__class__' is not allowed (attribute access)"),
    ("lr > lr.__class__.__init__.__globals__['sys'].modules['os'].system('id')", "(calls)"),
    ("__import__('os').system('id') == 0", "(calls)"),
    ("lr > width[0]", "(subscripts)"),
    ("(lambda: 1)() == 1", "(calls)"),
    ("os == 1", "'os' is not allowed (not a column of the results)"),
    ("widht == 2", "(not a column of the results; did you mean width?)"),
    ("init_radius == 1", "is stored as init_low = -R and init_high = R)"),
    ("outputs == 1", "a list column"),
    ("lr >> 1", "the operator >>"),
    ("width // 2 == 1", "the operator //"),
    ("lr is None", "the operator is"),
    ("lr in 1", "in takes a list"),
    ("lr < null", "null compares only with == and !="),
    ("[x for x in lr]", "not allowed"),
    ("task > 1", "task holds text, and 1 is a number"),
    ("2 < task", "task holds text, and 2 is a number"),
    ("lr == 'a'", "lr holds numbers, and 'a' is text"),
    ("width in ['2', '3']", "width holds numbers, and '2' is text"),
    ("converged == 2", "converged holds true/false, and 2 is a number"),
    ("converged != 'yes'", "converged holds true/false, and 'yes' is text"),
    ("task + 1 > 1", "does not fit the columns' types"),
    ("lr >", "not a query"),
    ("  ", "is empty"),
]


@pytest.mark.parametrize("query, problem", REFUSED)
def test_anything_else_is_refused_in_one_line_naming_the_part(query, problem):
    with pytest.raises(ConfigError) as info:
        where_mask(FRAME, query, SCHEMA)
    message = str(info.value)
    assert message.startswith("where: ") and problem in message and "\n" not in message


def test_the_published_exploit_runs_nothing(tmp_path):
    out = tmp_path / "r"
    sweep.run(seeds="0:3", lr=0.5, width=2, epochs=10, out=out, progress=False)
    pwned = tmp_path / "pwned.txt"
    for flags in (["report", str(out), "--where"], ["compare", str(out), "--where-a"]):
        query = (
            f"lr > lr.__class__.__init__.__globals__['sys'].modules['os'].system('id > {pwned}')"
        )
        proc = subprocess.run(
            [sys.executable, "-m", "sweep", *flags, query],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert proc.stderr.startswith("error: where") and len(proc.stderr.splitlines()) == 1
        assert not pwned.exists()
