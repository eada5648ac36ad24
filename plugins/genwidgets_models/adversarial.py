"""What every GAN in Goodfellow et al.'s (2014) family shares: the objective and its training step.

A family subclasses :class:`AdversarialModel`, returns its generator and discriminator from
:meth:`~AdversarialModel.build_networks`, and gets two Adam optimizers (``"g"`` and ``"d"``,
so ``lr_g``/``lr_d`` edits reach them), the alternating update with a live D:G step ratio,
the non-saturating generator loss, the ``sample``/``decode``/``discriminate`` verbs, and
``encode``/``invert`` by optimisation-based GAN inversion (:mod:`.inversion`).
Conditional families override :meth:`~AdversarialModel.generate` and
:meth:`~AdversarialModel.critic` to use labels; a WGAN-GP overrides
:meth:`~AdversarialModel.discriminator_objective` and :meth:`~AdversarialModel.generator_loss`
and sets ``score_kind = "critic"``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar, TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from genwidgets.config import ModelConfig, param
from genwidgets.data.base import Batch, DataSpec
from genwidgets.device import Runtime
from genwidgets.model import Capabilities, GenerativeModel

from . import inversion
from .common import as_fp32, as_scores, check_input, check_labels, check_latent, refuse_labels, seeded


@dataclasses.dataclass(frozen=True)
class AdversarialConfig(ModelConfig):
    """Fields every GAN trained with Adam shares (Radford et al.'s recipe as defaults)."""

    latent_dim: int = param(100, low=1, high=4096, help="size of the noise vector z ~ N(0, I)")
    # Learning rates may be 0: it freezes that network (train D against a fixed G, or the reverse).
    lr_g: float = param(2e-4, low=0.0, high=1.0, editable=True, help="generator Adam learning rate")
    lr_d: float = param(2e-4, low=0.0, high=1.0, editable=True, help="discriminator Adam learning rate")
    beta1: float = param(0.5, low=0.0, lt=1.0,
                         help="Adam beta1 (0.5 per Radford et al.; 0.9 destabilises)")
    beta2: float = param(0.999, low=0.0, lt=1.0, help="Adam beta2")
    d_steps: int = param(1, low=1, high=20, editable=True,
                         help="discriminator updates per generator update (the D:G step ratio)")


#: The config of a GAN family (AdversarialConfig or a subclass): ``self.config``'s type.
AdversarialConfigT = TypeVar("AdversarialConfigT", bound=AdversarialConfig)


def pack_samples(x: torch.Tensor, m: int) -> torch.Tensor:
    """PacGAN packing (Lin et al. 2018): (N, *shape) -> (N / m, m * numel), m consecutive samples per row.

    ``m = 1`` returns ``x`` unchanged. N must be a multiple of m.
    """
    if m == 1:
        return x
    n = x.shape[0]
    if n % m:
        raise ValueError(f"cannot pack {n} samples into packs of {m}: {n} is not a multiple of {m}")
    return x.reshape(n // m, -1)  # (N / m, m * numel)


class AdversarialModel(GenerativeModel[AdversarialConfigT]):
    """Base of the GAN families: a generator G(z) and a discriminator D(x) trained against each other.

    Data are mapped to the generator's range with :meth:`to_model_range` (``2x - 1`` for a
    tanh generator on images; points pass unchanged to a linear output) inside
    :meth:`train_step`, and back with :meth:`from_model_range` in the verbs, so every verb
    speaks genwidgets' data layout ([0, 1] images, raw points).
    """

    Config: ClassVar[type[ModelConfig]] = AdversarialConfig
    capabilities: ClassVar[Capabilities] = Capabilities(
        can_sample=True, can_encode=True, can_decode=True, can_discriminate=True)
    #: What ``discriminate`` returns: ``"probability"`` (D's P(real) in (0, 1)) or ``"critic"``
    #: (an unbounded score, higher = more real; widgets use a symmetric colour scale).
    score_kind: ClassVar[str] = "probability"
    #: ``encode`` inverts the generator by optimisation (see :meth:`invert`), not by an encoder network.
    encode_cost: ClassVar[str] = "optimization"

    generator: nn.Module
    discriminator: nn.Module

    def __init__(
        self, config: AdversarialConfigT, *, data_spec: DataSpec, runtime: Runtime | None = None
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
        """Map data to the generator's output range: images [0, 1] -> [-1, 1] (tanh); points unchanged."""
        return x * 2 - 1 if self.data_spec.kind == "images" else x

    def from_model_range(self, y: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`to_model_range`; images are clamped to [0, 1]."""
        return ((y + 1) / 2).clamp(0, 1) if self.data_spec.kind == "images" else y

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
        return as_scores(self.discriminator(x), x.shape[0])

    # ---- the objective ----------------------------------------------------------------------------
    def discriminator_loss(self, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
        """-[log D(x) + log(1 - D(G(z)))], as BCE with logits (Goodfellow et al., eq. 1)."""
        real_logits, fake_logits = as_fp32(real_logits), as_fp32(fake_logits)
        real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
        fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
        return real + fake

    def generator_loss(self, fake_logits: torch.Tensor) -> torch.Tensor:
        """The non-saturating loss -log D(G(z)) (Goodfellow et al., section 3)."""
        fake_logits = as_fp32(fake_logits)
        return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))

    def discriminator_objective(
        self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor | None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """D's loss on a real batch and a (detached) fake batch, both in the model range.

        Returns the loss and the raw scores ``{"real": (N,), "fake": (N,)}`` that
        :meth:`step_metrics` summarises. A WGAN-GP overrides this to add its gradient penalty.
        """
        real_logits = self.critic(real, labels)  # (N,)
        fake_logits = self.critic(fake, labels)  # (N,)
        return self.discriminator_loss(real_logits, fake_logits), {"real": real_logits, "fake": fake_logits}

    def step_metrics(self, terms: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Metrics of the last D update from :meth:`discriminator_objective`'s terms: mean D(x), mean D(G(z))."""
        return {"d_real": torch.sigmoid(as_fp32(terms["real"].detach())).mean(),
                "d_fake": torch.sigmoid(as_fp32(terms["fake"].detach())).mean()}

    def train_step(self, batch: Batch) -> dict[str, torch.Tensor | float]:
        """``d_steps`` discriminator updates on this batch (fresh noise each), then one generator update.

        Returns detached 0-dim tensors: ``loss_d``, ``loss_g`` and :meth:`step_metrics` (for
        the standard GAN ``d_real`` = mean D(x) and ``d_fake`` = mean D(G(z)), both before the
        last discriminator update). No host sync here.
        """
        cfg = self.config
        rt = self.runtime
        real = self.to_model_range(batch.x.to(self.device, non_blocking=True))  # (N, *shape), model range
        n = real.shape[0]
        labels = None
        if self.capabilities.conditional:
            labels = check_labels(batch.labels, n, self.data_spec.num_classes, model=self.name, verb="train_step",
                                  check_range=False)  # no host sync in the hot loop
            labels = labels.to(self.device, non_blocking=True)

        # (1) Update D (maximise log D(x) + log(1 - D(G(z))) for the standard GAN), d_steps times.
        for _ in range(cfg.d_steps):
            with rt.autocast():
                fake = self.generate(self.noise(n), labels)  # (N, *shape), graph kept for step (2)
                loss_d, terms = self.discriminator_objective(real, fake.detach(), labels)
            rt.backward_step(loss_d, self.optimizers["d"])

        # (2) Update G on the last fakes (as in PyTorch's dcgan example). D's gradients from
        # this pass are discarded: the next D update zeroes them first.
        with rt.autocast():
            loss_g = self.generator_loss(self.critic(fake, labels))
        rt.backward_step(loss_g, self.optimizers["g"])

        return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(), **self.step_metrics(terms)}

    # ---- the verbs --------------------------------------------------------------------------------
    def _labels(self, labels: torch.Tensor | None, n: int, verb: str) -> torch.Tensor | None:
        """Validated labels on the model's device for conditional families; refused for the others."""
        if not self.capabilities.conditional:
            refuse_labels(labels, model=self.name, verb=verb)
            return None
        return check_labels(labels, n, self.data_spec.num_classes, model=self.name, verb=verb).to(self.device)

    def sample(
        self, n: int, *, z: torch.Tensor | None = None, labels: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Draw ``n`` examples in data space (N, *shape); given ``z``, decode it instead (``n`` is ignored).

        Conditional families draw uniformly random labels when none are given.
        """
        if z is None:
            z = self.noise(n)
        if labels is None and self.capabilities.conditional:
            labels = torch.randint(self.data_spec.num_classes or 1, (z.shape[0],), device=self.device)
        return self.decode(z, labels=labels)

    def decode(self, z: torch.Tensor, *, labels: torch.Tensor | None = None) -> torch.Tensor:
        """G(z) for codes (N, latent_dim), in data space (images in [0, 1], (N, C, H, W)).

        Runs in the module's current mode (``preview`` switches to eval); ``labels`` are
        ignored by unconditional families and required by conditional ones.
        """
        check_latent(z, self.latent_dim, model=self.name, verb="decode")
        y_labels = self._labels(labels, z.shape[0], "decode")
        with self.runtime.inference():
            y = self.generate(z.to(self.device), y_labels)
        return self.from_model_range(y.float())

    def score(self, logits: torch.Tensor) -> torch.Tensor:
        """Turn D's raw outputs into what ``discriminate`` returns (see :attr:`score_kind`): sigmoid here."""
        return torch.sigmoid(logits.float())

    def discriminate(self, x: torch.Tensor, *, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Score data ``x`` (in data space): (N,), higher is more real.

        A probability in (0, 1) unless :attr:`score_kind` is ``"critic"`` (unbounded scores).
        """
        check_input(x, self.data_spec, model=self.name, verb="discriminate")
        y_labels = self._labels(labels, x.shape[0], "discriminate")
        with self.runtime.inference():
            logits = self.critic(self.to_model_range(x.to(self.device)), y_labels)
        return self.score(logits)

    def invert(
        self,
        x: torch.Tensor,
        *,
        steps: int = inversion.DEFAULT_STEPS,
        lr: float = inversion.DEFAULT_LR,
        restarts: int = inversion.DEFAULT_RESTARTS,
        labels: torch.Tensor | None = None,
        seed: int | None = None,
    ) -> inversion.InversionResult:
        """Find codes z with G(z) close to ``x`` (N, *shape) by Adam on z from ``restarts`` random starts.

        Returns the best codes (N, latent_dim) and their data-space MSE (N,). Leaves G's
        parameters, gradients, batch-norm statistics, train/eval modes and torch's global RNG
        as they were (see :mod:`.inversion`). ``seed`` defaults to ``config.seed``.
        """
        check_input(x, self.data_spec, model=self.name, verb="invert")
        x = x.to(self.device).float()
        y_labels = self._labels(labels, x.shape[0], "invert")
        rep = None if y_labels is None else y_labels.repeat(restarts)  # restart-major, like the codes

        def generate(z: torch.Tensor) -> torch.Tensor:
            with self.runtime.autocast():
                return self.generate(z, rep)

        return inversion.invert_generator(
            generate, self.to_model_range(x), latent_dim=self.latent_dim, module=self,
            to_data=self.from_model_range, x=x, steps=steps, lr=lr, restarts=restarts,
            seed=self.config.seed if seed is None else seed)

    def encode(self, x: torch.Tensor, *, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Codes (N, latent_dim) for data ``x`` by GAN inversion with the default settings (see :meth:`invert`)."""
        return self.invert(x, labels=labels).z

    def describe(self) -> dict[str, Any]:
        """The base description plus parameter counts of G and D."""
        out = super().describe()
        out["parameters_g"] = sum(p.numel() for p in self.generator.parameters())
        out["parameters_d"] = sum(p.numel() for p in self.discriminator.parameters())
        return out
