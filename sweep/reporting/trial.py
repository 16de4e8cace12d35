"""One trial drawn: its loss curve and its final outputs against the targets."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files (or a notebook's inline backend), never a window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from kernels import get_task  # noqa: E402
from kernels.model import curve_epochs  # noqa: E402

from ..config.axes import RECIPE_AXES  # noqa: E402
from ..config.study import make_recipe  # noqa: E402
from ..errors import ConfigError  # noqa: E402
from ..store.reader import load  # noqa: E402
from .titles import fixed_settings  # noqa: E402

_ID = re.compile(r"[0-9a-f]{16}")


def plot_trial(path: str | Path, trial_id: str, out: str | Path | None = None):
    """Draw trial ``trial_id`` of the results in ``path``: its loss curve (MSE at the
    recorded epochs) and its final outputs against the targets, pattern by
    pattern. Returns the matplotlib figure (a notebook shows it); ``out``: also
    save it there as PNG."""
    if not isinstance(trial_id, str) or not _ID.fullmatch(trial_id):
        raise ConfigError("trial_id", f"expected 16 hex digits, got {trial_id!r}")
    rows = load(path, where=f"trial_id == '{trial_id}'", notes=[])
    if len(rows) == 0:
        raise ConfigError("trial_id", f"no trial {trial_id} in {path}")
    row = rows.iloc[0]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    curve = row["loss_curve"]
    if curve is not None and len(curve):
        scale = row.get("curve", "linear") or "linear"
        epochs = curve_epochs(int(row["epochs"]), int(row["curve_every"]), scale)
        left.plot(epochs, curve, lw=1.5)
        if scale == "log":
            left.set_xscale("symlog", linthresh=10)
        finite = np.asarray(curve, dtype=float)
        finite = finite[np.isfinite(finite) & (finite > 0)]
        if finite.size and finite.max() > 1e3 * finite.min():  # e.g. a diverging network
            # Limits first: matplotlib's log axis overflows near the float limit
            # (beyond 1e100 the curve leaves the axes).
            left.set_ylim(finite.min() / 2, min(finite.max() * 2, 1e100))
            left.set_yscale("log")
    else:
        left.text(0.5, 0.5, "no loss curve stored", ha="center", transform=left.transAxes)
    left.set(xlabel="epoch", ylabel="mean squared error", title="loss curve")
    left.grid(alpha=0.3)
    outputs = row["outputs"]
    right.set(xlabel="input pattern", ylabel="output", title="final outputs")
    if row["diverged"]:  # its outputs are those of non-finite parameters
        note = "no outputs: a parameter is not finite"
        right.text(0.5, 0.5, note, ha="center", transform=right.transAxes)
        right.set(xticks=[], yticks=[])
    elif outputs is not None and len(outputs) and row.get("task_digest"):  # data not at hand
        right.plot(np.asarray(outputs, dtype=float), ".", color="tab:blue")
        right.set(xlabel="sample x output (row-major)")
    elif outputs is not None and len(outputs):
        X, Y = get_task(row["task"])
        _, coded = recipe_of_row(row).code(X, Y)
        yhat = np.asarray(outputs, dtype=float).reshape(coded.shape)
        at = np.arange(coded.size)
        right.bar(at - 0.2, coded.ravel(), width=0.4, label="target", color="0.75")
        right.bar(at + 0.2, yhat.ravel(), width=0.4, label="output", color="tab:blue")
        names = ["".join(str(int(v)) for v in x) for x in X for _ in range(Y.shape[1])]
        right.set_xticks(at, names, fontsize=7, rotation=90 if len(names) > 16 else 0)
        right.legend(fontsize=8)
    else:
        right.text(0.5, 0.5, "no outputs stored", ha="center", transform=right.transAxes)
    verdict = _verdict(row)
    settings = fixed_settings({k: row[k] for k in rows.columns if k in _SETTINGS})
    fig.suptitle(f"trial {trial_id}: seed {row['seed']}, {verdict}\n{settings}", fontsize=9)
    if out is not None:
        fig.savefig(out, dpi=130)
    return fig


def _verdict(row) -> str:
    """What became of the trial: converged (when), diverged (when) or neither."""
    if row["converged"]:
        return f"converged at epoch {int(row['epoch_converged']):,}"
    if row["diverged"]:
        return f"diverged at epoch {int(row['epoch_diverged']):,}"
    return f"did not converge in {int(row['epochs']):,} epochs"


#: The parameters a trial's title may name (its settings, not its outcomes).
_SETTINGS = (
    "task", "lr", "width", "epochs", "tol", "init_low", "init_high", "dtype", "momentum",
    "update", "activation", "output_activation", "loss", "inputs", "targets", "optimizer",
    "init",
)  # fmt: skip


def recipe_of_row(row):
    """The training recipe of a stored trial (its recipe columns)."""
    return make_recipe({axis.name: row[axis.column] for axis in RECIPE_AXES})
