"""One view's complete frame: every array the front end draws, computed from a model in one go.

A frame is a plain dict of JSON values and numpy arrays (float32 scores, uint8 images), ready
for :func:`genwidgets.widgets.wire.pack`. :func:`compute_frame` reads the model only through its
verbs (``discriminate``, ``sample``/``decode``, ``fixed_noise``) and never draws from torch's
global random stream, so looking never changes a training run's trajectory.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from .colour import choose_scale
from .gradients import arrow_segments, generator_direction
from .grid import PlaneGrid, per_example, score_plane
from .latent_slice import axes_plane, random_plane, score_latent_plane
from .score_grid import score_examples

#: Arrow length, as a fraction of the plane's side (the longest arrow of a frame).
ARROW_LENGTH = 0.08
#: Finite-difference step of the arrows, as a fraction of the plane's side.
GRADIENT_STEP = 1e-3


@dataclasses.dataclass(frozen=True)
class FrameSettings:
    """What to compute (the widget's traits, frozen for one frame).

    Attributes:
        view: ``"plane"``, ``"scores"`` or ``"latent"`` (see :data:`~.capability.VIEWS`).
        resolution: Cells per side of the data-plane heatmap.
        extent: ``(x0, x1, y0, y1)`` of the data plane.
        label: Class to score for conditional models (None for unconditional ones).
        arrows: Generated points that get a gradient arrow (plane view; 0: none).
        examples: Real and generated examples each in the score grid.
        slice_resolution: Cells per side of the latent slice.
        latent_mode: ``"axes"`` (two latent coordinates) or ``"random"`` (two random directions).
        latent_dims: The two coordinates for ``"axes"``.
        latent_span: Half-width of the latent slice, in prior standard deviations.
        latent_seed: Seed of the random directions.
        latent_index: Which fixed-noise code the slice goes through.
        thumbs: Thumbnails per side of the latent slice's hover (images only; 0: none).
    """

    view: str
    resolution: int = 128
    extent: tuple[float, float, float, float] = (-1.0, 1.0, -1.0, 1.0)
    label: int | None = None
    arrows: int = 64
    examples: int = 16
    slice_resolution: int = 32
    latent_mode: str = "axes"
    latent_dims: tuple[int, int] = (0, 1)
    latent_span: float = 3.0
    latent_seed: int = 0
    latent_index: int = 0
    thumbs: int = 8


@dataclasses.dataclass
class RealSet:
    """Real examples to show beside generated ones: data (N, *shape) and labels (N,) or None."""

    x: torch.Tensor
    labels: torch.Tensor | None = None

    def of_class(self, label: int | None, n: int) -> torch.Tensor:
        """The first ``n`` examples (of class ``label``, when given and labels exist)."""
        x = self.x
        if label is not None and self.labels is not None:
            x = x[self.labels == label]
        return x[:n]


def _labels(label: int | None, n: int, device: Any = "cpu") -> torch.Tensor | None:
    return None if label is None else torch.full((n,), int(label), dtype=torch.long, device=device)


def _generated(model: Any, n: int | None, label: int | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` codes of the model's fixed noise and their labels (the chosen class, if conditional)."""
    z, fixed_labels = model.fixed_noise()
    z = z if n is None else z[:n]
    labels = _labels(label, len(z), z.device) if label is not None else (
        None if fixed_labels is None else fixed_labels[: len(z)])
    return z, labels


def compute_frame(model: Any, settings: FrameSettings, real: RealSet | None, *, step: int) -> dict[str, Any]:
    """The frame of ``settings.view`` for ``model`` at training step ``step``."""
    compute = {"plane": plane_frame, "scores": scores_frame, "latent": latent_frame}[settings.view]
    frame = compute(model, settings, real)
    return {"op": "frame", "view": settings.view, "step": int(step), "label": settings.label, **frame}


def plane_frame(model: Any, s: FrameSettings, real: RealSet | None) -> dict[str, Any]:
    """D(x) over the data plane, real and generated points, and the generator's arrows."""
    kind = model.score_kind
    grid = PlaneGrid(*s.extent, resolution=s.resolution)
    z = score_plane(model.discriminate, grid, labels=_labels(s.label, 1))
    codes, labels = _generated(model, None, s.label)
    fake = model.sample(len(codes), z=codes, labels=labels).float().cpu()     # (M, 2)
    real_x = real.of_class(s.label, 512).float().cpu() if real is not None else torch.zeros(0, 2)
    both = torch.cat([real_x, fake])
    scores = per_example(model.discriminate(both, labels=_labels(s.label, len(both)))).cpu().numpy()
    real_scores, fake_scores = scores[: len(real_x)], scores[len(real_x):]
    side = max(s.extent[1] - s.extent[0], s.extent[3] - s.extent[2])
    k = min(s.arrows, len(fake))
    grad = generator_direction(model.discriminate, fake[:k], score_kind=kind, step=GRADIENT_STEP * side,
                               labels=_labels(s.label, k))
    arrows = arrow_segments(fake[:k].numpy(), grad, length=ARROW_LENGTH * side)
    scale = choose_scale(kind, z, real=real_scores, fake=fake_scores)
    return {"extent": grid.extent, "z": z, "real": real_x.numpy().astype(np.float32),
            "fake": fake.numpy().astype(np.float32), "arrows": arrows, "scale": scale.to_dict(),
            "summary": _summary(real_scores, fake_scores)}


def scores_frame(model: Any, s: FrameSettings, real: RealSet | None) -> dict[str, Any]:
    """Real and generated examples with their scores (and per-patch maps, where D gives them)."""
    codes, labels = _generated(model, s.examples, s.label)
    fake = model.sample(len(codes), z=codes, labels=labels).float().cpu()
    real_x = real.of_class(s.label, s.examples).float().cpu() if real is not None else fake[:0]
    scored = score_examples(model.discriminate, real_x, fake,
                            real_labels=_labels(s.label, len(real_x)),
                            fake_labels=None if labels is None else labels.cpu())
    r, f = scored.scores[scored.real == 1], scored.scores[scored.real == 0]
    values = scored.scores if scored.patches is None else np.concatenate([scored.scores, scored.patches.ravel()])
    scale = choose_scale(model.score_kind, values, real=r, fake=f)
    out: dict[str, Any] = {"images": scored.images, "scores": scored.scores, "real": scored.real,
                           "scale": scale.to_dict(), "summary": _summary(r, f)}
    if scored.patches is not None:
        out["patches"] = scored.patches
    return out


def latent_frame(model: Any, s: FrameSettings, real: RealSet | None) -> dict[str, Any]:
    """D(G(z)) over a plane in latent space, with thumbnails of G(z) for the hover."""
    codes, _ = model.fixed_noise()
    centre = codes[min(max(s.latent_index, 0), len(codes) - 1)].float().cpu()
    kwargs = {"span": s.latent_span, "resolution": s.slice_resolution}
    plane = (axes_plane(centre, s.latent_dims, **kwargs) if s.latent_mode == "axes"
             else random_plane(centre, s.latent_seed, **kwargs))
    z, thumbs = score_latent_plane(model.decode, model.discriminate, plane, label=s.label, thumbs=s.thumbs,
                                   images=model.data_spec.kind == "images")
    scale = choose_scale(model.score_kind, z)
    out: dict[str, Any] = {"extent": [-s.latent_span, s.latent_span, -s.latent_span, s.latent_span], "z": z,
                           "axes": plane.description, "scale": scale.to_dict()}
    if thumbs is not None:
        out["thumbs"] = thumbs
    return out


def _summary(real: np.ndarray, fake: np.ndarray) -> dict[str, float | None]:
    return {"real_mean": float(np.mean(real)) if len(real) else None,
            "fake_mean": float(np.mean(fake)) if len(fake) else None}
