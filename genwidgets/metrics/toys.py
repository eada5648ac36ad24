"""Mode coverage on mixture-of-Gaussians toys (ring, grid): the VEEGAN / PacGAN protocol.

Srivastava et al. 2017, "VEEGAN: Reducing Mode Collapse in GANs using Implicit Variational
Learning", and Lin et al. 2018, "PacGAN: The power of two samples in generative adversarial
networks", score a generator on a mixture with known centres and common standard deviation σ:

* a sample is *high quality* if it lies within ``3σ`` (Euclidean distance) of its nearest mode;
* a mode is *covered* when at least one high-quality sample is nearest to it (``min_count=1``);
* *reverse KL* (PacGAN): KL(p̂ || u), where p̂ is the histogram of the high-quality samples over the
  modes they are nearest to and u the true, uniform, distribution over the K modes:
  ``sum_k p̂_k log(K p̂_k)`` with 0 log 0 = 0. It is 0 for a perfectly balanced generator and
  ``log K`` when every high-quality sample falls on one mode; it is infinite (``math.inf``) when
  there is no high-quality sample at all.

In 2-D, a sample of the true mixture lies within 3σ of its own mode with probability
``1 - exp(-4.5)`` = 98.9 %, so a perfect sampler scores about 98.9 % high quality, not 100 %.
The papers draw 2,500 samples; so does :func:`evaluate`'s default.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..errors import DataError

#: Samples drawn for toy metrics by default (as in VEEGAN and PacGAN).
DEFAULT_SAMPLES = 2500


def nearest_modes(samples: torch.Tensor | np.ndarray, modes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of each sample's nearest mode (N,) and the distance to it (N,)."""
    x = np.asarray(samples.detach().cpu().double() if isinstance(samples, torch.Tensor) else samples, np.float64)
    m = np.asarray(modes, dtype=np.float64)
    if x.ndim != 2 or m.ndim != 2 or x.shape[1] != m.shape[1]:
        raise DataError(f"samples {x.shape} and modes {m.shape} must be (N, D) and (K, D) with the same D")
    d2 = ((x[:, None, :] - m[None, :, :]) ** 2).sum(-1)  # (N, K)
    nearest = d2.argmin(1)
    return nearest, np.sqrt(d2[np.arange(len(x)), nearest])


def mode_metrics(
    samples: torch.Tensor | np.ndarray,
    modes: np.ndarray,
    std: float,
    *,
    threshold: float = 3.0,
    min_count: int = 1,
) -> dict[str, Any]:
    """Modes covered, % high-quality samples and reverse KL over modes (VEEGAN, PacGAN; see the module doc).

    Args:
        samples: Generated points (N, D).
        modes: The mixture's centres (K, D).
        std: The mixture's per-coordinate standard deviation σ.
        threshold: A sample within ``threshold * std`` of its nearest mode is high quality (3 in the papers).
        min_count: High-quality samples a mode needs to count as covered (1 here; PacGAN's grid table
            uses the same rule with 2,500 samples).

    Returns:
        ``modes_covered``, ``num_modes``, ``hq_percent`` (0-100), ``reverse_kl`` (nats), ``n`` and
        ``counts`` (high-quality samples per mode).
    """
    if std <= 0:
        raise DataError(f"std must be positive, got {std}")
    nearest, dist = nearest_modes(samples, modes)
    hq = dist <= threshold * std
    k = len(modes)
    counts = np.bincount(nearest[hq], minlength=k)
    total = int(counts.sum())
    if total:
        p = counts / total
        nz = p > 0
        reverse_kl = float((p[nz] * np.log(k * p[nz])).sum())
    else:
        reverse_kl = math.inf
    return {
        "modes_covered": int((counts >= min_count).sum()),
        "num_modes": k,
        "hq_percent": 100.0 * float(hq.mean()) if len(hq) else 0.0,
        "reverse_kl": reverse_kl,
        "n": int(len(hq)),
        "counts": counts.astype(int).tolist(),
    }
