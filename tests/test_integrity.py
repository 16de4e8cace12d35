"""Damaged, foreign or missing files are found, never read as data, and healed by a
rerun (integrity.py, and its use by store.py)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import sweep
from sweep.integrity import MANIFEST, QUARANTINE, read_manifest
from sweep.store import SIDECAR

AXES = dict(seeds="0:24", lr="0.5,2", width=2, epochs=80, curve_every=20, chunk_size=16,
            backend="sequential", progress=False)  # fmt: skip
RELEASE_0_1 = Path(__file__).parent / "data" / "results-0.1.0"
RELEASE_0_1_SWEEP = dict(task="xor,parity3", seeds="0:6", lr="0.5,3", width="2,3", epochs=60,
                         curve_every=20)  # fmt: skip


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
    return subprocess.run([sys.executable, "-m", "sweep", *args], capture_output=True,
                          text=True, timeout=120)  # fmt: skip


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
    run = cli("run", "--seeds", "0:24", "--lr", "0.5,2", "--width", "2", "--epochs", "80",
              "--curve-every", "20", "--chunk-size", "16", "--jobs", "1", "--quiet",
              "--out", str(copy))  # fmt: skip
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
    entries, intact = read_manifest(copy)
    assert intact and part.name in entries
    with pytest.warns(UserWarning, match="incomplete: 32 of the sweep's 48"):
        assert len(sweep.load(copy)) == 32
    trained = sweep.train(out=copy, **AXES)
    assert trained.trained == 16
    pd.testing.assert_frame_equal(sweep.load(copy), clean[1])
    assert set(read_manifest(copy)[0]) == {p.name for p in parts(copy)}  # rewritten


def test_a_folder_from_before_manifests_is_adopted(tmp_path):
    out = tmp_path / "old"
    shutil.copytree(RELEASE_0_1, out)
    assert not (out / MANIFEST).exists()
    lines, sound = sweep.verify(out)
    assert sound and "written before manifests" in lines[0]
    before = sweep.load(out)
    trained = sweep.train(out=out, backend="sequential", progress=False, **RELEASE_0_1_SWEEP)
    assert trained.trained == 0
    assert set(read_manifest(out)[0]) == {p.name for p in parts(out)}
    pd.testing.assert_frame_equal(sweep.load(out), before)


def test_verify_on_the_command_line(copy):
    ok = cli("verify", str(copy))
    assert ok.returncode == 0 and ok.stdout.startswith("ok: 3 intact parts holding 48")
    (copy / "part-000777-zz.parquet").write_bytes(b"PAR1 not really")
    bad = cli("verify", str(copy))
    assert bad.returncode == 1 and "part-000777-zz.parquet: not listed" in bad.stdout


def test_a_run_that_fails_records_no_run(copy, monkeypatch):
    from sweep import store as store_module

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
