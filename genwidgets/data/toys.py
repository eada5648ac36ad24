"""2-D toy point sets: mixtures of Gaussians (ring, grid), two moons and a swiss roll.

All are generated from a ``seed`` in milliseconds, so nothing is stored or downloaded.
The mixtures keep their mode centres (``modes``) and width (``mode_std``) so metrics can
count how many modes a generator covers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from .base import TensorData

#: Default number of points in every toy set.
DEFAULT_N = 10_000


class MixtureData(TensorData):
    """Points drawn from an equal-weight mixture of isotropic Gaussians.

    Attributes:
        modes: ``(K, 2)`` float64 array of mode centres; ``labels[i]`` indexes it.
        mode_std: Standard deviation of every mode (same in each coordinate).
    """

    def __init__(
        self,
        x: torch.Tensor,
        labels: torch.Tensor,
        *,
        modes: np.ndarray,
        mode_std: float,
        name: str,
        description: str,
    ) -> None:
        super().__init__(
            x,
            labels,
            kind="points",
            name=name,
            description=description,
            num_classes=len(modes),
            class_names=[str(k) for k in range(len(modes))],
        )
        self.modes = np.asarray(modes, dtype=np.float64)
        self.mode_std = float(mode_std)


def _check_n(n: int) -> int:
    from ..errors import DataError

    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise DataError(f"n must be a positive integer number of points, got {n!r}")
    return int(n)


def gaussian_mixture(
    modes: np.ndarray | Sequence[Sequence[float]],
    std: float,
    *,
    n: int = DEFAULT_N,
    seed: int = 0,
    name: str = "mixture",
    description: str = "",
) -> MixtureData:
    """Sample ``n`` points from equal-weight Gaussians at ``modes`` with standard deviation ``std``.

    Every mode gets ``n // K`` or ``n // K + 1`` points (exactly balanced), in shuffled order;
    labels are the mode indices.
    """
    n = _check_n(n)
    centres = np.asarray(modes, dtype=np.float64)
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % len(centres))
    points = centres[labels] + rng.normal(0.0, std, size=(n, centres.shape[1]))
    return MixtureData(
        torch.from_numpy(points.astype(np.float32)),
        torch.from_numpy(labels.astype(np.int64)),
        modes=centres,
        mode_std=std,
        name=name,
        description=description,
    )


def ring_modes(k: int = 8, radius: float = 1.0) -> np.ndarray:
    """Centres of ``k`` modes evenly spaced on a circle of ``radius``, the first at angle 0."""
    angles = 2.0 * math.pi * np.arange(k) / k
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_modes(values: Sequence[float] = (-4.0, -2.0, 0.0, 2.0, 4.0)) -> np.ndarray:
    """Centres of a square grid of modes, ``values`` x ``values`` (row-major: x outer, y inner)."""
    v = np.asarray(values, dtype=np.float64)
    xx, yy = np.meshgrid(v, v, indexing="ij")
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


def ring(
    *, n: int = DEFAULT_N, seed: int = 0, std: float = 0.01, k: int = 8, radius: float = 1.0
) -> MixtureData:
    """8 Gaussians on the unit circle with std 0.01 (the Unrolled GAN / VEEGAN mode-collapse benchmark)."""
    return gaussian_mixture(
        ring_modes(k, radius),
        std,
        n=n,
        seed=seed,
        name="ring",
        description=f"{k} Gaussians (std {std:g}) on a circle of radius {radius:g}; labels are mode indices",
    )


def grid(*, n: int = DEFAULT_N, seed: int = 0, std: float = 0.05) -> MixtureData:
    """25 Gaussians on {-4,-2,0,2,4}^2 with std 0.05 (the VEEGAN / PacGAN grid benchmark)."""
    return gaussian_mixture(
        grid_modes(),
        std,
        n=n,
        seed=seed,
        name="grid",
        description=f"25 Gaussians (std {std:g}) on the grid {{-4,-2,0,2,4}}^2; labels are mode indices",
    )


def moons(*, n: int = DEFAULT_N, seed: int = 0, noise: float = 0.05) -> TensorData:
    """Two interleaving half circles (scikit-learn's ``make_moons``), labels 0/1 by moon.

    Coordinates are scikit-learn's: x in about [-1, 2], y in about [-0.5, 1].
    """
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=_check_n(n), noise=noise, random_state=seed, shuffle=True)
    return TensorData(
        torch.from_numpy(x.astype(np.float32)),
        torch.from_numpy(y.astype(np.int64)),
        kind="points",
        name="moons",
        description=f"two interleaving half circles (noise {noise:g}); labels are the moon (0/1)",
        num_classes=2,
        class_names=["upper", "lower"],
    )


#: Largest |coordinate| of a noise-free swiss roll (t <= 4.5 pi); dividing by it maps into [-1, 1].
SWISSROLL_SCALE = 4.5 * math.pi


def swissroll(*, n: int = DEFAULT_N, seed: int = 0, noise: float = 0.25) -> TensorData:
    """A 2-D swiss roll: scikit-learn's ``make_swiss_roll`` (x, z columns), scaled into about [-1, 1].

    Unlabelled. ``noise`` is in the original units (before dividing by ``4.5 * pi``).
    """
    from sklearn.datasets import make_swiss_roll

    x3, _ = make_swiss_roll(n_samples=_check_n(n), noise=noise, random_state=seed)
    x = x3[:, [0, 2]] / SWISSROLL_SCALE
    return TensorData(
        torch.from_numpy(x.astype(np.float32)),
        kind="points",
        name="swissroll",
        description=f"2-D swiss roll (noise {noise:g}), scaled into about [-1, 1]; unlabelled",
    )
