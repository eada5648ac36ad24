"""Where converted data sets are cached, and how cache files are written safely."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

import numpy as np

#: Environment variable that overrides the cache folder.
CACHE_ENV = "GENWIDGETS_CACHE"


def cache_dir() -> Path:
    """The cache folder: ``$GENWIDGETS_CACHE`` if set, else ``~/.cache/genwidgets`` (not created here)."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "genwidgets"


def save_npz_atomic(path: Path, **arrays: np.ndarray) -> None:
    """Write ``arrays`` to ``path`` as an uncompressed ``.npz``, atomically.

    The data go to a temporary file in the same folder, which then replaces ``path`` in one
    step, so a reader never sees a half-written file (even if two processes write at once).
    Raises ``OSError`` if the folder cannot be created or written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
