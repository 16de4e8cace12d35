"""Damaged, foreign or missing files are found, never read as data, and healed by a
rerun (integrity.py, and its use by store.py)."""

import errno
import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sweep
from sweep.store.layout import MANIFEST, QUARANTINE, SIDECAR
from sweep.store.manifest import read_manifest

AXES = dict(
    seeds="0:24",
    lr="0.5,2",
    width=2,
    epochs=80,
    curve_every=20,
    chunk_size=16,
    backend="sequential",
    progress=False,
)
RELEASE_0_1 = Path(__file__).parent / "data" / "results-0.1.0"
RELEASE_0_1_SWEEP = dict(
    task="xor,parity3", seeds="0:6", lr="0.5,3", width="2,3", epochs=60, curve_every=20
)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """A sweep run without incident: (folder, rows)."""
    out = tmp_path_factory.mktemp("clean") / "s"
    return out, sweep.run(out=out, **AXES)


@pytest.fixture
def copy(clean, tmp_path):
    out = tmp_path / "s"
    shutil.copytree(clean[0], out)
    return out


def parts(out: Path) -> list[Path]:
    return sorted(out.glob("part-*.parquet"))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sweep", *args], capture_output=True, text=True, timeout=120
    )


def rerun_heals(out: Path, clean_rows: pd.DataFrame, quarantined: int) -> None:
    """A plain rerun moves the bad files aside and restores every row."""
    healed = sweep.run(out=out, **AXES)
    pd.testing.assert_frame_equal(healed, clean_rows)
    assert len(list((out / QUARANTINE).iterdir())) == quarantined
    lines, sound = sweep.verify(out)
    assert sound, lines


@pytest.mark.parametrize("where", [0.1, 0.5, 0.9, -30])  # data pages ... the footer
def test_a_flipped_byte_anywhere_is_found_and_healed(copy, clean, where):
    part = parts(copy)[1]
    data = bytearray(part.read_bytes())
    at = int(len(data) * where) if where > 0 else len(data) + where
    data[at] ^= 0x01
    part.write_bytes(bytes(data))
    with pytest.raises(sweep.SweepError, match=f"{part.name}: damaged.*run the sweep again"):
        sweep.load(copy)
    shown = cli("report", str(copy))
    assert shown.returncode == 2 and len(shown.stderr.strip().splitlines()) == 1
    assert "Traceback" not in shown.stderr
    lines, sound = sweep.verify(copy)
    assert not sound and any(part.name in line for line in lines)
    rerun_heals(copy, clean[1], 1)


def test_foreign_parts_and_other_parquet_files_are_never_data(copy, clean, tmp_path):
    other = tmp_path / "other"
    sweep.run(out=other, **{**AXES, "seeds": "100:110"})
    shutil.copy(parts(other)[0], copy / "part-000900-0badf00d.parquet")  # a valid part
    pq.write_table(pa.table({"a": [1, 2], "b": [3.0, 4.0]}), copy / "part-000901-x.parquet")
    with pytest.raises(sweep.SweepError, match="not listed in _manifest.jsonl"):
        sweep.load(copy)
    with pytest.warns(UserWarning, match="left out 2 damaged or foreign files"):
        kept = sweep.load(copy, skip_damaged=True)
    pd.testing.assert_frame_equal(kept, clean[1])
    rerun_heals(copy, clean[1], 2)


def test_a_truncated_part_is_found_and_its_trials_trained_again(copy, clean):
    part = parts(copy)[0]
    part.write_bytes(part.read_bytes()[:1000])
    report = cli("report", str(copy), "--skip-damaged", "--by", "lr")
    assert report.returncode == 0
    assert "left out 1 damaged or foreign file (16 trials)" in report.stderr
    assert "incomplete: 32 of the sweep's 48 trials" in report.stderr
    run = cli(
        "run",
        "--seeds",
        "0:24",
        "--lr",
        "0.5,2",
        "--width",
        "2",
        "--epochs",
        "80",
        "--curve-every",
        "20",
        "--chunk-size",
        "16",
        "--jobs",
        "1",
        "--quiet",
        "--out",
        str(copy),
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr.startswith(f"moved {part.name} to _quarantine/: damaged: 1,000 bytes")
    pd.testing.assert_frame_equal(sweep.load(copy), clean[1])


@pytest.mark.parametrize("damage", ["deleted", "invalid"])
def test_a_lost_or_invalid_sidecar_is_rebuilt_from_the_parts(copy, clean, damage):
    before = json.loads((copy / SIDECAR).read_text())
    if damage == "deleted":
        (copy / SIDECAR).unlink()
    else:
        (copy / SIDECAR).write_text('{"format": "sweep-res')
    said = "missing" if damage == "deleted" else "invalid"
    with pytest.warns(UserWarning, match=f"{SIDECAR} is {said}"):
        pd.testing.assert_frame_equal(sweep.load(copy), clean[1])
    trained = sweep.train(out=copy, **AXES)
    assert trained.trained == 0 and trained.stored_before == 48
    rebuilt = json.loads((copy / SIDECAR).read_text())
    assert rebuilt["created"] == before["created"] and rebuilt["id"] == before["id"]
    assert rebuilt["specs"] == before["specs"]


def test_a_sidecar_cannot_be_rebuilt_from_two_sweeps_parts(copy, tmp_path):
    other = tmp_path / "other"
    sweep.run(out=other, **{**AXES, "seeds": "100:110"})
    (copy / MANIFEST).unlink()
    (copy / SIDECAR).unlink()
    shutil.copy(parts(other)[0], copy / "part-000900-0badf00d.parquet")
    with pytest.raises(sweep.SweepError, match="come from 2 different sweeps.*--overwrite"):
        sweep.run(out=copy, **AXES)
    assert len(sweep.run(out=copy, overwrite=True, **AXES)) == 48


def test_a_crash_between_manifest_and_rename_loses_nothing(copy, clean):
    # The manifest line was written, the part never renamed in; then the
    # line of the next part was cut short by a crash.
    part = parts(copy)[-1]
    part.unlink()
    with open(copy / MANIFEST, "a") as f:
        f.write('{"part": "part-000009-cut')
    manifest = read_manifest(copy)
    assert manifest.intact and manifest.torn and part.name in manifest.entries
    with pytest.warns(UserWarning, match="incomplete: 32 of the sweep's 48"):
        assert len(sweep.load(copy)) == 32
    trained = sweep.train(out=copy, **AXES)
    assert trained.trained == 16
    pd.testing.assert_frame_equal(sweep.load(copy), clean[1])
    assert set(read_manifest(copy).entries) == {p.name for p in parts(copy)}  # rewritten
    assert not read_manifest(copy).torn and sweep.verify(copy)[1]


def test_a_folder_from_before_manifests_is_adopted(tmp_path):
    out = tmp_path / "old"
    shutil.copytree(RELEASE_0_1, out)
    assert not (out / MANIFEST).exists()
    lines, sound = sweep.verify(out)
    assert sound and "written before manifests" in lines[0]
    before = sweep.load(out)
    trained = sweep.train(out=out, backend="sequential", progress=False, **RELEASE_0_1_SWEEP)
    assert trained.trained == 0
    assert set(read_manifest(out).entries) == {p.name for p in parts(out)}
    pd.testing.assert_frame_equal(sweep.load(out), before)


def test_verify_on_the_command_line(copy):
    ok = cli("verify", str(copy))
    assert ok.returncode == 0 and ok.stdout.startswith("ok: 3 intact parts holding 48")
    (copy / "part-000777-zz.parquet").write_bytes(b"PAR1 not really")
    bad = cli("verify", str(copy))
    assert bad.returncode == 1 and "part-000777-zz.parquet: not listed" in bad.stdout


def test_a_run_that_fails_records_no_run(copy, monkeypatch):
    from sweep.store import writer as store_module

    runs = len(json.loads((copy / SIDECAR).read_text())["runs"])

    def fail(*args, **kw):
        raise sweep.SweepError("cannot write results: injected")

    monkeypatch.setattr(store_module.Store, "write", fail)
    with pytest.raises(sweep.SweepError, match="injected"):
        sweep.run(out=copy, **{**AXES, "seeds": "0:30"})
    assert len(json.loads((copy / SIDECAR).read_text())["runs"]) == runs
    monkeypatch.undo()
    sweep.run(out=copy, **{**AXES, "seeds": "0:30"})
    assert len(json.loads((copy / SIDECAR).read_text())["runs"]) == runs + 1


def _served(out: Path) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sweep.load(out, skip_damaged=True)


def _damage_line(out: Path, name: str) -> None:
    """Make the manifest line of part ``name`` invalid JSON."""
    lines = (out / MANIFEST).read_text().splitlines(keepends=True)
    (out / MANIFEST).write_text(
        "".join(line[:20] + "\n" if name in line else line for line in lines)
    )


@pytest.mark.parametrize("manifest", ["present", "damaged", "deleted"])
def test_one_flipped_bit_at_any_of_50_offsets_is_never_served(clean, tmp_path, manifest):
    source = parts(clean[0])[1]
    others = clean[1][
        ~clean[1].trial_id.isin(pq.read_table(source).column("trial_id").to_pylist())
    ].reset_index(drop=True)
    offsets = np.linspace(0, source.stat().st_size - 1, 50).astype(int)
    for k, at in enumerate(offsets):
        out = tmp_path / f"flip{k}"
        shutil.copytree(clean[0], out)
        part = out / source.name
        data = bytearray(part.read_bytes())
        data[at] ^= 1 << (k % 8)
        part.write_bytes(bytes(data))
        if manifest == "deleted":
            (out / MANIFEST).unlink()
        elif manifest == "damaged":
            _damage_line(out, source.name)
        with pytest.raises(sweep.SweepError, match=source.name):
            sweep.load(out)
        pd.testing.assert_frame_equal(_served(out), others)
        if k % 10 == 0:  # a plain rerun heals it
            rerun_heals(out, clean[1], 1)


@pytest.mark.parametrize("name", ["part-000900-0badf00d.parquet", "copy"])
@pytest.mark.parametrize("manifest", ["present", "deleted"])
def test_a_copied_part_never_yields_a_second_row(copy, clean, name, manifest):
    first = parts(copy)[0]
    if name == "copy":  # a new number, the same digest: it vouches for itself
        name = first.name.replace("part-000000", "part-000007")
    shutil.copy(first, copy / name)
    if manifest == "deleted":
        (copy / MANIFEST).unlink()
    said = "not listed" if manifest == "present" else f"holds trials that {first.name} holds"
    with pytest.raises(sweep.SweepError, match=said):
        sweep.load(copy)
    pd.testing.assert_frame_equal(_served(copy), clean[1])
    shown = cli("report", str(copy))
    assert shown.returncode == 2 and len(shown.stderr.strip().splitlines()) == 1
    rerun_heals(copy, clean[1], 1)


def test_an_edited_covers_field_is_caught_and_trains_nothing_again(copy, clean):
    manifest = copy / MANIFEST
    text = manifest.read_text()
    edited = text.replace('"lrs":[0.5,2.0]', '"lrs":[0.5,3.0]', 1)
    assert edited != text
    manifest.write_text(edited)
    lines, sound = sweep.verify(copy)
    assert not sound and "1 damaged line" in lines[0]
    pd.testing.assert_frame_equal(sweep.load(copy), clean[1])
    assert sweep.train(out=copy, **AXES).trained == 0
    pd.testing.assert_frame_equal(sweep.load(copy), clean[1])
    assert sweep.verify(copy)[1]
    # A line without its checksum (an older manifest) is checked against its part.
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    for line in lines:
        del line["check"]
    lines[0]["covers"]["lrs"] = [0.5, 3.0]
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert sweep.train(out=copy, **AXES).trained == 0
    pd.testing.assert_frame_equal(sweep.load(copy), clean[1])


def test_a_torn_last_line_is_healed_by_one_rerun(copy, clean):
    manifest = copy / MANIFEST
    manifest.write_bytes(manifest.read_bytes()[:-25])
    assert sweep.train(out=copy, **AXES).trained == 16  # the part of the torn line: retrained
    assert sweep.verify(copy)[1]
    pd.testing.assert_frame_equal(sweep.load(copy), clean[1])


def test_a_failed_append_leaves_no_torn_line_and_short_writes_continue(copy, clean, monkeypatch):
    from sweep.store import files

    (copy / MANIFEST).write_bytes(
        b"".join(line + b"\n" for line in (copy / MANIFEST).read_bytes().splitlines()[:-1])
    )
    parts(copy)[-1].unlink()
    before = (copy / MANIFEST).read_bytes()
    real_write = os.write

    def full_disk(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").endswith(MANIFEST):
            real_write(fd, bytes(data)[:10])
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(files.os, "write", full_disk)
    with pytest.raises(sweep.SweepError, match=f"cannot write .*{MANIFEST}: No space left"):
        sweep.train(out=copy, **AXES)
    assert (copy / MANIFEST).read_bytes() == before and len(parts(copy)) == 2
    monkeypatch.setattr(files.os, "write", lambda fd, data: real_write(fd, bytes(data)[:7]))
    assert sweep.train(out=copy, **AXES).trained == 16
    monkeypatch.undo()
    assert sweep.verify(copy)[1]
    pd.testing.assert_frame_equal(sweep.load(copy), clean[1])


@pytest.mark.parametrize("own", [MANIFEST, QUARANTINE, SIDECAR, ".lock", "_report"])
def test_own_files_that_are_links_are_refused_and_their_targets_untouched(copy, tmp_path, own):
    target = tmp_path / "elsewhere"
    if own in (QUARANTINE, "_report"):
        target.mkdir()
    else:
        target.write_bytes((copy / own).read_bytes() if (copy / own).exists() else b"keep")
    before = target.read_bytes() if target.is_file() else []
    (copy / own).unlink(missing_ok=True)
    (copy / own).symlink_to(target)
    parts(copy)[0].write_bytes(b"damaged")  # a rerun would quarantine it
    run = cli(
        "run",
        "--seeds",
        "0:30",
        "--lr",
        "0.5,2",
        "--width",
        "2",
        "--epochs",
        "80",
        "--curve-every",
        "20",
        "--chunk-size",
        "16",
        "--jobs",
        "1",
        "--quiet",
        "--out",
        str(copy),
    )
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert f"{own} is a symbolic link" in run.stderr
    assert (target.read_bytes() if target.is_file() else list(target.iterdir())) == before
    # Figures only where they would be written: into the linked _report.
    report = cli("report", str(copy), *["--plots"] * (own == "_report"), "--skip-damaged")
    assert (target.read_bytes() if target.is_file() else list(target.iterdir())) == before
    assert report.returncode in (0, 2) and "Traceback" not in report.stderr


@pytest.mark.parametrize("manifest", ["present", "deleted"])
def test_a_fifo_or_a_link_to_a_device_is_never_opened(copy, manifest):
    os.mkfifo(copy / "part-000777-aaaaaaaa.parquet")
    (copy / "part-000778-bbbbbbbb.parquet").symlink_to("/dev/zero")
    if manifest == "deleted":
        (copy / MANIFEST).unlink()
    started = time.monotonic()
    lines, sound = sweep.verify(copy)
    assert time.monotonic() - started < 2 and not sound
    said = "not listed" if manifest == "present" else "a FIFO, not a part"
    assert any("part-000777" in line and said in line for line in lines)
    for args in (["verify", str(copy)], ["report", str(copy)]):
        shown = cli(*args)
        assert shown.returncode in (1, 2) and "Traceback" not in shown.stderr
    assert sweep.train(out=copy, **AXES).trained == 0
    assert sorted(p.name for p in (copy / QUARANTINE).iterdir()) == [
        "part-000777-aaaaaaaa.parquet",
        "part-000778-bbbbbbbb.parquet",
    ]
    assert (copy / QUARANTINE / "part-000778-bbbbbbbb.parquet").is_symlink()


def test_reads_during_a_run_raise_no_false_alarm(tmp_path):
    out = tmp_path / "s"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sweep",
            "run",
            "--seeds",
            "0:4000",
            "--lr",
            "0.5",
            "--width",
            "2",
            "--epochs",
            "1000000",
            "--chunk-size",
            "16",
            "--jobs",
            "2",
            "--quiet",
            "--out",
            str(out),
        ],
        stderr=subprocess.PIPE,
    )
    reads = 0
    try:
        while reads < 100:
            assert proc.poll() is None, "the run ended before 100 reads"
            if not list(out.glob("part-*.parquet")):
                time.sleep(0.01)
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "incomplete": it is
                sweep.load(out, columns=["converged"])
            reads += 1
    finally:
        proc.kill()
        proc.communicate()
