"""What the panel's sample view shows: a run's fixed-noise grid and, for autoencoders, reconstructions."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..images import to_uint8
from ..scores.grid import auto_extent

if TYPE_CHECKING:
    from ..model import GenerativeModel
    from ..runtime.handle import RunHandle

#: How many fixed training examples an autoencoder's reconstruction strip shows.
RECON_COUNT = 8
#: Real examples drawn beside generated ones on a 2-D data plane (the panel's and the heatmap's, seed 0).
REAL_POINTS = 512


@dataclasses.dataclass
class SampleFrame:
    """The newest samples of a run, ready for the wire.

    Attributes:
        step: Training step the samples were drawn at.
        images: uint8 ``(N, H, W, C)`` for image data, else None.
        points: float32 ``(N, D)`` for point data, else None.
        cols: Grid columns; conditional models get one row per class.
        recon_inputs / recon_outputs: uint8 ``(M, H, W, C)`` fixed inputs and their
            reconstructions, for models that can encode and decode images; else None.
    """

    step: int
    images: np.ndarray | None = None
    points: np.ndarray | None = None
    cols: int = 8
    recon_inputs: np.ndarray | None = None
    recon_outputs: np.ndarray | None = None

    def arrays(self) -> list[np.ndarray]:
        """The arrays this frame carries (for byte accounting)."""
        return [a for a in (self.images, self.points, self.recon_inputs, self.recon_outputs) if a is not None]


def grid_columns(n: int, labels: np.ndarray | None) -> int:
    """Columns of the sample grid: one row per class for labelled samples, else near-square."""
    if labels is not None and len(labels):
        classes = len(np.unique(labels))
        if classes > 1 and n % classes == 0:
            return n // classes
    return max(1, int(np.ceil(np.sqrt(n))))


def wants_reconstructions(model: GenerativeModel) -> bool:
    """Whether the panel shows reconstructions by default: for autoencoders, not for GANs.

    A model qualifies when it can encode and decode image data and cannot discriminate. GANs
    may offer ``encode`` by inversion (an optimisation per call, about a second even for tiny
    ones), far too slow to run at every sample refresh under the run's step lock.
    """
    caps = model.capabilities
    return caps.can_encode and caps.can_decode and not caps.can_discriminate and model.data_spec.kind == "images"


def frame_from_event(run: RunHandle, step: int, data: dict[str, Any], *, recon: bool = False) -> SampleFrame:
    """Turn a run's ``samples`` event data into a frame, with reconstructions if ``recon``."""
    labels = data.get("labels")
    images, points = data.get("images"), data.get("points")
    n = len(images) if images is not None else len(points) if points is not None else 0
    frame = SampleFrame(
        step=step,
        images=None if images is None else np.ascontiguousarray(images, dtype=np.uint8),
        points=None if points is None else np.ascontiguousarray(points, dtype=np.float32),
        cols=grid_columns(n, labels),
    )
    if images is not None and recon:
        pair = reconstructions(run)
        if pair is not None:
            frame.recon_inputs, frame.recon_outputs = pair
    return frame


def reconstructions(run: RunHandle, n: int = RECON_COUNT) -> tuple[np.ndarray, np.ndarray] | None:
    """Fixed training images and the model's reconstructions of them, as uint8 (N, H, W, C).

    None unless the model can both encode and decode image data. Runs between training steps
    (inside ``run.between_steps()``), in eval mode.
    """
    model = run.model
    caps = model.capabilities
    if not (caps.can_encode and caps.can_decode) or model.data_spec.kind != "images":
        return None
    batch = run.data.examples(n, seed=0)
    with run.between_steps(), model.evaluating(), torch.no_grad():
        x = batch.x.to(model.device)
        labels = None if batch.labels is None or not caps.conditional else batch.labels.to(model.device)
        out = model.decode(model.encode(x, labels=labels), labels=labels)
    return to_uint8(batch.x), to_uint8(out.float().cpu())


def plane_reference(run: RunHandle) -> dict[str, Any] | None:
    """For 2-D point data: fixed real examples and the square plane around them, else None.

    The panel draws generated points over these on the coordinates the discriminator heatmap uses
    (the same examples, the same :func:`~genwidgets.scores.grid.auto_extent`), so the two views line up.
    """
    spec = run.model.data_spec
    if spec.kind != "points" or tuple(spec.shape) != (2,):
        return None
    real = run.data.examples(REAL_POINTS, seed=0).x.float().cpu().numpy().astype(np.float32)
    return {"real": np.ascontiguousarray(real), "extent": auto_extent(real)}
