"""Whatever happens to a run, what is on disk stays correct (issue: crash safety)."""

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sweep
from kernels import get_task, init_batch, train_batch
from sweep.runner.cluster import QUIET_SCHEDULER
from sweep.store import files

SLOW = [
    "--seeds",
    "0:200",
    "--lr",
    "0.3,1,3",
    "--width",
    "2:4",
    "--epochs",
    "20000",
    "--chunk-size",
    "20",
    "--quiet",
]
SLOW_AXES = dict(seeds="0:200", lr="0.3,1,3", width="2:4", epochs=20000)


def _as_from_a_shell() -> None:
    # A pytest-xdist worker ignores SIGINT, and a child inherits that (Python then
    # never raises KeyboardInterrupt); a shell starts commands with it on.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sweep", "run", *SLOW, *extra, "--out", str(out)],
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_as_from_a_shell,
    )


def wait_for_parts(out: Path, proc: subprocess.Popen, n: int) -> None:
    deadline = time.monotonic() + 90
    while len(list(out.glob("*.parquet"))) < n:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline
        time.sleep(0.005)


def children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of the processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                cmd = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found.append((int(stat.parent.name), cmd))
        except (OSError, IndexError, ValueError):
            continue
    return found


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "s"
    return sweep.run(out=out, backend="sequential", progress=False, **SLOW_AXES)


@pytest.mark.parametrize("backend", ["threading", "loky"])
def test_ctrl_c_stops_promptly_keeps_results_and_says_how_to_resume(
    tmp_path, uninterrupted, backend
):
    out = tmp_path / "s"
    proc = start(out, "--jobs", "2", "--backend", backend)
    wait_for_parts(out, proc, 3)
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl-C
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - t0 < 10
    assert proc.returncode == 130 and "run the same command again" in err
    assert "Traceback" not in err
    with pytest.warns(UserWarning, match="incomplete"):
        kept = sweep.load(out)
    # Chunks of at most 20 trials hold whole seeds' rows of 3 lrs: 18.
    assert len(kept) >= 3 * 18 and kept.trial_id.is_unique
    resumed = subprocess.run(
        [sys.executable, "-m", "sweep", "run", *SLOW, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    pd.testing.assert_frame_equal(sweep.load(out), uninterrupted)


def test_a_killed_worker_is_a_clear_error_and_a_rerun_completes(tmp_path, uninterrupted):
    out = tmp_path / "s"
    proc = start(out, "--jobs", "2", "--backend", "loky")
    wait_for_parts(out, proc, 2)
    workers = [pid for pid, cmd in children(proc.pid) if "popen_loky" in cmd]
    assert workers, children(proc.pid)
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "worker stopped" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    with pytest.warns(UserWarning, match="incomplete"):
        assert sweep.load(out).trial_id.is_unique  # the parts that were written are valid
    again = subprocess.run(
        [sys.executable, "-m", "sweep", "run", *SLOW, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    pd.testing.assert_frame_equal(sweep.load(out), uninterrupted)


def test_a_second_run_on_the_same_folder_is_refused(tmp_path):
    out = tmp_path / "s"
    first = start(out, "--jobs", "1")
    wait_for_parts(out, first, 1)
    # Held still, it keeps the folder however long the second takes to start.
    os.killpg(first.pid, signal.SIGSTOP)
    second = subprocess.run(
        [sys.executable, "-m", "sweep", "run", *SLOW, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert second.returncode == 2 and "in use by another sweep run" in second.stderr
    # The lock dies with its process: a new run may proceed at once.
    assert sweep.run(out=out, backend="sequential", progress=False, **SLOW_AXES) is not None


def test_leftover_temporary_files_are_never_read_and_are_cleaned(tmp_path):
    out = tmp_path / "s"
    axes = dict(seeds="0:8", lr=0.5, width=2, epochs=50, progress=False)
    df = sweep.run(out=out, **axes)
    part = next(out.glob("*.parquet"))
    # What a writer killed mid-write leaves: a truncated temporary file.
    (out / ".tmp-deadbeef").write_bytes(part.read_bytes()[:100])
    assert len(pd.read_parquet(out)) == len(df)
    pd.testing.assert_frame_equal(sweep.load(out), df)
    sweep.run(out=out, **axes)
    assert not list(out.glob(".tmp-*"))


def full_disk(at: int):
    """``Temporary.write`` on a disk that fills up at the ``at``-th file a run
    writes: half of what is written to it lands, then ENOSPC."""
    real, seen = files.Temporary.write, []

    def write(tmp, data):
        if tmp not in seen:
            seen.append(tmp)
        if len(seen) != at:
            return real(tmp, data)
        real(tmp, bytes(memoryview(data)[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    return write


@pytest.mark.parametrize("at", [1, 4])  # the sidecar at the start; a part mid-run
def test_disk_full_is_a_clear_error_and_leaves_no_partial_file(tmp_path, monkeypatch, at):
    out = tmp_path / "s"
    axes = dict(
        seeds="0:40",
        lr=0.5,
        width=2,
        epochs=50,
        progress=False,
        chunk_size=10,
        backend="sequential",
    )
    monkeypatch.setattr(files.Temporary, "write", full_disk(at))
    with pytest.raises(sweep.SweepError, match="^cannot write .*No space left on device"):
        sweep.run(out=out, **axes)
    written_before = {1: 0, 4: 2}[at]  # files: the sidecar, then one part a chunk
    assert len(list(out.glob("*.parquet"))) == written_before and not list(out.glob(".tmp-*"))
    monkeypatch.undo()
    assert len(sweep.run(out=out, **axes)) == 40


def test_write_failures_at_the_start_are_one_line(tmp_path):
    dangling = tmp_path / "link"
    dangling.symlink_to(tmp_path / "gone")
    (tmp_path / "odd").mkdir()
    (tmp_path / "odd" / "_sweep.json").mkdir()  # a sidecar that cannot be replaced
    for out, says in [
        (dangling, "symbolic link"),
        (tmp_path / ("x" * 300), "too long"),
        (tmp_path / "odd", "_sweep.json"),
    ]:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "sweep",
                "run",
                "--seeds",
                "0:2",
                "--epochs",
                "5",
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and says in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_an_unwritable_output_folder_is_a_clear_error():
    with pytest.raises(sweep.ConfigError, match="^out: cannot create /proc/"):
        sweep.run(out="/proc/sweep-results", seeds=1, progress=False)


def test_every_backend_chunking_and_job_count_gives_the_same_rows(tmp_path):
    # Shuffled updates too: each trial's sample orders (those its mini-batches take
    # too) come from its seed alone.
    distributed = pytest.importorskip("dask.distributed")  # the [dask] extra is in CI's install
    axes = dict(
        seeds="0:30",
        lr="0.5,2",
        width="2,3",
        epochs=300,
        update="batch,shuffled",
        progress=False,
    )
    # Sequential first: this process compiles the kernels once, and the
    # workers of the process pools below load them from the cache.
    one = sweep.run(out=tmp_path / "one", backend="sequential", chunk_size=7, **axes)
    runs = [
        sweep.run(out=tmp_path / "loky", backend="loky", jobs=2, **axes),
        sweep.run(out=tmp_path / "threads", backend="threading", jobs=2, chunk_size=5, **axes),
    ]
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs=QUIET_SCHEDULER,
    ) as cluster:
        runs.append(
            sweep.run(
                out=tmp_path / "dask", backend="dask", scheduler=cluster.scheduler_address, **axes
            )
        )
    assert set(one["update"]) == {"batch", "shuffled"} and len(one) == 30 * 2 * 2 * 2
    for other in runs:
        pd.testing.assert_frame_equal(
            other.set_index("trial_id").sort_index(), one.set_index("trial_id").sort_index()
        )


@pytest.mark.parametrize("width", [2, 64, 256])
def test_huge_learning_rates_stay_finite_quiet_and_isolated(width):
    X, Y = get_task("parity3")
    seeds = np.arange(16)
    params = init_batch(seeds, 3, width, 1, -1.0, 1.0)
    lr = np.full(16, 0.5)
    calm = train_batch(X, Y, params, lr, 300, curve_every=10)
    lr[::3] = 1e3
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings spam
        wild = train_batch(X, Y, params, lr, 300, curve_every=10)
    assert np.isfinite(wild.flat_params()).all() and np.isfinite(wild.outputs).all()
    assert not wild.diverged.any()
    keep = lr == 0.5
    np.testing.assert_array_equal(wild.flat_params()[keep], calm.flat_params()[keep])
    np.testing.assert_array_equal(wild.loss_curve[:, keep], calm.loss_curve[:, keep])


def test_dask_backend_without_the_extra_names_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if not installed
    with pytest.raises(sweep.SweepError, match=r"pip install 'tinynet-sweep\[dask\]'"):
        sweep.run(
            out=tmp_path / "s",
            seeds="0:2",
            lr=0.5,
            width=2,
            epochs=10,
            backend="dask",
            progress=False,
        )
    assert not (tmp_path / "s").exists()


HEAVY = [
    "--task",
    "parity8",
    "--width",
    "64",
    "--epochs",
    "5000",
    "--seeds",
    "0:64",
    "--lr",
    "0.5",
    "--quiet",
]


def descendants(pid: int) -> list[tuple[int, str]]:
    """Every process below ``pid``: (pid, command line)."""
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child[0])
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def start_heavy(out: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    # Compiled once (the kernel caches are shared), so that the signal below
    # meets a kernel that is training, not one that is compiling.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "sweep",
            "run",
            *HEAVY[:4],
            "--epochs",
            "1",
            "--seeds",
            "0:2",
            "--quiet",
            "--out",
            str(out.with_name("warm")),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return subprocess.Popen(
        [sys.executable, "-m", "sweep", "run", *HEAVY, *extra, "--out", str(out)],
        env={**os.environ, **(env or {})},
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_as_from_a_shell,
    )


def test_a_heavy_chunk_stops_within_two_seconds_of_a_signal(tmp_path):
    # One test for both signals: the kernel compiles once, not in two workers at once.
    for sig, code in [(signal.SIGINT, 130), (signal.SIGTERM, 143)]:
        out = tmp_path / sig.name
        proc = start_heavy(out, "--jobs", "1")
        # Admitted (its sidecar written), then well inside the first chunk, which
        # trains far longer than this wait: a loaded machine may take seconds to
        # start the run at all.
        deadline = time.monotonic() + 60
        while not (out / "_sweep.json").exists():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        time.sleep(3)
        assert proc.poll() is None
        os.kill(proc.pid, sig)
        t0 = time.monotonic()
        _, err = proc.communicate(timeout=60)
        assert time.monotonic() - t0 < 2, (sig.name, err)
        assert proc.returncode == code and "run the same command again to resume" in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_workers_exit_soon_after_their_driver_is_killed(tmp_path):
    out = tmp_path / "s"
    proc = start_heavy(out, "--jobs", "2", "--backend", "loky", "--chunk-size", "16")
    deadline = time.monotonic() + 60
    while len(workers := [p for p, cmd in descendants(proc.pid) if "loky" in cmd]) < 2:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.2)
    time.sleep(3)  # training
    os.kill(proc.pid, signal.SIGKILL)  # the driver alone, not its process group
    proc.wait()
    deadline = time.monotonic() + 5
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in workers if alive(p)]


def test_workers_that_keep_dying_end_a_dask_run_with_one_line(tmp_path):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "s"
    # A chunk is lost after its workers die twice, not Dask's default four times.
    once = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"}
    proc = start_heavy(out, "--jobs", "1", "--backend", "dask", env=once)
    kills, deadline = 0, time.monotonic() + 120
    while proc.poll() is None:
        assert time.monotonic() < deadline, f"still running after {kills} worker kills"
        # The local cluster's worker processes are the driver's spawned children.
        for pid, cmd in children(proc.pid):
            if "spawn_main" in cmd and alive(pid):
                time.sleep(2)  # let it take the chunk
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
                    kills += 1
        time.sleep(0.2)
    err = proc.stderr.read()
    assert proc.returncode == 2 and "died 2 times" in err and "run the same command again" in err
    assert len(err.strip().splitlines()) == 1, err


def test_a_dask_run_beside_another_cluster_says_nothing(tmp_path):
    pytest.importorskip("dask.distributed")
    with socket.socket() as taken:  # where another cluster's scheduler would serve HTTP
        with contextlib.suppress(OSError):  # in use already: just as good
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "sweep",
                "run",
                "--backend",
                "dask",
                "--jobs",
                "1",
                "--seeds",
                "0:4",
                "--lr",
                "1",
                "--width",
                "2",
                "--epochs",
                "10",
                "--quiet",
                "--out",
                str(tmp_path / "s"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert len(sweep.load(tmp_path / "s")) == 4


# One job: the chunk's thread compiles; two, and two kernels (with momentum
# and without): two worker processes compile them ahead (sweep.runner.compile_ahead).
@pytest.mark.parametrize("jobs", [["--jobs", "1"], ["--jobs", "2", "--momentum", "0,0.9"]])
def test_a_stop_does_not_wait_for_a_kernel_to_compile(tmp_path, jobs):
    env = dict(
        os.environ,
        SWEEP_KERNEL_CACHE=str(tmp_path / "kernels"),
        NUMBA_CACHE_DIR=str(tmp_path / "numba"),
    )
    args = [sys.executable, "-m", "sweep", "run", *HEAVY, *jobs, "--out", str(tmp_path / "s")]
    proc = subprocess.Popen(
        args,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
        preexec_fn=_as_from_a_shell,
    )
    deadline = time.monotonic() + 60
    while len(workers := _loky_workers(proc.pid)) < (len(jobs) > 2) * 2:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.2)
    time.sleep(3)  # empty caches: compiling for several seconds more
    assert proc.poll() is None
    os.killpg(proc.pid, signal.SIGINT)
    t0 = time.monotonic()
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 2, err
    assert proc.returncode == 130 and "0 trials are stored" in err, err
    assert not [p for p in workers if alive(p)]


def _loky_workers(pid: int) -> list[int]:
    return [p for p, cmd in descendants(pid) if "loky" in cmd and "resource_tracker" not in cmd]


def test_a_closed_terminal_stops_a_run_as_sigterm_does(tmp_path):
    out = tmp_path / "s"
    proc = start(out, "--jobs", "1")
    wait_for_parts(out, proc, 1)
    os.kill(proc.pid, signal.SIGHUP)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 129 and "run the same command again to resume" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_caller_that_kills_the_driver_gets_its_pipes_back_within_2_s(tmp_path):
    """The caller of the issue: output captured, the driver SIGKILLed at any moment,
    including while loky's workers are still starting."""
    waited = []
    for k, moment in enumerate(np.linspace(0.2, 2.0, 6)):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sweep",
                "run",
                *SLOW,
                "--jobs",
                "2",
                "--backend",
                "loky",
                "--out",
                str(tmp_path / f"s{k}"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(moment)
        proc.kill()
        started = time.monotonic()
        proc.communicate(timeout=60)  # until every holder of the pipes is gone
        waited.append(time.monotonic() - started)
    assert max(waited) < 2, [f"{w:.2f}" for w in waited]


#: A worker process of the driver's local Dask cluster dies as it starts (after
#: the first one, which lives a second, if FIRST_LIVES).
DYING_WORKERS = """
import os, sys, threading, time
if os.environ.get("SWEEP_DRIVER_PID") and "spawn_main" in " ".join(sys.orig_argv):
    first = os.path.join(os.path.dirname(__file__), "first")
    if FIRST_LIVES and not os.path.exists(first):
        open(first, "w").close()
        threading.Thread(target=lambda: (time.sleep(1.0), os._exit(1)), daemon=True).start()
    else:
        os._exit(1)
"""


@pytest.mark.parametrize("first_lives", [False, True])
def test_dask_workers_that_die_as_they_start_end_the_run_with_one_line(tmp_path, first_lives):
    pytest.importorskip("dask.distributed")
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(f"FIRST_LIVES = {first_lives}\n{DYING_WORKERS}")
    env = dict(os.environ, PYTHONPATH=str(site))
    env.pop("SWEEP_DRIVER_PID", None)  # (set in this process by runs of its own)
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sweep",
            "run",
            "--backend",
            "dask",
            "--jobs",
            "1",
            "--seeds",
            "0:400",
            "--lr",
            "1",
            "--width",
            "2",
            "--epochs",
            "2000000",
            "--quiet",
            "--out",
            str(tmp_path / "s"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and "died" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and time.monotonic() - started < 60
