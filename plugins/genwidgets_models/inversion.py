"""GAN inversion by optimisation: find z with G(z) close to x, so real data can be placed in a GAN's latent space.

A GAN has no encoder, but its generator can be inverted numerically (Creswell & Bharath
2018, "Inverting the Generator of a GAN"; Lipton & Tripathi 2017): start from random codes
and minimise the mean squared error between G(z) and x over z by gradient descent (Adam),
from several random starts, keeping the best code of each example.

Guarantees, so a widget can call it on a model that is training:

* the generator's parameters, gradients and batch-norm running statistics are untouched
  (it runs in eval mode, gradients are taken with respect to z only, and the previous
  train/eval mode of every submodule is restored);
* torch's global random stream is untouched (the starts come from a private generator
  seeded by ``seed``), so inverting during a run never changes what the run draws next,
  and the same call gives the same answer.

Works under ``torch.no_grad()`` callers too (it enables gradients for z internally).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch
from torch import nn

#: Defaults of :func:`invert_generator`: Adam steps, learning rate and random starts per example.
DEFAULT_STEPS = 200
DEFAULT_LR = 0.05
DEFAULT_RESTARTS = 4


@dataclasses.dataclass(frozen=True)
class InversionResult:
    """The best codes found for a batch, and how well they reconstruct it.

    Attributes:
        z: Codes (N, latent_dim), float32, detached.
        error: Mean squared error per example (N,) between G(z) and x, in data space
            (images in [0, 1], points as they are).
    """

    z: torch.Tensor
    error: torch.Tensor


def invert_generator(
    generate: Callable[[torch.Tensor], torch.Tensor],
    target: torch.Tensor,
    *,
    latent_dim: int,
    module: nn.Module,
    to_data: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    steps: int = DEFAULT_STEPS,
    lr: float = DEFAULT_LR,
    restarts: int = DEFAULT_RESTARTS,
    seed: int = 0,
) -> InversionResult:
    """Minimise ||generate(z) - target||^2 over z from ``restarts`` random starts per example.

    Args:
        generate: Maps codes (M, latent_dim) to outputs (M, *shape) in the generator's range;
            for conditional generators it closes over the labels, repeated ``restarts`` times
            (example order: restart-major, i.e. ``labels.repeat(restarts)``).
        target: The data mapped to the generator's range, (N, *shape).
        latent_dim: Size of z.
        module: The generator (or the model holding it): put in eval mode during the search.
        to_data: Maps generator outputs back to data space, for the reported error.
        x: The data in data space (N, *shape), for the reported error.
        steps: Adam steps (0 returns the best random start).
        lr: Adam learning rate for z.
        restarts: Random starts per example (z0 ~ N(0, I)); the lowest final error wins.
        seed: Seed of the private generator that draws the starts.

    Returns:
        The best code and its data-space error for each example.
    """
    if steps < 0 or restarts < 1 or not lr > 0:
        raise ValueError(f"need steps >= 0, restarts >= 1 and lr > 0; got {steps}, {restarts}, {lr}")
    n = target.shape[0]
    device = target.device
    gen = torch.Generator().manual_seed(seed)
    z0 = torch.randn(restarts * n, latent_dim, generator=gen).to(device)  # (R*N, latent_dim)
    goal = target.detach().float().repeat(restarts, *([1] * (target.dim() - 1)))  # (R*N, *shape)
    modes = {m: m.training for m in module.modules()}
    module.eval()  # batch norm uses (and does not update) its running statistics
    try:
        with torch.enable_grad():
            z = z0.clone().requires_grad_(True)
            opt = torch.optim.Adam([z], lr=lr)
            for _ in range(steps):
                # Per-example sums, so each code's gradient does not depend on the batch size.
                loss = (generate(z).float() - goal).pow(2).flatten(1).mean(1).sum()
                (grad,) = torch.autograd.grad(loss, [z])  # w.r.t. z only: nothing reaches G's .grad
                z.grad = grad
                opt.step()
        with torch.no_grad():
            z = z.detach()
            out = to_data(generate(z).float())                                 # (R*N, *shape)
            err = (out - x.float().repeat(restarts, *([1] * (x.dim() - 1)))).pow(2).flatten(1).mean(1)
            err = err.reshape(restarts, n)                                     # (R, N)
            best = err.argmin(0)                                               # (N,)
            idx = torch.arange(n, device=device)
            z_best = z.reshape(restarts, n, latent_dim)[best, idx]             # (N, latent_dim)
            return InversionResult(z=z_best.float(), error=err[best, idx].float())
    finally:
        for m, was_training in modes.items():
            m.train(was_training)
