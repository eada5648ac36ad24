"""Which latent dimensions matter: ranked by mean KL to the prior when known, else by variance."""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class DimRanking:
    """Latent dimensions, most informative first.

    Attributes:
        order: Dimension indices, best first.
        scores: The measure of each dimension in ``order``.
        measure: What the scores are: ``"KL (nats)"`` (mean KL(q(z_j|x) || N(0, 1)); collapsed
            dimensions score ~0) or ``"variance"`` (of the map's codes along the dimension).
    """

    order: list[int]
    scores: list[float]
    measure: str

    def top(self, k: int) -> list[int]:
        """The ``k`` best dimensions."""
        return self.order[: max(0, k)]


def rank_dims(codes: np.ndarray, kl: np.ndarray | None = None) -> DimRanking:
    """Rank the dimensions of ``codes`` (N, d) by ``kl`` (d,) when given, else by variance."""
    if kl is not None:
        values, measure = np.asarray(kl, dtype=np.float64), "KL (nats)"
    else:
        values, measure = np.asarray(codes, dtype=np.float64).var(axis=0), "variance"
    order = [int(i) for i in np.argsort(-values, kind="stable")]
    return DimRanking(order=order, scores=[float(values[i]) for i in order], measure=measure)
