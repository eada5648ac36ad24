"""Paths through latent space: interpolations between two codes and per-dimension traversals."""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..errors import ConfigError

Mode = Literal["linear", "spherical"]
MODES: tuple[str, ...] = ("linear", "spherical")


def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points ``(1 - t) a + t b`` for each ``t``: (len(t), d)."""
    a, b, t = _prep(a, b, t)
    return ((1 - t) * a + t * b).astype(np.float32)


def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation (White 2016, "Sampling Generative Networks"), (len(t), d).

    Moves along the great circle between the directions of ``a`` and ``b``, with the norm
    interpolated linearly. Falls back to :func:`lerp` when the two are (anti-)parallel or one is zero.
    """
    a, b, t = _prep(a, b, t)
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    if na == 0 or nb == 0:
        return lerp(a[0], b[0], t[:, 0])
    cos = float(np.clip(np.dot(a[0] / na, b[0] / nb), -1.0, 1.0))
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        return lerp(a[0], b[0], t[:, 0])
    direction = (np.sin((1 - t) * omega) * (a / na) + np.sin(t * omega) * (b / nb)) / np.sin(omega)
    return (direction * ((1 - t) * na + t * nb)).astype(np.float32)


def interpolate(a: np.ndarray, b: np.ndarray, steps: int, mode: str = "linear") -> np.ndarray:
    """``steps`` codes from ``a`` to ``b`` (both ends included), linear or spherical."""
    if mode not in MODES:
        raise ConfigError(f"interpolation mode must be one of {', '.join(MODES)}, got {mode!r}")
    if not 2 <= steps <= 64:
        raise ConfigError(f"interpolation steps must be in [2, 64], got {steps}")
    t = np.linspace(0.0, 1.0, steps)
    return lerp(a, b, t) if mode == "linear" else slerp(a, b, t)


def traversal(z: np.ndarray, dims: list[int], values: np.ndarray) -> np.ndarray:
    """The classic traversal grid of codes, (len(dims) * len(values), d).

    For each dim in ``dims`` one row of codes equal to ``z`` except that dimension, which takes
    each of ``values`` in turn.
    """
    z = np.asarray(z, dtype=np.float32).reshape(-1)
    values = np.asarray(values, dtype=np.float32).reshape(-1)
    if any(not 0 <= d < len(z) for d in dims):
        raise ConfigError(f"traversal dims must be in [0, {len(z)}), got {dims}")
    grid = np.repeat(z[None, :], len(dims) * len(values), axis=0)
    for row, d in enumerate(dims):
        grid[row * len(values):(row + 1) * len(values), d] = values
    return grid


def _prep(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a = np.asarray(a, dtype=np.float64).reshape(1, -1)
    b = np.asarray(b, dtype=np.float64).reshape(1, -1)
    if a.shape != b.shape:
        raise ValueError(f"cannot interpolate between codes of sizes {a.shape[1]} and {b.shape[1]}")
    return a, b, np.asarray(t, dtype=np.float64).reshape(-1, 1)
