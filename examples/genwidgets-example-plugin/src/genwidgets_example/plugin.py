"""Hook implementations of the example plugin (cheap to import: torch loads inside the hooks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from genwidgets import hookimpl


@hookimpl
def register_models(register: Callable[[type], None]) -> None:
    """Register the ``gaussian`` family."""
    from .model import DiagonalGaussian

    register(DiagonalGaussian)


def _is_gaussian(model_cls: type) -> bool:
    from .model import DiagonalGaussian

    return issubclass(model_cls, DiagonalGaussian)


def _make_panel(run: Any) -> Any:
    from .panel import GaussianPanel

    return GaussianPanel(run)


@hookimpl
def register_panels(register: Callable[..., None]) -> None:
    """Register a panel showing the fitted mean and spread, for runs of this plugin's own family."""
    register("gaussian_summary", _make_panel, title="Fitted Gaussian", applies_to=_is_gaussian)
