"""WGAN-GP: Wasserstein GANs with a gradient penalty (Gulrajani et al., 2017).

Paper: "Improved Training of Wasserstein GANs", NeurIPS 2017.

The critic f is not a classifier: it scores data without bound, and the losses are
(Algorithm 1)

    L_critic = E[f(G(z))] - E[f(x)] + lambda * E[(||grad f(x_hat)||_2 - 1)^2],
    L_G      = -E[f(G(z))],

with x_hat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per example. The penalty replaces the
weight clipping of the original WGAN. Defaults follow the paper: lambda = 10, n_critic = 5
critic updates per generator update (``d_steps``, editable live), Adam lr 1e-4 and
betas (0.5, 0.9) as in the authors' released code (Algorithm 1 lists beta1 = 0: preset
``"algorithm1"``). The critic has no batch norm -- the penalty is per example, and batch norm
would mix examples -- so the conv critic uses layer norm (``critic_norm="layer"``, the paper's
recommendation) or none.

Architectures: the DCGAN-style conv stacks of :mod:`.conv` for square images, and ReLU MLPs
(the authors' toy code: three hidden layers of 512) for points.

Presets: ``"tiny"`` (tests); ``"toy2d"``, the authors' 2-D toy setup (gan_toy.py: 2-d noise,
three ReLU layers of 512, batch 256, lambda 0.1 -- "smaller lambda seems to help for toy
tasks"), which needs tens of thousands of steps (about 0.5 s each on one busy CPU core); a
smaller variant (128-wide, lr 5e-4) reached 17/25 grid modes but only 1 % high-quality
samples after 4,000 steps, so on a CPU the GAN's ``toy2d`` preset is the better choice for
the 2-D toys; ``"algorithm1"`` (beta1 = 0).

Deviation: the critic sees this step's real batch ``n_critic`` times (fresh noise and eps each
time), where Algorithm 1 draws a new real batch per critic update; a run's step takes one batch.

``discriminate(x)`` returns the raw critic scores f(x), shape (N,), unbounded (higher = more
real; only differences are meaningful): ``score_kind = "critic"``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import nn

from genwidgets.config import ModelConfig, param

from .adversarial import AdversarialConfig, AdversarialModel
from .common import as_fp32, mlp
from .conv import ConvEncoder, dcgan_init_, image_geometry, norm_kind
from .dcgan import Generator as ConvGenerator
from .gan import MLPGenerator


@dataclasses.dataclass(frozen=True)
class WGANGPConfig(AdversarialConfig):
    """WGAN-GP hyperparameters; defaults are the paper's (lambda 10, n_critic 5, Adam 1e-4, betas (0.5, 0.9))."""

    presets: ClassVar[dict[str, dict[str, Any]]] = {
        "tiny": {"latent_dim": 4, "g_width": 8, "d_width": 8, "hidden": (16, 16), "batch_size": 32, "d_steps": 2},
        "toy2d": {"latent_dim": 2, "hidden": (512, 512, 512), "batch_size": 256, "gp_weight": 0.1},
        "algorithm1": {"beta1": 0.0},
    }

    latent_dim: int = param(128, low=1, high=4096, help="size of the noise vector z ~ N(0, I)")
    lr_g: float = param(1e-4, low=0.0, high=1.0, editable=True, help="generator Adam learning rate")
    lr_d: float = param(1e-4, low=0.0, high=1.0, editable=True, help="critic Adam learning rate")
    beta1: float = param(0.5, low=0.0, lt=1.0, help="Adam beta1 (0.5 in the authors' code, 0 in Algorithm 1)")
    beta2: float = param(0.9, low=0.0, lt=1.0, help="Adam beta2")
    d_steps: int = param(5, low=1, high=20, editable=True,
                         help="critic updates per generator update (the paper's n_critic)")
    gp_weight: float = param(10.0, low=0.0, high=1e4, editable=True,
                             help="gradient penalty coefficient lambda")
    g_width: int = param(64, low=1, high=1024, help="conv generator channels at the last hidden layer (images)")
    d_width: int = param(64, low=1, high=1024, help="conv critic channels at the first layer (images)")
    critic_norm: str = param("layer", choices=("layer", "none"),
                             help="normalisation in the conv critic; never batch norm (see the paper, sec. 4)")
    hidden: tuple[int, ...] = param((512, 512, 512), low=1, high=65536,
                                    help="hidden layer sizes of the MLP generator and critic (points)")


# ---- the penalty ------------------------------------------------------------------------------------

def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    eps: torch.Tensor | None = None,
) -> torch.Tensor:
    """E[(||grad_x f(x_hat)||_2 - 1)^2] at x_hat = eps real + (1 - eps) fake (a 0-dim tensor).

    Args:
        critic: f, mapping (N, *shape) to scores (N,).
        real: Real batch (N, *shape) in the model range.
        fake: Generated batch (N, *shape); detached or not, no gradient flows back into G.
        eps: Mixing weights (N,) in [0, 1]; drawn from U[0, 1] (torch's global generator) if None.
    """
    broadcast = (real.shape[0], *([1] * (real.dim() - 1)))  # eps broadcasts over each example
    if eps is None:
        eps = torch.rand(broadcast, device=real.device, dtype=real.dtype)  # (N, 1, ..., 1)
    else:
        eps = eps.reshape(broadcast).to(real.dtype)
    x_hat = (eps * real + (1 - eps) * fake).detach().requires_grad_(True)  # (N, *shape)
    scores = critic(x_hat)                                               # (N,)
    (grad,) = torch.autograd.grad(as_fp32(scores).sum(), x_hat, create_graph=True)  # (N, *shape)
    norms = as_fp32(grad).flatten(1).norm(2, dim=1)                      # (N,)
    return (norms - 1).pow(2).mean()


# ---- networks ---------------------------------------------------------------------------------------

class MLPCritic(nn.Module):
    """f: points (N, D) -> scores (N,), a ReLU MLP with a linear output and no normalisation."""

    def __init__(self, in_features: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        self.net = mlp(in_features, hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Score ``x`` (N, ...) flattened; returns (N,)."""
        return self.net(x.flatten(1)).squeeze(1)


class ConvCritic(nn.Module):
    """f: images (N, C, H, W) in [-1, 1] -> scores (N,), strided convs with layer norm or none.

    For MNIST (28 px, width 64): (N, 1, 28, 28) -> (N, 64, 14, 14) -> (N, 128, 7, 7) -> (N,).
    """

    def __init__(self, channels: int, size: int, width: int, norm: str) -> None:
        super().__init__()
        self.body = ConvEncoder(channels, size, width, 1, norm=norm_kind(norm))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Score ``x``; returns (N,)."""
        return self.body(x).squeeze(1)


# ---- the model --------------------------------------------------------------------------------------

class WGANGP(AdversarialModel[WGANGPConfig]):
    """Wasserstein GAN with gradient penalty (Gulrajani et al. 2017); discriminate() gives unbounded critic scores.

    Capabilities are :class:`~.adversarial.AdversarialModel`'s; only what ``discriminate`` returns differs.
    """

    name: ClassVar[str] = "wgan_gp"
    paper: ClassVar[str] = "Gulrajani et al. 2017, Improved Training of Wasserstein GANs"
    Config: ClassVar[type[ModelConfig]] = WGANGPConfig
    data_kinds: ClassVar[tuple[str, ...]] = ("images", "points")
    score_kind: ClassVar[str] = "critic"

    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        """Conv G and critic for images (N(0, 0.02) init), ReLU MLPs for points."""
        cfg = self.config
        if self.data_spec.kind == "images":
            channels, size = image_geometry(self.data_spec, model=self.name)
            generator: nn.Module = ConvGenerator(cfg.latent_dim, channels, size, cfg.g_width)
            critic: nn.Module = ConvCritic(channels, size, cfg.d_width, cfg.critic_norm)
            generator.apply(dcgan_init_)
            critic.apply(dcgan_init_)
        else:
            generator = MLPGenerator(cfg.latent_dim, cfg.hidden, self.data_spec)
            critic = MLPCritic(self.data_spec.numel, cfg.hidden)
        return generator, critic

    def discriminator_objective(
        self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """E[f(G(z))] - E[f(x)] + lambda * GP, and the terms ``real``, ``fake`` (N,), their means and ``gp``."""
        cfg = self.config
        real_scores = self.critic(real, labels)  # (N,)
        fake_scores = self.critic(fake, labels)  # (N,)
        gp = gradient_penalty(lambda x: self.critic(x, labels), real, fake)
        real_mean, fake_mean = as_fp32(real_scores).mean(), as_fp32(fake_scores).mean()
        loss = fake_mean - real_mean + cfg.gp_weight * gp
        return loss, {"real": real_scores, "fake": fake_scores, "real_mean": real_mean, "fake_mean": fake_mean,
                      "gp": gp}

    def generator_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        """-E[f(G(z))]."""
        return -as_fp32(fake_logits).mean()

    def step_metrics(self, terms: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """``wasserstein`` (E[f(x)] - E[f(G(z))], the critic's estimate of W(P_r, P_g)) and ``gp``."""
        return {"wasserstein": (terms["real_mean"] - terms["fake_mean"]).detach(), "gp": terms["gp"].detach()}

    def score(self, logits: torch.Tensor) -> torch.Tensor:
        """The critic's raw scores (N,), unbounded: no sigmoid."""
        return logits.float()
