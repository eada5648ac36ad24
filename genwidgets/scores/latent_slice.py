"""D(G(z)) over a 2-D plane in latent space: which codes make samples the discriminator believes.

A :class:`LatentPlane` is ``z = centre + a * u + b * v`` for ``a, b`` in ``[-span, span]``, with
``u, v`` either two coordinate axes (``axes_plane``) or two random orthonormal directions
(``random_plane``). Codes are decoded and scored in batches; a coarser sub-grid of decoded
samples travels along as thumbnails for the front end's hover.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

from ..errors import ConfigError
from ..images import to_uint8
from .grid import per_example

#: Codes decoded per call (bounds memory for big generators; a 32 x 32 slice is one call).
DECODE_BATCH = 1024


@dataclasses.dataclass(frozen=True)
class LatentPlane:
    """A plane through ``centre`` spanned by ``u`` and ``v`` (each (latent_dim,)), ``span`` each way.

    Attributes:
        centre, u, v: Float32 tensors of shape (latent_dim,).
        span: Half-width of the plane along ``u`` and ``v``, in units of the prior's std.
        resolution: Cells per side.
        description: How the plane was chosen, for the legend (e.g. ``"z[0] x z[3]"``).
    """

    centre: torch.Tensor
    u: torch.Tensor
    v: torch.Tensor
    span: float = 3.0
    resolution: int = 32
    description: str = ""

    def __post_init__(self) -> None:
        if not (isinstance(self.resolution, int) and 2 <= self.resolution <= 512):
            raise ConfigError(f"the latent slice's resolution must be an integer in [2, 512], got "
                              f"{self.resolution!r}")
        if not self.span > 0:
            raise ConfigError(f"the latent slice's span must be > 0, got {self.span!r}")

    @property
    def coords(self) -> np.ndarray:
        """Cell-centre offsets along ``u`` (and ``v``), (resolution,) float32."""
        step = 2 * self.span / self.resolution
        return (-self.span + step * (np.arange(self.resolution) + 0.5)).astype(np.float32)

    def codes(self, resolution: int | None = None) -> torch.Tensor:
        """Codes at the cell centres, (res ** 2, latent_dim), row-major with rows going along ``v``."""
        res = resolution or self.resolution
        step = 2 * self.span / res
        c = torch.from_numpy((-self.span + step * (np.arange(res) + 0.5)).astype(np.float32))
        a, b = torch.meshgrid(c, c, indexing="xy")                     # (res, res); row i is b = c[i]
        return self.centre + a.reshape(-1, 1) * self.u + b.reshape(-1, 1) * self.v


def axes_plane(centre: torch.Tensor, dims: tuple[int, int], **kwargs: object) -> LatentPlane:
    """The plane through ``centre`` along latent coordinates ``dims[0]`` and ``dims[1]``."""
    k = centre.shape[-1]
    i, j = dims
    if not (0 <= i < k and 0 <= j < k) or i == j:
        raise ConfigError(f"latent dims must be two different indices in [0, {k}), got {list(dims)}")
    u, v = torch.zeros(k), torch.zeros(k)
    u[i], v[j] = 1.0, 1.0
    return LatentPlane(centre.float().cpu(), u, v, description=f"z[{i}] x z[{j}]", **kwargs)  # type: ignore[arg-type]


def random_plane(centre: torch.Tensor, seed: int, **kwargs: object) -> LatentPlane:
    """The plane through ``centre`` along two random orthonormal directions drawn from ``seed``."""
    k = centre.shape[-1]
    if k < 2:
        raise ConfigError(f"a latent plane needs 2 or more latent dimensions, the model has {k}")
    gen = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(k, 2, generator=gen))          # (k, 2), orthonormal columns
    return LatentPlane(centre.float().cpu(), q[:, 0].contiguous(), q[:, 1].contiguous(),
                       description=f"random directions (seed {seed})", **kwargs)  # type: ignore[arg-type]


def score_latent_plane(
    decode: Callable[..., torch.Tensor],
    discriminate: Callable[..., torch.Tensor],
    plane: LatentPlane,
    *,
    label: int | None = None,
    thumbs: int = 0,
    images: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """D(G(z)) over ``plane`` (resolution, resolution) float32, and thumbnails of G(z).

    Thumbnails are decoded on a ``thumbs x thumbs`` sub-grid spanning the same square, as uint8
    (thumbs, thumbs, H, W, C) (None when ``thumbs`` is 0 or the data are not ``images``).
    ``label`` is the class for conditional models (None otherwise).
    """
    def run(z: torch.Tensor, *, score: bool) -> list[torch.Tensor]:
        out = []
        for i in range(0, len(z), DECODE_BATCH):
            chunk = z[i : i + DECODE_BATCH]
            lab = None if label is None else torch.full((len(chunk),), int(label), dtype=torch.long)
            x = decode(chunk, labels=lab)
            out.append(per_example(discriminate(x, labels=lab)).cpu() if score else x)
        return out

    scores = run(plane.codes(), score=True)
    z = torch.cat(scores).numpy().astype(np.float32).reshape(plane.resolution, plane.resolution)
    thumb_images = None
    if thumbs and images:
        decoded = run(plane.codes(thumbs), score=False)
        u8 = to_uint8(torch.cat(decoded))                               # (T * T, H, W, C)
        thumb_images = u8.reshape(thumbs, thumbs, *u8.shape[1:])
    return z, thumb_images
