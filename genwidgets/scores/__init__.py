"""What a discriminator thinks, as arrays: the computations behind ``DiscriminatorHeatmap``.

One module per job, each usable without a widget:

* :mod:`.capability` -- which views a model supports, and the error when it cannot discriminate.
* :mod:`.colour` -- the colour scale: probabilities on [0, 1], critic scores on a symmetric scale.
* :mod:`.grid` -- planes of points over 2-D data, scored in batched forward passes.
* :mod:`.gradients` -- the direction the generator wants to move its samples (2-D data).
* :mod:`.latent_slice` -- D(G(z)) over a 2-D plane in latent space.
* :mod:`.score_grid` -- real and generated examples with their scores (and per-patch maps).
* :mod:`.snapshot` -- a copy of the model's weights taken between steps, to compute on.
* :mod:`.frames` -- one view's complete frame (numpy arrays, ready for the wire).
* the PNG of a frame, for viewers without a live front end, is drawn by :mod:`genwidgets.widgets.png`.
"""

from __future__ import annotations

from .capability import VIEWS, available_views, default_view, require_discriminator
from .colour import ColourScale, choose_scale, colour_at
from .grid import PlaneGrid, auto_extent, per_example, score_batched

__all__ = [
    "VIEWS", "ColourScale", "PlaneGrid", "auto_extent", "available_views", "choose_scale", "colour_at",
    "default_view", "per_example", "require_discriminator", "score_batched",
]
