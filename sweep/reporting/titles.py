"""What a figure's title says: what it shows, the trials, and the settings it fixes:
the study's design (task, epochs, tol, initial range) always, the rest where not
the defaults (panels title what varies)."""

from __future__ import annotations

import numpy as np

from ..config.axes import BY_COLUMN
from .text import value_text


def _default(column: str):
    """A parameter's default, if it is one value (None: none, or several)."""
    axis = BY_COLUMN[column]
    values = axis.parse(axis.name, axis.default) if axis.default is not None else ()
    return values[0] if len(values) == 1 else None


def _init_text(kind: str | None, low: float, high: float) -> str:
    """The initial draws: a range, or a radius R (low = -R, high = R; kernels.initialisers)."""
    if kind == "normal":
        return f"init N(0, R²), R {value_text(high)}"
    if kind == "fan-in":
        return f"init fan-in, R {value_text(high)}"
    if kind == "uniform":
        return f"init U[{value_text(low)}, {value_text(high)})"
    return f"init [{value_text(low)}, {value_text(high)})"  # initialisers vary: panels say


#: What a figure fixes that it always states, defaults too: without them no
#: reader can tell what its rates are rates of.
DESIGN = ("task", "epochs", "tol", "init_low", "init_high")


def fixed_settings(fixed: dict) -> str:
    """The settings a figure fixes, as one readable line: the :data:`DESIGN`, and
    the others that are not the defaults (what a reader needs to know beyond the
    panels' own titles)."""
    one = {
        c: v
        for c, v in fixed.items()
        if not (isinstance(v, float) and np.isnan(v))
        and v is not None
        and (c in DESIGN or v != _default(c))
    }
    parts = []
    digest = one.pop("task_digest", "")
    if "task" in one:
        task = str(one.pop("task"))
        # A truth table's name is its data; a file's or arrays' is named with its digest.
        parts.append(
            task if not digest or task.startswith("table:") else f"{task} (data {digest[:8]})"
        )
    if "epochs" in one:
        parts.append(f"{one.pop('epochs'):,} epochs")
    if "tol" in one:
        parts.append(f"tol {value_text(one.pop('tol'))}")
    if "init_low" in one or "init_high" in one:
        low = one.pop("init_low", fixed.get("init_low"))
        high = one.pop("init_high", fixed.get("init_high"))
        parts.append(_init_text(one.pop("init", fixed.get("init")), low, high))
    names = {
        "activation": "hidden",
        "output_activation": "output",
        "loss": "loss",
        "update": "update",
    }
    recipe = [f"{names[k]} {one.pop(k)}" for k in names if k in one]
    if recipe:
        parts.append(", ".join(recipe))
    parts += [f"{k} {value_text(v)}" for k, v in one.items()]
    return " · ".join(parts)


def title(trials: int, fixed: dict, what: str, pooled: str | None = None, width: int = 140) -> str:
    """A figure's title: what it shows, then (one line, at most) the trials, what
    it pools over (``pooled``) and the settings it fixes (:func:`fixed_settings`)."""
    parts = (f"{trials:,} trials", pooled, fixed_settings(fixed))
    line = " · ".join(p for p in parts if p)
    if len(line) > width:
        line = line[: width - 1].rsplit(" · ", 1)[0] + " · …"
    return f"{what}\n{line}"
