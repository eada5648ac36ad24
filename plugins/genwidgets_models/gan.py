"""GAN: generative adversarial nets with MLPs (Goodfellow et al., 2014).

Paper: "Generative Adversarial Nets", NeurIPS 2014.

* G maps noise z ~ N(0, I) through fully connected layers to data: the classic layout
  100 -> 256 -> 512 -> 1024 -> data (Linear, batch norm, ReLU), with tanh on the output for
  images (flattened, in [-1, 1]) and a linear output for points (2-D toys are not in [0, 1]).
* D mirrors it: data -> 1024 -> 512 -> 256 -> 1 logit, LeakyReLU(0.2) and dropout (0.3;
  the paper trained D with dropout).
* The objective is eq. 1 of the paper with the non-saturating generator loss
  -log D(G(z)) of section 3, alternating ``d_steps`` (the paper's k) D updates with one G
  update (shared with DCGAN in :mod:`.adversarial`).

The paper used SGD with momentum, maxout units in D and no batch norm; Adam (lr 2e-4,
beta1 0.5), LeakyReLU and batch norm in G are the modern defaults that make the same
objective train reliably (without batch norm, G collapsed to one digit on MNIST within
1,000 steps in our runs).

Presets:

* ``"tiny"``: seconds on a CPU, for tests.
* ``"toy2d"``: the 2-D toys (ring, grid): three hidden layers of 128 in both nets, no batch
  norm or dropout, 8-d noise, batch 512, Adam lr 1e-3. On ``ring`` it covered 8/8 modes
  with 95-96.5 % high-quality samples (within 3 std of a mode) from step 9,000 to 12,000
  (about 4 minutes on one busy CPU core); on ``grid``, 22/25 modes and 90 % after 12,000.
* ``"grid"``: ``toy2d`` with PacGAN2 packing (``pack=2``, Lin et al. 2018). On ``grid`` (seed 0,
  2,500 samples) it covered 25/25 modes with 88-91 % high-quality samples from step 16,000 to
  18,000, and 25/25 with 93.6-93.9 % after dropping both learning rates tenfold (to 1e-4, with
  ``run.set_hparams``) at step 18,000 and training to 24,000 (seed 1: 25/25, 92.6 %); 24,000
  steps take 2.5-5.5 minutes on one busy CPU core. The lr drop is ours, not PacGAN's.

Packing (``pack`` = m > 1): PacGAN (Lin et al. 2018, "PacGAN: The power of two samples in
generative adversarial networks"). D's input layer is widened m-fold and D judges packs of m
samples concatenated, all real or all generated, so a batch of ``batch_size`` samples makes
``batch_size / m`` packs (the batch size must be a multiple of m). Everything else -- the
objective, G, the rest of D -- is unchanged. ``discriminate(x)`` scores each example as a
pack of m copies of itself.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, TypeVar

import torch
from torch import nn

from genwidgets.config import ModelConfig, param
from genwidgets.data.base import DataSpec
from genwidgets.device import Runtime
from genwidgets.errors import ConfigError

from .adversarial import AdversarialConfig, AdversarialModel, pack_samples
from .common import mlp


@dataclasses.dataclass(frozen=True)
class GANConfig(AdversarialConfig):
    """MLP GAN hyperparameters; the defaults are the classic layout for 28 px images."""

    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"latent_dim": 4, "g_hidden": (16, 16), "d_hidden": (16, 16), "batch_size": 32},
        "toy2d": {"latent_dim": 8, "g_hidden": (128, 128, 128), "d_hidden": (128, 128, 128),
                  "batch_size": 512, "lr_g": 1e-3, "lr_d": 1e-3, "g_batchnorm": False, "dropout": 0.0},
        "grid": {"latent_dim": 8, "g_hidden": (128, 128, 128), "d_hidden": (128, 128, 128),
                 "batch_size": 512, "lr_g": 1e-3, "lr_d": 1e-3, "g_batchnorm": False, "dropout": 0.0,
                 "pack": 2},
    }

    g_hidden: tuple[int, ...] = param((256, 512, 1024), low=1, high=65536,
                                      help="generator hidden layer sizes, from the noise to the data")
    d_hidden: tuple[int, ...] = param((1024, 512, 256), low=1, high=65536,
                                      help="discriminator hidden layer sizes, from the data to the logit")
    dropout: float = param(0.3, low=0.0, high=0.9, help="dropout in D after each hidden layer (0: none)")
    g_batchnorm: bool = param(True, help="batch norm after each hidden layer of G (the classic MLP layout)")
    pack: int = param(1, low=1, high=64,
                      help="PacGAN packing degree m: D judges m samples concatenated (1: the plain GAN)")

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.batch_size % self.pack:
            raise ConfigError(f"{type(self).__name__}.batch_size={self.batch_size} must be a multiple of "
                              f"pack={self.pack} (D judges packs of pack samples)")


# ---- networks ---------------------------------------------------------------------------------------

class MLPGenerator(nn.Module):
    """G: z (N, latent_dim) -> data (N, *shape); tanh output for images, linear for points.

    Classic layout for MNIST: (N, 100) -> (N, 256) -> (N, 512) -> (N, 1024) -> (N, 784) -> (N, 1, 28, 28),
    each hidden layer Linear -> [BatchNorm1d] -> ReLU.
    """

    def __init__(self, in_features: int, hidden: tuple[int, ...], spec: DataSpec, *, batchnorm: bool = False) -> None:
        super().__init__()
        self.shape = spec.shape
        self.tanh = spec.kind == "images"
        self.net = mlp(in_features, hidden, spec.numel, norm=nn.BatchNorm1d if batchnorm else None)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Generate (N, *shape) in the model range from ``z`` (N, in_features)."""
        y = self.net(z)                               # (N, D)
        if self.tanh:
            y = torch.tanh(y)
        return y.reshape(z.shape[0], *self.shape)     # (N, *shape)


class MLPDiscriminator(nn.Module):
    """D: data (N, *shape) (flattened, plus any extra features) -> logits (N,).

    Classic layout for MNIST: (N, 784) -> (N, 1024) -> (N, 512) -> (N, 256) -> (N, 1) -> (N,),
    LeakyReLU(0.2) and optional dropout after every hidden layer.
    """

    def __init__(self, in_features: int, hidden: tuple[int, ...], dropout: float) -> None:
        super().__init__()
        self.net = mlp(in_features, hidden, 1, activation=lambda: nn.LeakyReLU(0.2), dropout=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Score ``x`` (N, ...) flattened to (N, in_features); returns logits (N,)."""
        return self.net(x.flatten(1)).squeeze(1)      # (N,)


# ---- the model --------------------------------------------------------------------------------------

#: The config of the MLP GAN or a family built on it (cGAN): ``self.config``'s type.
GANConfigT = TypeVar("GANConfigT", bound=GANConfig)


class GAN(AdversarialModel[GANConfigT]):
    """Generative adversarial nets with MLPs (Goodfellow et al. 2014), on images (flattened) or points.

    Capabilities are :class:`~.adversarial.AdversarialModel`'s: samples, decodes, encodes (by
    inversion) and discriminates.
    """

    name: ClassVar[str] = "gan"
    paper: ClassVar[str] = "Goodfellow et al. 2014, Generative Adversarial Nets"
    Config: ClassVar[type[ModelConfig]] = GANConfig
    data_kinds: ClassVar[tuple[str, ...]] = ("images", "points")

    def __init__(self, config: GANConfigT, *, data_spec: DataSpec, runtime: Runtime | None = None) -> None:
        if config.pack > 1 and self.capabilities.conditional:
            raise ConfigError(f"{type(config).__name__}.pack={config.pack}: packing applies to unconditional "
                              "GANs only; use pack=1")
        super().__init__(config, data_spec=data_spec, runtime=runtime)

    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        """Build the MLP G and D for the data's shape (PyTorch's default initialisation); D takes ``pack`` samples."""
        cfg = self.config
        generator = MLPGenerator(cfg.latent_dim, cfg.g_hidden, self.data_spec, batchnorm=cfg.g_batchnorm)
        discriminator = MLPDiscriminator(cfg.pack * self.data_spec.numel, cfg.d_hidden, cfg.dropout)
        return generator, discriminator

    def critic(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """D's logits for ``x`` (N, *shape): (N,), or one per pack (N / pack,) when packing (PacGAN)."""
        return super().critic(pack_samples(x, self.config.pack), labels)

    def discriminate(self, x: torch.Tensor, *, labels: torch.Tensor | None = None) -> torch.Tensor:
        """D's P(real) (N,) for data ``x``; when packing, each example is scored as a pack of copies of itself."""
        m = self.config.pack
        if m == 1:
            return super().discriminate(x, labels=labels)
        return super().discriminate(x.repeat_interleave(m, dim=0), labels=labels)
