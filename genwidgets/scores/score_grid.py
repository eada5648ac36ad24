"""Real and generated examples with their discriminator scores: which samples fool D.

Real examples come from the data set (a fixed, seeded choice); generated ones from the model's
fixed noise, so the same codes are scored at every step and the grid is comparable over time.
A discriminator that returns a spatial map (PatchGAN-style, (N, h, w)) keeps its map per
example; the example's score is the map's mean.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

from ..images import to_uint8
from .grid import per_example


@dataclasses.dataclass
class ScoredExamples:
    """A batch of examples and their scores, real ones first.

    Attributes:
        images: uint8 (N, H, W, C).
        scores: float32 (N,), one per example (patch maps averaged).
        real: uint8 (N,), 1 for real examples, 0 for generated ones.
        patches: float32 (N, h, w) per-patch scores, or None when D returns one score per example.
    """

    images: np.ndarray
    scores: np.ndarray
    real: np.ndarray
    patches: np.ndarray | None = None


def score_examples(
    discriminate: Callable[..., torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    *,
    real_labels: torch.Tensor | None = None,
    fake_labels: torch.Tensor | None = None,
) -> ScoredExamples:
    """Score ``real`` and ``fake`` images (each (N, C, H, W) in [0, 1]) in one call to ``discriminate``.

    Labels (conditional models) go with their examples.
    """
    x = torch.cat([real.float().cpu(), fake.float().cpu()])
    labels = None
    if real_labels is not None and fake_labels is not None:
        labels = torch.cat([real_labels.long().cpu(), fake_labels.long().cpu()])
    raw = discriminate(x, labels=labels).detach().float().cpu()
    patches = raw.numpy().astype(np.float32) if raw.dim() == 3 else None
    return ScoredExamples(
        images=to_uint8(x),
        scores=per_example(raw).numpy().astype(np.float32),
        real=np.concatenate([np.ones(len(real), np.uint8), np.zeros(len(fake), np.uint8)]),
        patches=patches,
    )


def order(scores: np.ndarray, sort: str) -> np.ndarray:
    """Indices that put examples in ``sort`` order: ``"desc"`` (most real first), ``"asc"``, or ``"none"``."""
    if sort == "desc":
        return np.argsort(-scores, kind="stable")
    if sort == "asc":
        return np.argsort(scores, kind="stable")
    return np.arange(len(scores))
