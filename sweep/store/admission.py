"""Whether a results folder may take a sweep's trials: it holds no sweep, this
sweep, one this sweep contains, or (``--extend``, ``--overwrite``) the user says
so; never a task of the same name holding other data."""

from __future__ import annotations

from pathlib import Path

from ..config.study import Study, SweepConfig, make_study
from ..errors import ConfigError, SweepError
from . import files
from .layout import OURS, PART_PATTERN, REPORT_FOLDER
from .manifest import read_manifest
from .sidecar import rebuilt_sidecar, sidecar_state


def grows(sidecar: dict, config: SweepConfig) -> bool:
    """Whether ``config`` contains every sweep stored in ``sidecar``: more seeds,
    or more values on an axis, with nothing changed or dropped."""
    try:
        stored = [make_study(spec) for spec in sidecar["specs"]]
    except ConfigError:
        return False  # a spec this version cannot read: not a plain extension
    return all(config.contains(old) for old in stored)


def _digests(spec: dict) -> dict[str, str]:
    """Each task of a stored spec (every grid's) with its digest ("": a built-in)."""
    out: dict[str, str] = {}
    for grid in spec.get("grids", [spec]):
        names = grid.get("task", [])
        digests = grid.get("tasks") or {}
        out |= {n: digests.get(n, "") for n in ([names] if isinstance(names, str) else names)}
    return out


def _refuse_changed_tasks(path: Path, sidecar: dict, config: SweepConfig | Study) -> None:
    """ConfigError if a task of ``config`` is named as a stored one but holds other
    data (or one is a built-in, the other data): its rows would pass for the stored
    task's (only --overwrite replaces)."""
    stored: dict[str, str] = {}
    for spec in sidecar["specs"]:
        stored |= _digests(spec)
    for grid in config.grids:
        for name in grid.values["task"]:
            mine = grid.tasks.get(name, "")
            if stored.get(name, mine) == mine:
                continue
            given = f" ({grid.task_data[name].source})" if name in grid.task_data else ""
            raise ConfigError(
                "task",
                f"{name!r}{given} holds other data than the task of that name stored in "
                f"{path}: use --overwrite to replace the sweep, or another --out",
            )


def _spec_difference(old: dict, new: dict) -> str:
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return ", ".join(keys)


def refuse(path: Path, config: SweepConfig | Study, overwrite: bool, extend: bool) -> None:
    """ConfigError if ``path`` may not take ``config``'s trials (reads only)."""
    for name in (*OURS, REPORT_FOLDER):
        files.refuse_link(path / name)
    sidecar, _ = sidecar_state(path)
    if sidecar is None:
        try:
            sidecar = rebuilt_sidecar(path)
        except SweepError:
            if overwrite:  # parts of several sweeps: --overwrite replaces them all
                return
            raise
    if sidecar is None:
        ours = read_manifest(path).exists
        foreign = [
            p.name
            for p in sorted(path.iterdir())
            if p.name not in OURS and not (ours and p.match(PART_PATTERN))
        ]
        if foreign:
            raise ConfigError(
                "out",
                f"{path} is not empty and holds no sweep "
                f"(found {foreign[0]}); choose another folder",
            )
    elif not overwrite:
        _refuse_changed_tasks(path, sidecar, config)
    if (
        sidecar is not None
        and config.to_dict() not in sidecar["specs"]
        and not (overwrite or extend)
    ):
        if grows(sidecar, config):
            return
        diff = _spec_difference(sidecar["specs"][-1], config.to_dict())
        raise ConfigError(
            "out",
            f"{path} holds a different sweep (differs in {diff}) that this one "
            "does not contain; use --extend to add to it, --overwrite to replace it, "
            "or another --out",
        )
