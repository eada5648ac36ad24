"""scikit-learn's bundled 8x8 handwritten digits (1,797 images, labels 0-9)."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np
import torch

from .base import TensorData

DIGIT_CLASS_NAMES = [str(d) for d in range(10)]


def digits(*, seed: int = 0) -> TensorData:
    """The UCI 8x8 digits from ``sklearn.datasets.load_digits``, shuffled with ``seed``.

    Returns images shaped ``(1797, 1, 8, 8)`` in [0, 1] (the 0..16 counts divided by 16)
    with labels 0-9.
    """
    images, target = _load_digits()
    order = np.random.default_rng(seed).permutation(len(target))
    x = (images[order] / 16.0).astype(np.float32)[:, None, :, :]
    y = target[order].astype(np.int64)
    return TensorData(
        torch.from_numpy(x),
        torch.from_numpy(y),
        kind="images",
        name="digits",
        description="1,797 handwritten digits, 8x8 greyscale (scikit-learn's load_digits); labels 0-9",
        num_classes=10,
        class_names=DIGIT_CLASS_NAMES,
    )


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    """Images (1797, 8, 8) of 0..16 counts and labels (1797,): what ``load_digits()`` returns.

    Read straight from the file scikit-learn ships (``sklearn/datasets/data/digits.csv.gz``: 64
    pixels and the label per row), which spares every process that loads the digits the 1.5 s import
    of ``sklearn.datasets``; if that file is not where it was, ``load_digits`` itself is used.
    """
    spec = importlib.util.find_spec("sklearn")
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            with gzip.open(path, "rt") as f:
                table = np.loadtxt(f, delimiter=",")
            return table[:, :-1].reshape(-1, 8, 8), table[:, -1].astype(np.int64)
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images, bunch.target
