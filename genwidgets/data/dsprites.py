"""dSprites, rendered on demand: 737,280 binary 64x64 sprites with known generating factors.

The factor grid and example order match DeepMind's ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz``
(colour fixed to white): flat index = ((((shape * 6 + scale) * 40 + orientation) * 32 + posX) * 32 + posY).
Images are not stored (that would be 3 GB); each batch is rasterised with vectorised point-in-shape
tests on a 64x64 grid. The geometry is a faithful re-creation, not a pixel copy, of the original.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..errors import DataError
from .base import Batch, DataSpec, GenData

FACTOR_NAMES: tuple[str, ...] = ("shape", "scale", "orientation", "posX", "posY")
FACTOR_SIZES: tuple[int, ...] = (3, 6, 40, 32, 32)
SHAPE_NAMES: tuple[str, ...] = ("square", "ellipse", "heart")
IMAGE_SIZE = 64
#: Radius (in pixels) of the circle that holds every shape at scale 1, whatever its orientation.
SPRITE_RADIUS = 10.0
#: Gap (in pixels) between that circle and the image border at the extreme positions.
BORDER = 1.0
#: Sprites rasterised at once: 64 windows of 22x22 stay under torch's parallel grain (32768 elements),
#: so rendering runs single-threaded and never waits on busy OpenMP threads.
RENDER_CHUNK = 64

#: The values each factor takes, as in the original ``latents_possible_values`` (shape 1..3).
FACTOR_VALUES: dict[str, np.ndarray] = {
    "shape": np.array([1.0, 2.0, 3.0]),
    "scale": np.linspace(0.5, 1.0, 6),
    "orientation": np.linspace(0.0, 2.0 * math.pi, 40),
    "posX": np.linspace(0.0, 1.0, 32),
    "posY": np.linspace(0.0, 1.0, 32),
}

_STRIDES = tuple(int(np.prod(FACTOR_SIZES[i + 1 :])) for i in range(len(FACTOR_SIZES)))
_SIZE = int(np.prod(FACTOR_SIZES))


def decode_index(indices: torch.Tensor) -> torch.Tensor:
    """Flat example indices ``(B,)`` -> factor indices ``(B, 5)`` in :data:`FACTOR_NAMES` order."""
    idx = torch.as_tensor(indices, dtype=torch.int64, device="cpu").reshape(-1)
    if len(idx) and (int(idx.min()) < 0 or int(idx.max()) >= _SIZE):
        lo, hi = int(idx.min()), int(idx.max())
        raise DataError(f"dSprites indices must lie in [0, {_SIZE}), got values in [{lo}, {hi}]")
    sizes = torch.tensor(FACTOR_SIZES)
    strides = torch.tensor(_STRIDES)
    return (idx[:, None] // strides) % sizes


def encode_index(codes: torch.Tensor) -> torch.Tensor:
    """Factor indices ``(B, 5)`` in :data:`FACTOR_NAMES` order -> flat example indices ``(B,)``."""
    c = torch.as_tensor(codes, dtype=torch.int64).reshape(-1, len(FACTOR_SIZES))
    sizes = torch.tensor(FACTOR_SIZES)
    if len(c) and (bool((c < 0).any()) or bool((c >= sizes).any())):
        raise DataError(f"dSprites factor indices must lie in [0, size) for sizes {FACTOR_SIZES}")
    return (c * torch.tensor(_STRIDES)).sum(dim=1)


def _inside(shape: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Point-in-shape test in sprite units (every shape fits in the unit circle), ``v`` pointing up."""
    square = torch.maximum(u.abs(), v.abs()) <= 1.0 / math.sqrt(2.0)
    ellipse = u.square() + (2.0 * v).square() <= 1.0
    # Classic implicit heart (x^2 + y^2 - 1)^3 <= x^2 y^3; it spans x in [-1.14, 1.14], y in [-1, 1.24]
    # and fits a circle of radius 1.25 centred at (0, 0.25), hence the rescaling.
    hx, hy = 1.25 * u, 1.25 * v + 0.25
    heart = (hx.square() + hy.square() - 1.0).pow(3) <= hx.square() * hy.pow(3)
    s = shape[:, None, None]
    return torch.where(s == 0, square, torch.where(s == 1, ellipse, heart))


def render(codes: torch.Tensor, device: torch.device | str = "cpu") -> torch.Tensor:
    """Rasterise sprites given factor indices ``(B, 5)``; returns float32 ``(B, 1, 64, 64)`` of 0s and 1s.

    posX moves the sprite along columns (left to right), posY along rows (top to bottom); the
    orientation turns it anticlockwise as displayed. Positions map into ``[r, 64 - r]`` with
    ``r = SPRITE_RADIUS + BORDER``, so a sprite never leaves the frame. On an accelerator
    ``device`` the whole batch is rendered at once; on the CPU in chunks of :data:`RENDER_CHUNK`.
    """
    device = torch.device(device)
    codes = torch.as_tensor(codes, dtype=torch.int64).reshape(-1, len(FACTOR_SIZES)).to(device)
    out = torch.zeros(len(codes), IMAGE_SIZE, IMAGE_SIZE, dtype=torch.float32, device=device)
    chunk = RENDER_CHUNK if device.type == "cpu" else max(len(codes), 1)
    for start in range(0, len(codes), chunk):
        _render_chunk(codes[start : start + chunk], out[start : start + chunk])
    return out.unsqueeze(1)


#: FACTOR_VALUES as float32 tensors, for rendering.
_VALUE_TABLES = {name: torch.tensor(values, dtype=torch.float32) for name, values in FACTOR_VALUES.items()}
#: Side of the square window, around each sprite, that is rasterised (the rest stays 0).
_WINDOW = 2 * math.ceil(SPRITE_RADIUS + BORDER)


def _render_chunk(codes: torch.Tensor, out: torch.Tensor) -> None:
    """Rasterise one chunk into ``out`` (zeros, ``(n, 64, 64)``), testing only a window around each sprite."""
    n, device = len(codes), codes.device
    values = {
        name: _VALUE_TABLES[name].to(device)[codes[:, i]] for i, name in enumerate(FACTOR_NAMES) if name != "shape"
    }
    lo = SPRITE_RADIUS + BORDER
    span = IMAGE_SIZE - 2.0 * lo
    cx = lo + span * values["posX"]
    cy = lo + span * values["posY"]
    # Top-left pixel of each window; the window covers the sprite's whole bounding circle.
    col0 = torch.clamp(torch.floor(cx - lo).long(), 0, IMAGE_SIZE - _WINDOW)
    row0 = torch.clamp(torch.floor(cy - lo).long(), 0, IMAGE_SIZE - _WINDOW)
    offs = torch.arange(_WINDOW, device=device)
    cols = col0[:, None] + offs  # (n, W)
    rows = row0[:, None] + offs
    dx = (cols.float() + 0.5 - cx[:, None])[:, None, :]
    dy = (cy[:, None] - rows.float() - 0.5)[:, :, None]  # +y points up
    theta = values["orientation"][:, None, None]
    unit = (SPRITE_RADIUS * values["scale"])[:, None, None]
    cos, sin = torch.cos(theta), torch.sin(theta)
    u = (cos * dx + sin * dy) / unit
    v = (cos * dy - sin * dx) / unit
    patch = _inside(codes[:, 0], u, v).float()
    out[torch.arange(n, device=device)[:, None, None], rows[:, :, None], cols[:, None, :]] = patch


class DSpritesData(GenData):
    """The dSprites data set (737,280 examples), rendered batch by batch.

    Labels are the shape index (0 square, 1 ellipse, 2 heart). :meth:`factors` and
    :meth:`factor_values` give the ground-truth generating factors of any examples.

    Attributes:
        factor_names: ``("shape", "scale", "orientation", "posX", "posY")``.
        factor_sizes: ``(3, 6, 40, 32, 32)``.
        factor_grid: The values each factor takes (the original ``latents_possible_values``).
    """

    factor_names: tuple[str, ...] = FACTOR_NAMES
    factor_sizes: tuple[int, ...] = FACTOR_SIZES
    factor_grid: dict[str, np.ndarray] = FACTOR_VALUES

    def __init__(self, *, name: str = "dsprites", description: str = "") -> None:
        self.name = name
        self.description = description or (
            "dSprites: 737,280 binary 64x64 sprites (3 shapes x 6 scales x 40 orientations x 32 x 32 "
            "positions), rendered on demand; labels are the shape"
        )
        self.spec = DataSpec(kind="images", shape=(1, IMAGE_SIZE, IMAGE_SIZE), num_classes=len(SHAPE_NAMES))
        self.class_names = list(SHAPE_NAMES)
        self.device = torch.device("cpu")

    def __len__(self) -> int:
        return _SIZE

    def get_batch(self, indices: torch.Tensor) -> Batch:
        """Render the sprites at ``indices``; labels are their shape indices."""
        codes = decode_index(indices)
        return Batch(render(codes, self.device), codes[:, 0].contiguous().to(self.device))

    def to(self, device: torch.device | str) -> DSpritesData:
        """Render future batches directly on ``device`` (an accelerator renders a batch in one go)."""
        self.device = torch.device(device)
        return self

    def factors(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        """Factor indices (int64) of the examples at ``indices``, one ``(B,)`` tensor per factor name."""
        codes = decode_index(indices)
        return {name: codes[:, i].contiguous() for i, name in enumerate(FACTOR_NAMES)}

    def factor_values(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        """Factor values (float64, as in the original ``latents_values``) of the examples at ``indices``."""
        codes = decode_index(indices)
        return {
            name: torch.from_numpy(FACTOR_VALUES[name])[codes[:, i]] for i, name in enumerate(FACTOR_NAMES)
        }

    def index_of(self, **factor_indices: int | torch.Tensor) -> torch.Tensor:
        """Flat indices of the examples with the given factor indices (broadcast; every factor required).

        Example: ``data.index_of(shape=2, scale=5, orientation=0, posX=torch.arange(32), posY=16)``.
        """
        missing = [n for n in FACTOR_NAMES if n not in factor_indices]
        unknown = [n for n in factor_indices if n not in FACTOR_NAMES]
        if missing or unknown:
            raise DataError(
                f"index_of needs exactly the factors {FACTOR_NAMES}; missing {missing}, unknown {unknown}"
            )
        parts = torch.broadcast_tensors(*(torch.as_tensor(factor_indices[n]).long() for n in FACTOR_NAMES))
        return encode_index(torch.stack([p.reshape(-1) for p in parts], dim=1))


def dsprites() -> DSpritesData:
    """The dSprites data set, rendered on demand (no download, no 3 GB array)."""
    return DSpritesData()
