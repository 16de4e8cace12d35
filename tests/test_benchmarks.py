"""The benchmarks' own measuring code runs (tiny sizes: the plumbing, not speed)."""

import importlib
import sys
from collections import Counter
from pathlib import Path

import pytest

from kernels import get_task, tiled
from kernels.recipe import Recipe

sys.path.append(str(Path(__file__).resolve().parent.parent / "benchmarks"))  # last: shadows nothing
update_floor = importlib.import_module("update_floor")
same_code = importlib.import_module("same_code")
processes = importlib.import_module("processes")
suite = importlib.import_module("suite")


def test_the_update_floor_times_an_optimizers_update():
    ns = update_floor.update_ns(Recipe(optimizer="quickprop"), 2, batch=16, reps=2, repeat=1)
    assert 0 < ns < 1e6
    # GD's epoch with GD's update swapped for one twice as long.
    assert update_floor.floor(40.0, 10.0, 20.0) == pytest.approx(1.25)


@pytest.mark.parametrize("optimizer", ["quickprop", "adam"])
def test_the_update_floor_times_the_kernels_own_update_lines(optimizer):
    recipe, width = Recipe(optimizer=optimizer), 3  # a full tile and a smaller last one
    X, Y = get_task("xor")
    kernel = tiled.source(X, Y, width, tiled.tile_for(X, Y, width, recipe), recipe)

    def updates(text: str) -> Counter:
        """The update calls of the fast variant, one per parameter and tile body."""
        calls = (line.strip() for line in text.splitlines() if f"= {optimizer}(" in line)
        return Counter(call for call in calls if call.endswith("True)"))

    alone = updates(update_floor.update_source(recipe, width)[1])
    assert sum(alone.values()) == 4 * 2 + 4 + 1  # a tile of 2 units, one of 1, the bias
    assert alone == updates(kernel)


def test_machine_code_digests_agree_across_processes_and_tell_kernels_apart():
    # Each process compiles afresh: were a kernel's digest not the same in
    # every process, no two trees could ever be found to share their code.
    first = same_code.machine_code(same_code.ROOT, (2, 3))
    again = same_code.machine_code(same_code.ROOT, (2,))
    assert first[2] != first[3] and same_code.same_code(again, first) == {2}


def test_a_benchmark_in_several_processes_moves_their_stacks_and_pools_medians(tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(
        "import json, os, sys\n"
        "assert sys.argv[1:] == ['--n=2', '--json']\n"
        "pad = len(os.environ['SWEEP_BENCH_PAD'])\n"
        "print(json.dumps({'ns': {'a': pad, 'b': 1.0}, 'pid': os.getpid()}))\n"
    )
    results = processes.in_processes(script, ["--n=2"], 3)
    pads = [result["ns"]["a"] for result in results]
    assert pads == [0, processes.PAD_STEP, 2 * processes.PAD_STEP]  # another environment size each
    assert len({result["pid"] for result in results}) == 3
    assert processes.median_of(results, "ns") == {"a": processes.PAD_STEP, "b": 1.0}


def test_the_suite_summary_counts_what_each_cpu_second_was_spent_on():
    def compiled(name: str, key: str, cpu: float, test: str, pid: int) -> dict:
        return {"kind": "compile", "name": name, "key": key, "cpu": cpu, "test": test, "pid": pid}

    general = "kernels.general.block_kernel.<locals>.train_block"
    step, train = "tests/test_step.py::a", "tests/test_train.py::b"
    records = [
        compiled(general, "g", 3.0, step, 1),
        compiled(general, "g", 2.0, train, 2),  # the same kernel in the other worker: paid twice
        compiled("tinynet_tiled_ab.train_fast", "t", 4.0, step, 1),
        compiled("kernels.trig.fast_cos", "c", 1.0, "(collection)", 2),
        {**compiled(general, "g", 0.25, train, 2), "failed": True},  # a refused probe
        {"kind": "test", "test": step, "own": 8.0, "children": 0.5, "wall": 9.0, "pid": 1},
        {"kind": "test", "test": train, "own": 2.5, "children": 0.0, "wall": 2.5, "pid": 2},
        {"kind": "collected", "cpu": 3.0, "pid": 1},
        {"kind": "collected", "cpu": 4.0, "pid": 2},
    ]
    assert suite.workers_of(records) == 2
    summary = suite.summarise(records, 2)
    assert summary["distinct"] == 3 and summary["compiled again"] == [1, 2.0]
    assert summary["repeats"] == [[f"{general} in {step}", f"{general} in {train}"]]
    assert summary["by kind"]["general kernels"] == [2, 5.0]
    assert summary["by kind"]["generated kernels"] == [1, 4.0]
    assert summary["stopped"] == [1, 0.25]
    assert summary["compile"] == 10.25
    assert summary["tests' other own"] == pytest.approx(10.5 - 9.25)
    assert summary["start and collection"] == pytest.approx(7.0 - 1.0)
    assert summary["floor"] == pytest.approx((10.25 + 1.25 + 0.5 + 6.0) / 2)
    assert summary["per file"]["tests/test_step.py"]["compile"] == 7.0
