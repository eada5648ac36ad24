"""A PNG of the latent explorer (map, current output, traversal) for viewers without a live front end.

Drawn with Pillow alone, like the training panel's fallback (:mod:`.panel`).
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from .common import PLOTLY_COLOURS, image_grid, png_bytes

#: Class colours: plotly's ten-colour qualitative palette, as in the live map (js/src/lib/latent_map_plot.ts).
COLOURS = PLOTLY_COLOURS
MAP_SIZE, MARGIN, OUTPUT_SIZE = 360, 36, 160


def render_explorer_png(points: np.ndarray, labels: np.ndarray | None, output: np.ndarray,
                        traversal: dict[str, Any], *, title: str, caption: str, axis_titles: tuple[str, str],
                        point: np.ndarray, data_points: np.ndarray | None = None) -> bytes:
    """One PNG: the map (coloured by label, current point marked), the decoded output, the traversal."""
    grid = _outputs_image(traversal["outputs"], cols=len(traversal["values"]), data_points=data_points)
    grid = _fit(grid, MAP_SIZE)
    out = _fit(_outputs_image(output, cols=1, data_points=data_points), OUTPUT_SIZE)
    width = MARGIN + MAP_SIZE + MARGIN + max(OUTPUT_SIZE, grid.width) + MARGIN
    height = 28 + MAP_SIZE + MARGIN + 20
    canvas = Image.new("RGB", (width, max(height, 28 + OUTPUT_SIZE + 30 + grid.height + 20)), "white")
    draw = ImageDraw.Draw(canvas)
    draw.text((MARGIN, 6), title, fill="black")
    _draw_map(draw, points, labels, point, (MARGIN, 28))
    lines = textwrap.wrap(f"x: {axis_titles[0]}, y: {axis_titles[1]}; {caption}", width=62)[:2]
    draw.text((MARGIN, 28 + MAP_SIZE + 6), "\n".join(lines), fill="#444")
    x0 = MARGIN + MAP_SIZE + MARGIN
    canvas.paste(out, (x0, 28))
    draw.text((x0, 28 + OUTPUT_SIZE + 4), "decoded current z", fill="#444")
    canvas.paste(grid, (x0, 28 + OUTPUT_SIZE + 30))
    dims = ", ".join(f"z[{d}]" for d in traversal["dims"])
    draw.text((x0, 28 + OUTPUT_SIZE + 30 + grid.height + 4), f"traversal rows: {dims}", fill="#444")
    return png_bytes(canvas)


def _draw_map(draw: ImageDraw.ImageDraw, points: np.ndarray, labels: np.ndarray | None, point: np.ndarray,
              origin: tuple[int, int]) -> None:
    ox, oy = origin
    draw.rectangle([ox, oy, ox + MAP_SIZE, oy + MAP_SIZE], outline="#ccc")
    allp = np.vstack([points, np.asarray(point, dtype=np.float32).reshape(1, 2)])
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    scale = (MAP_SIZE - 8) / np.maximum(hi - lo, 1e-6)

    def pixel(p: np.ndarray) -> tuple[float, float]:
        return ox + 4 + (p[0] - lo[0]) * scale[0], oy + MAP_SIZE - 4 - (p[1] - lo[1]) * scale[1]

    for i, p in enumerate(points):
        x, y = pixel(p)
        colour = COLOURS[int(labels[i]) % len(COLOURS)] if labels is not None else COLOURS[0]
        draw.rectangle([x - 1, y - 1, x + 1, y + 1], fill=colour)
    x, y = pixel(np.asarray(point).reshape(2))
    draw.ellipse([x - 5, y - 5, x + 5, y + 5], outline="black", width=2)


def _outputs_image(outputs: np.ndarray, *, cols: int, data_points: np.ndarray | None) -> Image.Image:
    if outputs.dtype == np.uint8:  # images (N, H, W, C)
        return image_grid(outputs, nrow=cols, padding=1, pad_value=40)
    # points (N, D): the data in grey, the outputs in colour, one colour per row of `cols`
    size = 200
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)
    ref = outputs[:, :2] if data_points is None else np.vstack([data_points[:, :2], outputs[:, :2]])
    lo, hi = ref.min(axis=0), ref.max(axis=0)
    scale = (size - 8) / np.maximum(hi - lo, 1e-6)
    for group, colour in ((data_points, "#bbb"), (outputs, None)):
        if group is None:
            continue
        for i, p in enumerate(group[:, :2]):
            x, y = 4 + (p[0] - lo[0]) * scale[0], size - 4 - (p[1] - lo[1]) * scale[1]
            fill = colour or COLOURS[(i // max(cols, 1)) % len(COLOURS)]
            draw.rectangle([x - 1, y - 1, x + 1, y + 1], fill=fill)
    return img


def _fit(img: Image.Image, size: int) -> Image.Image:
    scale = size / max(img.width, img.height)
    return img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.NEAREST)
