"""Subnormals kept or flushed (kernels.subnormals): the setting holds while a batch
trains, is undone after, and the kernels and the reference flush alike."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import libm_exp
from test_train import assert_same

from kernels import get_task, init_batch, reference, train_batch
from kernels.recipe import Recipe, RecipeError
from kernels.subnormals import flushed

TINY = np.array([1e-310])  # a subnormal float64


def test_flushed_counts_subnormals_as_zero_and_then_not():
    with flushed():
        assert (TINY * 1.0)[0] == 0.0
        assert (TINY + 0.0)[0] == 0.0  # as an operand too (DAZ)
    assert (TINY * 1.0)[0] == 1e-310
    with pytest.raises(KeyError), flushed():
        raise KeyError("inside")
    assert (TINY * 1.0)[0] == 1e-310


def test_only_keep_and_flush():
    with pytest.raises(RecipeError, match="subnormals"):
        Recipe(subnormals="ftz")


@pytest.mark.parametrize("kernel", ["general", "tiled"])
def test_rprop_flushed_is_the_flushed_reference_and_differs_from_ieee(kernel):
    """Rprop saturates XOR networks within tens of epochs: their gradients go
    subnormal, so flushing them changes results, and the reference, run with
    the same setting, agrees bit for bit."""
    X, Y = get_task("xor")
    seeds = np.arange(16)
    params = init_batch(seeds, 2, 2, 1, -1.0, 1.0)
    lr = np.full(seeds.size, 0.1)
    run = dict(epochs=300, tol=0.1, curve_every=50, exp="exact", kernel=kernel)
    flush = Recipe(optimizer="rprop", subnormals="flush")
    got = train_batch(X, Y, params, lr, recipe=flush, **run)
    assert (TINY * 1.0)[0] == 1e-310  # the thread's setting is undone
    ieee = train_batch(X, Y, params, lr, recipe=Recipe(optimizer="rprop"), **run)
    assert not np.array_equal(got.w_hidden, ieee.w_hidden)
    want = reference.train_batch(X, Y, params, lr, 300, 0.1, 50, exp=libm_exp, recipe=flush)
    assert_same(got, want, rtol=0, atol=0)


def test_a_kernel_first_compiled_under_flush_computes_ieee_results_after(tmp_path):
    """The first flushed call compiles its kernels with FTZ/DAZ set (in a fresh
    process with empty caches): the same kernels, run with subnormals kept,
    still equal the IEEE reference bit for bit."""
    script = textwrap.dedent(f"""
        import dataclasses, sys
        import numpy as np
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from conftest import libm_exp
        from kernels import general, get_task, init_batch, reference, tiled, train_batch
        from kernels.recipe import Recipe
        X, Y = get_task("xor")
        seeds = np.arange(8)
        params = init_batch(seeds, 2, 2, 1, -1.0, 1.0)
        lr = np.full(seeds.size, 0.1)
        flush = Recipe(optimizer="irprop-", weight_decay=1e-4, prime_offset=0.05,
                       subnormals="flush")
        keep = dataclasses.replace(flush, subnormals="keep")
        want = reference.train_batch(X, Y, params, lr, 300, 0.1, 0, exp=libm_exp, recipe=keep)
        compiled = {{"general": lambda: general.block_kernel(flush.variant, False, False, False),
                     "tiled": lambda: tiled.load(X, Y, 2, flush).train_exact}}
        for kernel, dispatcher in compiled.items():
            run = dict(epochs=300, tol=0.1, curve_every=0, exp="exact", kernel=kernel)
            train_batch(X, Y, params, lr, recipe=flush, **run)
            assert sum(dispatcher().stats.cache_misses.values()) == 1, kernel
            got = train_batch(X, Y, params, lr, recipe=keep, **run)
            for name in ("w_hidden", "b_hidden", "w_out", "b_out", "final_loss"):
                assert np.array_equal(getattr(got, name), getattr(want, name)), (kernel, name)
        print("ok")
    """)
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(tmp_path / "numba"),
        "SWEEP_KERNEL_CACHE": str(tmp_path / "kernels"),
    }
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
