import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sweep.config.specs import float_spec, int_spec, name_spec, seed_spec, task_spec
from sweep.errors import ConfigError


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("314", (314,)),
        ("0:5", (0, 1, 2, 3, 4)),
        ("1,5,9", (1, 5, 9)),
        (" 2 , 3 ", (2, 3)),
        ("1:3,7", (1, 2, 7)),
        (7, (7,)),
        ([1, 2], (1, 2)),
    ],
)
def test_int_specs(spec, expected):
    assert int_spec("seeds", spec) == expected


def test_float_specs():
    assert float_spec("lr", "0.1") == (0.1,)
    assert float_spec("lr", "0.05,0.1,0.5") == (0.05, 0.1, 0.5)
    log = float_spec("lr", "log:0.01:10:13")
    assert len(log) == 13 and log[0] == 0.01 and log[-1] == 10.0
    assert all(math.isclose(b / a, 10**0.25, rel_tol=1e-9) for a, b in itertools.pairwise(log))
    lin = float_spec("lr", "lin:0.1:2:20")
    assert len(lin) == 20 and lin[0] == 0.1 and lin[-1] == 2.0
    assert float_spec("lr", [0.1, 1]) == (0.1, 1.0)


def test_spaced_values_are_canonical_decimals():
    # Rounded to 12 significant digits: the same spec names the same trials anywhere.
    assert float_spec("lr", "log:0.01:10:7")[1] == 0.0316227766017


@pytest.mark.parametrize(
    "spec, problem",
    [
        ("", "empty"),
        ("1,,2", "empty item"),
        ("5:5", "empty"),
        ("a:b", "integer"),
        ("1.5", "integer"),
        ("0:1:2", "range"),
        ([], "empty"),
        (True, "integer"),
    ],
)
def test_bad_int_specs_name_the_field(spec, problem):
    with pytest.raises(ConfigError, match=f"^seeds: .*{problem}"):
        int_spec("seeds", spec)


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "abc",
        "log:0:1:5",
        "log:-1:1:5",
        "log:0.1:1",
        "lin:0.1:1:0",
        "lin:a:1:3",
        "log:0.1:inf:3",
        "0.1,",
        "log:0.1:1:1e9",
    ],
)
def test_bad_float_specs(spec):
    with pytest.raises(ConfigError, match="^lr: "):
        float_spec("lr", spec)


def test_a_truth_tables_columns_stay_with_it():
    assert task_spec("task", "xor,table:0110,1000,parity3") == ("xor", "table:0110,1000", "parity3")
    assert task_spec("task", ["table:01,10", "and"]) == ("table:01,10", "and")
    assert task_spec("task", "0110,xor") == ("0110", "xor")  # no table before it: a name


def test_name_specs():
    assert name_spec("task", "xor,parity3") == ("xor", "parity3")
    with pytest.raises(ConfigError, match="^task: expected a name"):
        name_spec("task", [1])


@given(st.text(max_size=30))
def test_int_spec_parser_never_crashes(text):
    try:
        values = int_spec("seeds", text)
    except ConfigError as e:
        assert str(e).startswith("seeds: ") and "\n" not in str(e)
    else:
        assert values and all(isinstance(v, int) for v in values)


@given(st.text(alphabet="0123456789.:,-eloginf ", max_size=30))
def test_float_spec_parser_never_crashes(text):
    try:
        values = float_spec("lr", text)
    except ConfigError as e:
        assert str(e).startswith("lr: ") and "\n" not in str(e)
    else:
        assert values and all(isinstance(v, float) for v in values)


@given(st.lists(st.integers(0, 50), max_size=30))
def test_compact_int_specs_round_trip(values):
    from sweep.config.specs import compact_ints

    text = compact_ints(values)
    assert (int_spec("seeds", text) if values else ()) == tuple(values)


def test_a_million_seeds_are_stored_as_a_range():
    from sweep.config.study import make_config

    cfg = make_config(seeds="0:1000000", lr=0.5, width="1:4,9")
    assert cfg.to_dict()["seeds"] == "0:1000000" and cfg.to_dict()["width"] == "1:4,9"
    assert make_config(cfg.to_dict()) == cfg


@given(st.integers(0, 50), st.integers(0, 50), st.lists(st.integers(0, 60), max_size=8))
def test_a_seed_range_stays_a_range_and_behaves_like_its_values(start, n, listed):
    from sweep.config.specs import as_array, compact_ints, is_subset, seed_spec

    seeds = seed_spec("seeds", f"{start}:{start + n + 1}")
    values = tuple(range(start, start + n + 1))
    assert tuple(seeds) == values and isinstance(seeds, range) == (len(values) >= 3)
    assert seed_spec("seeds", compact_ints(seeds)) == seeds  # its stored form reads back
    assert as_array(seeds).tolist() == list(values)
    for a, b in [(listed, seeds), (seeds, listed), (seeds, seed_spec("seeds", "10:40"))]:
        assert is_subset(a, b) == (set(a) <= set(b))


def test_many_long_ranges_are_refused_before_they_are_expanded():
    # Expanded, these would be 10^9 Python ints (it ran out of memory).
    spec = ",".join(f"{i * 10**7}:{(i + 1) * 10**7}" for i in range(100))
    with pytest.raises(ConfigError, match="1,000,000,000 values, more than 10,000,000"):
        int_spec("seeds", spec)


def test_one_seed_range_may_span_every_seed_and_stays_unexpanded():
    import time

    from sweep.api import check_size
    from sweep.config.study import make_config

    t0 = time.perf_counter()
    cfg = make_config(seeds="0:100000000", lr="0.5,1", width=2, epochs=0)
    assert cfg.n_trials == 2 * 10**8
    with pytest.raises(ConfigError, match="200,000,000 trials"):
        check_size(cfg, store="summary")
    assert time.perf_counter() - t0 < 5  # 10^8 seeds expanded would take ~1 s and 0.8 GB
    with pytest.raises(ConfigError, match="more than 4,294,967,296 values"):
        seed_spec("seeds", "0:4294967297")
