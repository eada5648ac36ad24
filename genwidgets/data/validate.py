"""Checks that turn bad user data into clear errors before any training starts."""

from __future__ import annotations

import numpy as np
import torch

from ..errors import DataError


def check_tensor_data(
    x: torch.Tensor | np.ndarray, labels: torch.Tensor | np.ndarray | None, *, kind: str
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Validate and normalise in-memory data to genwidgets' conventions.

    Returns float32 ``x`` (images ``(N, C, H, W)`` in [0, 1], points ``(N, D)``) and int64
    ``labels`` of length N, or raises :class:`DataError` saying what was expected.
    """
    if isinstance(x, np.ndarray):
        if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
            raise DataError(f"data has dtype {x.dtype}; expected a numeric array (float or integer)")
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise DataError(f"data must be a numpy array or torch tensor, got {type(x).__name__}")
    if x.is_complex():
        raise DataError(f"data has complex dtype {x.dtype}; expected real numbers")
    if x.ndim == 0 or x.shape[0] == 0:
        raise DataError(f"data is empty (shape {tuple(x.shape)}); expected at least one example")
    if kind == "points":
        if x.ndim != 2:
            raise DataError(f"points must have shape (N, D), got {tuple(x.shape)}; reshape to 2 dimensions")
        x = x.float()
    elif kind == "images":
        x = _to_nchw_unit(x)
    else:
        raise DataError(f"unknown data kind {kind!r}; expected 'points' or 'images'")
    if not torch.isfinite(x).all():
        raise DataError("data contains NaN or infinite values; clean or drop those examples first")
    return x.contiguous(), _check_labels(labels, len(x))


def _to_nchw_unit(x: torch.Tensor) -> torch.Tensor:
    """Images to float32 (N, C, H, W) in [0, 1]; uint8 is scaled by 1/255, NHWC is transposed."""
    if x.ndim == 3:  # (N, H, W) greyscale
        x = x.unsqueeze(1)
    if x.ndim != 4:
        raise DataError(
            f"images must have shape (N, H, W), (N, C, H, W) or (N, H, W, C), got {tuple(x.shape)}"
        )
    if x.shape[1] not in (1, 3, 4) and x.shape[-1] in (1, 3, 4):  # channels last
        x = x.permute(0, 3, 1, 2)
    if x.shape[1] not in (1, 3, 4):
        raise DataError(f"images must have 1, 3 or 4 channels, got shape {tuple(x.shape)}")
    if x.dtype == torch.uint8:
        return x.float() / 255.0
    if x.dtype == torch.bool:
        return x.float()
    x = x.float()
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0:
        if lo >= 0.0 and hi <= 255.0 and x.dtype.is_floating_point:
            raise DataError(
                f"float images must lie in [0, 1], got values in [{lo:g}, {hi:g}]; divide by 255 "
                "(or pass uint8 images, which are scaled for you)"
            )
        raise DataError(f"float images must lie in [0, 1], got values in [{lo:g}, {hi:g}]; rescale them first")
    return x


def _check_labels(labels: torch.Tensor | np.ndarray | None, n: int) -> torch.Tensor | None:
    if labels is None:
        return None
    if isinstance(labels, np.ndarray):
        if not np.issubdtype(labels.dtype, np.integer):
            raise DataError(f"labels have dtype {labels.dtype}; expected integer class indices 0..K-1")
        labels = torch.from_numpy(np.ascontiguousarray(labels))
    if not isinstance(labels, torch.Tensor) or labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise DataError("labels must be an integer array or tensor of class indices 0..K-1")
    labels = labels.reshape(-1).long()
    if len(labels) != n:
        raise DataError(f"got {len(labels)} labels for {n} examples; pass one label per example")
    if int(labels.min()) < 0:
        raise DataError("labels must be class indices >= 0")
    return labels
