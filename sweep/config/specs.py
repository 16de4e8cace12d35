"""Parsers for the compact value specs accepted on the command line and in TOML.

- seeds: ``314``, ``0:1000`` (half-open range), ``1,5,9``;
- lr: ``0.1``, ``0.05,0.1,0.5``, ``log:0.01:10:13`` (13 log-spaced values,
  ends included), ``lin:0.1:2:20`` (20 evenly spaced values, ends included);
- width: ``2``, ``2,3,4``, ``1:9`` (half-open range);
- lists of numbers or names: ``0.1,0.05``, ``xor,parity3``.

TOML values may also be numbers or arrays. Every parser returns a tuple and
raises :class:`~sweep.errors.ConfigError` naming the field.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from kernels.recipe import format_number

from ..errors import ConfigError, require

#: Spaced learning rates are rounded to this many significant digits, so the
#: same spec names the same trials on any machine (and prints cleanly).
LR_DIGITS = 12
#: Most values one range or spaced spec may produce.
MAX_VALUES = 10_000_000

_INT = re.compile(r"[+-]?\d+")


def _items(field: str, value: Any) -> list[Any]:
    """Split a spec into items: comma-separated string, scalar or sequence."""
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ConfigError(field, "is empty")
        parts = [p.strip() for p in text.split(",")]
        if any(not p for p in parts):
            raise ConfigError(field, f"has an empty item in {value!r}")
        return parts
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        if len(value) == 0:
            raise ConfigError(field, "is empty")
        return list(value)
    return [value]


def _int(field: str, item: Any) -> int:
    if isinstance(item, bool):
        raise ConfigError(field, f"expected an integer, got {item!r}")
    if isinstance(item, (int, np.integer)):
        return int(item)
    if isinstance(item, str) and _INT.fullmatch(item):
        return int(item)
    raise ConfigError(field, f"expected an integer, got {item!r}")


def _float(field: str, item: Any) -> float:
    if isinstance(item, bool):
        raise ConfigError(field, f"expected a number, got {item!r}")
    if isinstance(item, (int, float, np.integer, np.floating)):
        return float(item)
    if isinstance(item, str):
        try:
            return float(item)
        except ValueError:
            pass
    raise ConfigError(field, f"expected a number, got {item!r}")


def _range(field: str, text: str, most: int = MAX_VALUES) -> range:
    parts = text.split(":")
    if len(parts) != 2:
        raise ConfigError(field, f"expected a range START:STOP, got {text!r}")
    start, stop = (_int(field, p.strip()) for p in parts)
    if stop <= start:
        raise ConfigError(field, f"range {text!r} is empty (STOP must exceed START)")
    if stop - start > most:
        raise ConfigError(field, f"range {text!r} has more than {most:,} values")
    return range(start, stop)


def seed_spec(field: str, value: Any) -> tuple[int, ...] | range:
    """:func:`int_spec`, but one range stays a ``range``: ``0:10000000`` costs
    nothing until its chunks are planned, where ten million Python ints (and
    the dict that checks them for repeats) would take gigabytes. Such a range is
    never expanded whole (:class:`sweep.config.grid.Block`), so it may span every
    seed numpy takes (2**32)."""
    items = _items(field, value)
    if len(items) == 1 and isinstance(items[0], str) and ":" in items[0]:
        seeds = _range(field, items[0], most=2**32)
        # As compact_ints writes it back: a sweep's stored form does not change.
        return seeds if len(seeds) >= 3 else tuple(seeds)
    return int_spec(field, value)


def is_subset(values: Sequence[int] | range, of: Sequence[int] | range) -> bool:
    """Whether every value of ``values`` is one of ``of`` (ranges without expanding)."""
    if isinstance(of, range):
        if isinstance(values, range):
            return len(values) == 0 or (values[0] in of and values[-1] in of)
        return all(v in of for v in values)
    return set(values) <= set(of)


def as_array(values: Sequence[int] | range):
    """Integers as an int64 numpy array (a range without a Python loop)."""
    if isinstance(values, range):
        return np.arange(values.start, values.stop, values.step, dtype=np.int64)
    return np.asarray(values, dtype=np.int64)


def int_spec(field: str, value: Any) -> tuple[int, ...]:
    """Integers from ``7``, ``1,5,9``, ``0:1000`` (half-open) or a sequence."""
    out: list[int] = []
    items = [
        _range(field, item) if isinstance(item, str) and ":" in item else _int(field, item)
        for item in _items(field, value)
    ]
    # Counted before anything is expanded: many long ranges are refused at once,
    # not after allocating them.
    total = sum(len(item) if isinstance(item, range) else 1 for item in items)
    if total > MAX_VALUES:
        raise ConfigError(field, f"{total:,} values, more than {MAX_VALUES:,}")
    for item in items:
        if isinstance(item, range):
            out.extend(item)
        else:
            out.append(item)
    return tuple(out)


def _spaced(field: str, text: str) -> list[float]:
    kind, *args = [p.strip() for p in text.split(":")]
    if len(args) != 3:
        raise ConfigError(field, f"expected {kind}:START:STOP:COUNT, got {text!r}")
    start, stop = _float(field, args[0]), _float(field, args[1])
    count = _int(field, args[2])
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise ConfigError(field, f"{text!r} has a bound that is not finite")
    if count < 1 or count > MAX_VALUES:
        raise ConfigError(field, f"COUNT in {text!r} must be between 1 and {MAX_VALUES:,}")
    if kind == "log":
        if start <= 0 or stop <= 0:
            raise ConfigError(field, f"log spacing needs positive bounds, got {text!r}")
        values = np.logspace(math.log10(start), math.log10(stop), count)
    else:
        values = np.linspace(start, stop, count)
    return [float(f"{v:.{LR_DIGITS}g}") for v in values]


def float_spec(field: str, value: Any) -> tuple[float, ...]:
    """Floats from ``0.1``, ``0.05,0.1``, ``log:A:B:N``, ``lin:A:B:N`` or a sequence."""
    out: list[float] = []
    for item in _items(field, value):
        if isinstance(item, str) and item.split(":")[0].strip() in ("log", "lin"):
            out.extend(_spaced(field, item))
        else:
            out.append(_float(field, item))
    return tuple(out)


def name_spec(field: str, value: Any) -> tuple[str, ...]:
    """Names from ``xor`` or ``xor,parity3`` or a sequence of strings."""
    out = []
    for item in _items(field, value):
        if not isinstance(item, str):
            raise ConfigError(field, f"expected a name, got {item!r}")
        out.append(item.strip())
    return tuple(out)


def task_spec(field: str, value: Any) -> tuple[str, ...]:
    """Task names as :func:`name_spec`, where the output columns of a truth table
    (``table:0110,1000``: its second column) stay with it."""
    out: list[str] = []
    for name in name_spec(field, value):
        if out and out[-1].startswith("table:") and name and not set(name) - {"0", "1"}:
            out[-1] += "," + name
        else:
            out.append(name)
    return tuple(out)


def pair_spec(field: str, value: Any) -> tuple[str, ...]:
    """Pairs ``LOW:HIGH`` from ``0:1``, ``0.1:0.9,-1:1`` or a sequence (of such
    strings, or of two numbers), as canonical text (``0.1:0.9``)."""
    if (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    ):
        value = [value]  # one pair given as two numbers
    out = []
    for item in _items(field, value):
        if isinstance(item, str):
            parts = [p.strip() for p in item.split(":")]
        elif isinstance(item, Sequence) and not isinstance(item, bytes):
            parts = list(item)
        else:
            parts = [item]
        if len(parts) != 2:
            raise ConfigError(field, f"expected LOW:HIGH, got {item!r}")
        low, high = (_float(field, p) for p in parts)
        out.append(f"{format_number(low)}:{format_number(high)}")
    return tuple(out)


def parse_pair(text: str) -> tuple[float, float]:
    """The numbers of a canonical pair (see :func:`pair_spec`)."""
    low, high = text.split(":")
    return float(low), float(high)


def optional_float_spec(field: str, value: Any) -> tuple[float | None, ...]:
    """Floats as :func:`float_spec`, or ``None`` (not set) when ``value`` is None."""
    return (None,) if value is None else float_spec(field, value)


def bool_spec(field: str, value: Any) -> bool:
    """A yes/no setting: a bool, or true/false/yes/no/1/0 as text."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "yes", "1", "on"):
        return True
    if text in ("false", "no", "0", "off"):
        return False
    raise ConfigError(field, f"expected true or false, got {value!r}")


def bools_spec(field: str, value: Any) -> tuple[bool, ...]:
    """Yes/no values: one (:func:`bool_spec`), a comma list (``false,true``) or a list."""
    if isinstance(value, str):
        value = value.split(",")
    elif not isinstance(value, (list, tuple)):
        value = [value]
    return tuple(dict.fromkeys(bool_spec(field, v) for v in value))


def compact_ints(values: Sequence[int]) -> str:
    """The shortest spec for a sequence of integers: runs become ``START:STOP``.

    ``int_spec(compact_ints(v)) == tuple(v)`` for any sequence, so a sweep of a
    million seeds is stored as ``"0:1000000"``, not a million numbers.
    """
    if isinstance(values, range) and values.step == 1 and len(values) >= 3:
        return f"{values.start}:{values.stop}"
    items, i = [], 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        if j - i >= 2:
            items.append(f"{values[i]}:{values[j] + 1}")
        else:
            items.extend(str(v) for v in values[i : j + 1])
        i = j + 1
    return ",".join(items)


def radii(field: str, value: Any, drawn: Any, range_given: list[str]) -> tuple[float, ...]:
    """Initial weights' radii: those ``drawn`` (a sampled axis) or those ``value``
    gives, each positive; refused beside a range (``range_given``: its fields)."""
    require(field, not range_given, f"gives the range itself: drop {(range_given or [''])[0]}")
    found = unique(drawn if drawn is not None else float_spec(field, value))
    for r in found:
        require(field, math.isfinite(r) and r > 0, f"must be positive, got {r!r}")
    return found


def unique(values: tuple | range) -> tuple | range:
    """Drop repeated values, keeping first occurrences in order (a range has none)."""
    if isinstance(values, range):
        return values
    return tuple(dict.fromkeys(values))
