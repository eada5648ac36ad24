"""Write a notebook from a list of (kind, source) cells, with stable cell ids and no outputs.

Shared by the ``make_*.py`` generators in this folder; CI checks that each committed notebook is
what its generator writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nbformat


def write_notebook(cells: Sequence[tuple[str, str]], path: Path) -> Path:
    """Write ``cells`` (``("markdown" | "code", source)``) as a Python 3 notebook at ``path``."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    make = {"markdown": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell}
    nb.cells = [make[kind](source) for kind, source in cells]
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"  # stable ids, so rebuilding gives the same file
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path
