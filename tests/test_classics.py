"""The gallery of classic set-ups (examples/classics): each file runs, at reduced size,
and its figures come out of the results."""

import importlib.util
import tomllib
from pathlib import Path

import pytest

import sweep

GALLERY = Path(__file__).parent.parent / "examples" / "classics"
FILES = sorted(GALLERY.glob("*.toml"))


def _table_module():
    spec = importlib.util.spec_from_file_location("classics_table", GALLERY / "table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_gallery_holds_the_published_set_ups():
    names = {path.stem for path in FILES}
    assert {
        "rhw1986_xor",
        "rhw1986_symmetry",
        "rhw1986_addition",
        "lang_witbrock1988_spirals",
        "rhw1986_chauvin_xor_width",
        "fahlman1988_encoder",
        "tesauro_janssens1988_parity",
        "riedmiller_braun1993_rprop",
        "schmidhuber_guessing_xor",
    } <= names
    for path in FILES:
        head = path.read_text().split("\nname")[0]
        assert "Set-up:" in head and "Published:" in head, path.name  # the header says both


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_each_set_up_runs_at_reduced_size(path, tmp_path):
    spec = tomllib.loads(path.read_text())
    epochs = min(spec["epochs"], 30)
    df = sweep.run(path, seeds="0:4", epochs=epochs, out=tmp_path / path.stem, progress=False)
    grids = spec.get("grid", [{}])
    assert len(df) > 0 and df["trial_id"].is_unique and (df["epochs"] == epochs).all()
    assert df.groupby(list(df.columns[1:4])).ngroups >= 1
    table = _table_module().figures(df)
    assert table["trials"].sum() == len(df) and len(table) >= len(grids) > 0
    assert ((table["rate_low"] <= table["rate"]) & (table["rate"] <= table["rate_high"])).all()
    assert table["rate_low"].ge(0).all() and table["rate_high"].le(1).all()
