"""A latent-space exploration session: the state and computations behind the latent explorer widget.

It holds a map of codes (:mod:`.latent_map`) and its 2-D projection (:mod:`.projection`), a
current code ``z`` and class label, and answers the explorer's questions — lift this map point,
decode this code, traverse these dimensions, interpolate between these codes — as arrays ready
for the wire (uint8 images ``(N, H, W, C)``, or float32 points ``(N, D)`` for point data).

Thread safety: every method may be called from one worker thread while another reads
:attr:`z`; the map, projection and ranking are swapped together under a lock.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import numpy as np
import torch

from ..data.base import GenData
from ..errors import ConfigError
from ..images import to_uint8
from .latent_map import LatentMap, build_map, decode, describe_fill
from .model_view import ModelView, require_decoder
from .paths import interpolate, traversal
from .projection import Projection, check_fill, make_projection, nearest_index
from .ranking import DimRanking, rank_dims


@dataclasses.dataclass(frozen=True)
class MapState:
    """One consistent map: codes, their projection, map points and the dimension ranking."""

    latent_map: LatentMap
    projection: Projection
    points: np.ndarray  # (N, 2) float32
    ranking: DimRanking
    step: int | None


class LatentSession:
    """Explore a model's latent space.

    Args:
        model_or_run: A model with the ``can_decode`` capability, or a Run training one (the
            session then looks at a frozen snapshot, refreshed by :meth:`rebuild`).
        data: Data to encode for the map: a registered name, array, tensor, Dataset, folder or
            GenData (default: the run's data). Models that cannot encode need none.
        n: Points on the map.
        source: ``"auto"``, ``"encode"`` or ``"prior"`` (see :mod:`.latent_map`).
        dims: Two latent dimensions as the map's axes, or None for PCA.
        fill: How a map point becomes a full code: ``"nearest"`` (other components from the
            nearest map point) or ``"zero"`` (from the map's centre).
        seed: Seed of the examples and prior codes chosen for the map.
    """

    def __init__(self, model_or_run: Any, data: Any = None, *, n: int = 2000, source: str = "auto",
                 dims: tuple[int, int] | list[int] | None = None, fill: str = "nearest", seed: int = 0) -> None:
        self.view = ModelView(model_or_run)
        require_decoder(self.view.cls)
        self.data = _resolve_data(data, self.view)
        self.n, self.source, self.seed = int(n), source, int(seed)
        self.fill = check_fill(fill)
        self.dims = None if dims is None else (int(dims[0]), int(dims[1]))
        model = self.view.model
        self.latent_dim = model.latent_dim
        self.kind = model.data_spec.kind
        self.conditional = model.capabilities.conditional
        self.num_classes = int(model.data_spec.num_classes or 0) if self.conditional else 0
        self.class_names = list(getattr(self.data, "class_names", None) or [])
        self.label: int | None = 0 if self.conditional else None
        self._lock = threading.Lock()
        self._state: MapState | None = None
        self.rebuild(refresh=False)
        self.z = self.state.latent_map.codes[0].copy()

    # ---- the map ----------------------------------------------------------------------------------
    @property
    def state(self) -> MapState:
        """The current map, projection and ranking (one consistent set)."""
        with self._lock:
            assert self._state is not None
            return self._state

    def rebuild(self, *, refresh: bool = True) -> MapState:
        """Re-encode the map (after a new snapshot of a run's model when ``refresh``)."""
        if refresh:
            self.view.refresh()
        with self.view.calling() as model:
            latent_map = build_map(model, self.data, n=self.n, source=self.source, seed=self.seed)
        return self._install(latent_map, self.view.step)

    def set_projection(self, dims: tuple[int, int] | list[int] | None) -> MapState:
        """Show PCA (``None``) or two latent dimensions on the map, without re-encoding."""
        old = self.state
        projection = make_projection(old.latent_map.codes, dims)  # validates dims before we keep them
        self.dims = None if dims is None else (int(dims[0]), int(dims[1]))
        return self._swap(dataclasses.replace(old, projection=projection,
                                              points=projection.project(old.latent_map.codes)))

    def set_fill(self, fill: str) -> None:
        """Change how map points become codes (``"nearest"`` or ``"zero"``)."""
        self.fill = check_fill(fill)

    def set_label(self, label: int | None) -> None:
        """The class label decodes use (conditional models only; in ``[0, num_classes)``)."""
        if not self.conditional:
            if label is not None:
                raise ConfigError("this model is not conditional; it takes no class label")
            return
        if label is None or not 0 <= int(label) < self.num_classes:
            raise ConfigError(f"class label must be in [0, {self.num_classes}), got {label}")
        self.label = int(label)

    def _install(self, latent_map: LatentMap, step: int | None) -> MapState:
        projection = make_projection(latent_map.codes, self.dims)
        state = MapState(latent_map=latent_map, projection=projection,
                         points=projection.project(latent_map.codes),
                         ranking=rank_dims(latent_map.codes, latent_map.kl), step=step)
        return self._swap(state)

    def _swap(self, state: MapState) -> MapState:
        with self._lock:
            self._state = state
        return state

    def describe_fill(self) -> str:
        """What happens to the components a map point does not fix, in words."""
        return describe_fill(self.fill, self.state.latent_map.source)

    # ---- questions ----------------------------------------------------------------------------------
    def lift(self, x: float, y: float) -> tuple[np.ndarray, int | None]:
        """The code for map point (x, y), and the index of the map point it took the rest from (or None)."""
        if not (np.isfinite(x) and np.isfinite(y)):
            raise ConfigError(f"map point must be finite, got ({x}, {y})")
        state = self.state
        point = np.array([x, y], dtype=np.float32)
        if self.fill == "nearest":
            index = nearest_index(state.points, point)
            return state.projection.lift(point, state.latent_map.codes[index]), index
        return state.projection.lift(point, state.projection.centre()), None

    def check_z(self, z: Any) -> np.ndarray:
        """``z`` as a finite float32 vector of the latent size, or a ConfigError saying what is wrong."""
        arr = np.asarray(z, dtype=np.float32).reshape(-1)
        if arr.shape != (self.latent_dim,):
            raise ConfigError(f"z must have {self.latent_dim} values (the latent size), got {arr.size}")
        if not np.isfinite(arr).all():
            raise ConfigError("z must be finite (no NaN or infinity)")
        return arr

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Outputs for codes (k, d) with the current label: uint8 (k, H, W, C) images or float32 (k, D) points."""
        z = torch.from_numpy(np.ascontiguousarray(codes, dtype=np.float32).reshape(-1, self.latent_dim))
        labels = None if self.label is None else torch.full((len(z),), self.label, dtype=torch.long)
        with self.view.calling() as model:
            out = decode(model, z, labels)
        if self.kind == "images":
            return to_uint8(out)
        return out.reshape(len(z), -1).numpy().astype(np.float32)

    def traversal(self, z: np.ndarray, *, k: int = 8, steps: int = 9, span: float = 3.0) -> dict[str, Any]:
        """The traversal figure around ``z``: one row per top-ranked dimension.

        Each of the ``k`` best dimensions is swept over ``z_j`` in ``[-span, span]`` (the
        prior's N(0, 1) scale) with the others fixed.

        Returns ``{"outputs": (rows * steps, ...), "dims", "scores", "measure", "values"}``.
        """
        if not 2 <= steps <= 32 or not 1 <= k <= 64 or not span > 0:
            raise ConfigError(f"traversal needs 2 <= steps <= 32, 1 <= k <= 64 and span > 0; got "
                              f"steps={steps}, k={k}, span={span}")
        ranking = self.state.ranking
        dims = ranking.top(min(k, self.latent_dim))
        values = np.linspace(-span, span, steps, dtype=np.float32)
        outputs = self.decode(traversal(self.check_z(z), dims, values))
        return {"outputs": outputs, "dims": dims, "scores": ranking.scores[: len(dims)],
                "measure": ranking.measure, "values": values}

    def interpolation(self, a: np.ndarray, b: np.ndarray, *, steps: int = 10, mode: str = "linear") -> np.ndarray:
        """Outputs along the path from code ``a`` to code ``b`` (both ends included)."""
        return self.decode(interpolate(self.check_z(a), self.check_z(b), steps, mode))


def _resolve_data(data: Any, view: ModelView) -> GenData | None:
    if data is None:
        return getattr(view.run, "data", None) if view.live else None
    if isinstance(data, GenData):
        return data
    from ..runtime.loading import load_data

    return load_data(data)
