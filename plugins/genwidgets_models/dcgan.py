"""DCGAN: deep convolutional GANs (Radford, Metz & Chintala, 2016).

Paper: "Unsupervised Representation Learning with Deep Convolutional Generative
Adversarial Networks", ICLR 2016.

The paper's architecture guidelines, all implemented in :mod:`.conv`:

* strided (transposed) convolutions instead of pooling, no fully connected hidden layers;
* batch norm in both networks, except the generator's output and the discriminator's input layer;
* ReLU in the generator with tanh on the output, LeakyReLU(0.2) in the discriminator;
* weights ~ N(0, 0.02); Adam with lr 2e-4 and beta1 0.5; batch size 128 in the paper
  (64 here, as in PyTorch's dcgan example, which suits notebooks better).

The GAN objective, the alternating update and ``encode`` by GAN inversion are shared with
the other GANs (:class:`~genwidgets_models.adversarial.AdversarialModel`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from torch import nn

from genwidgets.config import ModelConfig, param

from .adversarial import AdversarialConfig, AdversarialModel
from .conv import ConvDecoder, ConvEncoder, dcgan_init_, image_geometry


@dataclasses.dataclass(frozen=True)
class DCGANConfig(AdversarialConfig):
    """DCGAN hyperparameters; the defaults are the paper's recipe (PyTorch example's batch of 64)."""

    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"latent_dim": 8, "g_width": 8, "d_width": 8, "batch_size": 16},
        "paper": {"batch_size": 128},
    }

    g_width: int = param(64, low=1, high=1024, help="generator channels at the last hidden layer (ngf)")
    d_width: int = param(64, low=1, high=1024, help="discriminator channels at the first layer (ndf)")


# ---- networks ---------------------------------------------------------------------------------------

class Generator(nn.Module):
    """G: z (N, latent_dim) -> images (N, C, H, W) in [-1, 1].

    For MNIST (28 px, width 64): (N, 100) -> (N, 128, 7, 7) -> (N, 64, 14, 14) -> (N, 1, 28, 28).
    """

    def __init__(self, latent_dim: int, channels: int, size: int, width: int) -> None:
        super().__init__()
        self.body = ConvDecoder(latent_dim, channels, size, width)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Generate images in [-1, 1] from ``z`` (N, latent_dim)."""
        return torch.tanh(self.body(z))  # (N, C, H, W)


class Discriminator(nn.Module):
    """D: images (N, C, H, W) in [-1, 1] -> logits (N,) (sigmoid gives P(real)).

    For MNIST (28 px, width 64): (N, 1, 28, 28) -> (N, 64, 14, 14) -> (N, 128, 7, 7) -> (N,).
    """

    def __init__(self, channels: int, size: int, width: int) -> None:
        super().__init__()
        self.body = ConvEncoder(channels, size, width, 1, norm="batch")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Score ``x`` (N, C, H, W); returns logits (N,)."""
        return self.body(x).squeeze(1)  # (N,)


# ---- the model --------------------------------------------------------------------------------------

class DCGAN(AdversarialModel[DCGANConfig]):
    """Deep convolutional GAN on square images of 8 to 256 px (see :func:`~.conv.conv_plan`).

    ``decode(z)`` is G(z) and ``discriminate(x)`` is D(x), both on [0, 1] images; ``encode(x)``
    inverts G by optimisation (:mod:`.inversion`): the capabilities of
    :class:`~.adversarial.AdversarialModel`.
    """

    name: ClassVar[str] = "dcgan"
    paper: ClassVar[str] = (
        "Radford, Metz & Chintala 2016, Unsupervised Representation Learning with Deep Convolutional GANs"
    )
    Config: ClassVar[type[ModelConfig]] = DCGANConfig
    data_kinds: ClassVar[tuple[str, ...]] = ("images",)

    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        """Build G and D for the data's image size, with the paper's N(0, 0.02) initialisation."""
        cfg = self.config
        channels, size = image_geometry(self.data_spec, model=self.name)
        generator = Generator(cfg.latent_dim, channels, size, cfg.g_width)
        discriminator = Discriminator(channels, size, cfg.d_width)
        generator.apply(dcgan_init_)
        discriminator.apply(dcgan_init_)
        return generator, discriminator
