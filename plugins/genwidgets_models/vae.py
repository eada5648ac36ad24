"""VAE: Kingma & Welling (2014), "Auto-Encoding Variational Bayes".

A Gaussian encoder q(z|x) = N(mean(x), diag(exp(logvar(x)))), the reparameterisation
z = mean + exp(logvar / 2) * eps, a prior p(z) = N(0, I), and a decoder p(x|z) that is

* Bernoulli (logits, BCE summed over pixels) for images in [0, 1] (the paper's MNIST setup), or
* Gaussian with a mean and a *learned* log-variance per output dimension, shared by all
  examples (clamped to >= -10, i.e. sigma >= 0.0067, so it cannot collapse), for points
  (and, if asked, images).

Training maximises the ELBO = E_q[log p(x|z)] - KL(q(z|x) || p(z)) with one sample of z per
example. The loss is ``recon + regularizer(kl)``, by default ``recon + kl_weight() * kl``: a
beta-VAE subclasses :class:`VAE` and overrides :meth:`VAE.kl_weight` (and, for capacity
annealing, :meth:`VAE.regularizer`), sharing the forward pass.

The paper's MNIST networks were MLPs with one tanh hidden layer of 500 units; the default
here is a ReLU MLP (512, 256), ``architecture="conv"`` uses the DCGAN-style stacks,
``"burgess"`` the disentanglement papers' conv network (Burgess et al. 2018: 32-channel
convolutions, two 256-unit layers, no batch norm), and ``"auto"`` picks conv for square
images of a supported size and the MLP otherwise.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar, TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from genwidgets.config import ModelConfig, param
from genwidgets.data.base import Batch, DataSpec
from genwidgets.device import Runtime
from genwidgets.errors import ConfigError, DataError
from genwidgets.model import Capabilities, GenerativeModel

from .common import check_input, check_latent, mlp, refuse_labels, seeded
from .conv import BurgessDecoder, BurgessEncoder, ConvDecoder, ConvEncoder, image_geometry

#: Lower bound on the Gaussian decoder's log-variance.
MIN_LOG_VAR = -10.0
_LOG_2PI = math.log(2 * math.pi)
#: Encoder/decoder networks a VAE can be built with (see the module docstring).
ARCHITECTURES = ("mlp", "conv", "burgess", "auto")
#: The architectures that need square images.
IMAGE_ARCHITECTURES = ("conv", "burgess")


@dataclasses.dataclass(frozen=True)
class VAEConfig(ModelConfig):
    """VAE hyperparameters."""

    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"latent_dim": 2, "hidden": (32,), "width": 8, "batch_size": 32},
    }

    batch_size: int = param(128, low=1, high=65536, help="examples per training step")
    latent_dim: int = param(16, low=1, high=4096, help="size of the latent code z")
    architecture: str = param("mlp", choices=ARCHITECTURES,
                              help="'mlp' (any data), 'conv' (square images, DCGAN-style stacks), 'burgess' "
                                   "(square images, Burgess et al.'s network) or 'auto' (conv where the "
                                   "images allow it, else mlp)")
    hidden: tuple[int, ...] = param((512, 256), low=1, high=65536,
                                    help="MLP hidden layer sizes (encoder order; the decoder mirrors them)")
    width: int = param(32, low=1, high=1024, help="conv channels at the encoder's first layer")
    likelihood: str = param("auto", choices=("auto", "bernoulli", "gaussian"),
                            help="decoder p(x|z): 'auto' is bernoulli for images, gaussian for points")
    # > 0: one optimizer trains every weight, so lr 0 would be a run that learns nothing.
    lr: float = param(1e-3, gt=0.0, high=1.0, editable=True, help="Adam learning rate")


# ---- networks ---------------------------------------------------------------------------------------

class Encoder(nn.Module):
    """q(z|x): data (N, *shape) -> (mean, logvar), each (N, latent_dim)."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body  # (N, *shape) -> (N, 2 * latent_dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the posterior's mean and log-variance for ``x``."""
        mean, logvar = self.body(x).chunk(2, dim=1)  # (N, latent_dim) each
        return mean, logvar


class Decoder(nn.Module):
    """p(x|z): codes (N, latent_dim) -> raw outputs (N, *shape) (logits, or the Gaussian's pre-mean)."""

    def __init__(self, body: nn.Module, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.body = body
        self.shape = shape

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Decode ``z`` to raw outputs shaped like the data."""
        return self.body(z).reshape(z.shape[0], *self.shape)  # (N, *shape)


def build_mlp(spec: DataSpec, latent_dim: int, hidden: tuple[int, ...]) -> tuple[Encoder, Decoder]:
    """MLP encoder (N, D) -> (N, 2 * latent_dim) and mirrored decoder (N, latent_dim) -> (N, D)."""
    d = spec.numel
    encoder = Encoder(nn.Sequential(nn.Flatten(), mlp(d, hidden, 2 * latent_dim)))
    decoder = Decoder(mlp(latent_dim, tuple(reversed(hidden)), d), spec.shape)
    return encoder, decoder


def build_conv(spec: DataSpec, latent_dim: int, width: int, *, model: str) -> tuple[Encoder, Decoder]:
    """Conv encoder (N, C, S, S) -> (N, 2 * latent_dim) and decoder (N, latent_dim) -> (N, C, S, S)."""
    channels, size = image_geometry(spec, model=model)
    encoder = Encoder(ConvEncoder(channels, size, width, 2 * latent_dim, norm="batch"))
    decoder = Decoder(ConvDecoder(latent_dim, channels, size, width), spec.shape)
    return encoder, decoder


def build_burgess(spec: DataSpec, latent_dim: int, *, model: str) -> tuple[Encoder, Decoder]:
    """Burgess et al.'s conv encoder (N, C, S, S) -> (N, 2 * latent_dim) and its transpose as decoder."""
    channels, size = image_geometry(spec, model=model)
    encoder = Encoder(BurgessEncoder(channels, size, 2 * latent_dim))
    decoder = Decoder(BurgessDecoder(latent_dim, channels, size), spec.shape)
    return encoder, decoder


def resolve_architecture(architecture: str, spec: DataSpec, *, model: str, conv: str = "conv") -> str:
    """Turn ``"auto"`` into ``conv`` (square images of a size the conv stacks support) or ``"mlp"``."""
    if architecture != "auto":
        return architecture
    try:
        image_geometry(spec, model=model)
    except DataError:
        return "mlp"
    return conv


# ---- the model --------------------------------------------------------------------------------------

#: The config of the VAE or a family built on it (beta-VAE): ``self.config``'s type.
VAEConfigT = TypeVar("VAEConfigT", bound=VAEConfig)


class VAE(GenerativeModel[VAEConfigT]):
    """Variational autoencoder on images or points; encodes to the posterior mean."""

    name: ClassVar[str] = "vae"
    paper: ClassVar[str] = "Kingma & Welling 2014, Auto-Encoding Variational Bayes"
    Config: ClassVar[type[ModelConfig]] = VAEConfig
    capabilities: ClassVar[Capabilities] = Capabilities(can_sample=True, can_encode=True, can_decode=True)
    data_kinds: ClassVar[tuple[str, ...]] = ("images", "points")
    #: What ``architecture="auto"`` builds for square images: the DCGAN-style stacks.
    auto_conv: ClassVar[str] = "conv"

    def __init__(self, config: VAEConfigT, *, data_spec: DataSpec, runtime: Runtime | None = None) -> None:
        super().__init__(config, data_spec=data_spec, runtime=runtime)
        self.architecture = resolve_architecture(config.architecture, data_spec, model=self.name,
                                                 conv=self.auto_conv)
        self.likelihood = self._resolve_likelihood(config, data_spec)
        with seeded(config.seed):
            if self.architecture == "conv":
                encoder, decoder = build_conv(data_spec, config.latent_dim, config.width, model=self.name)
            elif self.architecture == "burgess":
                encoder, decoder = build_burgess(data_spec, config.latent_dim, model=self.name)
            else:
                encoder, decoder = build_mlp(data_spec, config.latent_dim, config.hidden)
        self.encoder, self.decoder = encoder, decoder
        # Gaussian decoder: one learned log-variance per output dimension, shared by all examples.
        self.output_log_var = (
            nn.Parameter(torch.zeros(data_spec.shape)) if self.likelihood == "gaussian" else None
        )
        self.to(self.runtime.device)
        self.optimizers = {"model": torch.optim.Adam(self.parameters(), lr=config.lr)}

    def _resolve_likelihood(self, config: VAEConfig, spec: DataSpec) -> str:
        """Turn ``likelihood='auto'`` into a decoder, and reject combinations that cannot work."""
        if self.architecture in IMAGE_ARCHITECTURES and spec.kind != "images":
            raise ConfigError(
                f"{type(config).__name__}.architecture={self.architecture!r} needs image data, but the data "
                f"are {spec.kind} {spec.shape}; use architecture='mlp'"
            )
        likelihood = config.likelihood
        if likelihood == "auto":
            likelihood = "bernoulli" if spec.kind == "images" else "gaussian"
        if likelihood == "bernoulli" and spec.kind != "images":
            raise ConfigError(
                f"{type(config).__name__}.likelihood='bernoulli' models values in [0, 1] (images), "
                f"but the data are {spec.kind}; use likelihood='gaussian' or 'auto'"
            )
        return likelihood

    # ---- the pieces of the ELBO -------------------------------------------------------------------
    def kl_weight(self) -> float:
        """Weight of the KL term in the loss: 1 for the VAE (a beta-VAE returns ``config.beta``)."""
        return 1.0

    def regularizer(self, kl: torch.Tensor) -> torch.Tensor:
        """The term added to the reconstruction loss, from the batch-mean KL: ``kl_weight() * kl``."""
        return self.kl_weight() * kl

    def reparameterize(self, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """Draw z = mean + sigma * eps with eps ~ N(0, I) from torch's global generator.

        The global generator is what checkpoints capture, so a resumed run draws the same eps.
        """
        return mean + torch.exp(0.5 * logvar) * torch.randn_like(mean)

    def output_mean(self, raw: torch.Tensor) -> torch.Tensor:
        """The decoder's mean in data space: sigmoid for images (in [0, 1]), identity for points."""
        return torch.sigmoid(raw) if self.data_spec.kind == "images" else raw

    def reconstruction_nll(self, raw: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """-log p(x|z) per example (N,), summed over data dimensions."""
        raw, x = raw.float(), x.float()
        if self.likelihood == "bernoulli":
            nll = F.binary_cross_entropy_with_logits(raw, x, reduction="none")
        else:
            log_var = self.output_log_var.float().clamp(min=MIN_LOG_VAR)
            nll = 0.5 * ((x - self.output_mean(raw)) ** 2 * torch.exp(-log_var) + log_var + _LOG_2PI)
        return nll.flatten(1).sum(1)

    @staticmethod
    def kl_divergence(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """KL(N(mean, exp(logvar)) || N(0, I)) per example (N,), in closed form (paper, appendix B)."""
        mean, logvar = mean.float(), logvar.float()
        return 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).sum(1)

    def train_step(self, batch: Batch) -> dict[str, torch.Tensor | float]:
        """One Adam step on ``recon + regularizer(kl)`` (``recon + kl_weight() * kl``), averaged over the batch.

        Returns detached 0-dim tensors: ``loss``, ``recon`` (reconstruction NLL), ``kl`` and
        ``elbo`` (= -(recon + kl), per example; equals -loss when the KL weight is 1).
        """
        x = batch.x.to(self.device, non_blocking=True)  # (N, *shape)
        with self.runtime.autocast():
            mean, logvar = self.encoder(x)                 # (N, latent_dim) each
            z = self.reparameterize(mean, logvar)          # (N, latent_dim)
            raw = self.decoder(z)                          # (N, *shape)
        recon = self.reconstruction_nll(raw, x).mean()
        kl = self.kl_divergence(mean, logvar).mean()
        loss = recon + self.regularizer(kl)
        self.runtime.backward_step(loss, self.optimizers["model"])
        recon, kl = recon.detach(), kl.detach()
        return {"loss": loss.detach(), "recon": recon, "kl": kl, "elbo": -(recon + kl)}

    # ---- the verbs --------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor, *, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The posterior mean (N, latent_dim) for data ``x`` (N, *shape); a VAE takes no labels."""
        refuse_labels(labels, model=self.name, verb="encode")
        check_input(x, self.data_spec, model=self.name, verb="encode")
        with self.runtime.inference():
            mean, _ = self.encoder(x.to(self.device))
        return mean.float()

    # ---- the latent-variable protocol of genwidgets.metrics.likelihood (ELBO, IW-NLL) ------------
    def posterior(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The diagonal Gaussian q(z|x): ``(mean, logvar)``, each (N, latent_dim)."""
        check_input(x, self.data_spec, model=self.name, verb="posterior")
        with self.runtime.inference():
            mean, logvar = self.encoder(x.to(self.device))
        return mean.float(), logvar.float()

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Log p(x|z) per example (N,), summed over the data dimensions."""
        with self.runtime.inference():
            raw = self.decoder(z.to(self.device))
        return -self.reconstruction_nll(raw, x.to(self.device))

    def decode(self, z: torch.Tensor, *, labels: torch.Tensor | None = None) -> torch.Tensor:
        """The decoder's mean for codes ``z`` (N, latent_dim): images in [0, 1] or points."""
        refuse_labels(labels, model=self.name, verb="decode")
        check_latent(z, self.latent_dim, model=self.name, verb="decode")
        with self.runtime.inference():
            raw = self.decoder(z.to(self.device))
        return self.output_mean(raw.float())

    def sample(
        self, n: int, *, z: torch.Tensor | None = None, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Decode ``n`` codes from the prior N(0, I) (or the given ``z``; ``n`` is then ignored)."""
        refuse_labels(labels, model=self.name, verb="sample")
        if z is None:
            z = torch.randn(n, self.latent_dim, device=self.device)
        return self.decode(z)

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """decode(encode(x)): the reconstruction from the posterior mean, shaped like ``x``."""
        return self.decode(self.encode(x))
