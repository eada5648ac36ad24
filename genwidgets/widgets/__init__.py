"""Notebook widgets (anywidgets whose front ends live in ``js/src/``, one module per widget).

Each widget imports on first use, so ``import genwidgets.widgets`` stays cheap.
"""

from __future__ import annotations

from .._lazy import lazy_exports

__all__ = ["DiscriminatorHeatmap", "LatentExplorer", "RunsBoard", "Studio", "TrainingPanel", "studio"]

__getattr__, __dir__ = lazy_exports(__name__, {
    "TrainingPanel": ".training_panel",
    "LatentExplorer": ".latent_explorer",
    "DiscriminatorHeatmap": ".discriminator_heatmap",
    "RunsBoard": ".runs_board",
    "Studio": ".studio",
    "studio": ".studio",
}, globals())
