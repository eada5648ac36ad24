"""The runs board's PNG fallback: its table (run, state, step, the shown metric) as a picture."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from PIL import Image, ImageDraw

from .common import font, png_bytes

ROW_H, MAX_ROWS = 16, 40
COLUMNS = (("run", 260), ("family", 90), ("data", 80), ("state", 80), ("step", 80), ("metric", 120))


def render_board_png(rows: Sequence[Mapping[str, Any]], metric: str) -> bytes:
    """Draw up to 40 rows of the board's table as PNG bytes (the live board is needed for the rest)."""
    text_font = font()
    shown = list(rows)[:MAX_ROWS]
    width = sum(w for _, w in COLUMNS) + 20
    height = 40 + ROW_H * (len(shown) + 2)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    draw.text((10, 6), f"{len(rows)} run folders" + (f" (first {MAX_ROWS})" if len(rows) > MAX_ROWS else ""),
              fill="black", font=text_font)
    x = 10
    for name, w in COLUMNS:
        draw.text((x, 26), metric or name if name == "metric" else name, fill="#555555", font=text_font)
        x += w
    for i, row in enumerate(shown):
        y = 26 + ROW_H * (i + 1)
        value = (row.get("metrics") or {}).get(metric, (row.get("evaluation") or {}).get(metric))
        cells = (row.get("id"), row.get("model") or "", row.get("data") or "", row.get("state"),
                 f"{row.get('step', 0):,}", "" if value is None else f"{value:.4g}")
        colour = "#a4000f" if row.get("error") else "black"
        x = 10
        for (_, w), cell in zip(COLUMNS, cells, strict=True):
            draw.text((x, y), str(cell)[: w // 6], fill=colour, font=text_font)
            x += w
    return png_bytes(img, optimize=True)


__all__ = ["render_board_png"]
