"""Axes for the PNG fallbacks: ticks at round numbers, labels, axis titles and a colour bar, in Pillow.

A static figure is read without the live widget, so every plot in one names its axes, marks
round-numbered ticks along both (not only the minimum and maximum) and, where colour encodes a
value, carries a colour bar with its title.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ...scores.colour import ColourScale, colour_at

AXIS, TEXT, GRID = "#9a9a9a", "#444444", "#eeeeee"  # AXIS is not the edit marks' #888888


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round values (steps of 1, 2 or 5 times a power of ten) within ``[lo, hi]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]
    return [0.0 if abs(t) < step * 1e-9 else t for t in ticks]


def tick_text(value: float, ticks: list[float]) -> str:
    """``value`` with as many decimals as the tick spacing needs (``0.25``, ``1500``, ``1e-05``)."""
    step = abs(ticks[1] - ticks[0]) if len(ticks) > 1 else abs(value) or 1.0
    if step >= 1e4 or step < 1e-3:
        return f"{value:.0e}"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return f"{value:,.{decimals}f}"


@dataclass(frozen=True)
class Axes:
    """A plot box in pixels and the data ranges it shows; :meth:`px` maps data to pixels."""

    box: tuple[int, int, int, int]
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    def px(self, x: float, y: float) -> tuple[float, float]:
        """Pixel position of data point (x, y)."""
        x0, y0, x1, y1 = self.box
        (xa, xb), (ya, yb) = self.x_range, self.y_range
        return x0 + (x - xa) / (xb - xa) * (x1 - x0), y1 - (y - ya) / (yb - ya) * (y1 - y0)


def draw_axes(img: Image.Image, axes: Axes, *, x_title: str = "", y_title: str = "", grid: bool = True,
              y_format: str = "") -> None:
    """Frame ``axes.box``, with ticks and labels along the bottom and left, and the axes' titles.

    ``y_format="log"`` labels the y ticks as powers of ten (the values drawn are log10 of the data).
    """
    draw, text_font = ImageDraw.Draw(img), ImageFont.load_default()
    x0, y0, x1, y1 = axes.box
    xt, yt = nice_ticks(*axes.x_range), nice_ticks(*axes.y_range, count=4)
    for t in xt:
        x, _ = axes.px(t, axes.y_range[0])
        if grid:
            draw.line((x, y0, x, y1), fill=GRID)
        draw.line((x, y1, x, y1 + 4), fill=AXIS)
        label = tick_text(t, xt)
        draw.text((x - 3 * len(label), y1 + 6), label, fill=TEXT, font=text_font)
    for t in yt:
        _, y = axes.px(axes.x_range[0], t)
        if grid:
            draw.line((x0, y, x1, y), fill=GRID)
        draw.line((x0 - 4, y, x0, y), fill=AXIS)
        label = f"1e{t:g}" if y_format == "log" else tick_text(t, yt)
        draw.text((x0 - 7 - 6 * len(label), y - 6), label, fill=TEXT, font=text_font)
    draw.rectangle(axes.box, outline=AXIS)
    if x_title:
        draw.text(((x0 + x1) // 2 - 3 * len(x_title), y1 + 20), x_title, fill=TEXT, font=text_font)
    if y_title:
        _vertical_text(img, y_title, (x0 - 44, (y0 + y1) // 2))


def _vertical_text(img: Image.Image, text: str, centre: tuple[int, int]) -> None:
    """``text`` turned a quarter left (reading upwards), centred on ``centre``."""
    label = Image.new("RGB", (6 * len(text) + 6, 14), "white")
    ImageDraw.Draw(label).text((3, 1), text, fill=TEXT, font=ImageFont.load_default())
    turned = label.rotate(90, expand=True)
    img.paste(turned, (centre[0] - turned.width // 2, max(0, centre[1] - turned.height // 2)))


def draw_colour_bar(img: Image.Image, scale: ColourScale, box: tuple[int, int, int, int]) -> None:
    """A vertical colour bar of ``scale`` in ``box`` (high at the top), ticks labelled, its title above it.

    The title is split at ": " and wrapped, so "D(x) = P(real): 0 fake, 1 real" fits over a narrow bar.
    """
    draw, text_font = ImageDraw.Draw(img), ImageFont.load_default()
    x0, y0, x1, y1 = box
    values = np.linspace(scale.zmax, scale.zmin, max(2, y1 - y0))
    strip = colour_at(scale, values)[:, None, :].repeat(max(1, x1 - x0), axis=1)
    img.paste(Image.fromarray(strip, "RGB"), (x0, y0))
    draw.rectangle(box, outline=AXIS)
    ticks = nice_ticks(scale.zmin, scale.zmax, count=4)
    for t in ticks:
        y = y1 - (t - scale.zmin) / ((scale.zmax - scale.zmin) or 1.0) * (y1 - y0)
        draw.line((x1, y, x1 + 4, y), fill=AXIS)
        draw.text((x1 + 6, y - 6), tick_text(t, ticks), fill=TEXT, font=text_font)
    lines = [part for line in scale.title.split(": ") for part in textwrap.wrap(line, width=18)]
    for k, line in enumerate(lines):
        draw.text((x0, y0 - 6 - 13 * (len(lines) - k)), line, fill=TEXT, font=text_font)
