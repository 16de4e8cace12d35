"""Reports of a results folder: :func:`report` is ``sweep report``,
:func:`compare_report` is ``sweep compare``.

A report never pools silently: by default it groups by every parameter that
varies, and when ``by`` leaves some out it says which (``pooled over: ...``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..config.axes import BY_COLUMN, PARAM_COLUMNS
from ..config.precision import Precision
from ..config.query import where_mask
from ..config.schema import COLUMNS, SCHEMA
from ..errors import ConfigError
from ..intervals import wilson_interval
from ..store import files
from ..store.layout import REPORT_FOLDER
from ..store.reader import load
from ..store.sidecar import described
from .analysis import compare, convergence_table, pooled_note, varying
from .html import write_html
from .text import (
    FORMATS,
    SUMMARY_COLUMNS,
    _as_text,
    failure_table,
    format_failures,
    format_table,
    percent,
    value_text,
)

if TYPE_CHECKING:
    import pandas as pd


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
            raise ConfigError(
                "by", f"{k!r} is {kind}, not a parameter (parameters: {', '.join(PARAM_COLUMNS)})"
            )
    repeated = [k for i, k in enumerate(keys) if k in keys[:i]]
    if repeated:
        raise ConfigError("by", f"{repeated[0]!r} is given twice")
    return keys


def _outcomes() -> set[str]:
    return set(COLUMNS) - set(PARAM_COLUMNS)


_OUTCOMES = _outcomes()


def select(df: pd.DataFrame, where: str | None) -> pd.DataFrame:
    """The trials satisfying the query ``where`` (:mod:`sweep.config.query`: data, never
    code); ConfigError if it is not one, or selects nothing."""
    if not where:
        return df
    out = df[where_mask(df, where, SCHEMA)]
    if len(out) == 0:
        raise ConfigError("where", f"{where!r} selects no trial")
    return out.reset_index(drop=True)


@dataclass
class Report:
    """What a report says: ``text`` (stdout), ``notes`` (one-line remarks for
    stderr: what was pooled, files written), the ``table`` and its keys."""

    text: str
    table: pd.DataFrame
    by: list[str]
    notes: list[str] = field(default_factory=list)


def report(
    path: str | Path,
    by: str | Sequence[str] | None = None,
    where: str | None = None,
    format: str = "table",
    failures: bool = False,
    plots: str | Path | bool | None = None,
    html: str | Path | bool | None = None,
    skip_damaged: bool = False,
) -> Report:
    """Convergence statistics of the results in ``path``, as :class:`Report`.

    ``by``: parameter columns to group by (default: every parameter that
    varies); ``where``: a pandas query that filters trials first;
    ``format``: table, csv, json or markdown; ``failures``: the failure-mode
    table instead of the convergence table; ``plots``: also write the figures
    (True: into ``path/_report``); ``html``: also write a self-contained HTML
    report (True: ``path/_report/report.html``); ``skip_damaged``: leave out
    damaged or foreign files (a note says how many trials) instead of refusing.
    """
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
    aim = precision_of(path)
    if aim is not None and not failures:
        notes.append(precision_note(table, aim))
    if plot_dir is not None:
        from .plots import write_plots  # matplotlib loads only when figures are drawn

        notes += [f"wrote {p}" for p in write_plots(frame, plot_dir, keys)]
    if html_file is not None:
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
            os.path.normpath(results.absolute())
        )
    except ValueError:
        return target  # outside the results folder
    if inside.parts:
        files.refuse_link(results / inside.parts[0])
    if not inside.parts or not inside.parts[0].startswith(("_", ".")):
        raise ConfigError(
            field,
            f"{target} lies inside the results folder {results}, where "
            f"readers of the results would trip on it; use "
            f"{results / REPORT_FOLDER} or a folder outside",
        )
    return target


def compare_report(
    a: str | Path,
    b: str | Path | None = None,
    by: str | Sequence[str] | None = None,
    where_a: str | None = None,
    where_b: str | None = None,
    format: str = "table",
) -> Report:
    """Differences in convergence rate, ``b`` minus ``a``, with 95% intervals.

    ``a`` and ``b`` are results folders (``b`` None: ``a`` again), each
    filtered by its ``where``. ``by`` defaults to every parameter that varies
    within both selections.
    """
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
            for d, lo, hi in zip(
                table["difference"], table["difference_low"], table["difference_high"], strict=True
            )
        ]
        readable = readable.drop(columns=["difference_low", "difference_high"])
        text = _as_text(readable, table, format)
        if notes:
            text = "\n".join(dict.fromkeys(notes)) + "\n" + text
            notes = []
    else:
        text = _as_text(table, table, format)
    return Report(text, table, keys, list(dict.fromkeys(notes)))


def precision_of(path: Path) -> Precision | None:
    """The precision the sweep in ``path`` was run to (None: a fixed seed count)."""
    spec = (described(path) or {}).get("specs", [{}])[-1]
    if spec.get("precision") is None:
        return None
    return Precision(spec["precision"], spec["precision_of"], spec["max_seeds"])


def precision_note(table: pd.DataFrame, aim: Precision) -> str:
    """How many groups of a convergence table reached a study's precision, and the
    seeds they ran (each group's ``trials``)."""
    seeds = f"{table['trials'].min():,}-{table['trials'].max():,} seeds a group"
    if aim.of == "median-epochs":
        return (
            f"a study to a {aim.half_width:g} relative half-width of the median epochs: "
            f"{seeds} (sweep run's summary says which cells reached it)"
        )
    if aim.of == "converged":
        low, high = table["rate_low"], table["rate_high"]
    else:
        low, high = wilson_interval(
            (table["solved_rate"] * table["trials"]).round(), table["trials"]
        )
    reached = int(((high - low) / 2 <= aim.half_width + 1e-12).sum())
    capped = int((table["trials"] >= aim.max_seeds).sum())
    line = (
        f"a study to a 95% half-width of {aim.half_width:g} on {aim.of}: {reached} of "
        f"{len(table)} groups reached it, in {seeds}"
    )
    return line + (f"; {capped} at --max-seeds {aim.max_seeds:,}" if capped else "")
