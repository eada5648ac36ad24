"""Where the generator wants to move its samples, for 2-D data: the GAN Lab arrows.

The generator lowers its loss by moving each sample ``x = G(z)`` along the gradient of what it
maximises: ``log D(x)`` for the non-saturating loss ``-log D(G(z))`` (probability
discriminators), the critic score ``f(x)`` for WGAN critics. That gradient, taken in data space
at the generated points, is what the arrows show.

It is computed from the ``discriminate`` verb alone, by central finite differences in one batched
call (``2 * D`` shifted copies of every point): the verb is the only thing every model promises,
and it may run under ``torch.no_grad`` (the built-in GANs' does), so autograd through it is not
available. With a step of a thousandth of the plane, the difference from the analytic gradient is
far below what an arrow can show (tested against autograd on a real discriminator).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .grid import per_example


def objective(scores: torch.Tensor, score_kind: str) -> torch.Tensor:
    """What the generator maximises at a point, from ``discriminate``'s scores: log D(x), or f(x) for critics."""
    s = scores.double()
    if score_kind == "probability":
        return torch.log(s.clamp_min(1e-30))
    return s


def generator_direction(
    discriminate: Callable[..., torch.Tensor],
    x: torch.Tensor,
    *,
    score_kind: str,
    step: float,
    labels: torch.Tensor | None = None,
) -> np.ndarray:
    """The gradient (N, D) of the generator's objective (see :func:`objective`) at points ``x`` (N, D).

    One call to ``discriminate`` scores all ``2 * N * D`` shifted points; ``step`` is the
    finite-difference step in data units.
    """
    x = x.detach().float().cpu()
    n, d = x.shape
    if n == 0:
        return np.zeros((0, d), np.float32)
    eye = torch.eye(d) * step                                          # (D, D)
    shifted = torch.cat([x[:, None, :] + eye, x[:, None, :] - eye], 1)  # (N, 2D, D)
    flat = shifted.reshape(n * 2 * d, d)
    lab = None if labels is None else labels.reshape(-1, 1).expand(n, 2 * d).reshape(-1)
    scores = per_example(discriminate(flat, labels=lab)).cpu().reshape(n, 2 * d)
    obj = objective(scores, score_kind)
    grad = (obj[:, :d] - obj[:, d:]) / (2 * step)                      # (N, D)
    return np.nan_to_num(grad.numpy()).astype(np.float32)


def arrow_segments(points: np.ndarray, grad: np.ndarray, *, length: float) -> np.ndarray:
    """Arrows (N, 4) ``[x, y, dx, dy]``: from each point along its gradient, the longest ``length`` long.

    Lengths are relative (the largest gradient gets ``length``), so a frame shows where the
    generator pushes hardest; zero gradients give zero-length arrows.
    """
    norms = np.linalg.norm(grad, axis=1)
    top = float(norms.max()) if len(norms) else 0.0
    scaled = grad * (length / top) if top > 0 else np.zeros_like(grad)
    return np.concatenate([points[:, :2], scaled[:, :2]], axis=1).astype(np.float32)
