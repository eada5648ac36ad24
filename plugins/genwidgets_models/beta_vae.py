"""beta-VAE: a VAE with a weighted KL term (Higgins et al., 2017), and capacity annealing (Burgess et al., 2018).

Papers: Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a Constrained
Variational Framework", ICLR 2017; Burgess et al., "Understanding disentangling in
beta-VAE", 2018.

* beta-VAE (default): loss = recon + beta * KL. beta > 1 (4 for dSprites in the paper)
  presses the posterior towards the isotropic prior and favours disentangled codes. ``beta``
  can be edited while training.
* Capacity annealing (``capacity_max > 0``): loss = recon + gamma * |KL - C|, with the
  target capacity C (nats) raised linearly from 0 to ``capacity_max`` over
  ``capacity_steps`` training steps (the paper: gamma 1000, C_max 25, 100k steps: preset
  ``"burgess"``). ``beta`` is then unused; ``gamma`` is editable live.

Everything else -- the encoder, decoder, reparameterisation and ELBO terms -- is the VAE's
(:mod:`.vae`); this family only supplies the KL weight and the regulariser. The defaults
are for dSprites (64 x 64 binary sprites): 10 latents, Burgess et al.'s conv network (32-channel
stride-2 convolutions, two 256-unit layers, no batch norm; ``architecture="auto"`` falls back to
the MLP for points and unsupported image sizes), Bernoulli decoder, Adam 5e-4 (Burgess et al.;
Higgins et al. used Adagrad 1e-2), batch 64.

The capacity schedule counts steps in a buffer (``anneal_step``) saved with the weights, so
a resumed run continues the schedule where it stopped.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch

from genwidgets.config import ModelConfig, param
from genwidgets.data.base import Batch, DataSpec
from genwidgets.device import Runtime

from .vae import ARCHITECTURES, VAE, VAEConfig


@dataclasses.dataclass(frozen=True)
class BetaVAEConfig(VAEConfig):
    """beta-VAE hyperparameters: the VAE's, plus beta and the optional capacity schedule."""

    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {**VAEConfig.presets["tiny"], "architecture": "auto"},
        "burgess": {"capacity_max": 25.0, "capacity_steps": 100_000, "gamma": 1000.0},
    }

    batch_size: int = param(64, low=1, high=65536, help="examples per training step")
    latent_dim: int = param(10, low=1, high=4096, help="size of the latent code z (10 for dSprites)")
    architecture: str = param("auto", choices=ARCHITECTURES,
                              help="'auto' (Burgess et al.'s conv network for square images it supports, else "
                                   "mlp), 'mlp', 'burgess' or 'conv' (DCGAN-style stacks with batch norm)")
    lr: float = param(5e-4, gt=0.0, high=1.0, editable=True, help="Adam learning rate")
    beta: float = param(4.0, low=0.0, high=1e4, editable=True,
                        help="weight of the KL term (1 is the plain VAE); unused when capacity_max > 0")
    capacity_max: float = param(0.0, low=0.0, high=1e4,
                                help="final KL capacity C_max in nats for Burgess et al.'s annealing (0: off)")
    capacity_steps: int = param(100_000, low=1, high=10**9,
                                help="steps over which C rises linearly from 0 to capacity_max")
    gamma: float = param(1000.0, low=0.0, high=1e6, editable=True,
                         help="weight of |KL - C| when capacity_max > 0")


class BetaVAE(VAE[BetaVAEConfig]):
    """beta-VAE (Higgins et al. 2017), with optional capacity annealing (Burgess et al. 2018)."""

    name: ClassVar[str] = "beta_vae"
    paper: ClassVar[str] = (
        "Higgins et al. 2017, beta-VAE: Learning Basic Visual Concepts with a Constrained Variational Framework"
    )
    Config: ClassVar[type[ModelConfig]] = BetaVAEConfig
    #: ``architecture="auto"`` builds the network of the disentanglement papers for square images.
    auto_conv: ClassVar[str] = "burgess"

    anneal_step: torch.Tensor

    def __init__(self, config: BetaVAEConfig, *, data_spec: DataSpec, runtime: Runtime | None = None) -> None:
        super().__init__(config, data_spec=data_spec, runtime=runtime)
        # Steps trained so far, for the capacity schedule; saved in checkpoints with the weights.
        self.register_buffer("anneal_step", torch.zeros((), dtype=torch.long, device=self.device))

    @property
    def annealing(self) -> bool:
        """True when Burgess et al.'s capacity objective is on (``capacity_max > 0``)."""
        return self.config.capacity_max > 0

    def kl_weight(self) -> float:
        """The KL weight: ``config.beta`` (Higgins et al., eq. 4)."""
        return float(self.config.beta)

    def capacity(self) -> torch.Tensor:
        """The target KL C (nats) at the current step: ``capacity_max * min(1, step / capacity_steps)``."""
        cfg = self.config
        frac = (self.anneal_step.float() / cfg.capacity_steps).clamp(max=1.0)
        return cfg.capacity_max * frac

    def regularizer(self, kl: torch.Tensor) -> torch.Tensor:
        """The regulariser: ``beta * KL``, or ``gamma * |KL - C|`` while annealing (Burgess et al., eq. 8)."""
        if not self.annealing:
            return super().regularizer(kl)
        return self.config.gamma * (kl - self.capacity()).abs()

    def train_step(self, batch: Batch) -> dict[str, torch.Tensor | float]:
        """The VAE's step with this family's regulariser; adds ``capacity`` (C) when annealing."""
        out = super().train_step(batch)
        if self.annealing:
            out["capacity"] = self.capacity().detach()
        self.anneal_step += 1
        return out
