"""FID and KID (torchmetrics) in the classifier's feature space, always with the real-vs-real floor.

* FID: Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
  Equilibrium": the Fréchet distance between Gaussians fitted to real and generated features.
* KID: Bińkowski et al. 2018, "Demystifying MMD GANs": the unbiased MMD^2 with the cubic polynomial
  kernel ``(x.y / d + 1)^3``, averaged over random subsets.

Both are biased by the sample size (FID strongly), so a score means little without the value two
*disjoint real* sets of the same size get: the floor. :func:`fid_kid` reports both.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance

from ..errors import DataError
from .features import PrecomputedFeatures


def _check(real: torch.Tensor, fake: torch.Tensor) -> None:
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise DataError(f"features must be (N, d) with the same d, got {tuple(real.shape)} and {tuple(fake.shape)}")
    if len(real) < 2 or len(fake) < 2:
        raise DataError("FID/KID need at least 2 real and 2 generated examples")


def fid_from_features(real: torch.Tensor, fake: torch.Tensor) -> float:
    """FID (Heusel et al. 2017) between feature sets ``real`` (N, d) and ``fake`` (M, d), via torchmetrics."""
    _check(real, fake)
    metric = FrechetInceptionDistance(feature=PrecomputedFeatures(real.shape[1]), normalize=True)
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    return float(metric.compute())


def kid_from_features(
    real: torch.Tensor, fake: torch.Tensor, *, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """KID (Bińkowski et al. 2018) mean and std over ``subsets`` random subsets, via torchmetrics.

    ``subset_size`` is capped at the smaller set's size. The subsets are drawn from torch's global
    generator, which is seeded with ``seed`` inside a forked RNG state (the caller's is untouched).
    """
    _check(real, fake)
    size = max(2, min(subset_size, len(real), len(fake)))
    with warnings.catch_warnings():  # "will save all extracted features in buffer": they are small here
        warnings.simplefilter("ignore", UserWarning)
        metric = KernelInceptionDistance(feature=PrecomputedFeatures(real.shape[1]), subsets=subsets,
                                         subset_size=size, normalize=True)
    metric.update(real.double(), real=True)
    metric.update(fake.double(), real=False)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std)


def image_fid(real_images: torch.Tensor, fake_images: torch.Tensor, extractor: nn.Module, *,
              batch_size: int = 500) -> float:
    """FID between two image sets (N, C, H, W) in [0, 1], with ``extractor`` inside torchmetrics.

    ``extractor`` is an ``nn.Module`` mapping images to (N, d) features with a ``num_features``
    attribute, e.g. :class:`~genwidgets.metrics.features.ClassifierFeatures` (Heusel et al. 2017's FID,
    computed in that network's space).
    """
    metric = FrechetInceptionDistance(feature=extractor, normalize=True)
    for i in range(0, len(real_images), batch_size):
        metric.update(real_images[i : i + batch_size].float(), real=True)
    for i in range(0, len(fake_images), batch_size):
        metric.update(fake_images[i : i + batch_size].float(), real=False)
    return float(metric.compute())


def fid_kid(
    real: torch.Tensor,
    fake: torch.Tensor,
    real_reference: torch.Tensor,
    *,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """FID and KID of ``fake`` against ``real``, next to the floor: the same between ``real`` and ``real_reference``.

    All three are feature sets (N, d); ``real_reference`` must be real examples disjoint from ``real``
    and the same size as ``fake`` (the floor is only comparable at the same sample size). FID after
    Heusel et al. 2017, KID after Bińkowski et al. 2018.

    Returns:
        ``fid``, ``fid_floor``, ``fid_ratio`` (fid / fid_floor), ``kid``, ``kid_std``, ``kid_floor``,
        ``kid_floor_std`` and ``n`` (the generated sample size).
    """
    if len(real_reference) != len(fake):
        raise DataError(f"the floor needs as many real reference examples as generated ones "
                        f"({len(real_reference)} != {len(fake)})")
    fid = fid_from_features(real, fake)
    floor = fid_from_features(real, real_reference)
    kid, kid_std = kid_from_features(real, fake, subsets=kid_subsets, subset_size=kid_subset_size, seed=seed)
    kid_floor, kid_floor_std = kid_from_features(real, real_reference, subsets=kid_subsets,
                                                 subset_size=kid_subset_size, seed=seed)
    return {
        "n": len(fake),
        "fid": fid,
        "fid_floor": floor,
        "fid_ratio": fid / floor if floor > 0 else math.inf,
        "kid": kid,
        "kid_std": kid_std,
        "kid_floor": kid_floor,
        "kid_floor_std": kid_floor_std,
    }
