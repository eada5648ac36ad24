"""A PNG of the latent explorer (map, current output, traversal) for viewers without a live front end.

Drawn with Pillow alone, like the training panel's fallback (:mod:`.panel`): the map on axes with
round-numbered ticks and a key to its class colours, the traversal with each row's dimension.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from .axes import Axes, draw_axes
from .common import PLOTLY_COLOURS, image_grid, png_bytes

#: Class colours: plotly's ten-colour qualitative palette, as in the live map (js/src/lib/latent_map_plot.ts).
COLOURS = PLOTLY_COLOURS
MAP_SIZE, OUTPUT_SIZE, GRID_W = 360, 160, 360
#: Room for the map's y ticks and title (left), the title and class key (top), and traversal row labels.
LEFT, TOP, ROW_LABEL = 70, 44, 40


def render_explorer_png(points: np.ndarray, labels: np.ndarray | None, output: np.ndarray,
                        traversal: dict[str, Any], *, title: str, caption: str, axis_titles: tuple[str, str],
                        point: np.ndarray, data_points: np.ndarray | None = None, label_kind: str = "class") -> bytes:
    """One PNG: the map, the decoded output and the traversal.

    The map is on ticked axes, coloured by label with a key (saying what the labels are: ``label_kind``),
    the current point marked; each traversal row is named by its dimension at its left.
    """
    rows = max(1, len(traversal["dims"]))
    grid = _fit(_outputs_image(traversal["outputs"], cols=len(traversal["values"]), data_points=data_points), GRID_W)
    out = _fit(_outputs_image(output, cols=1, data_points=data_points), OUTPUT_SIZE)
    side_x = LEFT + MAP_SIZE + 40
    width = side_x + ROW_LABEL + max(OUTPUT_SIZE, grid.width) + 20
    height = max(TOP + MAP_SIZE + 90, TOP + OUTPUT_SIZE + 40 + grid.height + 40)
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    draw.text((10, 6), title, fill="black")
    _draw_map(canvas, points, labels, point, axis_titles, label_kind)
    lines = textwrap.wrap(caption, width=70)[:2]
    draw.text((LEFT, TOP + MAP_SIZE + 40), "\n".join(lines), fill="#444")
    canvas.paste(out, (side_x + ROW_LABEL, TOP))
    draw.text((side_x + ROW_LABEL, TOP + OUTPUT_SIZE + 4), "decoded current z", fill="#444")
    grid_y = TOP + OUTPUT_SIZE + 40
    canvas.paste(grid, (side_x + ROW_LABEL, grid_y))
    for k, dim in enumerate(traversal["dims"]):
        draw.text((side_x, grid_y + (k + 0.5) * grid.height / rows - 6), f"z[{dim}]", fill="#444")
    values = np.asarray(traversal["values"], dtype=np.float64)
    sweep = f"{values.min():+.1f} to {values.max():+.1f}" if values.size else ""
    draw.text((side_x + ROW_LABEL, grid_y + grid.height + 4),
              f"traversal: each row sweeps one dimension {sweep}, the others fixed", fill="#444")
    return png_bytes(canvas)


def _draw_map(canvas: Image.Image, points: np.ndarray, labels: np.ndarray | None, point: np.ndarray,
              axis_titles: tuple[str, str], label_kind: str) -> None:
    draw = ImageDraw.Draw(canvas)
    allp = np.vstack([points, np.asarray(point, dtype=np.float32).reshape(1, 2)]).astype(np.float64)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    pad = 0.05 * np.maximum(hi - lo, 1e-6)
    axes = Axes((LEFT, TOP, LEFT + MAP_SIZE, TOP + MAP_SIZE), (lo[0] - pad[0], hi[0] + pad[0]),
                (lo[1] - pad[1], hi[1] + pad[1]))
    draw_axes(canvas, axes, x_title=axis_titles[0], y_title=axis_titles[1])
    for i, p in enumerate(points):
        x, y = axes.px(float(p[0]), float(p[1]))
        colour = COLOURS[int(labels[i]) % len(COLOURS)] if labels is not None else COLOURS[0]
        draw.rectangle([x - 1, y - 1, x + 1, y + 1], fill=colour)
    x, y = axes.px(*np.asarray(point, dtype=np.float64).reshape(2))
    draw.ellipse([x - 5, y - 5, x + 5, y + 5], outline="black", width=2)
    if labels is not None:  # the key: what the colours are, then one swatch per class
        draw.text((LEFT, TOP - 16), f"{label_kind}:", fill="#444")
        start = LEFT + int(draw.textlength(f"{label_kind}:")) + 8
        for k, cls in enumerate(np.unique(labels)[:10]):
            kx = start + k * 30
            draw.rectangle([kx, TOP - 12, kx + 6, TOP - 6], fill=COLOURS[int(cls) % len(COLOURS)])
            draw.text((kx + 9, TOP - 16), str(int(cls)), fill="#444")


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
