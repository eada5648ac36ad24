"""What the PNG fallbacks share: plotly's palette, Pillow's default font, grids of images, PNG bytes."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image, ImageFont

from ...images import make_grid

#: plotly's ten-colour qualitative palette (the live plots' colourway), so a PNG matches its live view.
PLOTLY_COLOURS = ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692", "#B6E880",
                  "#FF97FF", "#FECB52"]


def font() -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    """Pillow's default font (no font files needed, in any kernel)."""
    return ImageFont.load_default()


def image_grid(images: np.ndarray, *, nrow: int, padding: int, pad_value: int = 0) -> Image.Image:
    """uint8 images (N, H, W, C) as one grid image: greyscale for one channel, else RGB."""
    grid = make_grid(images, nrow=nrow, padding=padding, pad_value=pad_value)
    return Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid[..., :3])


def png_bytes(img: Image.Image, *, optimize: bool = False) -> bytes:
    """``img`` encoded as PNG."""
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=optimize)
    return out.getvalue()


def with_png(bundle: Any, png: Callable[[], bytes]) -> tuple[dict, dict] | None:
    """A widget's mime bundle with ``png()`` added as ``image/png``, for viewers that cannot run widgets."""
    if bundle is None:
        return None
    data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
    return {**data, "image/png": base64.b64encode(png()).decode("ascii")}, metadata
