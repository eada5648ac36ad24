"""The built-in model families of genwidgets, registered as an ordinary plugin.

This entry module stays cheap to import: it imports no torch. The families' modules load
only when the registry calls :func:`register_models`.

Families: ``gan`` (:mod:`.gan`), ``cgan`` (:mod:`.cgan`), ``dcgan`` (:mod:`.dcgan`),
``wgan_gp`` (:mod:`.wgan_gp`), ``vae`` (:mod:`.vae`), ``beta_vae`` (:mod:`.beta_vae`).
Shared pieces live in :mod:`.conv` (convolutional stacks), :mod:`.adversarial` (the GAN
objective and training step), :mod:`.inversion` (``encode`` for GANs by optimisation) and
:mod:`.common` (seeding, input checks, MLPs).
"""

from __future__ import annotations

from collections.abc import Callable

from genwidgets.hookspecs import hookimpl


@hookimpl
def register_models(register: Callable[[type], None]) -> None:
    """Register the built-in families with genwidgets."""
    from .beta_vae import BetaVAE
    from .cgan import CGAN
    from .dcgan import DCGAN
    from .gan import GAN
    from .vae import VAE
    from .wgan_gp import WGANGP

    for family in (DCGAN, VAE, GAN, CGAN, WGANGP, BetaVAE):
        register(family)
