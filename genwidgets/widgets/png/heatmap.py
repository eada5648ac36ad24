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
from .axes import Axes, draw_axes, draw_colour_bar
from .common import font, image_grid, png_bytes

SIZE = 360
REAL, FAKE, ARROW = (20, 20, 20), (255, 140, 0), (40, 40, 40)
#: Space around the plot: the y ticks and title on the left, the caption on top, the x axis and key below,
#: the colour bar and its labels on the right.
LEFT, TOP, BOTTOM, BAR_SPACE = 64, 70, 56, 120
VIEW_TITLES = {"plane": "D(x) over the data plane", "latent": "D(G(z)) over a plane in latent space",
               "scores": "D(x) of real and generated examples"}


def _scale(frame: dict[str, Any]) -> ColourScale:
    s = frame["scale"]
    return ColourScale(s["kind"], s["zmin"], s["zmax"], s["zmid"], s["title"])


def render_frame_png(frame: dict[str, Any] | None, *, title: str = "", sort: str = "none") -> bytes:
    """PNG bytes of ``frame`` (a :func:`~genwidgets.scores.frames.compute_frame` result) under ``title``.

    A plane or latent slice gets axes with ticks, a colour bar with the score's meaning and a key to the
    points and arrows; a score grid marks each tile real (R) or generated (G) and has the colour bar of
    its frames. A note says so when there is no frame (None).
    """
    text_font = font()
    if frame is None:
        img = Image.new("RGB", (440, 120), "white")
        draw = ImageDraw.Draw(img)
        draw.text((10, 6), title, fill="black", font=text_font)
        draw.text((10, 30), "no frame yet", fill="#555555", font=text_font)
        return png_bytes(img)
    scale = _scale(frame)
    body = _heatmap(frame, scale) if frame["view"] in ("plane", "latent") else _tiles(frame, scale, sort)
    img = Image.new("RGB", (LEFT + body.width + BAR_SPACE, TOP + body.height + BOTTOM), "white")
    draw = ImageDraw.Draw(img)
    draw.text((10, 6), title, fill="black", font=text_font)
    summary = frame.get("summary") or {}
    means = (f" · mean real {summary['real_mean']:.3g}, generated {summary['fake_mean']:.3g}"
             if summary.get("real_mean") is not None and summary.get("fake_mean") is not None else "")
    draw.text((10, 22), f"step {frame['step']} · {VIEW_TITLES.get(frame['view'], frame['view'])}{means}"[:110],
              fill="#555555", font=text_font)
    img.paste(body, (LEFT, TOP))
    if frame["view"] in ("plane", "latent"):
        x0, x1, y0, y1 = frame["extent"]
        names = str(frame.get("axes", "")).split(" x ") if frame["view"] == "latent" else ["x", "y"]
        x_title, y_title = (names + ["", ""])[:2] if len(names) == 2 else ("direction u", "direction v")
        axes = Axes((LEFT, TOP, LEFT + body.width, TOP + body.height), (x0, x1), (y0, y1))
        draw_axes(img, axes, x_title=x_title, y_title=y_title, grid=False)
        if frame["view"] == "plane":
            _key(draw, (LEFT, TOP + body.height + 36))
    else:
        draw.text((LEFT, TOP + body.height + 8), "R: a real example · G: a generated one · frame colour: its score",
                  fill="#444444", font=text_font)
    draw_colour_bar(img, scale, (LEFT + body.width + 24, TOP + 24, LEFT + body.width + 40, TOP + body.height))
    return png_bytes(img, optimize=True)


def _key(draw: ImageDraw.ImageDraw, origin: tuple[int, int]) -> None:
    """What the marks on the plane are."""
    text_font, (x, y) = font(), origin
    draw.ellipse((x, y + 3, x + 6, y + 9), fill=REAL, outline="white")
    draw.text((x + 10, y), "real", fill="#444444", font=text_font)
    draw.ellipse((x + 50, y + 3, x + 56, y + 9), fill=FAKE)
    draw.text((x + 60, y), "generated", fill="#444444", font=text_font)
    draw.line((x + 130, y + 6, x + 146, y + 6), fill=ARROW, width=1)
    draw.text((x + 150, y), "generator gradient (where G moves its points)", fill="#444444", font=text_font)


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
    img = img.resize((img.width * factor, img.height * factor), Image.NEAREST)
    real = np.asarray(frame.get("real", np.zeros(len(images))))
    draw, side = ImageDraw.Draw(img), tiles[0].shape[0]
    for k, i in enumerate(idx):  # R or G in each tile's corner: which examples are real
        x, y = (2 + (k % 8) * (side + 2)) * factor, (2 + (k // 8) * (side + 2)) * factor
        draw.rectangle((x + 2, y + 2, x + 12, y + 13), fill="white")
        draw.text((x + 4, y + 2), "R" if real[i] else "G", fill="black", font=font())
    return img
