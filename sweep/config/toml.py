"""A sweep's TOML file, read into the flat mapping the config takes."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

from ..errors import ConfigError, require
from .options import RUN_KEYS
from .study import CONFIG_KEYS

#: Names other tools give the settings (an unknown key is answered with ours).
SYNONYMS = {
    "learning_rate": "lr", "learning_rates": "lr", "rate": "lr", "eta": "lr",
    "hidden": "width", "hidden_units": "width", "units": "width", "n_hidden": "width",
    "n_epochs": "epochs", "iterations": "epochs", "max_epochs": "epochs",
    "tolerance": "tol", "random_seed": "seeds", "random_seeds": "seeds",
    "alpha": "momentum", "activations": "activation", "output": "out", "folder": "out",
    "workers": "jobs", "n_jobs": "jobs", "decay": "weight_decay",
}  # fmt: skip
#: Largest TOML file read, and the deepest nesting of its arrays and inline
#: tables: a [[grid]] of lists is two levels; anything far beyond is refused
#: before it is parsed (the parser recurses on nesting).
MAX_TOML_BYTES = 1 << 20

MAX_TOML_NESTING = 8


def _nesting(text: bytes) -> int:
    """The deepest nesting of ``[`` and ``{`` in a TOML text, outside strings and
    comments."""
    depth = deepest = 0
    quote = None
    comment = escaped = False
    for char in text.decode("utf-8", errors="replace"):
        if comment:
            comment = char != "\n"
        elif quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            comment = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def read_toml(path: str | Path) -> dict[str, Any]:
    """Read a sweep TOML file into a flat mapping; ConfigError if it is unusable.

    Keys may sit at the top level or in a ``[sweep]`` table; dashes and
    underscores are interchangeable (``init-low`` = ``init_low``).
    """
    field = f"config {path}"
    try:
        with open(path, "rb") as f:
            text = f.read(MAX_TOML_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(field, "file not found") from None
    except OSError as e:
        raise ConfigError(field, f"cannot read: {e.strerror}") from None
    require(
        field,
        len(text) <= MAX_TOML_BYTES,
        f"larger than {MAX_TOML_BYTES // 1024} kB; a sweep's file is a few lines",
    )
    depth = _nesting(text)
    require(
        field,
        depth <= MAX_TOML_NESTING,
        f"nested {depth} levels deep; a sweep's settings nest at most {MAX_TOML_NESTING}",
    )
    try:
        data = tomllib.loads(text.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(field, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except (tomllib.TOMLDecodeError, RecursionError) as e:
        raise ConfigError(field, f"malformed TOML: {e}") from None
    table = data.pop("sweep", {}) if isinstance(data.get("sweep"), dict) else {}
    merged = {k.replace("-", "_"): v for k, v in {**data, **table}.items()}
    known = set(CONFIG_KEYS) | set(RUN_KEYS) | {"seed", "grid"}
    unknown = sorted(set(merged) - known)
    if unknown:
        close = [SYNONYMS[unknown[0]]] if unknown[0] in SYNONYMS else []
        close = close or difflib.get_close_matches(unknown[0], sorted(known), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else " (sweep run --help lists the keys)"
        raise ConfigError(field, f"unknown key {unknown[0]!r}{hint}")
    if "grid" in merged:  # [[grid]] tables: a union of grids over the other keys
        grids = merged.pop("grid")
        if not isinstance(grids, list) or not all(isinstance(g, dict) for g in grids):
            raise ConfigError(field, "grid must be tables: [[grid]]")
        merged["grids"] = [{k.replace("-", "_"): v for k, v in g.items()} for g in grids]
    return merged
