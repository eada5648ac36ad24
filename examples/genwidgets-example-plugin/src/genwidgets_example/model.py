"""``gaussian``: a diagonal Gaussian fitted by maximum likelihood, as a genwidgets model family.

The smallest honest generative model: x ~ N(mu, diag(sigma^2)) over the flattened data. It
trains by gradient descent on the negative log-likelihood, samples ``mu + sigma * z``, and
its latent code is the standardised data, ``z = (x - mu) / sigma`` (so ``latent_dim`` is the
number of values in one example). Images are clamped to [0, 1] on the way out.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import torch
from torch import nn

from genwidgets import Batch, Capabilities, DataSpec, GenerativeModel, ModelConfig, Runtime, param


@dataclasses.dataclass(frozen=True)
class GaussianConfig(ModelConfig):
    """Hyperparameters of the diagonal Gaussian."""

    presets: ClassVar[dict[str, dict[str, Any]]] = {"tiny": {"batch_size": 16}}

    lr: float = param(0.05, gt=0.0, high=10.0, editable=True, help="Adam learning rate (> 0)")
    min_std: float = param(1e-3, low=1e-6, high=1.0, help="floor of sigma, so pixels that never vary stay finite")


class DiagonalGaussian(GenerativeModel[GaussianConfig]):
    """x ~ N(mu, diag(sigma^2)) over the flattened data, fitted by maximum likelihood.

    ``GenerativeModel[GaussianConfig]`` types ``self.config`` as a GaussianConfig. The weights start
    at zero, so they need no random numbers; a family that draws initial weights must draw them
    from ``config.seed`` (see "Seeding" in the guide).
    """

    name = "gaussian"
    paper = "Maximum-likelihood fit of a diagonal Gaussian (a baseline, not a paper)"
    Config = GaussianConfig
    capabilities = Capabilities(can_sample=True, can_encode=True, can_decode=True)
    data_kinds = ("images", "points")

    def __init__(self, config: GaussianConfig, *, data_spec: DataSpec, runtime: Runtime | None = None) -> None:
        super().__init__(config, data_spec=data_spec, runtime=runtime)
        dim = math.prod(data_spec.shape)
        self.mu = nn.Parameter(torch.zeros(dim))          # (D,)
        self.log_std = nn.Parameter(torch.zeros(dim))     # (D,)
        self.to(self.runtime.device)
        self.optimizers = {"main": torch.optim.Adam(self.parameters(), lr=config.lr)}

    @property
    def latent_dim(self) -> int:
        """One latent value per data value."""
        return self.mu.numel()

    def _std(self) -> torch.Tensor:
        return self.log_std.exp().clamp_min(self.config.min_std)

    def train_step(self, batch: Batch) -> dict[str, torch.Tensor | float]:
        """One Adam step on the mean negative log-likelihood per value."""
        x = batch.x.flatten(1).float()                    # (N, D)
        std = self._std()
        nll = (0.5 * ((x - self.mu) / std) ** 2 + std.log() + 0.5 * math.log(2 * math.pi)).mean()
        self.runtime.backward_step(nll, self.optimizers["main"])
        return {"loss": nll.detach(), "mean_std": std.detach().mean()}

    @torch.no_grad()
    def decode(self, z: torch.Tensor, *, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Map standardised codes (N, D) back to data space."""
        x = self.mu + self._std() * z.to(self.mu.device).float()  # (N, D)
        x = x.reshape(len(z), *self.data_spec.shape)
        return x.clamp(0.0, 1.0) if self.data_spec.kind == "images" else x

    @torch.no_grad()
    def sample(self, n: int, *, z: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``n`` draws, or the decoding of the given ``z``."""
        if z is None:
            z = torch.randn(n, self.latent_dim, device=self.mu.device)
        return self.decode(z)

    @torch.no_grad()
    def encode(self, x: torch.Tensor, *, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Standardise ``x``: (N, ...) -> (N, D)."""
        return (x.to(self.mu.device).flatten(1).float() - self.mu) / self._std()
