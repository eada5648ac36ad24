"""Write notebooks/quickstart.ipynb (outputs stripped): the studio on MNIST.

    .venv/bin/python notebooks/make_quickstart.py

The cells live in :mod:`genwidgets.demo` (``genwidgets demo`` writes the same notebook for users);
CI executes the notebook (tests/test_quickstart.py).
"""

from __future__ import annotations

from pathlib import Path

from genwidgets.demo import QUICKSTART, write_notebook


def build(path: Path) -> Path:
    """Write the notebook to ``path``."""
    return write_notebook(QUICKSTART, path)


if __name__ == "__main__":
    print(build(Path(__file__).resolve().parent / "quickstart.ipynb"))
