"""Compiled trial ids are the ids, bit for bit (ids.py)."""

import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sweep.config import ids
from sweep.config.grid import shape_key, shapes, trial_id, trial_ids
from sweep.config.study import make_config
from sweep.runner.plan import plan

#: Learning rates whose repr is long, short, exponent-written or subnormal.
AWKWARD_LRS = [0.1, 1e-05, 3.0000000000000004, 1e300, 5e-324, 0.5, 2.0, 123456.789, 1 / 3]


@pytest.mark.xdist_group("compiled-ids")  # one worker compiles the hash
def test_every_shape_of_a_varied_sweep_gets_the_python_ids():
    config = make_config(
        task="xor,parity3",
        seeds="0:4",
        lr="0.5,2",
        width="2,17",
        momentum="0,0.9",
        update="batch,online",
        targets="0:1,0.1:0.9",
        init_radius="0.5,1",
        mse_target="0.01",
    )
    rng = np.random.default_rng(0)
    for shape in shapes(config):
        seeds = rng.integers(0, 2**32, 300)
        seeds[:4] = [0, 9, 10, 2**32 - 1]
        lrs = rng.choice(AWKWARD_LRS, 300)
        want = np.array([trial_id(shape, s, lr) for s, lr in zip(seeds, lrs, strict=True)])
        assert (ids.to_text(ids.id_numbers(shape_key(shape), seeds, lrs)) == want).all()
        assert (trial_ids(shape, seeds, lrs, compiled=True) == want).all()


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=400), st.integers(0, 2**32 - 1), st.sampled_from(AWKWARD_LRS))
def test_any_key_length_hashes_as_blake2b(prefix, seed, lr):
    want = hashlib.blake2b(f"{prefix}|seed={seed}|lr={lr!r}".encode(), digest_size=8).hexdigest()
    assert ids.to_text(ids.id_numbers(prefix, np.array([seed]), np.array([lr])))[0] == want


def test_negative_seeds_are_refused_and_no_seeds_give_no_ids():
    with pytest.raises(ValueError, match="negative"):
        ids.id_numbers("k", np.array([-1]), np.array([0.5]))
    assert ids.id_numbers("k", np.zeros(0, dtype=np.int64), np.zeros(0)).size == 0


@pytest.mark.xdist_group("compiled-ids")  # one worker compiles the hash
def test_a_large_plan_writes_compiled_ids_and_a_small_one_python_ones(monkeypatch):
    import sweep.runner.plan as plan_module

    config = make_config(seeds="0:300", lr="0.5,2", width=2, epochs=1)
    small = plan(config)
    assert not any(c.compiled_ids for c in small)
    monkeypatch.setattr(plan_module, "COMPILED_IDS_FROM", 100)
    large = plan(config)
    assert all(c.compiled_ids for c in large)
    for chunk in large:
        assert (
            chunk.id_array().to_pylist()
            == trial_ids(chunk.shape, chunk.seeds, chunk.lrs, compiled=False).tolist()
        )


def test_stored_text_reads_back_as_the_numbers():
    import pyarrow as pa

    numbers = np.array([0, 1, 2**64 - 1, 0x071B41AF7EAFD7EF], dtype=np.uint64)
    text = ids.to_arrow(numbers)
    assert text.to_pylist()[3] == "071b41af7eafd7ef"
    assert (ids.from_arrow(pa.chunked_array([text[:2], text[2:]])) == numbers).all()
    assert ids.among(numbers, np.sort(numbers[1:3])).tolist() == [False, True, True, False]
    with pytest.raises(ValueError, match="16 hex digits"):
        ids.from_arrow(pa.array(["abc"]))
