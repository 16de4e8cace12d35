"""The generated (tiled) kernel: the reference in exact mode, and the general kernel always."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import libm_exp, one_worker
from test_train import FLOATS, INTS, assert_same

from kernels import codegen, get_task, init_batch, reference, tiled, train_batch
from kernels.recipe import Recipe

#: A few shapes, each compiled once per variant (1-4 s): tasks with 1 to 4
#: inputs and outputs, inputs with 0, 1, 2 and 3 ones; one tile (xor 1, or 2,
#: parity3 2), a loop over tiles (xor 9: 3 x 3), a tile and a smaller one
#: (xor 6: 4 + 2; encoder3 3: 2 + 1, with 3 outputs); encoder4 (4 in, 4 out).
SHAPES = [
    ("xor", 1),
    ("xor", 9),
    ("or", 2),
    ("parity3", 2),
    ("encoder3", 3),
    ("xor", 6),
    ("encoder4", 2),
]


def _case(task: str, width: int, seed: int, batch: int, max_lr: float = 50.0):
    rng = np.random.default_rng(seed)
    X, Y = get_task(task)
    seeds = rng.integers(0, 2**31, size=batch)
    lr = 10 ** rng.uniform(-3, np.log10(max_lr), size=batch)
    if batch > 2:
        lr[1] = np.inf  # drives its network to non-finite weights: diverged
    low, high = [(0.0, 1.0), (-1.0, 1.0)][seed % 2]
    params = init_batch(seeds, X.shape[1], width, Y.shape[1], low, high)
    run = dict(
        epochs=int(rng.integers(1, 300)),
        tol=float(rng.choice([0.05, 0.1, 0.45])),
        curve_every=int(rng.choice([0, 1, 7, 50])),
    )
    return X, Y, params, lr, run


@pytest.mark.parametrize("task, width", SHAPES)
def test_exact_tiled_kernel_is_the_reference_bit_for_bit(task, width):
    early_stop = width % 2 == 0  # both, over the shapes: each case compiles for seconds
    X, Y, params, lr, run = _case(task, width, seed=width + 10 * early_stop, batch=7)
    got = train_batch(X, Y, params, lr, exp="exact", kernel="tiled", early_stop=early_stop, **run)
    want = reference.train_batch(X, Y, params, lr, exp=libm_exp, early_stop=early_stop, **run)
    assert_same(got, want, rtol=0, atol=0)
    assert got.diverged[1] and not got.diverged[0]


@pytest.mark.parametrize(
    "optimizer, update", [("rmsprop", "batch"), ("adagrad", "batch"), ("adam", "online")]
)
def test_optimizers_with_state_generated_are_the_reference_bit_for_bit(optimizer, update):
    """With weight decay: the table optimisers in a tile of two units and one of
    one (delta-bar-delta and online RMSprop are in test_step's matrix), and
    Adam's online updates, whose bias corrections advance per sample, in
    three tiles of one (its source is long)."""
    X, Y, params, lr, run = _case("encoder3", 3, seed=len(optimizer), batch=33, max_lr=2.0)
    recipe = Recipe(optimizer=optimizer, weight_decay=1e-3, update=update)
    assert tiled.tile_for(X, Y, 3, recipe) == (2 if update == "batch" else 1)
    got = train_batch(X, Y, params, lr, exp="exact", kernel="tiled", recipe=recipe, **run)
    want = reference.train_batch(X, Y, params, lr, exp=libm_exp, recipe=recipe, **run)
    assert_same(got, want, rtol=0, atol=0)
    assert got.diverged[1] and not got.diverged[0]


def assert_identical(got, want) -> None:
    for name in FLOATS + INTS:
        a, b = getattr(got, name), getattr(want, name)
        assert a.dtype == b.dtype and a.shape == b.shape, name
        np.testing.assert_array_equal(a, b, err_msg=name)


@pytest.mark.parametrize(
    "task, width, batch",
    one_worker(
        [(*shape, batch) for shape in SHAPES for batch in (1, 31, 32, 33, 70)],
        lambda case: f"{case[0]}-{case[1]}",  # one shape's kernel: compiled once
    ),
)
def test_fast_tiled_kernel_is_the_general_kernel(task, width, batch):
    X, Y, params, lr, run = _case(task, width, seed=batch, batch=batch)
    early_stop = batch % 2 == 1
    general = train_batch(X, Y, params, lr, kernel="general", early_stop=early_stop, **run)
    assert_identical(
        train_batch(X, Y, params, lr, kernel="tiled", early_stop=early_stop, **run), general
    )


@pytest.mark.parametrize("exp", ["fast", "exact"])
def test_float32_tiled_kernel_is_the_general_kernel(exp):
    X, Y = get_task("xor")
    params = init_batch(np.arange(70), 2, 2, 1, dtype=np.float32)
    lr = np.linspace(0.05, 5, 70)
    general = train_batch(X, Y, params, lr, 2000, curve_every=100, exp=exp, kernel="general")
    got = train_batch(X, Y, params, lr, 2000, curve_every=100, exp=exp, kernel="tiled")
    assert got.final_loss.dtype == np.float32
    assert_identical(got, general)


def test_the_notebook_configuration():
    X, Y = get_task("xor")
    params = init_batch([314], 2, 2, 1)
    want = reference.train_batch(X, Y, params, 0.1, 10_000, 0.1, 100, exp=libm_exp)
    got = train_batch(X, Y, params, 0.1, 10_000, 0.1, 100, exp="exact", kernel="tiled")
    assert_same(got, want, rtol=0, atol=0)


def test_fits_any_width_of_a_small_task():
    X, Y = get_task("xor")
    assert all(tiled.fits(X, Y, width) for width in (1, 2, 6, 16, 64, 200))
    assert not tiled.fits(*get_task("encoder32"), 2)  # a unit's 65 parameters: no vector code
    for task in ("xor", "parity3", "parity5", "encoder4", "encoder8"):
        X, Y = get_task(task)
        per_unit = X.shape[1] + 1 + Y.shape[1]
        for width in (1, 3, 8, 13, 32):
            if tiled.fits(X, Y, width):
                tile, text, lay = tiled._plan(X, Y, width, Recipe())
                assert 1 <= tile <= tiled.MAX_TILE and tile * per_unit <= tiled.MAX_TILE_PARAMS
                body = lay.chunk if len(X) > tiled.MAX_SAMPLES else len(X)  # samples unrolled
                assert tile * body <= tiled.MAX_TILE_OUTPUTS
                assert text.count("\n") <= codegen.MAX_LINES


def test_the_source_does_not_grow_with_the_width():
    X, Y = get_task("xor")
    lines = [tiled.source(X, Y, width, 4).count("\n") for width in (8, 32, 256)]
    assert lines[0] == lines[1] == lines[2]


@pytest.mark.parametrize(
    "width, per_unit, n_samples, tile",
    [
        (1, 4, 4, 1),
        (3, 4, 4, 3),
        (7, 4, 4, 4),
        (8, 4, 4, 4),
        (9, 4, 4, 3),
        (10, 4, 4, 2),
        (11, 4, 4, 1),
        (32, 4, 4, 4),
        (6, 9, 4, 2),
        (5, 9, 4, 1),
        (4, 17, 4, 1),
        (4, 33, 4, 0),
        (16, 5, 8, 2),
        (3, 5, 8, 2),
        (4, 6, 16, 0),
    ],
)
def test_tiles_divide_the_width_from_two_tiles_on(width, per_unit, n_samples, tile):
    assert tiled.choose_tile(width, per_unit, n_samples) == tile


def test_auto_generates_a_kernel_for_large_batches(monkeypatch):
    calls = []
    real = tiled.train

    def counted(*args, **kwargs):
        calls.append(args[3].shape)  # theta
        return real(*args, **kwargs)

    monkeypatch.setattr(tiled, "train", counted)
    X, Y = get_task("xor")
    params = init_batch(np.arange(32), 2, 1, 1)
    epochs = -(-codegen.MIN_WORK // 32)
    train_batch(X, Y, params, 0.5, 100)  # 3,200 network-epochs: not worth compiling a shape
    assert calls == []
    train_batch(X, Y, params, 0.5, epochs)
    assert len(calls) == 1
    train_batch(X, Y, params, 0.5, epochs, exp="exact")  # libm's exp: no faster generated
    big = init_batch(np.arange(32), 16, 2, 16)
    train_batch(*get_task("encoder16"), big, 0.5, epochs)  # does not fit: general
    assert len(calls) == 1


def test_bad_kernel_name():
    X, Y = get_task("xor")
    with pytest.raises(ValueError, match="kernel"):
        train_batch(X, Y, init_batch([1], 2, 2, 1), 0.1, 10, kernel="fastest")


def test_a_new_process_loads_the_compiled_kernel_from_the_cache(tmp_path):
    script = textwrap.dedent("""
        import numpy as np
        from kernels import get_task, init_batch, tiled, train_batch
        X, Y = get_task("and")
        train_batch(X, Y, init_batch(np.arange(3), 2, 3, 1), 0.5, 10, kernel="tiled")
        stats = tiled.load(X, Y, 3).train_fast.stats
        print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
    """)
    env = {**os.environ, "SWEEP_KERNEL_CACHE": str(tmp_path)}

    def run() -> list[int]:
        proc = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        return [int(v) for v in proc.stdout.split()]

    assert run() == [0, 1]  # compiled
    assert run() == [1, 0]  # loaded
    generated = list(tmp_path.glob("tinynet_tiled_*.py"))
    assert len(generated) == 1 and "def train_fast" in generated[0].read_text()
