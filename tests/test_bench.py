"""`sweep bench` and its timing helpers (tiny sizes: these test the plumbing, not speed)."""

import json
import time

import numpy as np
import pandas as pd

from sweep import bench
from sweep.cli import main


def test_kernel_and_reference_timings_are_per_network_epoch():
    ns = bench.kernel_ns(width=2, batch=64, epochs=50, repeat=1)
    ref = bench.reference_ns(width=2, networks=1, epochs=20, repeat=1)
    assert 0 < ns < ref  # the kernel beats the numpy loop even at this size
    assert 0.01 <= bench.timed(lambda: time.sleep(0.01), repeat=3) < 1  # the median run


def test_sweep_seconds_counts_every_trial():
    seconds, trials = bench.sweep_seconds(
        1, "sequential", seeds="0:3", lr="0.5,1", width=2, epochs=20
    )
    assert trials == 6 and seconds > 0


def test_bench_command_prints_a_table_with_blanks_and_writes_json(tmp_path, monkeypatch, capsys):
    table = pd.DataFrame(
        [
            {
                "what": "kernel fast, tiled, float64",
                "width": 2,
                "ns_per_network_epoch": 15.0,
                "x_reference": 4000.0,
            },
            {
                "what": "sweep run, 2 warm workers (threading)",
                "trials_per_s": 5000.0,
                "speedup": 1.9,
            },
        ]
    )
    monkeypatch.setattr(bench, "quick", lambda repeat: table)
    out = tmp_path / "bench.json"
    main(["bench", "--repeat", "1", "--json", str(out)])
    text = capsys.readouterr().out
    assert "kernel fast, tiled" in text and "nan" not in text
    assert json.loads(out.read_text())[1]["speedup"] == 1.9
    assert not np.isnan(json.loads(out.read_text())[0]["x_reference"])
