import math
from pathlib import Path

import pytest

from sweep.config.grid import count_trials
from sweep.config.options import make_run_options
from sweep.config.study import DEFAULTS, make_config
from sweep.config.toml import read_toml
from sweep.errors import ConfigError


def test_defaults_are_the_main_job():
    cfg = make_config()
    assert cfg.task == ("xor",) and tuple(cfg.seeds) == tuple(range(1000))
    assert cfg.seeds == range(1000)  # kept as a range: nothing expanded until planned
    assert len(cfg.lr) == 7 and cfg.width == (1, 2, 3, 4, 5, 6)
    assert cfg.epochs == (10_000,) and cfg.tol == (0.1,) and cfg.dtype == ("float64",)
    assert cfg.n_trials == 42_000
    assert cfg.curve_stride(10_000) == 100
    options = make_run_options()
    assert options.backend == "threading" and options.out == Path("results/xor")


def test_strings_numbers_and_sequences_give_the_same_config():
    a = make_config(seeds="1,2", lr="0.1,0.5", width="2", epochs="100", tol="0.2")
    b = make_config(seeds=[1, 2], lr=[0.1, 0.5], width=2, epochs=100, tol=0.2)
    assert a == b


def test_repeated_values_count_once():
    assert make_config(seeds="1,1,2", lr="0.1,0.1").n_trials == 2 * 1 * 6


BAD = [
    ({"lr": "-0.1"}, "lr"),
    ({"lr": "0"}, "lr"),
    ({"lr": "nan"}, "lr"),
    ({"lr": "inf"}, "lr"),
    ({"lr": "fast"}, "lr"),
    ({"width": "0"}, "width"),
    ({"width": "-2"}, "width"),
    ({"width": "5000"}, "width"),
    ({"epochs": "-1"}, "epochs"),
    ({"epochs": "1.5"}, "epochs"),
    ({"seeds": ""}, "seeds"),
    ({"seeds": "-1"}, "seeds"),
    ({"seeds": "a"}, "seeds"),
    ({"seeds": "10:5"}, "seeds"),
    ({"seeds": str(2**32)}, "seeds"),
    ({"task": "nand"}, "task"),
    ({"tol": "0"}, "tol"),
    ({"tol": "1"}, "tol"),
    ({"tol": "nan"}, "tol"),
    ({"init_low": "1", "init_high": "0.5"}, "init_low"),
    ({"init_low": "inf"}, "init_low"),
    ({"dtype": "float16"}, "dtype"),
    ({"exp": "slow"}, "exp"),
    ({"exp": "fast,exact"}, "exp"),
    ({"curve_every": "-1"}, "curve_every"),
    ({"colour": "red"}, "colour"),
    ({"lr": "1e39", "dtype": "float32"}, "lr"),
    # Training recipes.
    ({"momentum": "1"}, "momentum"),
    ({"momentum": "-0.1"}, "momentum"),
    ({"momentum": "nan"}, "momentum"),
    ({"momentum": "0.5,1.5"}, "momentum"),
    ({"weight_decay": "-0.001"}, "weight_decay"),
    ({"weight_decay": "inf"}, "weight_decay"),
    ({"update": "minibatch"}, "update"),
    ({"activation": "linear"}, "activation"),
    ({"output_activation": "softmax"}, "output_activation"),
    ({"loss": "hinge"}, "loss"),
    ({"inputs": "ternary"}, "inputs"),
    ({"targets": "1:0"}, "targets"),
    ({"targets": "0.5:0.5"}, "targets"),
    ({"targets": "0-1"}, "targets"),
    ({"targets": "0:1:2"}, "targets"),
    ({"targets": "a:b"}, "targets"),
    ({"targets": "0:inf"}, "targets"),
    ({"loss": "xent", "output_activation": "tanh"}, "loss"),
    ({"loss": "sse,xent", "output_activation": "logistic,tanh"}, "loss"),
    ({"loss": "xent", "output_activation": "tanh", "targets": "-1:1"}, "loss"),
    ({"targets": "-1:1"}, "targets"),
    ({"loss": "xent", "targets": "0:1.5"}, "targets"),
    ({"mse_target": "0"}, "mse_target"),
    ({"mse_target": "-0.1"}, "mse_target"),
    ({"mse_target": "nan"}, "mse_target"),
    ({"tol": "0.8", "targets": "0.1:0.9"}, "tol"),
    ({"tol": "0.5", "targets": "0:1,0.4:0.6"}, "tol"),
]


@pytest.mark.parametrize("values, field", BAD)
def test_bad_values_name_their_field_in_one_line(values, field):
    with pytest.raises(ConfigError) as info:
        make_config(values)
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ") and "\n" not in str(info.value)


def test_toml_file(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text(
        'task = "xor"\nseeds = "0:10"\nlr = [0.1, 1.0]\nwidth = "2:4"\n'
        'init-low = -1.0\nname = "demo"\n'
    )
    values = read_toml(path)
    assert values["init_low"] == -1.0 and values["name"] == "demo"
    cfg = make_config({k: v for k, v in values.items() if k != "name"})
    assert cfg.n_trials == 10 * 2 * 2 and cfg.init_low == (-1.0,)


def test_toml_sweep_table(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text("[sweep]\nseeds = [1, 2]\nepochs = 50\n")
    assert read_toml(path) == {"seeds": [1, 2], "epochs": 50}


@pytest.mark.parametrize(
    "text, problem",
    [
        ("seeds = [1, 2", "malformed TOML"),
        ("colour = 'red'", "unknown key 'colour' \\(sweep run --help lists the keys\\)"),
        ("learning_rate = 0.5", "unknown key 'learning_rate'; did you mean 'lr'\\?"),
        ("epoch = 50", "unknown key 'epoch'; did you mean 'epochs'\\?"),
        ("lr = ", "malformed TOML"),
    ],
)
def test_bad_toml(tmp_path, text, problem):
    path = tmp_path / "sweep.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=problem):
        read_toml(path)


def test_missing_toml(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        read_toml(tmp_path / "nope.toml")


def test_default_lr_is_log_spaced_from_001_to_10():
    lr = make_config().lr
    assert lr[0] == 0.01 and lr[-1] == 10.0
    assert DEFAULTS["lr"] == "log:0.01:10:7"
    assert math.isclose(lr[1] / lr[0], 10**0.5, rel_tol=1e-9)


def test_init_radius_pairs_its_bounds():
    cfg = make_config(init_radius="0.5,1,2", seeds="0:2", lr=0.1, width=2)
    assert cfg.init_pairs == [(-0.5, 0.5), (-1.0, 1.0), (-2.0, 2.0)]
    assert cfg.n_trials == 2 * 3  # paired, not 3 x 3 crossed
    assert make_config(cfg.to_dict()) == cfg
    for bad in (
        {"init_radius": "-1"},
        {"init_radius": "0"},
        {"init_radius": "1", "init_low": "-2"},
    ):
        with pytest.raises(ConfigError) as info:
            make_config(bad)
        assert info.value.field == "init_radius"


def test_sampled_axes_are_reproducible_and_crossed_with_the_seeds():
    cfg = make_config(seeds="0:10", lr="loguniform:0.01:10", samples=64, width=2)
    assert cfg.n_trials == 640 and len(set(cfg.points["lr"])) == 64
    assert all(0.01 <= v < 10 for v in cfg.points["lr"])
    assert make_config(cfg.to_dict()) == cfg  # the same points from the stored spec
    other = make_config(seeds="0:10", lr="loguniform:0.01:10", samples=64, width=2, sample_seed=1)
    assert set(other.points["lr"]) != set(cfg.points["lr"])
    more = make_config(seeds="0:10", lr="loguniform:0.01:10", samples=128, width=2)
    assert more.contains(cfg)  # more samples extend the same sequence
    rand = make_config(
        seeds=0,
        lr="uniform:0.1:1",
        momentum="uniform:0:0.9",
        width="randint:1:5",
        samples=20,
        sampler="random",
    )
    assert set(rand.points["width"]) <= {1, 2, 3, 4} and all(0 <= m < 0.9 for m in rand.momentum)


@pytest.mark.parametrize(
    "values, field",
    [
        ({"lr": "loguniform:0.01:10"}, "samples"),
        ({"samples": 8}, "samples"),
        ({"lr": "loguniform:0:1", "samples": 8}, "lr"),
        ({"lr": "randint:1:5", "samples": 8}, "lr"),
        ({"width": "uniform:1:5", "samples": 8}, "width"),
        ({"lr": "uniform:2:1", "samples": 4}, "lr"),
        ({"lr": "uniform:0.1:1", "samples": 4, "sampler": "latin"}, "sampler"),
        ({"momentum": "uniform:0:1.5", "samples": 64}, "momentum"),
    ],
)
def test_bad_sampling(values, field):
    with pytest.raises(ConfigError) as info:
        make_config(values)
    assert info.value.field == field


def test_a_toml_union_of_grids_holds_each_trial_once(tmp_path):
    from sweep.config.study import Study, make_study

    path = tmp_path / "union.toml"
    path.write_text(
        'seeds = "0:5"\nepochs = 100\n[[grid]]\nlr = [0.5, 1.0]\nwidth = 2\n'
        '[[grid]]\nlr = [1.0, 2.0]\nwidth = "2:4"\n'
    )
    study = make_study(read_toml(path))
    assert isinstance(study, Study) and len(study.grids) == 2
    # width 2: lr 0.5, 1, 2; width 3: lr 1, 2 (lr 1 at width 2 counted once)
    assert count_trials(study) == 5 * (3 + 2)
    assert make_study(study.to_dict()) == study
    bad = tmp_path / "bad.toml"
    bad.write_text("[[grid]]\nlr = -1\n")
    with pytest.raises(ConfigError, match="^grid 1: lr: "):
        make_study(read_toml(bad))
