"""One self-contained HTML report of a results folder: tables, figures, provenance.

No external files, scripts or fonts: the figures are embedded PNGs and the
style is inline, so the file opens offline, mails and archives as one piece.
"""

from __future__ import annotations

import base64
import html
import json
import platform
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ..store.provenance import cpu_name, package_versions
from ..store.sidecar import described
from . import text
from .aggregate import Aggregate
from .sampled import readable_blocks
from .titles import fixed_settings

_STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f;
       max-width: 1180px; margin: 2em auto; padding: 0 1.2em; }
h1 { font-size: 1.6em; margin-bottom: 0.1em; } h2 { margin-top: 1.8em; font-size: 1.25em; }
.sub { color: #555; margin-top: 0; }
table { border-collapse: collapse; font-size: 0.88em; margin: 0.6em 0; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #ddd; text-align: right; }
th { background: #f3f3f5; position: sticky; top: 0; }
tr:hover td { background: #fafafa; }
/* figures at their own size (their text stays legible), scrolled when wider */
.fig { overflow-x: auto; margin: 0.6em 0 1.4em; }
.fig img { max-width: none; border: 1px solid #e3e3e6; }
pre { background: #f6f6f8; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.note { background: #fff6df; border-left: 4px solid #e6a700; padding: 0.4em 0.8em; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dt { color: #555; }
"""


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, escape=True, na_rep="")


def _blocks(blocks: list[tuple[str, pd.DataFrame, pd.DataFrame]]) -> str:
    """Tables under their headings (:func:`sweep.reporting.sampled.readable_blocks`)."""
    return "\n".join(f"<h3>{html.escape(head)}</h3>{_table(shown)}" for head, _, shown in blocks)


def _figure(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    alt = html.escape(path.stem.replace("_", " "))
    return f'<div class="fig"><img alt="{alt}" src="data:image/png;base64,{data}"></div>'


def write_html(
    agg: Aggregate,
    file: str | Path,
    keys: Sequence[str] | None,
    results: Path,
    where: str | None = None,
    figures: list[Path] | None = None,
) -> Path:
    """Write the report of a folder's statistics (``agg``: the results in ``results``,
    filtered by ``where``), grouped by ``keys`` (None: every parameter that varies,
    sampled axes in bins), to ``file``, with the PNG ``figures`` (None: drawn
    here); return its path."""
    from .sampled_plots import write_figures  # matplotlib loads only for figures

    file = Path(file)
    if keys is None and agg.sampled:  # each sampled axis in bins
        note = None
        convergence = _blocks(readable_blocks(agg))
        failures = _blocks(readable_blocks(agg, failures=True))
    else:
        keys = list(keys) if keys is not None else (agg.varying() or ["lr", "width"])
        note = agg.pooled_note(keys)
        convergence = _table(text.readable_table(agg.table(keys), keys))
        failures = _table(text.readable_failures(agg.failure_table(keys), keys))
    sidecar = described(results) or {}
    if figures is not None:
        shown = "\n".join(_figure(p) for p in figures)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            shown = "\n".join(_figure(p) for p in write_figures(agg, tmp, keys))
    generated = datetime.now(UTC).isoformat(timespec="seconds")
    provenance = {
        "results": str(results.resolve()),
        "trials": f"{agg.trials:,}" + (f" (where {where})" if where else ""),
        "created": sidecar.get("created", "?"),
        "report written": generated,
        "machine": f"{cpu_name()}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}",
        "packages": ", ".join(f"{k} {v}" for k, v in package_versions().items()),
    }
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Sweep report: {html.escape(results.name)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Sweep report: {html.escape(results.name)}</h1>",
        f'<p class="sub">{html.escape(fixed_settings(agg.fixed()))}</p>',
        f'<p class="note">{html.escape(note)}</p>' if note else "",
        "<h2>Convergence</h2>",
        "<p>Rate with its 95% Wilson interval; epochs to converge among converged trials.</p>",
        convergence,
        "<h2>Failure modes</h2>",
        "<p>converged; slow (not converged, still improving); stuck (a plateau or local "
        "minimum: the loss fell by less than 1% over the last quarter of the run); "
        "diverged.</p>",
        failures,
        "<h2>Figures</h2>",
        shown,
        "<h2>Provenance</h2>",
        "<dl>"
        + "".join(
            f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in provenance.items()
        )
        + "</dl>",
        "<h3>Sweep specification</h3>",
        f"<pre>{html.escape(json.dumps(sidecar.get('specs', []), indent=1))}</pre>",
        "</body></html>",
    ]
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text("\n".join(p for p in parts if p), encoding="utf-8")
    return file
