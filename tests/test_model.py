import numpy as np
import pytest

from kernels import BatchResult, init_batch, init_uniform, param_shapes
from kernels.model import layer_offsets, weight_rows


def test_seed_314_gives_the_notebooks_printed_initial_weights():
    w = init_uniform(314, 2, 2, 1)
    # The digits the notebook printed (cell In [103]).
    np.testing.assert_allclose(
        w["w_hidden"], [[0.91687358, 0.58854191], [0.26504775, 0.78320538]], atol=5e-9
    )
    np.testing.assert_allclose(w["b_hidden"], [[0.91800106, 0.82735501]], atol=5e-9)
    np.testing.assert_allclose(w["w_out"], [[0.72795148], [0.26048042]], atol=5e-9)
    np.testing.assert_allclose(w["b_out"], [[0.9117634]], atol=5e-9)


def test_init_matches_the_global_numpy_random_calls():
    np.random.seed(7)
    expected = [np.random.uniform(size=s) for s in [(3, 5), (1, 5), (5, 2), (1, 2)]]
    got = init_uniform(7, 3, 5, 2)
    for e, name in zip(expected, ["w_hidden", "b_hidden", "w_out", "b_out"], strict=True):
        np.testing.assert_array_equal(got[name], e)


def test_init_range():
    w = init_uniform(3, 2, 64, 1, low=-0.5, high=0.5)
    flat = np.concatenate([a.ravel() for a in w.values()])
    assert flat.min() >= -0.5 and flat.max() < 0.5 and flat.min() < -0.3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_layout_is_network_last(dtype):
    seeds = np.array([5, 314, 9])
    batch = init_batch(seeds, 3, 4, 2, low=-1, high=2, dtype=dtype)
    for j, seed in enumerate(seeds):
        one = init_uniform(seed, 3, 4, 2, low=-1, high=2)
        for name in param_shapes(3, 4, 2):
            assert batch[name].dtype == dtype and batch[name].flags.c_contiguous
            np.testing.assert_array_equal(
                batch[name][..., j], one[name].reshape(batch[name].shape[:-1]).astype(dtype)
            )


def test_flat_params_are_row_major_in_init_order():
    batch = init_batch([11, 12], 2, 3, 2)
    n = 2
    result = BatchResult(
        **batch,
        epoch_solved=np.zeros(n, np.int64),
        epoch_converged=np.zeros(n, np.int64),
        epoch_diverged=np.zeros(n, np.int64),
        final_loss=np.zeros(n),
        outputs=np.zeros((4, 2, n)),
        loss_curve=np.zeros((0, n)),
    )
    one = init_uniform(12, 2, 3, 2)
    np.testing.assert_array_equal(
        result.flat_params()[1], np.concatenate([one[k].ravel() for k in one])
    )


def test_shortcut_weights_are_drawn_after_the_others_which_stay_the_same():
    seeds = np.array([3, 314])
    plain = init_batch(seeds, 2, 2, 1, -1.0, 1.0)
    direct = init_batch(seeds, 2, 2, 1, -1.0, 1.0, shortcuts=True)
    for name in plain:
        np.testing.assert_array_equal(direct[name], plain[name])
    for j, seed in enumerate(seeds):
        rs = np.random.RandomState(seed)
        rs.uniform(-1.0, 1.0, size=9)  # w_hidden, b_hidden, w_out, b_out
        np.testing.assert_array_equal(
            direct["w_shortcut"][..., j], rs.uniform(-1.0, 1.0, size=(2, 1))
        )


def test_a_restart_draws_on_from_the_same_generator():
    seeds = np.array([0, 7, 2**32 - 1])
    second = init_batch(seeds, 3, 2, 2, attempt=2, shortcuts=True)
    rows = sum(int(np.prod(s)) for s in param_shapes(3, 2, 2, True).values())
    for j, seed in enumerate(seeds):
        draws = np.random.RandomState(seed).uniform(size=3 * rows)[2 * rows :]
        got = np.concatenate([second[k][..., j].ravel() for k in param_shapes(3, 2, 2, True)])
        np.testing.assert_array_equal(got, draws)


def test_a_second_hidden_layer_is_drawn_between_the_first_and_the_output():
    got = init_uniform(11, 3, 4, 2, -1.0, 1.0, width2=5)
    assert list(got) == ["w_hidden", "b_hidden", "w_hidden2", "b_hidden2", "w_out", "b_out"]
    assert got["w_hidden2"].shape == (4, 5) and got["w_out"].shape == (5, 2)
    draws = np.random.RandomState(11).uniform(-1.0, 1.0, size=12 + 4 + 20 + 5 + 10 + 2)
    np.testing.assert_array_equal(np.concatenate([v.ravel() for v in got.values()]), draws)
    plain = init_uniform(11, 3, 4, 2, -1.0, 1.0)  # the first layer's draws are unchanged
    for name in ("w_hidden", "b_hidden"):
        np.testing.assert_array_equal(got[name], plain[name])
    batch = init_batch([11], 3, 4, 2, -1.0, 1.0, width2=5)
    for name, value in got.items():
        np.testing.assert_array_equal(batch[name][..., 0], value.reshape(batch[name].shape[:-1]))


@pytest.mark.parametrize("width2, shortcuts", [(0, False), (0, True), (3, False), (2, True)])
def test_weight_rows_mark_the_weights_of_every_topology(width2, shortcuts):
    shapes = param_shapes(3, 4, 2, shortcuts, width2)
    want = np.concatenate(
        [np.full(int(np.prod(shape)), name.startswith("w_")) for name, shape in shapes.items()]
    )
    got = weight_rows(layer_offsets(3, 4, width2, 2), len(want))
    np.testing.assert_array_equal(got, want)
