"""What a folder holds, as rectangles and ids, and the trials a rerun still has to train."""

import json
import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import sweep
from sweep.config import grid
from sweep.config.grid import Block, blocks, shape_key
from sweep.config.study import make_config, make_study
from sweep.runner.plan import plan
from sweep.store.coverage import Stored, covers
from sweep.store.layout import MANIFEST


def pairs(block: Block) -> set[tuple[int, float]]:
    seeds, lrs = block.take(0, len(block))
    return set(zip(seeds.tolist(), lrs.tolist(), strict=True))


SHAPE = next(blocks(make_config(seeds="0:2", lr=0.5, width=2, epochs=0))).shape
LRS = [0.1, 0.5, 2.0]


@st.composite
def a_block(draw):
    lrs = np.asarray(draw(st.lists(st.sampled_from(LRS), min_size=1, max_size=3, unique=True)))
    lo = draw(st.integers(0, 50))
    n = draw(st.integers(1, 60))
    kind = draw(st.sampled_from(["range", "array", "paired"]))
    if kind == "range":
        return Block(SHAPE, range(lo, lo + n), lrs)
    seeds = np.asarray(sorted(draw(st.sets(st.integers(0, 120), min_size=1, max_size=40))))
    if kind == "array":
        return Block(SHAPE, seeds, lrs)
    chosen = np.asarray(
        draw(st.lists(st.sampled_from(LRS), min_size=len(seeds), max_size=len(seeds)))
    )
    return Block(SHAPE, seeds, chosen, paired=True)


rectangles = st.lists(
    st.tuples(
        st.integers(0, 120),
        st.integers(1, 40),
        st.lists(st.sampled_from(LRS), min_size=1, max_size=3, unique=True),
    ),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(a_block(), rectangles)
def test_missing_is_the_block_less_the_rectangles(block, rects):
    stored = Stored()
    held = set()
    for lo, n, lrs in rects:
        stored.add(covers(shape_key(SHAPE), (lo, lo + n, tuple(lrs))), n * len(lrs))
        held |= {(s, lr) for s in range(lo, lo + n) for lr in lrs}
    pieces = list(stored.missing(block))
    got = [
        p
        for piece in pieces
        for p in zip(*map(np.ndarray.tolist, piece.take(0, len(piece))), strict=True)
    ]
    assert len(got) == len(set(got))  # each trial once
    assert set(got) == pairs(block) - held
    if isinstance(block.seeds, range):  # ranges stay ranges, however many trials
        assert all(isinstance(p.seeds, range) and not p.paired for p in pieces)


@settings(max_examples=200, deadline=None)
@given(a_block(), st.integers(1, 50), st.data())
def test_cuts_are_rectangles_that_hold_exactly_their_trials(block, size, data):
    start = data.draw(st.integers(0, len(block) - 1))
    stop = data.draw(st.integers(start + 1, len(block)))
    cuts = list(block.cuts(start, stop, size))
    assert cuts[0][0] == start and cuts[-1][1] == stop
    assert all(
        a < b <= a + size and b == c
        for (a, b), (c, _) in zip(cuts, cuts[1:] + [(stop, 0)], strict=True)
    )
    for a, b in cuts:
        seeds, lrs = block.take(a, b)
        rect = block.rectangle(a, b)
        if isinstance(block.seeds, range):
            assert rect is not None  # every cut of a range can be recorded
        if rect is not None:
            lo, hi, rect_lrs = rect
            assert {(s, lr) for s in range(lo, hi) for lr in rect_lrs} == set(
                zip(seeds.tolist(), lrs.tolist(), strict=True)
            )
            assert len(seeds) == (hi - lo) * len(rect_lrs)


def test_a_union_of_grids_with_the_same_lrs_stays_a_range():
    study = make_study(
        {
            "grids": [
                {"seeds": "0:10", "lr": 0.5, "width": 2},
                {"seeds": "5:20", "lr": 0.5, "width": 2},
            ]
        }
    )
    (block,) = blocks(study)
    assert block.seeds == range(0, 20) and not block.paired


def test_a_resume_from_rectangles_hashes_no_id_and_heals_lost_parts(tmp_path, monkeypatch):
    out = tmp_path / "s"
    axes = dict(seeds="0:3000", lr="0.5,2", width=2, epochs=30, store="summary")
    whole = sweep.run(out=tmp_path / "whole", progress=False, **axes)
    sweep.train(out=out, progress=False, chunk_size=500, **axes)
    lines = [json.loads(line) for line in (out / MANIFEST).read_text().splitlines()]
    assert all(line["covers"]["seeds"][1] - line["covers"]["seeds"][0] == 250 for line in lines)
    for part in sorted(out.glob("part-*.parquet"))[::5]:
        part.unlink()

    def no_hashing(*args):
        raise AssertionError("a resume from rectangles hashed planned trials")

    monkeypatch.setattr(grid, "trial_numbers", no_hashing)
    monkeypatch.setattr("sweep.store.coverage.trial_numbers", no_hashing)
    done = sweep.train(out=out, progress=False, chunk_size=500, **axes)
    assert done.trained == 500 * len(lines[::5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # complete: no note
        healed = sweep.load(out)
    pd.testing.assert_frame_equal(healed, whole)


def test_parts_recorded_without_rectangles_are_found_by_id(tmp_path):
    """A folder whose manifest predates rectangles (or mixes both) resumes exactly."""
    out = tmp_path / "s"
    axes = dict(seeds="0:400", lr="0.5,2", width=2, epochs=30)
    whole = sweep.run(out=tmp_path / "whole", progress=False, **axes)
    sweep.train(out=out, progress=False, chunk_size=100, **axes)
    manifest = out / MANIFEST
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    for line in lines[::2]:
        del line["covers"]
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    for part in sorted(out.glob("part-*.parquet"))[1::3]:
        part.unlink()
    done = sweep.train(out=out, progress=False, chunk_size=100, **axes)
    assert done.trained == sum(line["rows"] for line in lines[1::3])
    pd.testing.assert_frame_equal(sweep.load(out), whole)
    assert sweep.train(out=out, progress=False, **axes).trained == 0


def test_a_recorded_rectangle_that_disagrees_with_its_rows_is_not_trusted(tmp_path):
    out = tmp_path / "s"
    axes = dict(seeds="0:40", lr=0.5, width=2, epochs=5)
    sweep.train(out=out, progress=False, chunk_size=10, **axes)
    manifest = out / MANIFEST
    lines = [json.loads(line) for line in manifest.read_text().splitlines()]
    lines[0]["covers"]["seeds"][1] += 100  # claims trials it does not hold
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines))
    bigger = dict(axes, seeds="0:200")
    assert sweep.train(out=out, progress=False, **bigger).trained == 160
    assert sweep.load(out).trial_id.is_unique


def test_the_plan_of_a_huge_sweep_holds_ranges_not_trials():
    cfg = make_config(seeds="0:10000000", lr="0.5,1", width=2, epochs=0)
    chunks = plan(cfg, jobs=2)
    assert sum(c.size for c in chunks) == 20_000_000
    assert all("_trials" not in c.__dict__ for c in chunks)  # nothing drawn yet
    seeds, lrs = chunks[-1].seeds, chunks[-1].lrs
    assert len(seeds) == chunks[-1].size and set(lrs.tolist()) == {0.5, 1.0}
