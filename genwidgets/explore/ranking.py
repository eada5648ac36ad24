"""Which latent dimensions matter: ranked by mean KL to the prior when known, else by their effect on the output.

* A model with a Gaussian posterior (a VAE) ranks by the mean KL(q(z_j|x) || N(0, 1)): dimensions
  the encoder does not use score ~0 (the standard diagnostic of posterior collapse).
* Any other model that decodes (a GAN) ranks by how much its output moves when one coordinate
  moves: the root-mean-square change of the output per unit of ``z_j``, by central differences
  at a few codes of the map (:func:`output_effect`). The variance of prior codes says nothing
  (every coordinate of N(0, I) has variance 1); the effect says which sliders do something.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

#: Codes of the map at which :func:`output_effect` measures each dimension's effect.
EFFECT_CODES = 8
#: Half the step of the central difference, in the prior's units.
EFFECT_DELTA = 0.5
#: What :func:`output_effect` scores are called on the sliders.
EFFECT_MEASURE = "output change per unit"


@dataclasses.dataclass(frozen=True)
class DimRanking:
    """Latent dimensions, most informative first.

    Attributes:
        order: Dimension indices, best first.
        scores: The measure of each dimension in ``order``.
        measure: What the scores are: ``"KL (nats)"`` (mean KL(q(z_j|x) || N(0, 1)); collapsed
            dimensions score ~0), :data:`EFFECT_MEASURE` (RMS change of the output per unit of
            ``z_j``) or ``"variance"`` (of the map's codes along the dimension).
    """

    order: list[int]
    scores: list[float]
    measure: str

    def top(self, k: int) -> list[int]:
        """The ``k`` best dimensions."""
        return self.order[: max(0, k)]


def rank_dims(codes: np.ndarray, kl: np.ndarray | None = None, effect: np.ndarray | None = None) -> DimRanking:
    """Rank the dimensions of ``codes`` (N, d) by ``kl`` (d,) when given, else ``effect`` (d,), else variance."""
    if kl is not None:
        values, measure = np.asarray(kl, dtype=np.float64), "KL (nats)"
    elif effect is not None:
        values, measure = np.asarray(effect, dtype=np.float64), EFFECT_MEASURE
    else:
        values, measure = np.asarray(codes, dtype=np.float64).var(axis=0), "variance"
    order = [int(i) for i in np.argsort(-values, kind="stable")]
    return DimRanking(order=order, scores=[float(values[i]) for i in order], measure=measure)


def output_effect(decode: Callable[[np.ndarray, np.ndarray | None], np.ndarray], codes: np.ndarray,
                  labels: np.ndarray | None = None, *, n: int = EFFECT_CODES,
                  delta: float = EFFECT_DELTA) -> np.ndarray:
    """Per dimension, the RMS change of the output per unit of ``z_j`` (d,), by central differences.

    Args:
        decode: Codes (k, d) and labels (k,) or None -> outputs (k, ...) as floats.
        codes: The map's codes (N, d); the first ``n`` are the points of measurement.
        labels: The codes' labels (conditional models), or None.
        n: Codes to average over (``2 * n * d`` outputs are decoded).
        delta: Each coordinate moves by ``±delta``.
    """
    base = np.asarray(codes[:n], dtype=np.float32)
    m, d = base.shape
    steps = np.zeros((d, 1, d), dtype=np.float32)
    steps[np.arange(d), 0, np.arange(d)] = delta
    # (2, d, m, d): for each sign and dimension, every base code moved along that dimension.
    moved = np.stack([base[None] + steps, base[None] - steps])
    moved_labels = None if labels is None else np.broadcast_to(np.asarray(labels[:n]), (2, d, m)).reshape(-1)
    out = np.asarray(decode(moved.reshape(-1, d), moved_labels), dtype=np.float64).reshape(2, d, m, -1)
    change = np.sqrt(np.square(out[0] - out[1]).mean(axis=2)) / (2 * delta)  # (d, m)
    return change.mean(axis=1)
