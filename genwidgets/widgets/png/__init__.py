"""The widgets' static fallbacks: each widget drawn as a PNG with Pillow alone.

A notebook saved with live widgets shows nothing where a viewer cannot run them (GitHub,
nbviewer, a PDF export); every genwidgets widget therefore puts a PNG of what it shows beside
its live view (:func:`with_png`). No browser and no kaleido: they work in any kernel.

* :func:`render_panel_png` -- the training panel: curves, edit marks, samples, status.
* :func:`render_explorer_png` -- the latent explorer: map, current output, traversal.
* :func:`render_frame_png` -- a discriminator heatmap frame: heatmap with points and arrows, or score tiles.

The renderers load on first use (PEP 562), so a widget that only needs :func:`with_png` does not
import the others' dependencies (the heatmap's colour scales import the scores package, and torch).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..._lazy import lazy_exports
from .common import PLOTLY_COLOURS, png_bytes, with_png

if TYPE_CHECKING:
    from .explorer import render_explorer_png
    from .heatmap import render_frame_png
    from .panel import render_panel_png

__getattr__, __dir__ = lazy_exports(__name__, {
    "render_explorer_png": ".explorer", "render_frame_png": ".heatmap", "render_panel_png": ".panel",
}, globals())

__all__ = ["PLOTLY_COLOURS", "png_bytes", "render_explorer_png", "render_frame_png", "render_panel_png", "with_png"]
