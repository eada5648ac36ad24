"""Models with a latent space but fewer verbs, as a third party might write them (for explorer tests)."""

from __future__ import annotations

import dataclasses

import torch

from genwidgets import Capabilities, GenerativeModel, ModelConfig


@dataclasses.dataclass(frozen=True)
class DecoderOnlyConfig(ModelConfig):
    """A latent size and nothing else."""

    latent_dim: int = 3


class DecoderOnly(GenerativeModel):
    """A linear map from a 3-D latent space to 2-D points: decodes, cannot encode."""

    name = "decoder_only"
    paper = "test double"
    Config = DecoderOnlyConfig
    capabilities = Capabilities(can_sample=True, can_decode=True)
    data_kinds = ("points",)

    def __init__(self, config, *, data_spec, runtime=None):
        super().__init__(config, data_spec=data_spec, runtime=runtime)
        self.net = torch.nn.Linear(config.latent_dim, data_spec.shape[0])

    def train_step(self, batch):
        return {"loss": 0.0}

    def decode(self, z, *, labels=None):
        return self.net(z.to(self.device))

    def sample(self, n, *, z=None, labels=None):
        return self.decode(torch.randn(n, self.latent_dim) if z is None else z)


class SampleOnly(DecoderOnly):
    """Samples, but has no decode verb: there is no latent space to explore."""

    name = "sample_only"
    capabilities = Capabilities(can_sample=True)
    decode = GenerativeModel.decode
