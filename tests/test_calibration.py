"""What the planner learns from earlier runs (sweep.runner.calibration)."""

from sweep.runner import calibration


def test_a_run_is_remembered_by_its_median_chunk_and_a_short_one_not_at_all(monkeypatch, tmp_path):
    monkeypatch.setattr(calibration, "_file", lambda: tmp_path / "throughput.json")
    compiling = [(0.001, 6.0), (0.001, 6.0)]  # each worker's first chunk compiles a kernel
    calibration.record_chunks(compiling)
    assert calibration._read() == []  # compiling would be all there is to it
    calibration.record_chunks(compiling + [(1.0, 2.0)] * 5)
    (run,) = calibration._read()
    assert run["measured"] / run["estimated"] == 2.0  # the compiling chunks do not count


def test_runs_measured_against_another_cost_model_are_not_read(monkeypatch, tmp_path):
    path = tmp_path / "throughput.json"
    monkeypatch.setattr(calibration, "_file", lambda: path)
    path.write_text('[{"estimated": 0.2, "measured": 8.0}]')  # no model: an older one
    assert calibration.factor() == (1.0, 0)
    calibration.record(1.0, 3.0)
    assert calibration.factor() == (3.0, 1)
