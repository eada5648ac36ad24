"""Convolutional stacks shared by the image families (DCGAN, the conv VAE, later WGAN-GP).

Both stacks follow Radford et al. (2016): strided convolutions instead of pooling, batch
norm, ReLU in the generator, LeakyReLU(0.2) in the discriminator, no fully connected hidden
layers. They adapt to the image size through a :class:`ConvPlan`: the smallest feature map
``s0`` is found by halving the size while it stays even and at least 4, and each halving is
one stride-2 layer. For 64 px with ``width=64`` this is exactly the PyTorch dcgan example
(4 -> 8 -> 16 -> 32 -> 64 with 512, 256, 128, 64 channels); for 28 px (MNIST) it is
7 -> 14 -> 28 with 128 and 64 channels.

The decoder returns raw values; callers apply tanh (GANs) or read them as logits (VAEs).
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
from torch import nn

from genwidgets.data.base import DataSpec
from genwidgets.errors import DataError

from .common import mlp

#: Smallest and largest start size s0 (the feature map the decoder begins from).
MIN_START, MAX_START = 4, 7
#: Largest image side the plan accepts (channel counts grow as ``width * 2**k``).
MAX_SIZE = 256

Norm = Literal["batch", "layer", "none"]
#: Every :data:`Norm`, in the order of its declaration.
NORMS: tuple[Norm, ...] = ("batch", "layer", "none")


def norm_kind(value: str) -> Norm:
    """``value`` as a :data:`Norm` (a config's plain string); ValueError names the kinds for anything else."""
    for kind in NORMS:
        if value == kind:
            return kind
    raise ValueError(f"unknown normalisation {value!r}; choose one of {', '.join(NORMS)}")


# ---- the size plan --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ConvPlan:
    """How a square image of side ``size`` is reached from a ``start`` x ``start`` map.

    Attributes:
        size: Image side in pixels.
        start: Side ``s0`` of the smallest feature map (4 to 7).
        layers: Number of stride-2 layers, ``size == start * 2**layers``.
    """

    size: int
    start: int
    layers: int

    def widths(self, width: int) -> list[int]:
        """Channels after each stride-2 encoder layer: ``width * 2**i`` for i in 0..layers-1."""
        return [width * 2**i for i in range(self.layers)]


def supported_sizes(max_size: int = MAX_SIZE) -> list[int]:
    """Every image side the conv stacks accept, ascending (8, 10, 12, 14, 16, 20, ...)."""
    sizes = {s * 2**k for s in range(MIN_START, MAX_START + 1) for k in range(1, 12)}
    return sorted(s for s in sizes if s <= max_size)


def conv_plan(size: int) -> ConvPlan:
    """Plan the stride-2 stack for a square image of side ``size``.

    Halve ``size`` while it is even and the half is at least 4: 28 -> 7 (2 layers),
    32 -> 4 (3), 64 -> 4 (4), 8 -> 4 (1).

    Raises:
        DataError: ``size`` cannot be reached that way (e.g. 30 -> 15, too large a start);
            the message lists the supported sizes.
    """
    start, layers = size, 0
    while start % 2 == 0 and start // 2 >= MIN_START:
        start //= 2
        layers += 1
    if layers == 0 or start > MAX_START or size > MAX_SIZE:
        raise DataError(
            f"convolutional models support square images of side {', '.join(map(str, supported_sizes()))} "
            f"px (4 to 7 times a power of two, at most {MAX_SIZE}); got {size} px. "
            "Resize or crop the images (e.g. 30 -> 32 by padding), or use an MLP architecture"
        )
    return ConvPlan(size=size, start=start, layers=layers)


def image_geometry(spec: DataSpec, *, model: str) -> tuple[int, int]:
    """Return ``(channels, size)`` of square images described by ``spec``.

    Raises:
        DataError: the data are not images, or not square, or of an unsupported size.
    """
    if spec.kind != "images" or len(spec.shape) != 3:
        raise DataError(
            f"model {model!r} needs images shaped (C, H, W); the data are {spec.kind} {spec.shape}"
        )
    channels, height, width = spec.shape
    if height != width:
        raise DataError(
            f"model {model!r} needs square images, got {height}x{width}; "
            f"crop or pad to one of {', '.join(map(str, supported_sizes()))} px"
        )
    conv_plan(height)
    return channels, height


def _norm(kind: Norm, channels: int) -> nn.Module:
    """Batch norm, layer norm over (C, H, W) (GroupNorm with one group), or nothing."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    return nn.Identity()


# ---- decoder (DCGAN generator) ----------------------------------------------------------------

class ConvDecoder(nn.Module):
    """Map codes (N, nz) to raw images (N, out_channels, size, size) with transposed convolutions.

    Shapes for 28 px, ``width=64`` (64 px adds two more stride-2 layers, from 4 x 4)::

        (N, nz) -> (N, nz, 1, 1)
        ConvT(s0, 1, 0) + BN + ReLU          # (N, 128, 7, 7)      width * 2**(layers-1)
        ConvT(4, 2, 1)  + BN + ReLU, halving # (N, 64, 14, 14)     ... down to width
        ConvT(4, 2, 1)                       # (N, out_channels, 28, 28), no BN, raw
    """

    def __init__(self, nz: int, out_channels: int, size: int, width: int) -> None:
        super().__init__()
        plan = conv_plan(size)
        channels = width * 2 ** (plan.layers - 1)
        layers: list[nn.Module] = [
            # (N, nz, 1, 1) -> (N, width * 2**(layers-1), s0, s0)
            nn.ConvTranspose2d(nz, channels, plan.start, 1, 0, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        ]
        for _ in range(plan.layers - 1):
            # (N, c, s, s) -> (N, c / 2, 2s, 2s)
            layers += [
                nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(channels // 2),
                nn.ReLU(inplace=True),
            ]
            channels //= 2
        # (N, width, size / 2, size / 2) -> (N, out_channels, size, size)
        layers.append(nn.ConvTranspose2d(channels, out_channels, 4, 2, 1))
        self.plan = plan
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Decode ``z`` of shape (N, nz) (or (N, nz, 1, 1)) to raw (N, C, size, size)."""
        return self.net(z.reshape(z.shape[0], -1, 1, 1))


# ---- encoder (DCGAN discriminator) ------------------------------------------------------------

class ConvEncoder(nn.Module):
    """Map images (N, in_channels, size, size) to features (N, out_features) with strided convolutions.

    Shapes for 28 px, ``width=64``::

        Conv(4, 2, 1) + LeakyReLU(0.2)           # (N, 64, 14, 14)   no norm on the first layer
        Conv(4, 2, 1) + norm + LeakyReLU(0.2)    # (N, 128, 7, 7)    width * 2**i
        Conv(s0, 1, 0) -> flatten                # (N, out_features)

    Args:
        norm: ``"batch"`` (DCGAN), ``"layer"`` (for critics with a gradient penalty, which
            must not mix examples) or ``"none"``.
    """

    def __init__(
        self, in_channels: int, size: int, width: int, out_features: int, *, norm: Norm = "batch"
    ) -> None:
        super().__init__()
        plan = conv_plan(size)
        layers: list[nn.Module] = []
        channels = in_channels
        for i, out in enumerate(plan.widths(width)):
            normed = i > 0 and norm != "none"
            # (N, c, s, s) -> (N, width * 2**i, s / 2, s / 2)
            layers.append(nn.Conv2d(channels, out, 4, 2, 1, bias=not normed))
            if normed:
                layers.append(_norm(norm, out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            channels = out
        # (N, width * 2**(layers-1), s0, s0) -> (N, out_features, 1, 1) -> (N, out_features)
        layers += [nn.Conv2d(channels, out_features, plan.start, 1, 0), nn.Flatten()]
        self.plan = plan
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode ``x`` of shape (N, C, size, size) to (N, out_features)."""
        return self.net(x)


# ---- initialisation -----------------------------------------------------------------------------

@torch.no_grad()
def dcgan_init_(module: nn.Module) -> None:
    """Radford et al.'s initialisation; use as ``net.apply(dcgan_init_)``.

    Conv (and linear) weights ~ N(0, 0.02), norm scales ~ N(1, 0.02), biases 0. Draws from
    torch's global CPU generator, so call it inside :func:`~.common.seeded`.
    """
    if isinstance(module, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d | nn.GroupNorm) and module.weight is not None:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


# ---- Burgess et al. (2018): the disentanglement papers' VAE networks ----------------------------

#: Channels of every conv layer and units of the two hidden fully connected layers (Burgess et al.).
BURGESS_CHANNELS, BURGESS_HIDDEN = 32, 256


def _relu_inplace() -> nn.Module:
    return nn.ReLU(inplace=True)


class BurgessEncoder(nn.Module):
    """The beta-VAE encoder of Burgess et al. (2018), appendix A.1, for any supported image size.

    Stride-2 4x4 convolutions with 32 channels and ReLU, one per halving of the size plan (four for
    64 px: 64 -> 32 -> 16 -> 8 -> 4), then two fully connected layers of 256 units (ReLU) and a
    linear output. No normalisation, so an example's code never depends on the rest of its batch::

        (N, C, 64, 64) -> Conv(4, 2, 1) + ReLU x 4 -> (N, 32, 4, 4) -> flatten (N, 512)
        -> Linear 256 + ReLU -> Linear 256 + ReLU -> Linear out_features
    """

    def __init__(self, in_channels: int, size: int, out_features: int) -> None:
        super().__init__()
        plan = conv_plan(size)
        layers: list[nn.Module] = []
        channels = in_channels
        for _ in range(plan.layers):
            # (N, c, s, s) -> (N, 32, s / 2, s / 2)
            layers += [nn.Conv2d(channels, BURGESS_CHANNELS, 4, 2, 1), nn.ReLU(inplace=True)]
            channels = BURGESS_CHANNELS
        layers += [
            nn.Flatten(),  # (N, 32 * s0 * s0)
            # Linear 256 + ReLU -> Linear 256 + ReLU -> Linear out_features, spliced in flat
            *mlp(BURGESS_CHANNELS * plan.start**2, (BURGESS_HIDDEN, BURGESS_HIDDEN), out_features,
                 activation=_relu_inplace),
        ]
        self.plan = plan
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode ``x`` of shape (N, C, size, size) to (N, out_features)."""
        return self.net(x)


class BurgessDecoder(nn.Module):
    """The transpose of :class:`BurgessEncoder`: codes (N, nz) -> raw images (N, C, size, size).

    ``Linear 256 + ReLU -> Linear 256 + ReLU -> Linear 32 * s0 * s0 + ReLU``, reshaped to
    (N, 32, s0, s0), then stride-2 4x4 transposed convolutions with 32 channels and ReLU, the last
    one to ``out_channels`` with no activation (logits for a Bernoulli decoder).
    """

    def __init__(self, nz: int, out_channels: int, size: int) -> None:
        super().__init__()
        plan = conv_plan(size)
        self.plan = plan
        self.fc = nn.Sequential(
            *mlp(nz, (BURGESS_HIDDEN, BURGESS_HIDDEN), BURGESS_CHANNELS * plan.start**2, activation=_relu_inplace),
            nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        for _ in range(plan.layers - 1):
            # (N, 32, s, s) -> (N, 32, 2s, 2s)
            layers += [nn.ConvTranspose2d(BURGESS_CHANNELS, BURGESS_CHANNELS, 4, 2, 1), nn.ReLU(inplace=True)]
        layers.append(nn.ConvTranspose2d(BURGESS_CHANNELS, out_channels, 4, 2, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Decode ``z`` of shape (N, nz) to raw (N, C, size, size)."""
        s0 = self.plan.start
        return self.net(self.fc(z).reshape(z.shape[0], BURGESS_CHANNELS, s0, s0))
