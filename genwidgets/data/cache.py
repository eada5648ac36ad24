"""Where converted data sets are cached, and how cache files are written safely."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

#: Environment variable that overrides the cache folder.
CACHE_ENV = "GENWIDGETS_CACHE"


def cache_dir() -> Path:
    """The cache folder: ``$GENWIDGETS_CACHE`` if set, else ``~/.cache/genwidgets`` (not created here)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "genwidgets"


def write_atomic(path: Path, write: Callable[[str], None]) -> None:
    """Call ``write(tmp_path)`` on a temporary file beside ``path``, flush it to disk, rename it into place.

    A reader never sees a half-written file (even if two processes write at once); on failure the
    temporary file is removed and ``path`` is left as it was. Raises ``OSError`` if the folder cannot
    be created or written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def save_npz_atomic(path: Path, **arrays: np.ndarray) -> None:
    """Write ``arrays`` to ``path`` as an uncompressed ``.npz``, atomically (see :func:`write_atomic`)."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    write_atomic(path, write)
