import numpy as np

from sweep.config.grid import grid_frame, shapes, trial_id
from sweep.config.study import make_config
from sweep.runner.estimate import estimated_seconds
from sweep.runner.plan import MAX_CHUNK, NS_PER_ROW, pieces, plan


def small(**kw):
    base = dict(seeds="0:50", lr="0.1,1", width="1:4", epochs=100, task="xor,and")
    return make_config({**base, **kw})


def test_grid_is_every_combination_once():
    cfg = small()
    frame = grid_frame(cfg)
    assert len(frame) == cfg.n_trials == 50 * 2 * 3 * 2
    assert frame["trial_id"].is_unique
    assert not frame.duplicated(["task", "seed", "lr", "width"]).any()


def test_trial_ids_are_stable_and_depend_on_every_parameter():
    cfg = small()
    shape = shapes(cfg)[0]
    tid = trial_id(shape, 3, 0.1)
    assert tid == trial_id(shape, 3, 0.1) and len(tid) == 16
    assert tid != trial_id(shape, 4, 0.1) and tid != trial_id(shape, 3, 0.1000001)
    others = [
        shapes(small(**{k: v}))[0]
        for k, v in [
            ("tol", 0.2),
            ("epochs", 101),
            ("init_low", -1),
            ("dtype", "float32"),
            ("exp", "exact"),
        ]
    ]
    assert len({trial_id(s, 3, 0.1) for s in others} | {tid}) == 6


def test_init_ranges_that_are_empty_are_skipped():
    cfg = make_config(seeds="0:2", lr=0.1, width=2, init_low="-1,0", init_high="0,1")
    # (-1,0), (-1,1), (0,1); (0,0) is not a range.
    assert len(list(shapes(cfg))) == 3 == cfg.n_trials / 2


def test_plan_covers_every_todo_trial_exactly_once():
    cfg = small()
    ids = grid_frame(cfg)["trial_id"]
    done = set(ids[::3])
    chunks = plan(cfg, done, jobs=2)
    planned = np.concatenate([c.ids for c in chunks])
    assert len(planned) == len(set(planned)) == len(ids) - len(done)
    assert set(planned) == set(ids) - done
    assert all(len({c.shape}) == 1 and 0 < c.size <= MAX_CHUNK for c in chunks)


def test_a_fresh_plan_leaves_ids_to_the_chunks_and_they_are_the_grids():
    cfg = small()
    chunks = plan(cfg, jobs=2)
    assert all(c.known_ids is None for c in chunks)  # none hashed before training
    planned = np.concatenate([c.ids for c in chunks])
    assert len(planned) == len(set(planned)) and set(planned) == set(grid_frame(cfg)["trial_id"])
    for c in chunks:  # each id is its own trial's (numpy scalars as Python numbers)
        pairs = zip(c.seeds, c.lrs, strict=True)
        assert list(c.ids) == [trial_id(c.shape, s, lr) for s, lr in pairs]


def test_plan_orders_expensive_chunks_first_and_honours_chunk_size():
    chunks = plan(small(), jobs=1, chunk_size=7)
    assert all(c.size <= 7 for c in chunks)
    costs = [c.est_seconds for c in chunks]
    assert costs == sorted(costs, reverse=True)
    default = plan(small(seeds="0:2000"), jobs=1)
    assert default[0].size * 3 < default[-5].size  # a short first chunk, then big ones


def test_everything_done_means_nothing_to_plan():
    cfg = small()
    assert plan(cfg, set(grid_frame(cfg)["trial_id"])) == []


def test_the_plan_generates_kernels_for_shapes_whose_work_pays_for_compiling():
    cfg = make_config(seeds="0:400", lr="0.5", width="2,16", epochs=10_000, task="xor")
    kernels = {(c.shape.task, c.shape.width): c.kernel for c in plan(cfg, jobs=2)}
    assert kernels == {("xor", 2): "tiled", ("xor", 16): "tiled"}
    wide = make_config(seeds="0:400", lr="0.5", width="2", epochs=10_000, task="encoder16")
    assert {c.kernel for c in plan(wide)} == {"general"}  # a unit's 33 parameters: no tile fits
    small = make_config(seeds="0:4", lr="0.5", width="2", epochs=100)
    assert {c.kernel for c in plan(small)} == {"general"}
    exact = make_config(seeds="0:400", lr="0.5", width="2", epochs=10_000, exp="exact")
    assert {c.kernel for c in plan(exact)} == {"general"}


def test_a_written_chunk_lets_go_of_its_ids(tmp_path, monkeypatch):
    import sweep
    from sweep.runner.plan import Chunk

    released = []
    real = Chunk.release

    def release(chunk):
        before = chunk.ids.copy()
        real(chunk)
        assert "ids" not in chunk.__dict__ and chunk.known_ids is None
        assert (chunk.ids == before).all()  # recomputed on demand, the same
        released.append(chunk.size)

    monkeypatch.setattr(Chunk, "release", release)
    sweep.train(
        out=tmp_path / "s",
        seeds="0:100",
        lr="0.5,2",
        width=2,
        epochs=5,
        chunk_size=30,
        backend="sequential",
        progress=False,
    )
    assert sum(released) == 200 and len(released) == 7


def test_a_chunk_sent_to_a_worker_carries_its_own_trials_only():
    import pickle

    # Seeds given as a list: the block holds an array of a million.
    cfg = make_config(seeds="0:500000,600000:1100000", lr="0.5,1", width=2, epochs=0)
    chunk = plan(cfg, jobs=2)[-1]
    data = pickle.dumps(chunk)
    assert "_trials" not in chunk.__dict__  # sending drew its trials without keeping them
    assert len(data) < 20 * chunk.size + 10_000  # a seed and an lr a trial, not the block's
    back = pickle.loads(data)
    assert back.shape == chunk.shape and back.covers is None  # workers record nothing
    assert (back.seeds == chunk.seeds).all() and (back.lrs == chunk.lrs).all()


def test_flushed_rprop_is_planned_cheaper_and_gd_is_not_changed_by_flushing():
    cfg = small(optimizer="gd,rprop", subnormals="keep,flush", width="2", task="xor")
    cost = {
        (c.shape.optimizer, c.shape.subnormals): c.est_seconds / c.size for c in plan(cfg, jobs=1)
    }
    assert cost[("rprop", "flush")] < cost[("rprop", "keep")]
    assert cost[("gd", "flush")] == cost[("gd", "keep")]


def test_a_run_of_no_epochs_is_estimated_at_what_its_rows_cost():
    cfg = make_config(seeds="0:1000000", lr=0.5, width=2, epochs=0)
    todo = pieces(cfg, jobs=1)
    training = sum(len(p.block) * p.seconds_per_trial for p in todo)
    assert training < 1e6 * NS_PER_ROW * 1e-9 / 10  # the rows, not the kernel, cost most
    summary, full = (estimated_seconds(todo, 1, store) for store in ("summary", "full"))
    assert summary >= 1e6 * NS_PER_ROW * 1e-9 and full > summary
