"""Reports: the end-of-run summary, tables, failures, comparisons (reports.py)."""

import html
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sweep
from sweep.cli import main
from sweep.errors import ConfigError
from sweep.reporting.aggregate import Aggregate
from sweep.reporting.summary import summary
from sweep.reporting.text import format_table


def frame(converged: int, trials: int, lr: float = 0.5, width: int = 2) -> pd.DataFrame:
    epochs = [100] * converged + [None] * (trials - converged)
    return pd.DataFrame(
        {
            "lr": lr,
            "width": width,
            "converged": [e is not None for e in epochs],
            "epoch_converged": pd.array(epochs, dtype="Int64"),
            "epoch_solved": pd.array(epochs, dtype="Int64"),
            "diverged": False,
            "final_loss": 0.1,
        }
    )


def test_summary_never_rounds_a_failure_away():
    df = pd.concat([frame(999, 1000), frame(1000, 1000, width=3), frame(0, 10, lr=0.01)])
    text = summary(Aggregate.from_frame(df))
    assert text.startswith("2,010 trials, 1,999 converged (99.45% [99.02%, 99.69%])")
    body = text.splitlines()[3:]
    row = next(line for line in body if line.strip().startswith("0.5"))
    assert "99.90%" in row and "100%" in row  # width 2 lost one trial, width 3 none
    assert "0%     -" in next(line for line in body if line.strip().startswith("0.01"))


def test_a_regression_task_s_summary_cells_hold_its_mean_final_mse():
    regression = frame(0, 4).assign(task="wave", final_loss=[0.5, 0.25, 0.25, 0.2])
    classes = frame(3, 4).assign(task="xor")
    both = Aggregate.from_frame(pd.concat([regression, classes]))
    both.regression = frozenset({"wave"})
    text = summary(both)
    assert "Cells: convergence rate, median epochs to converge (a regression task: mean" in text
    wave, xor = text.split("task = wave")[1].split("task = xor")
    # Mean final MSE (0.5 + 0.25 + 0.25 + 0.2) / 4; epochs for a classification task.
    assert wave.strip().splitlines()[-1].split() == ["0.5", "0%", "0.3"]
    assert xor.strip().splitlines()[-1].split() == ["0.5", "75%", "100"]
    alone = Aggregate.from_frame(regression)
    alone.regression = frozenset({"wave"})
    assert "Cells: convergence rate, mean final MSE." in summary(alone)
    wild = Aggregate.from_frame(regression.assign(diverged=True, final_loss=np.nan))
    wild.regression = frozenset({"wave"})
    # No mean over networks that all diverged: said, not nan nor a bare dash.
    assert summary(wild).splitlines()[-1].split() == ["0.5", "0%", "diverged"]
    nan = float("nan")
    half = Aggregate.from_frame(
        regression.assign(diverged=[True, True, False, False], final_loss=[nan, nan, 0.25, 0.2])
    )
    half.regression = frozenset({"wave"})
    assert summary(half).splitlines()[-1].split() == ["0.5", "0%", "0.225"]


def test_markdown_and_table_formats_show_the_interval():
    from sweep.reporting.analysis import convergence_table

    table = convergence_table(frame(8, 10), ["lr", "width"])
    assert "80.0% [49.0%, 94.3%]" in format_table(table, "table", ["lr", "width"])
    assert format_table(table, "markdown", ["lr", "width"]).startswith("|")


@pytest.fixture(scope="module")
def two_tasks(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "r"
    sweep.run(
        out=out,
        task="xor,and",
        seeds="0:12",
        lr="0.5,4",
        width="2",
        epochs=300,
        momentum="0,0.9",
        progress=False,
        backend="sequential",
    )
    return out


@pytest.mark.parametrize(
    "by, problem",
    [
        ("converged", "'converged' is an outcome"),
        ("outputs", "'outputs' is an outcome"),
        ("lr,lr", "'lr' is given twice"),
        ("colour", "'colour' is not a column of the results (parameters: task, seed, lr,"),
        ("widht", "'widht' is not a column of the results; did you mean width?"),
        ("init_radius", "--init-radius R is stored as init_low = -R and init_high = R"),
        ("lr,", "expected parameter columns"),
        ("", "expected parameter columns"),
    ],
)
def test_by_takes_parameter_columns_only(two_tasks, by, problem):
    with pytest.raises(ConfigError) as info:
        sweep.report(two_tasks, by=by)
    assert info.value.field == "by" and problem in str(info.value)


def test_a_report_groups_by_what_varies_and_says_what_it_pools(two_tasks):
    default = sweep.report(two_tasks)
    assert default.by == ["task", "lr", "momentum"] and len(default.table) == 8
    assert "pooled" not in default.text
    by_lr = sweep.report(two_tasks, by="lr")
    # What the rows share comes first: a table of rates says what they are rates of.
    said = ["fixed: 300 epochs · tol 0.1 · init U[0, 1) · width 2"]
    said.append("pooled over: task (2 values), momentum (2)")
    assert by_lr.text.startswith("\n".join(said) + "\n")
    assert by_lr.table.trials.tolist() == [48, 48]
    as_csv = sweep.report(two_tasks, by="lr", format="csv")
    assert as_csv.text.startswith("lr,trials")  # machine formats stay clean...
    assert as_csv.notes == said  # ...it goes to stderr


def test_where_filters_before_grouping(two_tasks):
    xor = sweep.report(two_tasks, where="task == 'xor' and momentum == 0")
    assert xor.by == ["lr"] and xor.table.trials.tolist() == [12, 12]
    for where, problem in [
        ("task = 'xor'", "not a query"),
        ("colour > 1", "not a column"),
        ("lr > 100", "selects no trial"),
    ]:
        with pytest.raises(ConfigError, match=problem):
            sweep.report(two_tasks, where=where)


def test_the_failure_table_counts_every_trial_once(two_tasks):
    result = sweep.report(two_tasks, by="task", failures=True)
    table = result.table
    assert table.task.tolist() == ["and", "xor"] and (table.trials == 48).all()
    modes = ["converged", "slow", "stuck", "diverged", "untrained"]
    assert (table[modes].sum(axis=1) == table.trials).all()
    assert "converged" in result.text and "%" in result.text


def test_the_failure_table_shows_paired_axes_paired():
    from sweep.reporting.text import failure_table

    df = pd.concat([frame(3, 4).assign(init_low=-r, init_high=r) for r in (0.5, 1.0)])
    table = failure_table(df, ["init_low", "init_high"])
    assert table[["init_low", "init_high"]].values.tolist() == [[-1.0, 1.0], [-0.5, 0.5]]
    assert table.trials.tolist() == [4, 4]


def test_a_filtered_report_says_what_its_filter_left_fixed(two_tasks):
    result = sweep.report(two_tasks, where="lr == 4 and task == 'xor'")
    first = result.text.splitlines()[0]
    assert first.startswith("where lr == 4 and task == 'xor': xor · 300 epochs")
    assert first.endswith(" · lr 4 · width 2") and "lr" not in result.table
    as_csv = sweep.report(two_tasks, where="lr == 4", format="csv")
    assert as_csv.text.startswith("task,") and as_csv.notes[0].startswith("where lr == 4: ")


def test_compare_two_selections_of_one_folder(two_tasks):
    result = sweep.compare_report(two_tasks, where_a="momentum == 0", where_b="momentum == 0.9")
    assert result.by == ["task", "lr"] and len(result.table) == 4
    diff = result.table.difference
    assert ((result.table.difference_low <= diff) & (diff <= result.table.difference_high)).all()
    assert " pp [" in result.text


def test_a_comparison_says_which_settings_outside_its_groups_differ(two_tasks, tmp_path):
    shorter = tmp_path / "shorter"
    axes = dict(task="xor,and", lr="0.5,4", width="2", momentum="0,0.9")
    sweep.run(out=shorter, seeds="0:4", epochs=200, progress=False, backend="sequential", **axes)
    result = sweep.compare_report(two_tasks, shorter)
    assert result.text.splitlines()[0] == "A and B differ in epochs (300 against 200)"
    rates = sweep.compare_report(two_tasks, two_tasks, where_a="lr == 4", where_b="lr == 0.5")
    assert rates.text.splitlines()[0] == "A and B differ in lr (4 against 0.5)"
    assert "differ in" not in sweep.compare_report(two_tasks, two_tasks).text


def test_a_comparison_names_the_groups_it_leaves_out(two_tasks):
    result = sweep.compare_report(
        two_tasks, two_tasks, where_a="task == 'xor'", where_b="lr == 4", by="task,lr"
    )
    assert result.table[["task", "lr"]].values.tolist() == [["xor", 4.0]]
    assert [line for line in result.header if line.startswith("not compared")] == [
        "not compared, in A only: task xor lr 0.5",
        "not compared, in B only: task and lr 4",
    ]


def test_a_paired_comparison_says_what_its_pairs_hold_not_what_b_holds(two_tasks):
    # B holds lr 0.5 and 4, A lr 4 alone: only lr 4 pairs up, so nothing is pooled.
    result = sweep.compare_report(
        two_tasks, where_a="momentum == 0 and lr == 4", where_b="momentum == 0.9"
    )
    assert result.text.splitlines()[0] == (
        "paired by seed: A and B differ in momentum alone and share 24 "
        "seeds-and-settings, all at lr 4"
    )
    assert "pooled" not in result.text and result.table["pairs"].tolist() == [12, 12]
    pooled = sweep.compare_report(
        two_tasks, where_a="momentum == 0", where_b="momentum == 0.9", by="lr"
    )
    assert pooled.text.splitlines()[1:3] == [
        "fixed in both: 300 epochs · tol 0.1 · init U[0, 1) · width 2",
        "pooled over: task (2 values)",
    ]
    # In a notebook too: the lines above the table are shown above its HTML.
    assert pooled._repr_html_().startswith(
        "".join(f"<p>{html.escape(line)}</p>" for line in pooled.header) + "<table"
    )


def test_a_task_s_digest_is_named_apart_only_where_the_names_are_the_same():
    from sweep.reporting.comparison import _apart_note

    def agg(task: str, digest: str) -> Aggregate:
        return Aggregate.from_frame(frame(1, 2).assign(task=task, task_digest=digest))

    assert _apart_note(agg("table:0110", "aa"), agg("table:1001", "bb"), ["lr"]) == (
        "A and B differ in task (table:0110 against table:1001)"
    )
    assert _apart_note(agg("data.csv", "aa"), agg("data.csv", "bb"), ["lr"]) == (
        "A and B differ in task_digest (aa against bb)"
    )


def test_a_median_difference_of_too_few_pairs_says_so_and_never_prints_nan():
    from sweep.reporting.paired import compare_paired
    from sweep.reporting.text import readable_difference

    pairs = pd.DataFrame(
        {
            "lr": [1.0] * 8 + [2.0] * 3 + [3.0] * 2,
            "converged_a": [True] * 11 + [False] * 2,
            "converged_b": [True] * 11 + [False] * 2,
            "epochs_a": [100.0] * 11 + [np.nan] * 2,
            "epochs_b": [100.0 + 10 * k for k in range(11)] + [np.nan] * 2,
        }
    )
    text = readable_difference(compare_paired(pairs, ["lr"]), ["lr"]).epochs_difference
    # 8 pairs: an interval; 3: the median alone; none converged in both: nothing.
    assert text.tolist() == ["+35 [+10, +60]", "+90 [too few pairs]", "-"]


def test_report_files_never_go_where_readers_take_them_for_results(two_tasks, tmp_path):
    import pandas as pd

    with pytest.raises(ConfigError, match="^plots: .* lies inside the results folder"):
        sweep.report(two_tasks, plots=two_tasks / "plots")
    result = sweep.report(two_tasks, plots=True)
    assert all(note.startswith(f"wrote {two_tasks / '_report'}") for note in result.notes)
    assert len(pd.read_parquet(two_tasks)) == 96 and len(sweep.load(two_tasks)) == 96


#: Run in a copy of the report (the report itself holds no script): what the
#: browser displays, written into the page for --dump-dom.
PROBE = """<script>addEventListener("load", () => {
  const texts = [...document.querySelectorAll("body *")].filter(e => [...e.childNodes].some(
    n => n.nodeType === 3 && n.textContent.trim()));
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({
    images: [...document.images].map(i => [i.width, i.naturalWidth]),
    text: Math.min(...texts.map(e => parseFloat(getComputedStyle(e).fontSize)))});
  document.body.appendChild(probe);
});</script>"""


def _chromium(page: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    chromium = shutil.which("chromium")
    assert chromium, "the browser test needs Debian's chromium (apt-get install chromium)"
    quiet = ["--disable-quic", "--no-first-run", "--disable-background-networking"]
    quiet += ["--disable-component-update", "--disable-sync", "--enable-logging=stderr"]
    return subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            *quiet,
            "--v=0",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1280,6000",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_html_report_renders_in_a_real_browser(two_tasks, tmp_path, monkeypatch):
    # Headless Chromium (Debian's package; the test command installs it) loads
    # the file offline and screenshots it: the figures must be there, decoded,
    # and every text at least 10 px as displayed.
    import matplotlib.image
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    smallest = []  # the smallest text of each figure, in pixels of its PNG
    save = Figure.savefig

    def record(fig, *args, **kwargs):
        sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]
        smallest.append(min(sizes) * kwargs["dpi"] / 72)
        return save(fig, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", record)
    result = sweep.report(two_tasks, html=tmp_path / "report.html")
    page = tmp_path / "report.html"
    text = page.read_text()
    assert "<script" not in text and "http" not in text.split("<pre>")[0]  # self-contained
    assert text.count("data:image/png;base64,") == 4 and "pooled" not in text
    shot = tmp_path / "shot.png"
    proc = _chromium(page, tmp_path, f"--screenshot={shot}")
    assert shot.exists(), proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    assert not console, console
    pixels = matplotlib.image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (6000, 1280)
    inked = (pixels.min(axis=2) < 0.9).mean()  # anything but white: text, tables, figures
    coloured = (pixels.max(axis=2) - pixels.min(axis=2) > 0.3).mean()  # the figures' colours
    assert inked > 0.05 and coloured > 0.01, (inked, coloured)
    assert result.notes == [f"wrote {page}"]
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("</body>", PROBE + "</body>"))
    dom = _chromium(probe, tmp_path, "--dump-dom", "--virtual-time-budget=10000").stdout
    shown = json.loads(html.unescape(dom.split('<pre id="probe">')[1].split("</pre>")[0]))
    assert shown["text"] >= 10
    assert len(shown["images"]) == len(smallest) == 4
    for (width, natural), px in zip(shown["images"], smallest, strict=True):
        assert px * width / natural >= 10, (px, width, natural)


def test_reports_leave_no_arrow_thread_behind(two_tasks):
    """Arrow's thread pool, once started, can abort the process as it exits
    (apache/arrow#34314): a report, a selection, a comparison and verify read in
    the calling thread."""
    script = (
        "import os, sys, sweep\n"
        "d = sys.argv[1]\n"
        "sweep.report(d, where='lr > 1'); sweep.verify(d)\n"
        "sweep.compare_report(d, where_a='momentum == 0')\n"
        "names = [open(f'/proc/self/task/{t}/comm').read().strip()\n"
        "         for t in os.listdir('/proc/self/task')]\n"
        "print(sum(n != 'jemalloc_bg_thd' for n in names))\n"
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    ran = subprocess.run(
        [sys.executable, "-c", script, str(two_tasks)], capture_output=True, text=True, env=env
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "1"


@pytest.mark.parametrize(
    "args, said",
    [
        (["--plots", "{file}"], "error: plots: {file} is a file; figures go into a folder"),
        (["--where", "lr >> 1"], "error: where: 'lr >> 1' is not allowed (the operator >>)"),
        (["--html", "{dir}"], "error: html: {dir} is a folder; give the HTML file's name"),
    ],
)
def test_a_report_mistake_is_one_line_naming_its_field(two_tasks, tmp_path, capsys, args, said):
    (tmp_path / "f.csv").touch()
    fill = {"file": tmp_path / "f.csv", "dir": tmp_path}
    with pytest.raises(SystemExit) as stop:
        main(["report", str(two_tasks), *[a.format(**fill) for a in args]])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and err.startswith(said.format(**fill)) and err.count("\n") == 1
    with pytest.raises(SystemExit):
        main(["report", str(tmp_path / "nowhere")])
    assert capsys.readouterr().err == f"error: {tmp_path / 'nowhere'} does not exist\n"


def test_a_report_that_cannot_write_its_figures_still_prints_its_table(
    two_tasks, tmp_path, capsys, monkeypatch
):
    import sweep.reporting.reports as reports

    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "r.html"))

    monkeypatch.setattr(reports, "write_html", refused)
    with pytest.raises(SystemExit) as stop:
        main(["report", str(two_tasks), "--html", str(tmp_path / "r.html")])
    out, err = capsys.readouterr()
    assert stop.value.code == 2 and "converged" in out and len(out.splitlines()) > 4
    assert err == f"error: cannot write {tmp_path / 'r.html'}: Permission denied\n"
