"""The end-of-run summary and table formats (report.py)."""

import pandas as pd

from sweep.report import format_table, summary


def frame(converged: int, trials: int, lr: float = 0.5, width: int = 2) -> pd.DataFrame:
    epochs = [100] * converged + [None] * (trials - converged)
    return pd.DataFrame({
        "lr": lr, "width": width, "converged": [e is not None for e in epochs],
        "epoch_converged": pd.array(epochs, dtype="Int64"),
        "epoch_solved": pd.array(epochs, dtype="Int64"), "diverged": False, "final_loss": 0.1,
    })  # fmt: skip


def test_summary_never_rounds_a_failure_away():
    df = pd.concat([frame(999, 1000), frame(1000, 1000, width=3), frame(0, 10, lr=0.01)])
    text = summary(df)
    assert text.startswith("2,010 trials, 1,999 converged (99.5%)")
    body = text.splitlines()[3:]
    row = next(line for line in body if line.strip().startswith("0.5"))
    assert "99.9%" in row and "100%" in row  # width 2 lost one trial, width 3 none
    assert "0%     -" in next(line for line in body if line.strip().startswith("0.01"))


def test_markdown_and_table_formats_show_the_interval():
    from sweep.analysis import convergence_table

    table = convergence_table(frame(8, 10), ["lr", "width"])
    assert "80.0% [49.0%, 94.3%]" in format_table(table, "table", ["lr", "width"])
    assert format_table(table, "markdown", ["lr", "width"]).startswith("|")
