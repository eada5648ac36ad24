"""Latent-space exploration, independent of any widget: maps, projections, paths, coalesced decoding.

:class:`~.session.LatentSession` is what :class:`~genwidgets.widgets.LatentExplorer` drives;
scripts and tests can use it directly.
"""

from __future__ import annotations

from .._lazy import lazy_exports

__all__ = ["AxisProjection", "LatentMap", "LatentSession", "PCAProjection", "lerp", "slerp"]

__getattr__, __dir__ = lazy_exports(__name__, {
    "AxisProjection": ".projection",
    "PCAProjection": ".projection",
    "LatentMap": ".latent_map",
    "LatentSession": ".session",
    "lerp": ".paths",
    "slerp": ".paths",
}, globals())
