"""Image helpers: tensors to uint8, sample grids and PNG files (Pillow, no torchvision; torch only for its tensors)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np


def to_uint8(images: Any) -> np.ndarray:
    """Images in [0, 1] shaped (N, C, H, W) to uint8 (N, H, W, C), clipping out-of-range values."""
    x = images.detach().float().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)  # a tensor
    if x.ndim != 4:
        raise ValueError(f"expected images shaped (N, C, H, W), got {x.shape}")
    x = np.nan_to_num(x, nan=0.0)
    return (np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).transpose(0, 2, 3, 1)


def make_grid(images: np.ndarray, *, nrow: int | None = None, padding: int = 2, pad_value: int = 0) -> np.ndarray:
    """Tile uint8 images (N, H, W, C) into one (rows*H, cols*W, C) image with ``padding`` pixels between."""
    n, h, w, c = images.shape
    cols = nrow or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    grid = np.full((rows * (h + padding) + padding, cols * (w + padding) + padding, c), pad_value, np.uint8)
    for i in range(n):
        r, col = divmod(i, cols)
        y, x = padding + r * (h + padding), padding + col * (w + padding)
        grid[y : y + h, x : x + w] = images[i]
    return grid


def _write_png(image: Any, path: str | os.PathLike) -> Path:
    """Save a PIL image as PNG via a temporary file and a rename, so readers never see half a file."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        image.save(tmp, format="PNG")
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves no half-written temporary behind
        raise
    return out


def save_png(image: np.ndarray, path: str | os.PathLike, *, scale: int = 1) -> Path:
    """Write a uint8 (H, W, C) image as PNG (atomically), optionally upscaled by nearest neighbour."""
    from PIL import Image

    img = image[..., 0] if image.shape[-1] == 1 else image
    pil = Image.fromarray(img)
    if scale > 1:
        pil = pil.resize((pil.width * scale, pil.height * scale), Image.NEAREST)
    return _write_png(pil, path)


def points_png(points: np.ndarray, path: str | os.PathLike, *, reference: np.ndarray | None = None,
               size: int = 400) -> Path:
    """Plot 2-D points (and optional reference points in grey) as a PNG scatter, for toy data."""
    from PIL import Image, ImageDraw

    pts = np.asarray(points, dtype=np.float64)[:, :2]
    everything = pts if reference is None else np.concatenate([pts, np.asarray(reference)[:, :2]])
    lo, hi = everything.min(0), everything.max(0)
    span = np.maximum(hi - lo, 1e-6)
    lo, span = lo - 0.05 * span, span * 1.1

    def pixel(p: np.ndarray) -> np.ndarray:
        return np.stack([(p[:, 0] - lo[0]) / span[0] * (size - 1), (1 - (p[:, 1] - lo[1]) / span[1]) * (size - 1)], 1)

    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)
    for layer, colour in ((reference, (190, 190, 190)), (pts, (31, 119, 180))):
        if layer is None:
            continue
        for x, y in pixel(np.asarray(layer)[:, :2]):
            draw.ellipse((x - 1.5, y - 1.5, x + 1.5, y + 1.5), fill=colour)
    return _write_png(img, path)
