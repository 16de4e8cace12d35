"""Reports of a results folder: :func:`report` is ``sweep report``,
:func:`compare_report` is ``sweep compare``.

A report never pools silently: by default it groups by every parameter that
varies, and when ``by`` leaves some out it says which (``pooled over: ...``).
"""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..config.axes import BY_COLUMN, PARAM_COLUMNS, not_a_column
from ..config.precision import Precision
from ..config.query import where_mask
from ..config.schema import COLUMNS, SCHEMA
from ..errors import ConfigError, SweepError
from ..intervals import wilson_interval
from ..store import files
from ..store.layout import REPORT_FOLDER
from ..store.sidecar import described
from .aggregate import aggregate
from .html import write_html
from .sampled import format_sampled, listed_keys, sampled_table
from .text import (
    FORMATS,
    format_failures,
    format_table,
    readable_difference,
    readable_failures,
    readable_table,
)
from .titles import fixed_settings

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
            listed = f"(parameters: {', '.join(PARAM_COLUMNS)})"
            why = f"an outcome, not a parameter {listed}"
            if k not in _OUTCOMES:
                why = not_a_column(k, PARAM_COLUMNS, otherwise=listed)
            raise ConfigError("by", f"{k!r} is {why}")
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
    stderr: files written, parts left out), the ``table`` and its keys, and the
    ``header``: what every row shares and what the table pools over, the lines
    above a table or markdown text (csv and json, which stay machine-readable,
    have them among the notes)."""

    text: str
    table: pd.DataFrame
    by: list[str]
    notes: list[str] = field(default_factory=list)
    #: Why the figures or the HTML file could not be written (the text stands).
    error: SweepError | None = None
    header: list[str] = field(default_factory=list)

    def _repr_html_(self) -> str:
        """The report as an HTML table under its header, in a notebook."""
        lines = [*self.header, *(n for n in self.notes if n not in self.header)]
        said = "".join(f"<p>{html.escape(n)}</p>" for n in lines)
        return said + readable(self).to_html(index=False, border=0, escape=True, na_rep="")


def headed(header: list[str], text: str, format: str, notes: list[str]) -> str:
    """``text`` under its ``header`` (markdown: as paragraphs), or, for csv and
    json, ``text`` alone, the header appended to ``notes``."""
    if format not in ("table", "markdown"):
        notes += header
        return text
    return ("\n\n" if format == "markdown" else "\n").join([*header, text])


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
    keys = given = check_by(by)
    path = Path(path)
    plot_dir = _report_path(path, plots, None, "plots")
    html_file = _report_path(path, html, "report.html", "html")
    drawn = plot_dir is not None or html_file is not None
    if drawn and (path / REPORT_FOLDER).exists() and not (path / REPORT_FOLDER).is_dir():
        raise ConfigError("plots", f"{path / REPORT_FOLDER} is a file; figures go into a folder")
    agg = aggregate(
        path, where, skip_damaged, curves=drawn, failures=failures or html_file is not None
    )
    notes = list(agg.notes)
    if keys is None and agg.sampled:  # random search: each sampled axis in bins
        table = sampled_table(agg, failures)
        text = format_sampled(agg, format, failures)
        keys = ["axis", "bin", *listed_keys(agg), "points"]
        note = None
    else:
        keys = keys if keys is not None else (agg.varying() or ["lr", "width"])
        note = agg.pooled_note(keys)
        if failures:
            table = agg.failure_table(keys)
            text = format_failures(table, format, keys)
        else:
            table = agg.table(keys)
            text = format_table(table, format, keys)
    # What every row shares, which no column shows: without it a table of
    # rates does not say what they are rates of.
    header = [f"{f'where {where}' if where else 'fixed'}: {fixed_settings(agg.fixed())}"]
    header += [note] if note else []
    text = headed(header, text, format, notes)
    aim = precision_of(path)
    if aim is not None and not failures:
        notes.append(precision_note(table, aim))
    error = None
    try:
        figures = None
        if plot_dir is not None:
            from .sampled_plots import write_figures  # matplotlib loads only when figures are drawn

            figures = write_figures(agg, plot_dir, given)
            notes += [f"wrote {p}" for p in figures]
        if html_file is not None:  # with the figures just drawn, if they were
            notes.append(f"wrote {write_html(agg, html_file, given, path, where, figures)}")
    except OSError as e:
        error = SweepError(f"cannot write {e.filename or 'the report'}: {e.strerror or e}")
    return Report(text, table, keys, notes, error, header)


def readable(report: Report) -> pd.DataFrame:
    """A report's table rounded for reading."""
    if "converged" in report.table and "rate" in report.table:
        return readable_table(report.table, report.by)
    if "untrained" in report.table:
        return readable_failures(report.table, report.by)
    return readable_difference(report.table, report.by)


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
    if default_name is None and target.exists() and not target.is_dir():
        raise ConfigError(field, f"{target} is a file; figures go into a folder")
    if default_name is not None and target.is_dir():
        raise ConfigError(field, f"{target} is a folder; give the HTML file's name")
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


def precision_of(path: Path) -> Precision | None:
    """The precision the sweep in ``path`` was run to (None: a fixed seed count)."""
    spec = (described(path) or {}).get("specs", [{}])[-1]
    if spec.get("precision") is None:
        return None
    return Precision(spec["precision"], spec["precision_of"], spec["max_seeds"])


def precision_note(table: pd.DataFrame, aim: Precision) -> str:
    """How many groups of a convergence table reached a study's precision, and the
    seeds they ran (each group's ``trials``)."""
    fewest, most = table["trials"].min(), table["trials"].max()
    seeds = f"{fewest:,}{f'-{most:,}' if most != fewest else ''} seeds a group"
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
