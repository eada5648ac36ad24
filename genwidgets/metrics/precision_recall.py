"""Improved precision and recall (Kynkäänniemi et al. 2019), k-NN manifolds in a feature space.

Kynkäänniemi, Karras, Laine, Lehtinen & Aila 2019, "Improved Precision and Recall Metric for
Assessing Generative Models" (NeurIPS): each set's manifold is the union of balls around its
points whose radius is the distance to the point's k-th nearest neighbour in the same set
(k = 3 in the paper). Precision is the fraction of generated points inside the real manifold;
recall the fraction of real points inside the generated manifold.
"""

from __future__ import annotations

import torch

from ..errors import DataError


def knn_radii(features: torch.Tensor, k: int = 3, *, batch_size: int = 1024) -> torch.Tensor:
    """Distance from each row of ``features`` (N, d) to its ``k``-th nearest other row (N,).

    The point itself (distance 0) is not counted, as in the paper's reference code.
    """
    if not 1 <= k < len(features):
        raise DataError(f"k must lie in [1, {len(features) - 1}] for {len(features)} points, got {k}")
    f = features.double()
    out = []
    for i in range(0, len(f), batch_size):
        d = torch.cdist(f[i : i + batch_size], f)  # (b, N)
        out.append(d.kthvalue(k + 1, dim=1).values)  # the smallest is the point itself
    return torch.cat(out)


def manifold_coverage(
    manifold: torch.Tensor, radii: torch.Tensor, queries: torch.Tensor, *, batch_size: int = 1024
) -> torch.Tensor:
    """Boolean (M,): whether each query lies within ``radii[j]`` of some manifold point ``j``."""
    m = manifold.double()
    r = radii.double()
    out = []
    for i in range(0, len(queries), batch_size):
        d = torch.cdist(queries[i : i + batch_size].double(), m)  # (b, N)
        out.append((d <= r[None, :]).any(dim=1))
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.bool)


def precision_recall(
    real: torch.Tensor, fake: torch.Tensor, *, k: int = 3, batch_size: int = 1024
) -> dict[str, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of ``fake`` against ``real`` features.

    Args:
        real: Real features (N, d).
        fake: Generated features (M, d), in the same space (ideally N == M, as in the paper).
        k: Neighbourhood size of the k-NN radii (3 in the paper).
        batch_size: Rows per ``torch.cdist`` block (memory is ``batch_size * max(N, M)`` doubles).

    Returns:
        ``precision``, ``recall`` (in [0, 1]) and ``k``.
    """
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise DataError(f"features must be (N, d) with the same d, got {tuple(real.shape)} and {tuple(fake.shape)}")
    real_radii = knn_radii(real, k, batch_size=batch_size)
    fake_radii = knn_radii(fake, k, batch_size=batch_size)
    precision = manifold_coverage(real, real_radii, fake, batch_size=batch_size).double().mean()
    recall = manifold_coverage(fake, fake_radii, real, batch_size=batch_size).double().mean()
    return {"precision": float(precision), "recall": float(recall), "k": k}
