"""``sweep run``: its options (one per axis, from :data:`sweep.config.axes.AXES`,
and the run's own) and what it does, over :func:`sweep.api.train`."""

from __future__ import annotations

from pathlib import Path

import click

from .config.axes import AXES, BY_NAME, STORED_AS
from .config.options import DEFAULT_BACKEND, DEFAULT_NAME, MAX_BYTES, MAX_TRIALS
from .config.resolve import resolve

#: Help of the run's settings that are not axes (the axes' is in sweep.config.axes).
_SETTINGS = {
    "init_radius": "Initial weights ~ uniform[-R, R), or R is the radius of --init: paired "
    "ranges (comma list of R), instead of --init-low/--init-high, which cross. "
    f"{STORED_AS['init_radius']}.",
    "samples": "Sample N points of the axes given as distributions (uniform:A:B, "
    "loguniform:A:B; randint:A:B for width and epochs), crossed with the listed axes and "
    "the seeds: --seeds 0:10 --lr loguniform:0.01:10 --samples 64 is 640 trials.",
    "sampler": "sobol (a scrambled Sobol sequence) or random (independent uniforms). "
    "[default: sobol]",
    "sample_seed": "Seed of the sampled points (the same seed draws the same points, and more "
    "samples extend them). [default: 0]",
    "test_fraction": "Hold out this fraction F of each task's samples, in (0, 1), as its test "
    "set (built-in tasks too): each trial's test_loss and test_accuracy are measured on it "
    "at the end of training. The split is fixed per task by --split-seed.",
    "split_seed": "Seed of the test-set split (--test-fraction). [default: 0]",
    "curve": "linear: record the loss every N epochs (--curve-every); log: at about N "
    "epochs spaced logarithmically from epoch 0, so the first epochs show. "
    "[default: linear]",
    "curve_every": "The loss curve's stride N (0: no curve), or with --curve log its number of "
    "points. [default: epochs/100; log: 100]",
    "precision": "Train each cell (a combination of the axes but the seeds) in rounds of seeds, "
    "doubling from the --seeds range (0:100, then 100:200, 200:400, ...), until the 95% "
    "interval of its statistic (--precision-of) has half-width at most this, in (0, 0.5). "
    "[default: none: the seeds as given]",
    "precision_of": "converged or solved (a rate; half-width in absolute rate) or median-epochs "
    "(the median epochs to converge; half-width relative to the median). "
    "[default: converged]",
    "max_seeds": "With --precision: the most seeds a cell runs; cells that reach it are named. "
    "[default: 100000]",
}


def _axis_options(func):
    """One ``--<axis> SPEC`` option per axis of :data:`sweep.config.axes.AXES` (but the
    ``--early-stop`` flag), then the settings."""
    options = [
        (axis.name, axis.flag, axis.help, axis.default)
        for axis in AXES
        if axis.name != "early_stop" and not axis.derived
    ]
    options += [
        (name, "--" + name.replace("_", "-"), text, None) for name, text in _SETTINGS.items()
    ]
    for name, flag, text, default in reversed(options):
        shown = "" if default is None or "[default" in text else f" [default: {default}]"
        func = click.option(flag, name, metavar="SPEC", help=text + shown)(func)
    return func


@click.command()
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.toml",
    help="Read the sweep from a TOML file; flags override it.",
)
@_axis_options
@click.option("--out", metavar="DIR", help="Output folder. [default: results/NAME]")
@click.option(
    "--name",
    metavar="NAME",
    help=f"Sweep name, used for the default --out. [default: {DEFAULT_NAME}]",
)
@click.option(
    "--jobs",
    metavar="N",
    help="Workers (threads, or processes with loky and dask). [default: all cores]",
)
@click.option(
    "--backend",
    metavar="NAME",
    help="threading (threads in this process; the kernels release the GIL), "
    "loky (worker processes), sequential (one thread) or dask (a cluster). "
    f"[default: {DEFAULT_BACKEND}]",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="With --backend dask: a running scheduler, e.g. tcp://host:8786 "
    "(default: start a local cluster).",
)
@click.option(
    "--early-stop", "early_stop", is_flag=True, default=None, help=BY_NAME["early_stop"].help
)
@click.option(
    "--store",
    metavar="WHAT",
    help="full: every column; summary: parameters and statistics only, without "
    "weights, outputs or loss curves (tens of bytes a trial, for studies of "
    "millions of trials). [default: full]",
)
@click.option(
    "--chunk-size",
    metavar="N",
    help="Networks per chunk (one kernel call, one Parquet part), at most; "
    "a chunk holds whole seeds (all their lrs) where N allows. "
    "[default: about 0.5 s of work]",
)
@click.option("--quiet", is_flag=True, help="No progress bar and no summary.")
@click.option(
    "--dry-run",
    "dry_run",
    is_flag=True,
    help="Print the number of trials and shapes and estimates of time, disk and "
    "memory, then stop: nothing is trained or written.",
)
@click.option(
    "--overwrite", is_flag=True, help="Replace the results of a different sweep in --out."
)
@click.option(
    "--extend",
    is_flag=True,
    help="Add this sweep's trials to --out even if it holds a different sweep.",
)
@click.option(
    "--force",
    is_flag=True,
    help=f"Run sweeps above the size limit "
    f"({MAX_TRIALS:,} trials or {MAX_BYTES // 2**30} GiB), and start more "
    "worker processes than there are cores.",
)
def run(
    config,
    out,
    name,
    jobs,
    backend,
    scheduler,
    store,
    chunk_size,
    quiet,
    dry_run,
    overwrite,
    extend,
    force,
    **axes,
):
    """Train every trial of a sweep not yet stored in --out, then print a summary.

    With no options: XOR, seeds 0:1000, lr log:0.01:10:7, widths 1..6,
    10,000 epochs, into results/xor/. Every combination of the axes' values
    is a trial (an axis given as a distribution is sampled: --samples).
    Rerunning the same command resumes an interrupted sweep; each trial is
    stored exactly once; more seeds or values grow it.
    """
    # Bad input is refused before numba, pyarrow's datasets and pandas load.
    given = dict(jobs=jobs, backend=backend, store=store, chunk_size=chunk_size)
    resolve(config, out=out, name=name, scheduler=scheduler, force=force, **given, **axes)
    from . import api
    from .runner.pool import release_workers

    if dry_run:
        click.echo(
            api.dry_run(
                config,
                out=out,
                name=name,
                jobs=jobs,
                backend=backend,
                store=store,
                chunk_size=chunk_size,
                scheduler=scheduler,
                force=force,
                overwrite=overwrite,
                extend=extend,
                **axes,
            )
        )
        return
    settings = dict(
        out=out,
        name=name,
        jobs=jobs,
        backend=backend,
        scheduler=scheduler,
        overwrite=overwrite,
        extend=extend,
        force=force,
        chunk_size=chunk_size,
        store=store,
        **axes,
    )
    done = api.train(config, progress=False if quiet else None, **settings)
    if not quiet:
        from .reporting.aggregate import aggregate  # pandas: only once training is done
        from .reporting.summary import summary

        click.echo(summary(aggregate(done.out)))
        if not done.whole:
            click.echo("(the folder also holds other sweeps' trials: these statistics cover all)")
        for note in done.notes:  # what a study to a precision reached
            click.echo(note)
        click.echo(done.line, err=True)  # where the results went, after the summary
    release_workers()
