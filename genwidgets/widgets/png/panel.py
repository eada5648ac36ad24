"""A PNG of the training panel (curves, samples, progress) for viewers without a live front end.

The curves are one plot per metric group (the live panel's rows: losses, discriminator outputs on 0-1 ...),
each with round-numbered ticks on both axes and its metrics named in their colours; the samples are the
grid the live canvas shows, titled, with reconstructions under them for autoencoders; a 2-D model's
points are drawn over real data on axes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from ..metric_groups import MetricGroup, group_metrics
from ..samples import SampleFrame
from .axes import Axes, draw_axes
from .common import PLOTLY_COLOURS, font, image_grid, png_bytes

#: Trace colours (the first eight of plotly's colourway, as in the live plot).
COLOURS = PLOTLY_COLOURS[:8]
PLOT_W, ROW_H, ROW_GAP, MARGIN, SAMPLE_SIZE, RECON_H = 520, 150, 40, 64, 300, 110


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
    plane: Mapping[str, Any] | None = None,
) -> bytes:
    """Draw the panel as PNG bytes: title and status, the curves as one plot per metric group, the samples.

    ``marks`` are ``(step, label)`` pairs (applied hyperparameter changes) drawn as dotted
    vertical lines with their label, as the live plot does. ``plane`` (see
    :func:`~genwidgets.widgets.samples.plane_reference`) puts a 2-D model's generated points over
    real ones on the heatmap's square plane.
    """
    text_font = font()
    groups = group_metrics(list(values)) or [MetricGroup("metrics", ())]
    curves_h = len(groups) * (ROW_H + ROW_GAP)
    recon = samples is not None and samples.recon_inputs is not None and samples.recon_outputs is not None
    side_h = SAMPLE_SIZE + 40 + (RECON_H if recon else 0)
    width = MARGIN + PLOT_W + 30 + SAMPLE_SIZE + 50
    top = 40 + (24 if error else 0)
    height = top + max(curves_h, side_h) + 40
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.text((10, 6), title, fill="black", font=text_font)
    draw.text((10, 22), status, fill="#555555", font=text_font)
    if error:
        draw.rectangle((0, 40, width, 62), fill="#fde2e1")
        draw.text((10, 45), error[:150], fill="#a4000f", font=text_font)
    xs = np.asarray(steps, dtype=np.float64)
    for row, group in enumerate(groups):
        y0 = top + row * (ROW_H + ROW_GAP) + ROW_GAP
        box = (MARGIN, y0, MARGIN + PLOT_W, y0 + ROW_H)
        _draw_group(img, box, group, xs, values, log_scale and group.loggable, marks,
                    last=row == len(groups) - 1)
    if samples is not None:
        _draw_samples(img, (MARGIN + PLOT_W + 60, top + ROW_GAP), samples, plane)
    return png_bytes(img, optimize=True)


def _draw_group(img: Image.Image, box: tuple[int, int, int, int], group: MetricGroup, xs: np.ndarray,
                values: Mapping[str, Sequence[float]], log_scale: bool, marks: Sequence[tuple[float, str]],
                *, last: bool) -> None:
    draw, text_font = ImageDraw.Draw(img), font()
    x0, y0, x1, y1 = box
    names = list(values)
    series = {n: np.asarray(values[n], dtype=np.float64) for n in group.names}
    if log_scale:
        series = {k: np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan) for k, v in series.items()}
    finite = [v[np.isfinite(v)] for v in series.values()]
    finite = [v for v in finite if v.size]
    title_x = x0
    draw.text((title_x, y0 - 14), group.title, fill="black", font=text_font)
    title_x += 6 * len(group.title) + 12
    for name in group.names:  # the row's legend, in the curves' colours
        colour = COLOURS[names.index(name) % len(COLOURS)]
        draw.line((title_x, y0 - 8, title_x + 12, y0 - 8), fill=colour, width=2)
        draw.text((title_x + 16, y0 - 14), name, fill=colour, font=text_font)
        title_x += 16 + 6 * len(name) + 12
    if not len(xs) or not finite:
        draw.rectangle(box, outline="#cccccc")
        draw.text((x0 + 10, y0 + 10), "no metrics yet", fill="#888888", font=text_font)
        return
    lo, hi = group.y_range or (min(float(v.min()) for v in finite), max(float(v.max()) for v in finite))
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    pad = 0.0 if group.y_range else 0.05 * (hi - lo)
    axes = Axes(box, (float(xs.min()), max(float(xs.max()), float(xs.min()) + 1.0)), (lo - pad, hi + pad))
    draw_axes(img, axes, x_title="step" if last else "", y_format="log" if log_scale else "")
    for step, label in marks:
        if axes.x_range[0] <= step <= axes.x_range[1]:
            mx = axes.px(step, lo)[0]
            for y in range(y0, y1, 6):  # dotted
                draw.line((mx, y, mx, min(y + 2, y1)), fill="#888888")
            draw.text((mx + 3, y0 + 2), label, fill="#666666", font=text_font)
    for name, ys in series.items():
        colour = COLOURS[names.index(name) % len(COLOURS)]
        points = [axes.px(x, y) for x, y in zip(xs, ys, strict=False) if math.isfinite(y)]
        if len(points) > 1:
            draw.line(points, fill=colour, width=2)
        elif points:
            (px0, py0), = points
            draw.ellipse((px0 - 2, py0 - 2, px0 + 2, py0 + 2), fill=colour)


def _draw_samples(img: Image.Image, origin: tuple[int, int], frame: SampleFrame,
                  plane: Mapping[str, Any] | None) -> None:
    draw, text_font = ImageDraw.Draw(img), font()
    ox, oy = origin
    if frame.images is not None:
        tile = image_grid(frame.images, nrow=frame.cols, padding=1).convert("RGB")
        scale = max(1, SAMPLE_SIZE // max(tile.width, tile.height))
        tile = tile.resize((tile.width * scale, tile.height * scale), Image.NEAREST)
        if max(tile.size) > SAMPLE_SIZE:
            tile.thumbnail((SAMPLE_SIZE, SAMPLE_SIZE))
        draw.text((ox, oy - 14), f"samples from fixed noise, step {frame.step}", fill="black", font=text_font)
        img.paste(tile, (ox, oy))
        below = oy + tile.height + 24
        if frame.recon_inputs is not None and frame.recon_outputs is not None:
            pair = np.concatenate([frame.recon_inputs, frame.recon_outputs])
            strip = image_grid(pair, nrow=len(frame.recon_inputs), padding=1).convert("RGB")
            strip.thumbnail((SAMPLE_SIZE, RECON_H - 20))
            draw.text((ox, below - 14), "inputs (top), reconstructions (bottom)", fill="black", font=text_font)
            img.paste(strip, (ox, below))
    elif frame.points is not None and len(frame.points):
        pts = frame.points[:, :2].astype(np.float64)
        real = None if plane is None else np.asarray(plane["real"], dtype=np.float64)[:, :2]
        if plane is not None:
            x0, x1, y0, y1 = plane["extent"]
        else:
            lo, hi = pts.min(0), pts.max(0)
            pad = 0.05 * np.maximum(hi - lo, 1e-6)
            (x0, y0), (x1, y1) = lo - pad, hi + pad
        axes = Axes((ox, oy, ox + SAMPLE_SIZE, oy + SAMPLE_SIZE), (float(x0), float(x1)), (float(y0), float(y1)))
        draw.text((ox, oy - 14), f"generated (orange) over real (dark), step {frame.step}", fill="black",
                  font=text_font)
        draw_axes(img, axes, x_title="x", y_title="y")
        for group, fill in ((real, (20, 20, 20)), (pts, (255, 140, 0))):
            if group is None:
                continue
            for x, y in group:
                cx, cy = axes.px(x, y)
                if ox <= cx <= ox + SAMPLE_SIZE and oy <= cy <= oy + SAMPLE_SIZE:
                    draw.ellipse((cx - 1.5, cy - 1.5, cx + 1.5, cy + 1.5), fill=fill)
