"""A discriminator heatmap frame drawn as a PNG: the static fallback of ``DiscriminatorHeatmap``.

Same palette and layout ideas as the live view (heatmap with points and arrows, or score-framed
tiles), without a browser, so a saved notebook shows what the discriminator thought.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from ...scores.colour import ColourScale, colour_at
from ...scores.score_grid import order
from .common import font, image_grid, png_bytes

SIZE = 360
REAL, FAKE, ARROW = (20, 20, 20), (255, 140, 0), (40, 40, 40)


def _scale(frame: dict[str, Any]) -> ColourScale:
    s = frame["scale"]
    return ColourScale(s["kind"], s["zmin"], s["zmax"], s["zmid"], s["title"])


def render_frame_png(frame: dict[str, Any] | None, *, title: str = "", sort: str = "none") -> bytes:
    """PNG bytes of ``frame`` (a :func:`~genwidgets.scores.frames.compute_frame` result) under ``title``.

    A note says so when there is no frame (None).
    """
    text_font = font()
    body = Image.new("RGB", (SIZE, SIZE), "white")
    caption = "no frame yet"
    if frame is not None:
        scale = _scale(frame)
        caption = f"step {frame['step']} · {scale.title}"
        body = _heatmap(frame, scale) if frame["view"] in ("plane", "latent") else _tiles(frame, scale, sort)
    img = Image.new("RGB", (max(body.width, 420) + 20, body.height + 60), "white")
    draw = ImageDraw.Draw(img)
    draw.text((10, 6), title, fill="black", font=text_font)
    draw.text((10, 22), caption[:90], fill="#555555", font=text_font)
    img.paste(body, (10, 44))
    return png_bytes(img, optimize=True)


def _heatmap(frame: dict[str, Any], scale: ColourScale) -> Image.Image:
    z = np.asarray(frame["z"])
    rgb = colour_at(scale, z[::-1])                         # row 0 of z is the bottom: flip for the image
    img = Image.fromarray(rgb, "RGB").resize((SIZE, SIZE), Image.NEAREST)
    if frame["view"] != "plane":
        return img
    x0, x1, y0, y1 = frame["extent"]
    draw = ImageDraw.Draw(img)

    def px(x: float, y: float) -> tuple[float, float]:
        return (x - x0) / (x1 - x0) * SIZE, (y1 - y) / (y1 - y0) * SIZE

    for pts, colour in ((frame["real"], REAL), (frame["fake"], FAKE)):
        for x, y in np.asarray(pts)[:, :2]:
            cx, cy = px(x, y)
            draw.ellipse((cx - 1.5, cy - 1.5, cx + 1.5, cy + 1.5), fill=colour)
    for x, y, dx, dy in np.asarray(frame["arrows"]):
        draw.line([px(x, y), px(x + dx, y + dy)], fill=ARROW, width=1)
    return img


def _tiles(frame: dict[str, Any], scale: ColourScale, sort: str) -> Image.Image:
    images, scores = np.asarray(frame["images"]), np.asarray(frame["scores"])
    if not len(images):
        return Image.new("RGB", (SIZE, SIZE), "white")
    idx = order(scores, sort)
    frames = colour_at(scale, scores[idx])                  # (N, 3)
    tiles = []
    for k, i in enumerate(idx):
        im = images[i]
        im = np.repeat(im, 3, axis=-1) if im.shape[-1] == 1 else im[..., :3]
        tile = np.empty((im.shape[0] + 4, im.shape[1] + 4, 3), np.uint8)
        tile[...] = frames[k]
        tile[2:-2, 2:-2] = im
        tiles.append(tile)
    img = image_grid(np.stack(tiles), nrow=8, padding=2, pad_value=255)
    factor = max(1, SIZE // img.width)
    return img.resize((img.width * factor, img.height * factor), Image.NEAREST)
