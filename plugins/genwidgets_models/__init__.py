"""The built-in model families of genwidgets, registered as an ordinary plugin.

This entry module stays cheap to import: it imports no torch. The families' modules load
only when the registry calls :func:`register_models`.

Families: ``dcgan`` (:mod:`.dcgan`), ``vae`` (:mod:`.vae`). Shared pieces live in
:mod:`.conv` (convolutional stacks), :mod:`.adversarial` (the GAN objective and training
step) and :mod:`.common` (seeding, input checks, MLPs).
"""

from __future__ import annotations

from collections.abc import Callable

from genwidgets.hookspecs import hookimpl


@hookimpl
def register_models(register: Callable[[type], None]) -> None:
    """Register the built-in families with genwidgets."""
    from .dcgan import DCGAN
    from .vae import VAE

    register(DCGAN)
    register(VAE)
