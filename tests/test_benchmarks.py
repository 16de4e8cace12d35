"""The benchmarks' own measuring code runs (tiny sizes: the plumbing, not speed)."""

import importlib
import sys
from pathlib import Path

import pytest

from kernels.recipe import Recipe

sys.path.append(str(Path(__file__).resolve().parent.parent / "benchmarks"))  # last: shadows nothing
update_floor = importlib.import_module("update_floor")


def test_the_update_floor_times_an_optimizers_update():
    ns = update_floor.update_ns(Recipe(optimizer="quickprop"), 2, batch=16, reps=2, repeat=1)
    assert 0 < ns < 1e6
    # GD's epoch with GD's update swapped for one twice as long.
    assert update_floor.floor(40.0, 10.0, 20.0) == pytest.approx(1.25)
