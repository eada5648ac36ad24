"""The feature extractor torchmetrics' FID/KID run on: the classifier's penultimate layer.

torchmetrics' ``FrechetInceptionDistance(feature=module)`` and ``KernelInceptionDistance``
accept any ``nn.Module``; it is called as ``module(imgs)`` on exactly what is passed to
``update`` (with a custom module, ``normalize`` does not rescale anything) and must return
``(N, num_features)``. A ``num_features`` attribute spares torchmetrics its probe with a random
(1, 3, 299, 299) image, which would not fit a 28x28 greyscale classifier.
"""

from __future__ import annotations

import torch
from torch import nn

from .classifier import ImageClassifier


class ClassifierFeatures(nn.Module):
    """Images (N, C, H, W) in [0, 1] -> the classifier's penultimate features (N, num_features), float32.

    Heusel et al. (2017) define FID on Inception-v3 pool features; here the same Fréchet distance is
    measured in the feature space of :class:`~genwidgets.metrics.classifier.ImageClassifier`, trained on
    the data set itself (no weights are downloaded). The wrapped network is frozen and always in eval
    mode; gradients are never computed.
    """

    def __init__(self, classifier: ImageClassifier) -> None:
        super().__init__()
        self.classifier = classifier.eval().requires_grad_(False)
        self.num_features = int(classifier.num_features)

    def train(self, mode: bool = True) -> ClassifierFeatures:
        """Stay in eval mode whatever torchmetrics asks (the extractor is fixed)."""
        super().train(False)
        return self

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Features of ``images`` (N, C, H, W), float in [0, 1] (uint8 in [0, 255] is rescaled)."""
        if images.dtype == torch.uint8:
            images = images.float() / 255.0
        device = next(self.classifier.parameters()).device
        return self.classifier.features(images.to(device).float()).float()


class PrecomputedFeatures(nn.Module):
    """Identity "extractor" for features computed once and reused (the real set, the floor, P&R).

    Passing features through torchmetrics this way gives exactly the numbers it computes with
    :class:`ClassifierFeatures` on the images (tested), without running the classifier twice.
    """

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = int(num_features)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Return ``features`` (N, num_features) unchanged."""
        return features


@torch.no_grad()
def extract_features(extractor: nn.Module, images: torch.Tensor, *, batch_size: int = 500) -> torch.Tensor:
    """Run ``extractor`` over ``images`` in batches; returns CPU float32 features (N, num_features)."""
    out = [extractor(images[i : i + batch_size]).float().cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(out) if out else torch.zeros(0, int(getattr(extractor, "num_features", 0)))
