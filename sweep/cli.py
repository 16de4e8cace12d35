"""The ``sweep`` command: a thin shell over :mod:`sweep.api`.

Every flag is read as text and validated in one place (:mod:`sweep.config`),
so a bad value gives one line naming the field and exit status 2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import api
from .axes import AXES, BY_NAME
from .config import DEFAULT_BACKEND, DEFAULT_NAME
from .errors import SweepError
from .execute import release_workers
from .report import FORMATS

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: joblib registers a temporary folder for each Parallel call before it creates
#: one; after a worker crash loky's resource tracker warns at exit about those
#: folders that never existed (joblib issue #1620, fix pending in PR #1829,
#: not in joblib 1.6.0), which would turn a one-line error into five. The
#: tracker and the workers inherit this filter from the environment.
QUIET_RESOURCE_TRACKER = "ignore:resource_tracker:UserWarning"

#: Help of the run's settings that are not axes (the axes' is in sweep.axes).
_SETTINGS = {
    "curve_every": "Record the loss every N epochs (0: no curve). [default: epochs/100]",
}


def _axis_options(func):
    """One ``--<axis> SPEC`` option per axis of :data:`sweep.axes.AXES` (but the
    ``--early-stop`` flag), then the settings."""
    options = [(axis.name, axis.flag, axis.help, axis.default) for axis in AXES
               if axis.name != "early_stop"]  # fmt: skip
    options += [(name, "--" + name.replace("_", "-"), text, None)
                for name, text in _SETTINGS.items()]  # fmt: skip
    for name, flag, text, default in reversed(options):
        shown = "" if default is None or "[default" in text else f" [default: {default}]"
        func = click.option(flag, name, metavar="SPEC", help=text + shown)(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="tinynet-sweep")
def cli() -> None:
    """Train grids of tiny sigmoid networks and report how often and how fast they converge."""


@cli.command()
@click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE.toml",
              help="Read the sweep from a TOML file; flags override it.")  # fmt: skip
@_axis_options
@click.option("--out", metavar="DIR", help="Output folder. [default: results/NAME]")
@click.option("--name", metavar="NAME", help="Sweep name, used for the default --out. "
              f"[default: {DEFAULT_NAME}]")  # fmt: skip
@click.option("--jobs", metavar="N", help="Workers (threads, or processes with loky and "
              "dask). [default: all cores]")  # fmt: skip
@click.option("--backend", metavar="NAME",
              help="threading (threads in this process; the kernels release the GIL), "
              "loky (worker processes), sequential (one thread) or dask (a cluster). "
              f"[default: {DEFAULT_BACKEND}]")  # fmt: skip
@click.option("--scheduler", metavar="ADDRESS",
              help="With --backend dask: a running scheduler, e.g. tcp://host:8786 "
              "(default: start a local cluster).")  # fmt: skip
@click.option("--early-stop", "early_stop", is_flag=True, default=None,
              help=BY_NAME["early_stop"].help)  # fmt: skip
@click.option("--chunk-size", metavar="N",
              help="Networks per chunk (one kernel call, one Parquet part). "
              "[default: about 0.5 s of work]")  # fmt: skip
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
@click.option("--overwrite", is_flag=True,
              help="Replace the results of a different sweep in --out.")  # fmt: skip
@click.option("--extend", is_flag=True,
              help="Add this sweep's trials to --out even if it holds a different "
              "sweep.")  # fmt: skip
@click.option("--force", is_flag=True, help=f"Run sweeps above the size limit "
              f"({api.MAX_TRIALS:,} trials or {api.MAX_BYTES // 2**30} GiB).")  # fmt: skip
def run(config, out, name, jobs, backend, scheduler, chunk_size, quiet, overwrite, extend, force,
        **axes):  # fmt: skip
    """Train every trial of a sweep not yet stored in --out, then print a summary.

    With no options: XOR, seeds 0:1000, lr log:0.01:10:7, widths 1..6,
    10,000 epochs, into results/xor/. Rerunning the same command resumes an
    interrupted sweep; each trial is stored exactly once.
    """
    settings = dict(out=out, name=name, jobs=jobs, backend=backend, scheduler=scheduler,
                    overwrite=overwrite, extend=extend, force=force, chunk_size=chunk_size,
                    **axes)  # fmt: skip
    if quiet:
        api.train(config, progress=False, **settings)
    else:
        from .report import SUMMARY_COLUMNS, summary

        frame = api.run(config, columns=list(SUMMARY_COLUMNS), **settings)
        click.echo(summary(frame))
    release_workers()


@cli.command()
@click.argument("directory", metavar="DIR", type=click.Path(path_type=Path))
@click.option("--by", metavar="COLS",
              help="Parameter columns to group by, comma-separated. [default: every "
              "parameter that varies]")  # fmt: skip
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Output format; csv and json keep raw values and column names.")  # fmt: skip
@click.option("--plots", type=click.Path(file_okay=False, path_type=Path), metavar="PLOTDIR",
              help="Also write PNG figures to this folder.")  # fmt: skip
def report(directory, by, fmt, plots):
    """Print convergence statistics of the sweep stored in DIR (and draw plots)."""
    from .analysis import convergence_table, varying
    from .report import SUMMARY_COLUMNS, format_table
    from .schema import COLUMNS
    from .store import load

    keys = None if by is None else [k.strip() for k in by.split(",") if k.strip()]
    if keys is not None:
        bad = [k for k in keys if k not in COLUMNS] or ([] if keys else ["(empty)"])
        if bad:
            raise SweepError(f"by: no column {bad[0]!r} (columns: {', '.join(COLUMNS)})")
    # Plots need the loss curves; the table needs a few columns only.
    frame = load(directory, None if plots else [*SUMMARY_COLUMNS, "epochs", *(keys or [])])
    keys = keys or varying(frame) or ["lr", "width"]
    click.echo(format_table(convergence_table(frame, keys), fmt, keys), nl=fmt == "table")
    if plots:
        from .plots import write_plots

        for path in write_plots(frame, plots, keys):
            click.echo(f"wrote {path}", err=True)


@cli.command()
@click.option("--repeat", default="3", metavar="N", show_default=True,
              help="Timings per figure (the median is shown).")  # fmt: skip
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Also write the figures as JSON.")  # fmt: skip
def bench(repeat, json_out):
    """Quick benchmark: kernel vs the numpy reference, and sweep throughput on 1 vs 2 workers.

    One thread per process; figures are medians. The full suite with JAX and
    PyTorch peers is `python benchmarks/run.py` in a source checkout.
    """
    from .bench import cpu_name, quick

    if not repeat.isdigit() or int(repeat) < 1:
        raise SweepError(f"repeat: expected a whole number of at least 1, got {repeat!r}")
    click.echo(f"# {cpu_name()}; XOR 2-H-1; kernel: 1,024 networks x 2,000 epochs", err=True)
    table = quick(int(repeat))
    if json_out:
        json_out.write_text(table.to_json(orient="records", indent=1))
    click.echo(tabulate_frame(table))


def tabulate_frame(table) -> str:
    """A small DataFrame as aligned text, blanks for missing values."""
    from tabulate import tabulate

    cells = table.astype(object).where(table.notna(), None)  # NaN is not "missing" to tabulate
    return tabulate(cells, headers="keys", showindex=False, floatfmt=".1f", missingval="")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning user errors into one line and exit status 2."""
    filters = os.environ.get("PYTHONWARNINGS", "")
    if QUIET_RESOURCE_TRACKER not in filters:
        os.environ["PYTHONWARNINGS"] = ",".join(f for f in (filters, QUIET_RESOURCE_TRACKER) if f)
    try:
        cli.main(args=argv, prog_name="sweep", standalone_mode=False)
    except api.Interrupted as e:
        click.echo(str(e), err=True)
        sys.exit(EXIT_INTERRUPTED)
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as e:
        click.echo(f"error: {e.format_message()}", err=True)
        sys.exit(EXIT_USAGE)
    except SweepError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_USAGE)
