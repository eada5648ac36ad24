"""What the front end weighs: the bytes a page loads for a studio, and what each widget sends on open.

    .venv/bin/python benchmarks/bundle_size.py

Reads the built modules in ``genwidgets/static`` (``bash scripts/setup.sh`` builds them) and the
vendored plotly.js build, and prints raw and gzip sizes (what a server that compresses would send;
Jupyter's comm messages are not compressed, so the raw figure is what a kernel sends).
"""

from __future__ import annotations

import gzip
from pathlib import Path

from genwidgets.widgets.bundle import FRONTEND, KINDS, LOADER, esm

ROOT = Path(__file__).resolve().parent.parent
PLOTLY = ROOT / "js" / "vendor" / "plotly.min.mjs"


def sizes(data: bytes) -> tuple[int, int]:
    """Raw and gzip (level 9) byte counts."""
    return len(data), len(gzip.compress(data, 9))


def main() -> None:
    """Print the table."""
    rows = [("frontend.js: the three widgets + plotly (once per page)", FRONTEND.read_bytes()),
            ("  of which the vendored plotly.js build", PLOTLY.read_bytes()),
            ("loader.js (each widget's _esm, before its kind and hash)", LOADER.read_bytes())]
    rows += [(f"_esm of {kind} (sent when the widget opens)", esm(kind).encode()) for kind in KINDS]
    studio = len(FRONTEND.read_bytes()) + sum(len(esm(k).encode()) for k in KINDS)
    print("| module | bytes | gzip |\n|---|---|---|")
    for name, data in rows:
        raw, packed = sizes(data)
        print(f"| {name} | {raw:,} | {packed:,} |")
    print(f"| a studio (panel, explorer, heatmap): the front end once + three loaders | {studio:,} | - |")


if __name__ == "__main__":
    main()
