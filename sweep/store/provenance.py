"""What produced the numbers: package versions and the processor, for the record."""

from __future__ import annotations

import functools
import platform
from importlib import metadata
from pathlib import Path

import joblib
import numpy as np
import pyarrow as pa


@functools.cache
def package_versions() -> dict[str, str]:
    """Versions of the packages that produce the numbers.

    Read from the modules where they are loaded anyway: asking package
    metadata is slow, and on the way to the first result.
    """
    import llvmlite
    import numba

    out = {
        "numba": numba.__version__,
        "llvmlite": llvmlite.__version__,
        "numpy": np.__version__,
        "pyarrow": pa.__version__,
        "joblib": joblib.__version__,
    }
    for name in ("tinynet-sweep", "pandas"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def cpu_name() -> str:
    """The CPU model and its widest vectors, for labelling figures: e.g.
    ``<model> (<core>), <widest vector extension>``: figures differ most between
    vector widths."""
    model, family, number, flags = platform.processor() or platform.machine(), "", "", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = (part.strip() for part in line.partition(":"))
            if key == "model name":
                model = value
            elif key == "cpu family":
                family = value
            elif key == "model":
                number = value
            elif key == "flags":
                flags = set(value.split())
                break  # the first CPU describes them all
    except OSError:
        pass
    zen = None
    if "AMD" in model and family.isdigit() and number.isdigit():
        m = int(number)  # AMD's family 25 (0x19) holds two cores: these model ranges
        zen4 = 16 <= m <= 31 or 96 <= m <= 127 or 160 <= m <= 175
        zen = {23: "Zen 2", 25: "Zen 4" if zen4 else "Zen 3", 26: "Zen 5"}.get(int(family))
    vectors = "AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "no AVX2"
    return f"{model}{f' ({zen})' if zen else ''}, {vectors}"
