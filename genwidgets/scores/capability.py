"""Which views of a discriminator a model supports; a clear error for models that cannot discriminate.

Only capability flags and the data spec decide, never a model's name.
"""

from __future__ import annotations

from typing import Any

from ..errors import CapabilityError, ConfigError

#: Every view, in the order the widget offers them.
#: ``plane``: D(x) over the 2-D data plane; ``scores``: real and generated examples framed by
#: their scores; ``latent``: D(G(z)) over a plane in latent space.
VIEWS: tuple[str, ...] = ("plane", "scores", "latent")


def require_discriminator(model: Any, *, widget: str = "DiscriminatorHeatmap") -> None:
    """Raise :class:`~genwidgets.errors.CapabilityError` unless ``model`` can ``discriminate``.

    The message names the model, the missing capability, what the model does have, and the fix.
    """
    caps = getattr(model, "capabilities", None)
    if caps is None or not hasattr(model, "discriminate"):
        raise CapabilityError(
            f"{widget} needs a genwidgets model (a GenerativeModel, or a Run that trains one), "
            f"got {type(model).__name__}")
    if not caps.can_discriminate:
        name = getattr(model, "name", type(model).__name__)
        have = ", ".join(caps.names()) or "none"
        raise CapabilityError(
            f"{widget} needs a model with the 'can_discriminate' capability, but model {name!r} "
            f"does not have it (it has: {have}); train a family that scores data as real or fake "
            "(see genwidgets.list_models() for each family's capabilities)")


def available_views(model: Any) -> list[str]:
    """The views ``model`` supports, in :data:`VIEWS` order.

    ``plane`` needs 2-D points; ``scores`` needs data to show (any kind; generated examples also
    need ``can_sample``); ``latent`` needs ``can_decode`` and a latent space of at least 2 dimensions.
    """
    spec = model.data_spec
    views = []
    if spec.kind == "points" and tuple(spec.shape) == (2,):
        views.append("plane")
    if spec.kind == "images":
        views.append("scores")
    if model.capabilities.can_decode and model.latent_dim >= 2:
        views.append("latent")
    return views


def default_view(model: Any) -> str:
    """The first available view: ``plane`` for 2-D points, ``scores`` for images, else ``latent``."""
    views = available_views(model)
    if not views:
        spec = model.data_spec
        raise ConfigError(
            f"model {model.name!r} on {spec.kind} of shape {tuple(spec.shape)} has no view to show: "
            "the data plane needs 2-D points, the score grid needs images, and the latent slice needs "
            "'can_decode' and a latent space of 2 or more dimensions")
    return views[0]


def check_view(model: Any, view: str) -> str:
    """Return ``view`` if ``model`` supports it; otherwise raise ConfigError naming the ones it does."""
    views = available_views(model)
    if view not in views:
        why = {
            "plane": f"the data plane needs 2-D points, but the data is {model.data_spec.kind} "
                     f"of shape {tuple(model.data_spec.shape)}",
            "scores": "the score grid shows images, but the data is points",
            "latent": "the latent slice needs 'can_decode' and a latent space of 2 or more dimensions",
        }.get(view, f"unknown view {view!r}")
        raise ConfigError(f"view {view!r} is not available for model {model.name!r}: {why}; "
                          f"choose one of {', '.join(views) or 'none'}")
    return view
