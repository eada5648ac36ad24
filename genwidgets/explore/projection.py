"""Projections of latent codes to a 2-D map, and their inverse: lift a map point back to a full code.

A map point fixes only two numbers of a code. :meth:`Projection.lift` takes the rest from a
*base* code: the code of the nearest data point on the map (``fill="nearest"``) or the centre
of the map's codes (``fill="zero"``: zero in the projection's own coordinates). Lifting then
projecting gives the map point back exactly.
"""

from __future__ import annotations

import abc
from typing import Literal

import numpy as np

from ..errors import ConfigError

#: How lifting fills the components a map point does not fix.
Fill = Literal["nearest", "zero"]
FILLS: tuple[str, ...] = ("nearest", "zero")


class Projection(abc.ABC):
    """A linear map from codes (N, d) to map points (N, 2), with a right inverse given a base code."""

    #: Latent size this projection was made for.
    latent_dim: int

    @abc.abstractmethod
    def project(self, codes: np.ndarray) -> np.ndarray:
        """Map points (N, 2) float32 of codes (N, d)."""

    @abc.abstractmethod
    def lift(self, point: np.ndarray, base: np.ndarray) -> np.ndarray:
        """The code (d,) that projects to ``point`` (2,) and agrees with ``base`` (d,) off the map's plane."""

    @abc.abstractmethod
    def centre(self) -> np.ndarray:
        """The code (d,) whose map coordinates and off-plane components are all zero in this projection."""

    @abc.abstractmethod
    def axis_titles(self) -> tuple[str, str]:
        """Labels of the map's x and y axes."""

    def describe(self) -> str:
        """One line for the widget's legend, e.g. ``'PCA: 62 % of variance'``."""
        return " / ".join(self.axis_titles())


class PCAProjection(Projection):
    """The two principal components of a set of codes (an orthonormal plane through their mean).

    Args:
        codes: (N, d) codes to fit, N >= 1. With d == 1 the map's y is always 0.
    """

    def __init__(self, codes: np.ndarray) -> None:
        codes = _as_codes(codes)
        self.latent_dim = codes.shape[1]
        self.mean = codes.mean(axis=0)
        centred = codes - self.mean
        # Right singular vectors = principal directions, ordered by explained variance.
        _, s, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
        k = min(2, self.latent_dim)
        components = np.zeros((2, self.latent_dim))
        components[:k] = vt[:k]
        for i in range(k):  # a deterministic sign: the largest entry of each direction is positive
            if components[i, np.argmax(np.abs(components[i]))] < 0:
                components[i] = -components[i]
        self.components = components  # (2, d), orthonormal rows (a zero row when d == 1)
        variance = s.astype(np.float64) ** 2
        total = float(variance.sum())
        self.explained = [float(v / total) if total > 0 else 0.0 for v in variance[:k]] + [0.0] * (2 - k)

    def project(self, codes: np.ndarray) -> np.ndarray:
        """Coordinates of ``codes`` along the two principal directions (relative to the mean)."""
        codes = _as_codes(codes, self.latent_dim)
        return ((codes - self.mean) @ self.components.T).astype(np.float32)

    def lift(self, point: np.ndarray, base: np.ndarray) -> np.ndarray:
        """``base`` moved within the principal plane until it projects to ``point``."""
        point = np.asarray(point, dtype=np.float64).reshape(2)
        base = np.asarray(base, dtype=np.float64).reshape(self.latent_dim)
        delta = point - (base - self.mean) @ self.components.T
        return (base + delta @ self.components).astype(np.float32)

    def centre(self) -> np.ndarray:
        """The mean of the fitted codes."""
        return self.mean.astype(np.float32)

    def axis_titles(self) -> tuple[str, str]:
        """``('PC 1 (41 %)', 'PC 2 (22 %)')``: each axis with its share of the codes' variance."""
        return (f"PC 1 ({100 * self.explained[0]:.0f} %)", f"PC 2 ({100 * self.explained[1]:.0f} %)")

    def describe(self) -> str:
        """``'PCA of the codes: 63 % of their variance'``."""
        return f"PCA of the codes: {100 * sum(self.explained):.0f} % of their variance"


class AxisProjection(Projection):
    """Two chosen latent dimensions as the map's axes.

    Args:
        latent_dim: Size of the codes.
        dims: The two dimensions (distinct, in ``[0, latent_dim)``) for x and y.
    """

    def __init__(self, latent_dim: int, dims: tuple[int, int] | list[int]) -> None:
        dims = tuple(int(d) for d in dims)
        if len(dims) != 2 or dims[0] == dims[1] or not all(0 <= d < latent_dim for d in dims):
            raise ConfigError(
                f"dims must be two different latent dimensions in [0, {latent_dim}), got {list(dims)}; "
                "for example dims=(0, 1)")
        self.latent_dim = int(latent_dim)
        self.dims = dims

    def project(self, codes: np.ndarray) -> np.ndarray:
        """The two chosen coordinates of ``codes``."""
        codes = _as_codes(codes, self.latent_dim)
        return codes[:, list(self.dims)].astype(np.float32)

    def lift(self, point: np.ndarray, base: np.ndarray) -> np.ndarray:
        """``base`` with its two chosen coordinates set to ``point``."""
        z = np.array(base, dtype=np.float32).reshape(self.latent_dim)
        z[list(self.dims)] = np.asarray(point, dtype=np.float32).reshape(2)
        return z

    def centre(self) -> np.ndarray:
        """The zero code (the prior's mean)."""
        return np.zeros(self.latent_dim, dtype=np.float32)

    def axis_titles(self) -> tuple[str, str]:
        """``('z[3]', 'z[7]')``."""
        return (f"z[{self.dims[0]}]", f"z[{self.dims[1]}]")


def make_projection(codes: np.ndarray, dims: tuple[int, int] | list[int] | None) -> Projection:
    """PCA of ``codes`` when ``dims`` is None, else the two latent dimensions ``dims``."""
    codes = _as_codes(codes)
    return PCAProjection(codes) if dims is None else AxisProjection(codes.shape[1], dims)


def nearest_index(points: np.ndarray, point: np.ndarray) -> int:
    """Index of the map point (rows of ``points``, (N, 2)) nearest to ``point`` (2,)."""
    if not len(points):
        raise ValueError("the map has no points")
    d = np.square(points - np.asarray(point, dtype=np.float32).reshape(1, 2)).sum(axis=1)
    return int(np.argmin(d))


def check_fill(fill: str) -> str:
    """``fill`` if it is one of :data:`FILLS`, else a ConfigError naming the choices."""
    if fill not in FILLS:
        raise ConfigError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")
    return fill


def _as_codes(codes: np.ndarray, latent_dim: int | None = None) -> np.ndarray:
    codes = np.asarray(codes, dtype=np.float32)
    if codes.ndim != 2 or not len(codes) or (latent_dim is not None and codes.shape[1] != latent_dim):
        want = f"(N, {latent_dim})" if latent_dim is not None else "(N, latent_dim) with N >= 1"
        raise ValueError(f"codes must be a 2-D array {want}, got shape {codes.shape}")
    if not np.isfinite(codes).all():
        raise ValueError("codes contain NaN or infinity; the model may have diverged (check its losses)")
    return codes
