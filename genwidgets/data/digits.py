"""scikit-learn's bundled 8x8 handwritten digits (1,797 images, labels 0-9)."""

from __future__ import annotations

import numpy as np
import torch

from .base import TensorData

DIGIT_CLASS_NAMES = [str(d) for d in range(10)]


def digits(*, seed: int = 0) -> TensorData:
    """The UCI 8x8 digits from ``sklearn.datasets.load_digits``, shuffled with ``seed``.

    Returns images shaped ``(1797, 1, 8, 8)`` in [0, 1] (the 0..16 counts divided by 16)
    with labels 0-9.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    order = np.random.default_rng(seed).permutation(len(bunch.target))
    x = (bunch.images[order] / 16.0).astype(np.float32)[:, None, :, :]
    y = bunch.target[order].astype(np.int64)
    return TensorData(
        torch.from_numpy(x),
        torch.from_numpy(y),
        kind="images",
        name="digits",
        description="1,797 handwritten digits, 8x8 greyscale (scikit-learn's load_digits); labels 0-9",
        num_classes=10,
        class_names=DIGIT_CLASS_NAMES,
    )
