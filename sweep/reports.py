"""Reports of a results folder, for people (terminal, Markdown) and programs (CSV, JSON).

:func:`report` is ``sweep report``; :func:`compare_report` is ``sweep
compare``; :func:`summary` is what ``sweep run`` prints at the end. A report
never pools silently: by default it groups by every parameter that varies,
and when ``by`` leaves some out it says which (``pooled over: ...``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tabulate import tabulate

from . import files
from .axes import BY_COLUMN, PARAM_COLUMNS
from .errors import ConfigError
from .store import REPORT_FOLDER

if TYPE_CHECKING:  # the CLI imports FORMATS from here without loading pandas
    import pandas as pd

FORMATS = ("table", "csv", "json", "markdown")

#: Columns :func:`summary` reads.
SUMMARY_COLUMNS = ("converged", "diverged", "epoch_converged", "epoch_solved", "final_loss")


def percent(rate: float) -> str:
    """A rate as a percentage that never rounds to a misleading 0% or 100%."""
    text = f"{100 * rate:.0f}%"
    if text not in ("0%", "100%") or rate in (0, 1):
        return text
    if 0.001 <= rate <= 0.999:
        return f"{100 * rate:.1f}%"
    return "<0.1%" if rate < 0.5 else ">99.9%"


def value_text(v: Any) -> str:
    """A parameter value as short text (floats to 4 significant digits)."""
    return f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v)


def check_by(by: str | Sequence[str] | None) -> list[str] | None:
    """``by`` as a list of parameter columns (None: not given); ConfigError naming
    ``by`` for anything else: outcome or list columns, unknown names, repeats."""
    if by is None:
        return None
    keys = [k.strip() for k in by.split(",")] if isinstance(by, str) else list(by)
    if not keys or any(not k for k in keys):
        raise ConfigError("by", f"expected parameter columns separated by commas, got {by!r}")
    for k in keys:
        if k not in BY_COLUMN:
            kind = "an outcome" if k in _OUTCOMES else "not a column"
            raise ConfigError("by", f"{k!r} is {kind}, not a parameter (parameters: "
                              f"{', '.join(PARAM_COLUMNS)})")  # fmt: skip
    repeated = [k for i, k in enumerate(keys) if k in keys[:i]]
    if repeated:
        raise ConfigError("by", f"{repeated[0]!r} is given twice")
    return keys


def _outcomes() -> set[str]:
    from .schema import COLUMNS

    return set(COLUMNS) - set(PARAM_COLUMNS)


_OUTCOMES = _outcomes()


def select(df: pd.DataFrame, where: str | None) -> pd.DataFrame:
    """The trials satisfying the query ``where`` (:mod:`sweep.query`: data, never
    code); ConfigError if it is not one, or selects nothing."""
    if not where:
        return df
    from .query import where_mask
    from .schema import SCHEMA

    out = df[where_mask(df, where, SCHEMA)]
    if len(out) == 0:
        raise ConfigError("where", f"{where!r} selects no trial")
    return out.reset_index(drop=True)


def readable_table(table: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Round and merge columns for reading: rate with its interval, whole epochs."""

    def pct(x: float) -> str:
        return "" if np.isnan(x) else f"{100 * x:.1f}%"

    def epochs(x: float) -> str:
        return "-" if np.isnan(x) else f"{x:,.0f}"

    out = table[list(keys)].copy()
    for k in keys:
        out[k] = out[k].map(value_text)
    out["trials"] = table["trials"]
    out["converged"] = [
        f"{pct(r)} [{pct(lo)}, {pct(hi)}]"
        for r, lo, hi in zip(table["rate"], table["rate_low"], table["rate_high"], strict=True)
    ]
    out["median epochs"] = table["epochs_median"].map(epochs)
    out["p10-p90"] = [
        "-" if np.isnan(a) else f"{a:,.0f}-{b:,.0f}"
        for a, b in zip(table["epochs_p10"], table["epochs_p90"], strict=True)
    ]
    out["solved"] = table["solved_rate"].map(pct)
    out["diverged"] = table["diverged_rate"].map(pct)
    out["mean loss"] = table["mean_final_loss"].map(lambda v: f"{v:.3g}")
    return out


def _as_text(readable: pd.DataFrame, raw: pd.DataFrame, fmt: str) -> str:
    if fmt == "csv":
        return raw.to_csv(index=False)
    if fmt == "json":
        return raw.to_json(orient="records", indent=1)
    style = "github" if fmt == "markdown" else "simple"
    return tabulate(readable, headers="keys", tablefmt=style, showindex=False,
                    disable_numparse=True, stralign="right")  # fmt: skip


def format_table(table: pd.DataFrame, fmt: str = "table", by: Sequence[str] = ()) -> str:
    """A :func:`~sweep.analysis.convergence_table` as text in ``fmt``.

    ``csv`` and ``json`` keep every column with its raw value and the
    grouping keys under their column names; ``table`` and ``markdown`` are
    rounded for reading.
    """
    readable = readable_table(table, by) if fmt in ("table", "markdown") else table
    return _as_text(readable, table, fmt)


def failure_table(df: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """Trials per failure mode (see :func:`sweep.analysis.failure_modes`) in each group:
    counts and shares of converged, slow, stuck and diverged."""

    from .analysis import failure_modes

    modes = failure_modes(df)
    # Only the combinations that hold trials: a cartesian product of the keys would
    # show paired axes (init_low, init_high) crossed, as empty rows.
    counts = (
        modes.groupby(list(by), sort=True, observed=True, dropna=False)["failure"]
        .value_counts()
        .unstack(fill_value=0)
        if by
        else modes["failure"].value_counts().to_frame().T.reset_index(drop=True)
    )
    counts = counts.reindex(columns=modes["failure"].cat.categories, fill_value=0)
    counts.columns = [str(c) for c in counts.columns]
    counts.insert(0, "trials", counts.sum(axis=1))
    return counts.reset_index() if by else counts


def readable_failures(table: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """A :func:`failure_table` for reading: counts with their shares."""
    readable = table.copy()
    for k in by:
        readable[k] = readable[k].map(value_text)
    for mode in ("converged", "slow", "stuck", "diverged"):
        counts = zip(table[mode], table["trials"], strict=True)
        readable[mode] = [f"{n:,} ({percent(n / t)})" if t else "-" for n, t in counts]
    return readable


def format_failures(table: pd.DataFrame, fmt: str, by: Sequence[str]) -> str:
    readable = readable_failures(table, by) if fmt in ("table", "markdown") else table
    return _as_text(readable, table, fmt)


@dataclass
class Report:
    """What a report says: ``text`` (stdout), ``notes`` (one-line remarks for
    stderr: what was pooled, files written), the ``table`` and its keys."""

    text: str
    table: pd.DataFrame
    by: list[str]
    notes: list[str] = field(default_factory=list)


def report(
    path: str | Path, by: str | Sequence[str] | None = None, where: str | None = None,
    format: str = "table", failures: bool = False, plots: str | Path | bool | None = None,
    html: str | Path | bool | None = None, skip_damaged: bool = False,
) -> Report:  # fmt: skip
    """Convergence statistics of the results in ``path``, as :class:`Report`.

    ``by``: parameter columns to group by (default: every parameter that
    varies); ``where``: a pandas query that filters trials first;
    ``format``: table, csv, json or markdown; ``failures``: the failure-mode
    table instead of the convergence table; ``plots``: also write the figures
    (True: into ``path/_report``); ``html``: also write a self-contained HTML
    report (True: ``path/_report/report.html``); ``skip_damaged``: leave out
    damaged or foreign files (a note says how many trials) instead of refusing.
    """
    from .analysis import convergence_table, pooled_note, varying
    from .store import load

    if format not in FORMATS:
        raise ConfigError("format", f"must be one of {', '.join(FORMATS)}, got {format!r}")
    keys = check_by(by)
    path = Path(path)
    plot_dir = _report_path(path, plots, None, "plots")
    html_file = _report_path(path, html, "report.html", "html")
    curves = failures or plot_dir is not None or html_file is not None
    columns = None if curves else [*SUMMARY_COLUMNS, "epochs"]
    notes: list[str] = []
    frame = select(load(path, columns, skip_damaged, notes), where)
    keys = keys if keys is not None else (varying(frame) or ["lr", "width"])
    note = pooled_note(frame, keys)
    if failures:
        table = failure_table(frame, keys)
        text = format_failures(table, format, keys)
    else:
        table = convergence_table(frame, keys)
        text = format_table(table, format, keys)
    if note and format in ("table", "markdown"):
        text = f"{note}\n{text}"
    elif note:
        notes.append(note)  # csv and json stay machine-readable
    if plot_dir is not None:
        from .plots import write_plots

        notes += [f"wrote {p}" for p in write_plots(frame, plot_dir, keys)]
    if html_file is not None:
        from .html import write_html

        notes.append(f"wrote {write_html(frame, html_file, keys, path, where)}")
    return Report(text, table, keys, notes)


def _report_path(results: Path, given, default_name: str | None, field: str) -> Path | None:
    """Where a report file (or folder) goes: ``True`` means the results folder's
    ``_report``; a path inside the results folder must lie under ``_report``
    (or another name readers skip), else ConfigError naming ``field``."""
    if given is None or given is False:
        return None
    if given is True:
        folder = results / REPORT_FOLDER
        files.refuse_link(folder)
        return folder / default_name if default_name else folder
    target = Path(given)
    try:
        inside = Path(os.path.normpath(target.absolute())).relative_to(
            os.path.normpath(results.absolute()))  # fmt: skip
    except ValueError:
        return target  # outside the results folder
    if inside.parts:
        files.refuse_link(results / inside.parts[0])
    if not inside.parts or not inside.parts[0].startswith(("_", ".")):
        raise ConfigError(field, f"{target} lies inside the results folder {results}, where "
                          f"readers of the results would trip on it; use "
                          f"{results / REPORT_FOLDER} or a folder outside")  # fmt: skip
    return target


def compare_report(
    a: str | Path, b: str | Path | None = None, by: str | Sequence[str] | None = None,
    where_a: str | None = None, where_b: str | None = None, format: str = "table",
) -> Report:  # fmt: skip
    """Differences in convergence rate, ``b`` minus ``a``, with 95% intervals.

    ``a`` and ``b`` are results folders (``b`` None: ``a`` again), each
    filtered by its ``where``. ``by`` defaults to every parameter that varies
    within both selections.
    """
    from .analysis import compare, pooled_note, varying
    from .store import load

    if format not in FORMATS:
        raise ConfigError("format", f"must be one of {', '.join(FORMATS)}, got {format!r}")
    keys = check_by(by)
    columns = [*SUMMARY_COLUMNS, "epochs"]
    loaded: list[str] = []
    frame_a = load(a, columns, notes=loaded)
    frame_b = frame_a if b is None else load(b, columns, notes=loaded)
    sel_a, sel_b = select(frame_a, where_a), select(frame_b, where_b)
    if keys is None:
        keys = [k for k in varying(sel_a) if k in varying(sel_b)] or ["lr"]
    table = compare(sel_a, sel_b, keys)
    if table.empty:
        raise ConfigError("by", f"the two selections share no group of {', '.join(keys)}")
    notes = loaded + [n for n in (pooled_note(sel_a, keys), pooled_note(sel_b, keys)) if n]
    if format in ("table", "markdown"):
        readable = table.copy()
        for k in keys:
            readable[k] = readable[k].map(value_text)
        for col in ("rate_a", "rate_b"):
            readable[col] = table[col].map(percent)
        readable["difference"] = [
            f"{100 * d:+.1f} pp [{100 * lo:+.1f}, {100 * hi:+.1f}]"
            for d, lo, hi in zip(table["difference"], table["difference_low"],
                                 table["difference_high"], strict=True)
        ]  # fmt: skip
        readable = readable.drop(columns=["difference_low", "difference_high"])
        text = _as_text(readable, table, format)
        if notes:
            text = "\n".join(dict.fromkeys(notes)) + "\n" + text
            notes = []
    else:
        text = _as_text(table, table, format)
    return Report(text, table, keys, list(dict.fromkeys(notes)))


def _grid(df: pd.DataFrame) -> str:
    """Convergence rate and median epochs, lr x width."""
    from .analysis import convergence_table

    table = convergence_table(df, ["lr", "width"])
    cells = [
        "-" if t == 0 else f"{percent(r):>5} " + ("    -" if np.isnan(m) else f"{m:>5,.0f}")
        for t, r, m in zip(table["trials"], table["rate"], table["epochs_median"], strict=True)
    ]
    grid = table.assign(cell=cells).pivot(index="lr", columns="width", values="cell")
    grid.index = [f"{v:.4g}" for v in grid.index]
    header = ["lr \\ width"] + [str(w) for w in grid.columns]
    return tabulate(grid.fillna(""), headers=header, tablefmt="simple", stralign="right",
                    disable_numparse=True)  # fmt: skip


def summary(df: pd.DataFrame) -> str:
    """The compact end-of-run view: convergence rate and median epochs, lr x width,
    one grid for each combination of the other parameters that vary."""
    from .analysis import varying

    others = [k for k in varying(df) if k not in ("lr", "width")]
    n, conv = len(df), int(df["converged"].sum())
    parts = [
        f"{n:,} trials, {conv:,} converged ({100 * conv / max(n, 1):.1f}%). "
        "Cells: convergence rate, median epochs to converge."
    ]
    groups = df.groupby(others, sort=True, dropna=False) if others else [((), df)]
    for values, sub in groups:
        values = values if isinstance(values, tuple) else (values,)
        if others:
            fixed = zip(others, values, strict=True)
            parts.append("\n" + ", ".join(f"{k} = {value_text(v)}" for k, v in fixed))
        parts.append(_grid(sub))
    return "\n".join(parts)


def tabulate_frame(table: pd.DataFrame) -> str:
    """A small DataFrame as aligned text, blanks for missing values."""
    cells = table.astype(object).where(table.notna(), None)  # NaN is not "missing" to tabulate
    return tabulate(cells, headers="keys", showindex=False, floatfmt=".1f", missingval="")
