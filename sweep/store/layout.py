"""The names of a results folder's files, defined once.

Layout of ``DIR``::

    part-<n>-<digest>.parquet   rows of finished chunks, each written atomically
    _sweep.json                 the sweep's spec(s), package versions, creation time
    _manifest.jsonl             each committed part's size, rows, digest, trials
    _quarantine/                damaged, redundant or foreign files a run moved aside
    _report/                    figures and HTML written by ``sweep report``
    .lock                       held while a run writes here

Readers of the results skip names that start with ``_`` or ``.`` (pyarrow,
pandas) or do not end in ``.parquet`` (DuckDB), so only parts are data.
"""

PART_PATTERN = "part-*.parquet"
SIDECAR = "_sweep.json"
MANIFEST = "_manifest.jsonl"
QUARANTINE = "_quarantine"
REPORT_FOLDER = "_report"
LOCK = ".lock"
#: The folder's own files besides the parts.
OURS = (SIDECAR, LOCK, MANIFEST, QUARANTINE)
