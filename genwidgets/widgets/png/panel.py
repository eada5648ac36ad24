"""A PNG of the training panel (curves, samples, progress) for viewers without a live front end.

The curves are polylines on a shared axis, the samples are the same grid the live canvas shows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..samples import SampleFrame
from .common import PLOTLY_COLOURS, font, image_grid, png_bytes

#: Trace colours (the first eight of plotly's colourway, as in the live plot).
COLOURS = PLOTLY_COLOURS[:8]
PLOT_W, PLOT_H, MARGIN, SAMPLE_SIZE = 520, 300, 44, 300


def render_panel_png(
    steps: Sequence[float],
    values: Mapping[str, Sequence[float]],
    *,
    samples: SampleFrame | None = None,
    title: str = "",
    status: str = "",
    error: str = "",
    log_scale: bool = False,
    marks: Sequence[tuple[float, str]] = (),
) -> bytes:
    """Draw the panel as PNG bytes: title and status, loss curves, and the sample grid.

    ``marks`` are ``(step, label)`` pairs (applied hyperparameter changes) drawn as dotted
    vertical lines with their label, as the live plot does.
    """
    text_font = font()
    width = MARGIN + PLOT_W + 20 + SAMPLE_SIZE + 20
    height = 40 + PLOT_H + MARGIN + (24 if error else 0)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.text((10, 6), title, fill="black", font=text_font)
    draw.text((10, 22), status, fill="#555555", font=text_font)
    top = 40
    if error:
        draw.rectangle((0, top, width, top + 22), fill="#fde2e1")
        draw.text((10, top + 5), error[:150], fill="#a4000f", font=text_font)
        top += 24
    _draw_curves(draw, text_font, (MARGIN, top, MARGIN + PLOT_W, top + PLOT_H), steps, values, log_scale, marks)
    if samples is not None:
        _draw_samples(img, (MARGIN + PLOT_W + 20, top), samples)
    return png_bytes(img, optimize=True)


def _draw_curves(draw: ImageDraw.ImageDraw, text_font: ImageFont.ImageFont, box: tuple[int, int, int, int],
                 steps: Sequence[float], values: Mapping[str, Sequence[float]], log_scale: bool,
                 marks: Sequence[tuple[float, str]] = ()) -> None:
    x0, y0, x1, y1 = box
    draw.rectangle(box, outline="#cccccc")
    xs = np.asarray(steps, dtype=np.float64)
    series = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
    if log_scale:
        series = {k: np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan) for k, v in series.items()}
    finite = [v[np.isfinite(v)] for v in series.values()]
    finite = [v for v in finite if v.size]
    if not len(xs) or not finite:
        draw.text((x0 + 10, y0 + 10), "no metrics yet", fill="#888888", font=text_font)
        return
    lo, hi = min(float(v.min()) for v in finite), max(float(v.max()) for v in finite)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    xlo, xhi = float(xs.min()), float(xs.max())
    xspan = max(xhi - xlo, 1.0)

    def px(x: float, y: float) -> tuple[float, float]:
        return x0 + (x - xlo) / xspan * (x1 - x0), y1 - (y - lo) / (hi - lo) * (y1 - y0)

    for step, label in marks:
        if xlo <= step <= xhi:
            mx = px(step, lo)[0]
            for y in range(y0 + 20, y1, 6):  # dotted
                draw.line((mx, y, mx, min(y + 2, y1)), fill="#888888")
            draw.text((mx + 3, y0 + 20), label, fill="#666666", font=text_font)
    for i, (name, ys) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        points = [px(x, y) for x, y in zip(xs, ys, strict=False) if math.isfinite(y)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        elif points:
            (px0, py0), = points
            draw.ellipse((px0 - 2, py0 - 2, px0 + 2, py0 + 2), fill=colour)
        draw.text((x0 + 8 + 90 * i, y0 + 6), name, fill=colour, font=text_font)
    fmt = (lambda v: f"1e{v:.1f}") if log_scale else (lambda v: f"{v:.3g}")
    draw.text((4, y0), fmt(hi), fill="#555555", font=text_font)
    draw.text((4, y1 - 10), fmt(lo), fill="#555555", font=text_font)
    draw.text((x0, y1 + 4), f"{xlo:.0f}", fill="#555555", font=text_font)
    draw.text((x1 - 40, y1 + 4), f"{xhi:.0f}", fill="#555555", font=text_font)
    draw.text(((x0 + x1) // 2 - 12, y1 + 4), "step", fill="#555555", font=text_font)


def _draw_samples(img: Image.Image, origin: tuple[int, int], frame: SampleFrame) -> None:
    if frame.images is not None:
        tile = image_grid(frame.images, nrow=frame.cols, padding=1).convert("RGB")
        scale = max(1, SAMPLE_SIZE // max(tile.width, tile.height))
        tile = tile.resize((tile.width * scale, tile.height * scale), Image.NEAREST)
        if max(tile.size) > SAMPLE_SIZE:
            tile.thumbnail((SAMPLE_SIZE, SAMPLE_SIZE))
        img.paste(tile, origin)
    elif frame.points is not None and len(frame.points):
        draw = ImageDraw.Draw(img)
        pts = frame.points[:, :2].astype(np.float64)
        lo, span = pts.min(0), np.maximum(np.ptp(pts, 0), 1e-6)
        ox, oy = origin
        for x, y in (pts - lo) / span * (SAMPLE_SIZE - 8) + 4:
            draw.ellipse((ox + x - 1.5, oy + SAMPLE_SIZE - y - 1.5, ox + x + 1.5, oy + SAMPLE_SIZE - y + 1.5),
                         fill="#636efa")
