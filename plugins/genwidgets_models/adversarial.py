"""What every GAN in Goodfellow et al.'s (2014) family shares: the objective and its training step.

A family subclasses :class:`AdversarialModel`, returns its generator and discriminator from
:meth:`~AdversarialModel.build_networks`, and gets two Adam optimizers (``"g"`` and ``"d"``,
so ``lr_g``/``lr_d`` edits reach them), the alternating update with a live D:G step ratio,
the non-saturating generator loss, and the ``sample``/``decode``/``discriminate`` verbs.
Conditional families override :meth:`~AdversarialModel.generate` and
:meth:`~AdversarialModel.critic` to pass labels; a WGAN-GP overrides the two losses.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from genwidgets.config import ModelConfig, param
from genwidgets.data.base import Batch, DataSpec
from genwidgets.model import Capabilities, GenerativeModel
from genwidgets.runtime.runtime import Runtime

from .common import check_input, check_latent, seeded


@dataclasses.dataclass(frozen=True)
class AdversarialConfig(ModelConfig):
    """Fields every GAN trained with Adam shares (Radford et al.'s recipe as defaults)."""

    latent_dim: int = param(100, low=1, high=4096, help="size of the noise vector z ~ N(0, I)")
    lr_g: float = param(2e-4, low=0.0, high=1.0, editable=True, help="generator Adam learning rate")
    lr_d: float = param(2e-4, low=0.0, high=1.0, editable=True, help="discriminator Adam learning rate")
    beta1: float = param(0.5, low=0.0, high=0.9999,
                         help="Adam beta1 (0.5 per Radford et al.; 0.9 destabilises)")
    beta2: float = param(0.999, low=0.0, high=0.99999, help="Adam beta2")
    d_steps: int = param(1, low=1, high=20, editable=True,
                         help="discriminator updates per generator update (the D:G step ratio)")


class AdversarialModel(GenerativeModel):
    """Base of the GAN families: a generator G(z) and a discriminator D(x) trained against each other.

    Data are mapped to the generator's range with :meth:`to_model_range` (``2x - 1`` for a
    tanh generator) inside :meth:`train_step`, and back with :meth:`from_model_range` in the
    verbs, so every verb speaks [0, 1] images like the rest of genwidgets.
    """

    Config: ClassVar[type[ModelConfig]] = AdversarialConfig
    capabilities: ClassVar[Capabilities] = Capabilities(
        can_sample=True, can_decode=True, can_discriminate=True)

    generator: nn.Module
    discriminator: nn.Module

    def __init__(
        self, config: AdversarialConfig, *, data_spec: DataSpec, runtime: Runtime | None = None
    ) -> None:
        super().__init__(config, data_spec=data_spec, runtime=runtime)
        with seeded(config.seed):
            generator, discriminator = self.build_networks()
        self.generator = generator
        self.discriminator = discriminator
        self.to(self.runtime.device)
        betas = (config.beta1, config.beta2)
        self.optimizers = {
            "g": torch.optim.Adam(self.generator.parameters(), lr=config.lr_g, betas=betas),
            "d": torch.optim.Adam(self.discriminator.parameters(), lr=config.lr_d, betas=betas),
        }

    # ---- what a family provides ---------------------------------------------------------------
    def build_networks(self) -> tuple[nn.Module, nn.Module]:
        """Return ``(generator, discriminator)``, built and initialised on the CPU.

        Called inside :func:`~genwidgets_models.common.seeded`, so initialisation is
        reproducible from ``config.seed``. The generator maps (N, latent_dim) to the model
        range; the discriminator maps data in the model range to logits (N,).
        """
        raise NotImplementedError(f"{type(self).__name__} must implement build_networks")

    def to_model_range(self, x: torch.Tensor) -> torch.Tensor:
        """Map data in [0, 1] to the generator's output range ([-1, 1] for tanh)."""
        return x * 2 - 1

    def from_model_range(self, y: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`to_model_range`, clamped to [0, 1]."""
        return ((y + 1) / 2).clamp(0, 1)

    def noise(self, n: int) -> torch.Tensor:
        """Draw z ~ N(0, I) of shape (n, latent_dim) from torch's global generator on the model's device.

        The global generator is what checkpoints capture, so a resumed run draws the same noise.
        """
        return torch.randn(n, self.latent_dim, device=self.device)

    def generate(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """G(z) in the model range; conditional families override to pass ``labels``."""
        return self.generator(z)

    def critic(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """D's logits (N,) for ``x`` in the model range; conditional families override."""
        return self.discriminator(x).reshape(x.shape[0])

    # ---- the objective ----------------------------------------------------------------------------
    def discriminator_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        """-[log D(x) + log(1 - D(G(z)))], as BCE with logits (Goodfellow et al., eq. 1)."""
        real_logits, fake_logits = real_logits.float(), fake_logits.float()
        real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
        fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        return real + fake

    def generator_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        """The non-saturating loss -log D(G(z)) (Goodfellow et al., section 3)."""
        fake_logits = fake_logits.float()
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))

    def train_step(self, batch: Batch) -> dict[str, torch.Tensor | float]:
        """``d_steps`` discriminator updates on this batch (fresh noise each), then one generator update.

        Returns detached 0-dim tensors: ``loss_d``, ``loss_g``, ``d_real`` (mean D(x)) and
        ``d_fake`` (mean D(G(z)) before the last discriminator update). No host sync here.
        """
        cfg: AdversarialConfig = self.config  # type: ignore[assignment]
        rt = self.runtime
        real = self.to_model_range(batch.x.to(self.device, non_blocking=True))  # (N, C, H, W) in [-1, 1]
        labels = batch.labels.to(self.device, non_blocking=True) if (
            self.capabilities.conditional and batch.labels is not None) else None
        n = real.shape[0]

        # (1) Update D: maximise log D(x) + log(1 - D(G(z))), d_steps times.
        for _ in range(cfg.d_steps):
            with rt.autocast():
                fake = self.generate(self.noise(n), labels)      # (N, C, H, W), graph kept for step (2)
                real_logits = self.critic(real, labels)          # (N,)
                fake_logits = self.critic(fake.detach(), labels)  # (N,)
                loss_d = self.discriminator_loss(real_logits, fake_logits)
            rt.backward_step(loss_d, self.optimizers["d"])

        # (2) Update G: maximise log D(G(z)) on the last fakes (as in PyTorch's dcgan example).
        # D's gradients from this pass are discarded: the next D update zeroes them first.
        with rt.autocast():
            loss_g = self.generator_loss(self.critic(fake, labels))
        rt.backward_step(loss_g, self.optimizers["g"])

        return {
            "loss_d": loss_d.detach(),
            "loss_g": loss_g.detach(),
            "d_real": torch.sigmoid(real_logits.detach().float()).mean(),
            "d_fake": torch.sigmoid(fake_logits.detach().float()).mean(),
        }

    # ---- the verbs --------------------------------------------------------------------------------
    def sample(
        self, n: int, *, z: torch.Tensor | None = None, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Draw ``n`` images in [0, 1] (N, C, H, W); given ``z``, decode it instead (``n`` is ignored)."""
        if z is None:
            z = self.noise(n)
        return self.decode(z, labels=labels)

    def decode(self, z: torch.Tensor, *, labels: torch.Tensor | None = None) -> torch.Tensor:
        """G(z) for codes (N, latent_dim), as images in [0, 1] (N, C, H, W).

        Runs in the module's current mode (``preview`` switches to eval); ``labels`` are
        ignored by unconditional families.
        """
        check_latent(z, self.latent_dim, model=self.name, verb="decode")
        with self.runtime.inference():
            y = self.generate(z.to(self.device), None if labels is None else labels.to(self.device))
        return self.from_model_range(y.float())

    def discriminate(self, x: torch.Tensor, *, labels: torch.Tensor | None = None) -> torch.Tensor:
        """D's probability (N,) in (0, 1) that each image ``x`` (in [0, 1]) is real."""
        check_input(x, self.data_spec, model=self.name, verb="discriminate")
        with self.runtime.inference():
            logits = self.critic(self.to_model_range(x.to(self.device)),
                                 None if labels is None else labels.to(self.device))
        return torch.sigmoid(logits.float())

    def describe(self) -> dict[str, Any]:
        """The base description plus parameter counts of G and D."""
        out = super().describe()
        out["parameters_g"] = sum(p.numel() for p in self.generator.parameters())
        out["parameters_d"] = sum(p.numel() for p in self.discriminator.parameters())
        return out
