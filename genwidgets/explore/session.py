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
from .latent_map import CHUNK, LatentMap, build_map, choose_source, decode, describe_fill
from .model_view import ModelView, require_decoder
from .output_map import OutputFeatures, OutputProjection, output_features
from .paths import interpolate, traversal
from .projection import Projection, check_fill, make_projection, nearest_index
from .ranking import DimRanking, output_effect, rank_dims

#: How the map lays codes out: ``"outputs"`` (by what the model makes of them, :mod:`.output_map`;
#: maps of prior codes only) or ``"codes"`` (PCA of the codes, or two latent dimensions).
LAYOUTS: tuple[str, ...] = ("auto", "outputs", "codes")


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
        dims: Two latent dimensions as the map's axes, or None for the layout's default.
        layout: ``"auto"`` (by output for maps of prior codes, else by code), ``"outputs"`` or
            ``"codes"`` (see :data:`LAYOUTS`). Two ``dims`` always lay out by code.
        fill: How a map point becomes a full code: ``"nearest"`` (other components from the
            nearest map point) or ``"zero"`` (from the map's centre).
        seed: Seed of the examples and prior codes chosen for the map.
    """

    def __init__(self, model_or_run: Any, data: Any = None, *, n: int = 2000, source: str = "auto",
                 dims: tuple[int, int] | list[int] | None = None, layout: str = "auto", fill: str = "nearest",
                 seed: int = 0) -> None:
        self.view = ModelView(model_or_run)
        require_decoder(self.view.cls)
        self.data = _resolve_data(data, self.view)
        self.n, self.source, self.seed = int(n), source, int(seed)
        self.fill = check_fill(fill)
        self.layout = check_layout(layout)
        self.dims = None if dims is None else (int(dims[0]), int(dims[1]))
        model = self.view.model
        #: How outputs become features for the "outputs" layout (None for maps of encoded data).
        self.output_features: OutputFeatures | None = None
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
            if self.output_features is None and self._source(model) == "prior":
                self.output_features = output_features(model, self.data)
            latent_map = build_map(model, self.data, n=self.n, source=self.source, seed=self.seed,
                                   features=self.output_features)
            effect = None if latent_map.kl is not None else output_effect(
                self._decode_floats, latent_map.codes,
                latent_map.labels if self.conditional and latent_map.label_kind == "class" else None)
        ranking = rank_dims(latent_map.codes, latent_map.kl, effect)
        return self._swap(self._state_for(latent_map, self.dims, ranking, self.view.step))

    def set_projection(self, dims: tuple[int, int] | list[int] | None, layout: str | None = None) -> MapState:
        """Show two latent dimensions (``dims``) or the layout's default (``None``), without re-encoding."""
        old = self.state
        chosen = self.layout if layout is None else check_layout(layout)
        state = self._state_for(old.latent_map, dims, old.ranking, old.step, layout=chosen)  # validates first
        self.dims = None if dims is None else (int(dims[0]), int(dims[1]))
        self.layout = chosen
        return self._swap(state)

    @property
    def layouts(self) -> list[str]:
        """The layouts this map offers: ``["outputs", "codes"]`` for prior codes, else ``["codes"]``."""
        return ["outputs", "codes"] if self.state.latent_map.features is not None else ["codes"]

    def _source(self, model: Any) -> str:
        return choose_source(type(model), self.source, have_data=self.data is not None)

    def _state_for(self, latent_map: LatentMap, dims: tuple[int, int] | list[int] | None, ranking: DimRanking,
                   step: int | None, *, layout: str | None = None) -> MapState:
        layout = self.layout if layout is None else layout
        by_output = dims is None and latent_map.features is not None and layout in ("auto", "outputs")
        if by_output:
            assert self.output_features is not None
            projection: Projection = OutputProjection(
                latent_map.codes, latent_map.features, self._embed, what=self.output_features.name,
                identity_axes=self.output_features.identity_axes)
            points = projection.map_points(latent_map.codes)
        else:
            projection = make_projection(latent_map.codes, dims)
            points = projection.project(latent_map.codes)
        return MapState(latent_map=latent_map, projection=projection, points=points, ranking=ranking, step=step)

    def _decode_floats(self, codes: np.ndarray, labels: np.ndarray | None) -> np.ndarray:
        """Float outputs (k, ...) of codes (k, d), in chunks; call inside ``view.calling()``."""
        model = self.view.model
        z = torch.from_numpy(np.ascontiguousarray(codes, dtype=np.float32))
        lab = None if labels is None else torch.from_numpy(np.ascontiguousarray(labels, dtype=np.int64))
        outs = [decode(model, z[i:i + CHUNK], None if lab is None else lab[i:i + CHUNK])
                for i in range(0, len(z), CHUNK)]
        return torch.cat(outs).numpy()

    def _embed(self, codes: np.ndarray) -> np.ndarray:
        """Features of the outputs of ``codes`` (k, d) with the current label (the "outputs" layout)."""
        assert self.output_features is not None
        z = torch.from_numpy(np.ascontiguousarray(codes, dtype=np.float32))
        labels = None if self.label is None else torch.full((len(z),), self.label, dtype=torch.long)
        with self.view.calling() as model:
            return self.output_features.features(decode(model, z, labels))

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

    def _swap(self, state: MapState) -> MapState:
        with self._lock:
            self._state = state
        return state

    def describe_fill(self) -> str:
        """What happens to the components a map point does not fix, in words."""
        if isinstance(self.state.projection, OutputProjection):
            return OutputProjection.describe_lift()
        return describe_fill(self.fill, self.state.latent_map.source)

    # ---- questions ----------------------------------------------------------------------------------
    def lift(self, x: float, y: float) -> tuple[np.ndarray, int | None]:
        """The code for map point (x, y), and the index of the map point it took the rest from (or None)."""
        if not (np.isfinite(x) and np.isfinite(y)):
            raise ConfigError(f"map point must be finite, got ({x}, {y})")
        state = self.state
        point = np.array([x, y], dtype=np.float32)
        if isinstance(state.projection, OutputProjection):  # a blend of the nearest outputs' codes
            return state.projection.lift(point, state.projection.centre()), None
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
        return self.for_wire(self.decode_floats(codes))

    def decode_floats(self, codes: np.ndarray) -> torch.Tensor:
        """The model's float outputs (k, ...) for codes (k, d) with the current label, on the CPU."""
        z = torch.from_numpy(np.ascontiguousarray(codes, dtype=np.float32).reshape(-1, self.latent_dim))
        labels = None if self.label is None else torch.full((len(z),), self.label, dtype=torch.long)
        with self.view.calling() as model:
            return decode(model, z, labels)

    def for_wire(self, outputs: torch.Tensor) -> np.ndarray:
        """Float outputs as the front end takes them: uint8 (k, H, W, C) images or float32 (k, D) points."""
        if self.kind == "images":
            return to_uint8(outputs)
        return outputs.reshape(len(outputs), -1).numpy().astype(np.float32)

    def place(self, z: np.ndarray, outputs: torch.Tensor | None = None) -> np.ndarray:
        """The map point (2,) of code ``z``; ``outputs`` (its float outputs, when at hand) spare a second decode."""
        projection = self.state.projection
        if isinstance(projection, OutputProjection) and outputs is not None and self.output_features is not None:
            return projection.reduce(self.output_features.features(outputs))[0]
        return projection.project(np.asarray(z, dtype=np.float32).reshape(1, -1))[0]

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


def check_layout(layout: str) -> str:
    """``layout`` if it is one of :data:`LAYOUTS`, else a ConfigError naming the choices."""
    if layout not in LAYOUTS:
        raise ConfigError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    return layout


def _resolve_data(data: Any, view: ModelView) -> GenData | None:
    if data is None:
        return getattr(view.run, "data", None) if view.live else None
    if isinstance(data, GenData):
        return data
    from ..runtime.loading import load_data

    return load_data(data)
