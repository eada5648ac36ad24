"""Planes of points over 2-D data, and scoring many points in few batched forward passes.

A :class:`PlaneGrid` covers ``[x0, x1] x [y0, y1]`` with ``resolution`` cells on each side; its
points are the cell centres in row-major order, rows going up in y, so ``scores.reshape(res, res)``
is the heatmap with ``z[i, j]`` at ``(xs[j], ys[i])`` (plotly's layout of a heatmap's ``z``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

from ..errors import ConfigError, DataError

#: Largest batch one forward pass scores; a 128 x 128 grid (16,384 points) is one pass.
MAX_BATCH = 65_536


@dataclasses.dataclass(frozen=True)
class PlaneGrid:
    """A square-celled grid over a rectangle of the 2-D data plane.

    Attributes:
        x0, x1, y0, y1: The rectangle (x0 < x1, y0 < y1).
        resolution: Cells per side (the grid has ``resolution ** 2`` points).
    """

    x0: float
    x1: float
    y0: float
    y1: float
    resolution: int = 128

    def __post_init__(self) -> None:
        if not (isinstance(self.resolution, int) and 2 <= self.resolution <= 2048):
            raise ConfigError(f"resolution must be an integer in [2, 2048], got {self.resolution!r}")
        if not (np.isfinite([self.x0, self.x1, self.y0, self.y1]).all() and self.x0 < self.x1
                and self.y0 < self.y1):
            raise ConfigError(f"the grid's extent must be finite with x0 < x1 and y0 < y1, got "
                              f"[{self.x0}, {self.x1}] x [{self.y0}, {self.y1}]")

    @property
    def xs(self) -> np.ndarray:
        """Cell-centre x coordinates (resolution,), float32."""
        return _centres(self.x0, self.x1, self.resolution)

    @property
    def ys(self) -> np.ndarray:
        """Cell-centre y coordinates (resolution,), float32."""
        return _centres(self.y0, self.y1, self.resolution)

    @property
    def extent(self) -> list[float]:
        """``[x0, x1, y0, y1]``."""
        return [float(self.x0), float(self.x1), float(self.y0), float(self.y1)]

    def points(self) -> torch.Tensor:
        """All cell centres, (resolution ** 2, 2) float32, row-major with rows going up in y."""
        gx, gy = np.meshgrid(self.xs, self.ys)  # (res, res) each; row i is y = ys[i]
        return torch.from_numpy(np.stack([gx.reshape(-1), gy.reshape(-1)], axis=1))

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        """(row, column) of the cell holding the point (x, y), clamped to the grid."""
        res = self.resolution
        j = int(np.clip((x - self.x0) / (self.x1 - self.x0) * res, 0, res - 1))
        i = int(np.clip((y - self.y0) / (self.y1 - self.y0) * res, 0, res - 1))
        return i, j


def _centres(lo: float, hi: float, n: int) -> np.ndarray:
    step = (hi - lo) / n
    return (lo + step * (np.arange(n) + 0.5)).astype(np.float32)


def auto_extent(points: np.ndarray | torch.Tensor, *, margin: float = 0.25) -> list[float]:
    """A square ``[x0, x1, y0, y1]`` around 2-D ``points``, padded by ``margin`` times the larger side.

    Square, so distances look the same along both axes. Non-finite points are ignored.
    """
    p = points.detach().cpu().numpy() if isinstance(points, torch.Tensor) else np.asarray(points)
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2:
        raise DataError(f"auto_extent needs 2-D points shaped (N, 2), got {p.shape}")
    p = p[np.isfinite(p).all(axis=1)]
    if not len(p):
        return [-1.0, 1.0, -1.0, 1.0]
    lo, hi = p.min(axis=0), p.max(axis=0)
    centre, side = (lo + hi) / 2, float(max(hi - lo)) or 1.0
    half = side * (0.5 + margin)
    return [float(centre[0] - half), float(centre[0] + half), float(centre[1] - half), float(centre[1] + half)]


def per_example(scores: torch.Tensor) -> torch.Tensor:
    """Scores (N,) from what ``discriminate`` returned: (N,) as is, patch maps (N, h, w) averaged."""
    return scores.reshape(scores.shape[0], -1).float().mean(dim=1) if scores.dim() > 1 else scores.float()


def score_batched(
    score: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, *, max_batch: int = MAX_BATCH
) -> torch.Tensor:
    """``score(x)`` in as few calls as ``max_batch`` allows (one call when ``len(x) <= max_batch``).

    Returns the calls' outputs concatenated along the first axis, as float32 on the CPU.
    """
    if max_batch < 1:
        raise ConfigError(f"max_batch must be >= 1, got {max_batch!r}")
    outs = [score(x[i : i + max_batch]).detach().float().cpu() for i in range(0, len(x), max_batch)]
    return torch.cat(outs) if outs else torch.empty(0)


def score_plane(
    discriminate: Callable[..., torch.Tensor],
    grid: PlaneGrid,
    *,
    labels: torch.Tensor | None = None,
    max_batch: int = MAX_BATCH,
) -> np.ndarray:
    """Score every cell of ``grid`` with ``discriminate(x, labels=...)``: (resolution, resolution) float32.

    ``labels`` (conditional models) is one class index, repeated for every point.
    """
    pts = grid.points()

    def call(chunk: torch.Tensor) -> torch.Tensor:
        lab = None if labels is None else labels.reshape(-1)[:1].expand(len(chunk)).clone()
        return per_example(discriminate(chunk, labels=lab))

    z = score_batched(call, pts, max_batch=max_batch)
    return z.numpy().astype(np.float32).reshape(grid.resolution, grid.resolution)
