"""The ``sweep`` command: a thin shell over :mod:`sweep.api`.

Every flag is read as text and validated in one place (:mod:`sweep.config`),
so a bad value gives one line naming the field and exit status 2. The
commands import what they run as they run it: ``--help`` and bad input load
no Numba, pandas or pyarrow's datasets.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import suppress
from pathlib import Path

import click

from kernels.stop import request_stop

from .errors import Interrupted, SweepError, Terminated
from .reporting.text import FORMATS, tabulate_frame
from .run_command import run

EXIT_DAMAGED = 1
EXIT_USAGE = 2
#: joblib registers a temporary folder for each Parallel call before it creates
#: one; after a worker crash loky's resource tracker warns at exit about those
#: folders that never existed (joblib issue #1620, fix pending in PR #1829,
#: not in joblib 1.6.0), which would turn a one-line error into five. The
#: tracker and the workers inherit this filter from the environment.
QUIET_RESOURCE_TRACKER = "ignore:resource_tracker:UserWarning"


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="tinynet-sweep")
def cli() -> None:
    """Train grids of tiny neural networks (XOR and friends, or your own data) and
    report how often and how fast they converge."""


cli.add_command(run)


@cli.command()
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path), required=False)
@click.option(
    "--by",
    metavar="COLS",
    help="Parameter columns to group by, comma-separated. [default: every "
    "parameter that varies; a report says what it pools over]",
)
@click.option(
    "--where",
    metavar="EXPR",
    help="Only the trials for which this query holds, e.g. \"task == 'xor' and "
    "lr < 1\": column names, numbers, 'strings', true/false/null, comparisons, "
    "and/or/not, + - * / % ** and in [...]; nothing else (no calls, no "
    "attributes).",
)
@click.option(
    "--failures",
    is_flag=True,
    help="The failure-mode table (converged / slow / stuck / diverged) instead of "
    "the convergence table.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format; csv and json keep raw values and column names.",
)
@click.option(
    "--plots",
    metavar="PLOTDIR",
    is_flag=False,
    flag_value="",
    default=None,
    help="Also write PNG figures, into PLOTDIR or, given without one, into "
    "DIR/_report (where readers of the results never look).",
)
@click.option(
    "--html",
    metavar="FILE",
    is_flag=False,
    flag_value="",
    default=None,
    help="Also write one self-contained HTML report (tables, figures, provenance) "
    "to FILE or, given without one, to DIR/_report/report.html.",
)
@click.option(
    "--skip-damaged",
    "skip_damaged",
    is_flag=True,
    help="Report on the intact parts of a damaged folder (saying how many trials "
    "are left out) instead of refusing.",
)
def report(directory, by, where, failures, fmt, plots, html, skip_damaged):
    """Print convergence statistics of the sweep stored in DIR (and draw plots)."""
    from .reporting.reports import report as make_report  # pandas: only for reports

    if directory is None:  # "--html DIR" or "--plots DIR": the option took the folder
        taken = "html" if html else "plots" if plots else None
        if taken is None:
            raise click.UsageError("Missing argument 'DIR'.")
        directory = Path(html if taken == "html" else plots)
        html, plots = ("", plots) if taken == "html" else (html, "")
    result = make_report(
        directory,
        by=by,
        where=where,
        format=fmt,
        failures=failures,
        plots=_path_or_default(plots),
        html=_path_or_default(html),
        skip_damaged=skip_damaged,
    )
    click.echo(result.text, nl=fmt in ("table", "markdown"))
    for note in result.notes:
        click.echo(note, err=True)
    if result.error is not None:  # the table is printed; the files could not be written
        raise result.error


@cli.command()
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
def verify(directory):
    """Check every part of DIR against its manifest; exit 1 if anything is damaged.

    Damaged or foreign files are listed; rerunning the sweep moves them to
    DIR/_quarantine and trains their trials again.
    """
    from .store.reader import verify as check

    lines, sound = check(directory)
    for line in lines:
        click.echo(line)
    if not sound:
        sys.exit(EXIT_DAMAGED)


def _path_or_default(value: str | None):
    """An option given without its value means the default place (True)."""
    return None if value is None else (value or True)


@cli.command()
@click.argument("a", metavar="A", type=click.Path(path_type=Path))
@click.argument("b", metavar="[B]", type=click.Path(path_type=Path), required=False)
@click.option(
    "--by",
    metavar="COLS",
    help="Parameter columns to group by. [default: every parameter that varies "
    "within both selections]",
)
@click.option("--where-a", metavar="EXPR", help="Only A's trials for which this query holds.")
@click.option(
    "--where-b", metavar="EXPR", help="Only B's trials (A's, without B) for which this query holds."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="table",
    show_default=True,
    help="Output format; csv and json keep raw values and column names.",
)
def compare(a, b, by, where_a, where_b, fmt):
    """Convergence rate of B minus A per group, with 95% intervals (Newcombe).

    A and B are results folders, or one folder and two selections: sweep compare
    results/rhw86 --where-a "momentum == 0" --where-b "momentum == 0.9".
    """
    from .reporting.comparison import compare_report

    if b is None and not (where_a or where_b):
        raise SweepError(
            "b: give a second folder, or --where-a/--where-b to compare two selections of one"
        )
    result = compare_report(a, b, by=by, where_a=where_a, where_b=where_b, format=fmt)
    click.echo(result.text, nl=fmt in ("table", "markdown"))
    for note in result.notes:
        click.echo(note, err=True)


@cli.command()
@click.option(
    "--repeat",
    default="3",
    metavar="N",
    show_default=True,
    help="Timings per figure (the median is shown).",
)
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Also write the figures as JSON.",
)
def bench(repeat, json_out):
    """Quick benchmark: kernel vs the numpy reference, and sweep throughput on 1 vs 2 workers.

    One thread per process; figures are medians. The full suite with JAX and
    PyTorch peers is `python benchmarks/run.py` in a source checkout.
    """
    from .bench import header, quick

    if not repeat.isdigit() or int(repeat) < 1:
        raise SweepError(f"repeat: expected a whole number of at least 1, got {repeat!r}")
    click.echo(header(), err=True)
    table = quick(int(repeat))
    if json_out:
        json_out.write_text(table.to_json(orient="records", indent=1))
    click.echo(tabulate_frame(table))


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning user errors into one line and exit status 2."""
    filters = os.environ.get("PYTHONWARNINGS", "")
    if QUIET_RESOURCE_TRACKER not in filters:
        os.environ["PYTHONWARNINGS"] = ",".join(f for f in (filters, QUIET_RESOURCE_TRACKER) if f)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
        signal.signal(signal.SIGHUP, _terminate)  # a closed terminal: the same orderly stop
    try:
        cli.main(args=argv, prog_name="sweep", standalone_mode=False)
    except Interrupted as e:
        _say(str(e))
        sys.exit(128 + e.signum)
    except Terminated as e:
        _say("terminated")
        sys.exit(128 + e.signum)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        sys.exit(128 + signal.SIGINT)
    except click.ClickException as e:
        click.echo(f"error: {e.format_message()}", err=True)
        sys.exit(EXIT_USAGE)
    except SweepError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_USAGE)
    except OSError as e:  # a write or read the code did not foresee failing: still one line
        where = f"{e.filename}: " if e.filename else ""
        click.echo(f"error: {where}{e.strerror or e}", err=True)
        sys.exit(EXIT_USAGE)


def _terminate(signum, frame) -> None:
    """SIGTERM and SIGHUP stop a run as Ctrl-C does (what finished is kept), then
    exit 128 + the signal's number (143, 129)."""
    request_stop()
    raise Terminated(signum)


def _say(line: str) -> None:
    """A last line on stderr, if it can still be written (a closed terminal cannot)."""
    with suppress(OSError):
        click.echo(line, err=True)
