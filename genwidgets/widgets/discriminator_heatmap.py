"""``DiscriminatorHeatmap``: what a GAN's discriminator (or WGAN critic) thinks, live, in the notebook.

Python side of ``js/src/widgets/discriminator_heatmap.ts``. The view settings are synced traits; each
frame (float32 score grids, uint8 images, float32 points) travels as one custom message with
binary buffers (see :mod:`.wire`). The arrays come from :mod:`genwidgets.scores`.

Live updates never make training wait on the widget: the widget subscribes to the run's events,
and a coalescer thread recomputes at most ``max_rate`` frames per second (fewer when a frame is
expensive: at most a quarter of one core goes to drawing). Frames are computed on the run's
snapshot, a frozen copy of the model taken between two steps at most once per samples event and
shared with the run's other widgets (see :mod:`genwidgets.scores.snapshot`), so the training loop
waits only for that copy, and a new frame follows each new snapshot.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

import torch
import traitlets as t

from ..errors import ConfigError, GenwidgetsError
from ..model import GenerativeModel
from ..runtime.events import Event
from ..runtime.handle import RunHandle
from ..runtime.model_snapshot import run_of
from ..scores.capability import VIEWS, available_views, check_view, default_view, require_discriminator
from ..scores.frames import FrameSettings, RealSet, compute_frame
from ..scores.grid import PlaneGrid, auto_extent
from ..scores.snapshot import FrameModel
from . import wire
from .bundle import esm
from .live_widget import LiveWidget
from .png import render_frame_png
from .samples import REAL_POINTS
from .throttle import LIVE_COMPUTE_BUDGET, Coalescer

log = logging.getLogger(__name__)


#: Traits that change what is computed (a change recomputes the frame).
SETTINGS = ("view", "label", "resolution", "extent", "arrows", "examples", "slice_resolution", "latent_mode",
            "latent_dims", "latent_span", "latent_seed", "latent_index")

#: Real images kept for display (per class for conditional models); points: samples.REAL_POINTS.
REAL_IMAGES = 64


class DiscriminatorHeatmap(LiveWidget):
    """A GAN's discriminator scores, live: the GAN Lab view for 2-D data, carried to image GANs.

    Views (those the model supports are in :attr:`views`):

    * ``plane`` (2-D points): D(x) over a grid covering the data plane as a heatmap, real and
      generated points over it, and arrows on generated points showing where the generator
      wants to move them.
    * ``scores`` (images): real and generated images, each framed by its score on a shared
      colour scale, sortable by score; where the discriminator outputs a spatial map
      (PatchGAN-style) the per-patch scores can be overlaid on each image.
    * ``latent``: D(G(z)) over a 2-D plane in latent space (two latent coordinates, or two
      random directions, through a fixed-noise code), with thumbnails of G(z) on hover.

    Probabilities (``score_kind == "probability"``) use a fixed 0-1 scale; WGAN critics
    (``"critic"``) use a symmetric scale around the midpoint of the real and generated
    examples' mean scores (see :mod:`genwidgets.scores.colour`). Conditional models are scored
    for one class at a time (:attr:`label`).

    Args:
        run_or_model: A run (a Run or a LaunchedRun: live updates while it trains) or a model
            with the ``can_discriminate`` capability (call :meth:`refresh` after changing it).
        data: Real examples to show with a bare model (a GenData or what ``gw.load_data`` takes);
            a run brings its own.
        view: Initial view; the first available one by default.
        max_rate: Most frames per second (default 4).
        copy_model: Compute frames on the run's shared snapshot (default); False computes on the
            model itself under the run's step lock (no extra memory; training waits longer).
        **traits: Initial values of the other traits (``resolution=64``, ``label=3``, ...).

    Raises:
        CapabilityError: The model cannot ``discriminate``.
    """

    _esm = esm("discriminator_heatmap")

    title = t.Unicode("", help="Whose discriminator on what, e.g. 'gan on ring'.").tag(sync=True)
    state = t.Unicode("", help="The run's state (empty for a bare model).").tag(sync=True)
    step = t.Int(-1, help="Training step of the frame shown (-1: none yet).").tag(sync=True)
    views = t.List(t.Unicode(), help="Views this model supports, from plane, scores, latent.").tag(sync=True)
    view = t.Unicode("plane", help="The view shown: 'plane', 'scores' or 'latent'.").tag(sync=True)
    score_kind = t.Unicode("probability", help="'probability' (D(x) in (0, 1)) or 'critic' "
                           "(unbounded WGAN critic scores).").tag(sync=True)
    conditional = t.Bool(False, help="The model is conditional: scores are per class.").tag(sync=True)
    class_names = t.List(t.Unicode(), help="Names of the classes (conditional models).").tag(sync=True)
    label = t.Int(0, help="Class scored, for conditional models (ignored otherwise).").tag(sync=True)
    resolution = t.Int(128, min=8, max=512, help="Cells per side of the data-plane heatmap.").tag(sync=True)
    extent = t.List(t.Float(), help="[x0, x1, y0, y1] of the data plane (set from the data).").tag(sync=True)
    arrows = t.Int(64, min=0, max=512, help="Generated points that get a generator-gradient arrow.").tag(sync=True)
    show_points = t.Bool(True, help="Draw real and generated points over the plane.").tag(sync=True)
    show_arrows = t.Bool(True, help="Draw the generator-gradient arrows.").tag(sync=True)
    examples = t.Int(16, min=1, max=256, help="Real and generated images each in the score grid.").tag(sync=True)
    sort = t.Unicode("none", help="Order of the score grid: 'none', 'desc' (most real first) or "
                     "'asc'.").tag(sync=True)
    show_patches = t.Bool(True, help="Overlay per-patch scores on images (discriminators that output "
                          "spatial maps).").tag(sync=True)
    slice_resolution = t.Int(32, min=4, max=256, help="Cells per side of the latent slice.").tag(sync=True)
    latent_dim = t.Int(0, read_only=True, help="Size of the model's latent space.").tag(sync=True)
    latent_mode = t.Unicode("axes", help="Latent plane along two coordinates ('axes') or two random "
                            "directions ('random').").tag(sync=True)
    latent_dims = t.List(t.Int(), default_value=[0, 1], help="The two latent coordinates of the "
                         "'axes' plane.").tag(sync=True)
    latent_span = t.Float(3.0, help="Half-width of the latent slice, in prior standard deviations.").tag(sync=True)
    latent_seed = t.Int(0, help="Seed of the random directions.").tag(sync=True)
    latent_index = t.Int(0, help="Which of the model's fixed-noise codes the latent plane goes "
                         "through.").tag(sync=True)
    max_rate = t.Float(4.0, min=0.1, help="Most frames per second.").tag(sync=True)
    frame_ms = t.Float(0.0, help="Milliseconds the last frame took to compute (not counting the wait for "
                       "the current training step to end).").tag(sync=True)
    message = t.Unicode("", help="Why the last frame could not be computed (empty when it was).").tag(sync=True)

    def __init__(self, run_or_model: RunHandle | GenerativeModel, *, data: Any = None, view: str | None = None,
                 max_rate: float = 4.0, copy_model: bool = True, **traits: Any) -> None:
        self.run: RunHandle | None = run_of(run_or_model)
        model = self.run.model if self.run is not None else run_or_model
        require_discriminator(model)
        self.model: GenerativeModel = model
        self._lock = threading.RLock()
        self._send_lock = threading.RLock()
        self._pending: dict[str, Any] = {}
        self._latest: dict[str, Any] | None = None
        self._latest_key: Any = None
        self._compute_s = 0.0
        self._num_codes = len(model.fixed_noise()[0])
        spec = model.data_spec
        names = list(getattr(self.run.data if self.run else data, "class_names", None) or [])
        num_classes = spec.num_classes or 0
        if model.capabilities.conditional and len(names) != num_classes:
            names = [str(k) for k in range(num_classes)]
        super().__init__(
            views=available_views(model), view=view or default_view(model),
            score_kind=model.score_kind, conditional=bool(model.capabilities.conditional), class_names=names,
            max_rate=max_rate, title=f"{model.name} on {self._data_name(data)}", **traits)
        self.set_trait("latent_dim", int(model.latent_dim))
        self._real = self._real_set(data)
        self._frames = FrameModel(model, self.run, copy_model=copy_model)
        if not self.extent and "plane" in self.views:
            self.extent = self._auto_extent()
        self._coalescer = self._own(Coalescer(self.flush, max_rate, name="genwidgets-discriminator-heatmap"))
        if self.run is not None:
            with self._following(self.run, self._on_event, max_queue=64,
                                 kinds=("metrics", "samples", "state", "error", "hparams", "checkpoint")):
                self.state = self.run.state
        self.observe(self._settings_changed, names=list(SETTINGS))
        self._coalescer.poke()

    # ---- inputs ------------------------------------------------------------------------
    def _data_name(self, data: Any) -> str:
        if self.run is not None:
            return str(self.run.data_source.get("name") or "data")
        return str(getattr(data, "name", None) or ("data" if data is not None else "no data"))

    def _real_set(self, data: Any) -> RealSet | None:
        if self.run is not None:
            data = self.run.data
        elif data is not None and not hasattr(data, "examples"):
            from ..runtime.loading import load_data

            data = load_data(data)
        if data is None:
            return None
        spec = self.model.data_spec
        if getattr(data, "spec", spec) != spec:
            raise ConfigError(f"the model was built for data {spec} but the data given is {data.spec}")
        per = REAL_POINTS if spec.kind == "points" else REAL_IMAGES
        n = per * (spec.num_classes or 1) if self.model.capabilities.conditional else per
        batch = data.examples(n, seed=0)
        return RealSet(batch.x.float().cpu(), None if batch.labels is None else batch.labels.cpu())

    def _auto_extent(self) -> list[float]:
        if self._real is not None and len(self._real.x):
            return auto_extent(self._real.x)
        with self._frames.view() as look:
            z, labels = look.model.fixed_noise()
            return auto_extent(look.model.sample(len(z), z=z, labels=labels).float().cpu())

    # ---- validation --------------------------------------------------------------------
    @t.validate("view")
    def _valid_view(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] not in VIEWS:
            raise t.TraitError(f"view must be one of {', '.join(VIEWS)}, got {proposal['value']!r}")
        try:
            return check_view(self.model, proposal["value"])
        except ConfigError as exc:
            raise t.TraitError(str(exc)) from None

    @t.validate("label")
    def _valid_label(self, proposal: dict[str, Any]) -> int:
        n = self.model.data_spec.num_classes or 0
        value = int(proposal["value"])
        if self.model.capabilities.conditional and not 0 <= value < n:
            raise t.TraitError(f"label must be a class index in [0, {n}), got {value}")
        return value

    @t.validate("extent")
    def _valid_extent(self, proposal: dict[str, Any]) -> list[float]:
        value = [float(v) for v in proposal["value"]]
        if len(value) != 4:
            raise t.TraitError(f"extent must be [x0, x1, y0, y1], got {value}")
        try:
            PlaneGrid(*value, resolution=2)
        except ConfigError as exc:
            raise t.TraitError(str(exc)) from None
        return value

    @t.validate("sort")
    def _valid_sort(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] not in ("none", "desc", "asc"):
            raise t.TraitError(f"sort must be 'none', 'desc' or 'asc', got {proposal['value']!r}")
        return proposal["value"]

    @t.validate("latent_mode")
    def _valid_latent_mode(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] not in ("axes", "random"):
            raise t.TraitError(f"latent_mode must be 'axes' or 'random', got {proposal['value']!r}")
        return proposal["value"]

    @t.validate("latent_dims")
    def _valid_latent_dims(self, proposal: dict[str, Any]) -> list[int]:
        dims, k = [int(d) for d in proposal["value"]], int(self.model.latent_dim)
        if len(dims) != 2 or dims[0] == dims[1] or not all(0 <= d < k for d in dims):
            raise t.TraitError(f"latent_dims must be two different coordinates in [0, {k}), got {dims}")
        return dims

    @t.validate("latent_span")
    def _valid_latent_span(self, proposal: dict[str, Any]) -> float:
        if not 0 < float(proposal["value"]) <= 100:
            raise t.TraitError(f"latent_span must be in (0, 100] prior standard deviations, got {proposal['value']}")
        return float(proposal["value"])

    @t.validate("latent_index")
    def _valid_latent_index(self, proposal: dict[str, Any]) -> int:
        k = int(proposal["value"])
        if not 0 <= k < self._num_codes:
            raise t.TraitError(f"latent_index must pick one of the model's {self._num_codes} fixed-noise codes: "
                               f"an integer in [0, {self._num_codes}), got {k}")
        return k

    def settings(self) -> FrameSettings:
        """The traits that decide a frame, frozen."""
        return FrameSettings(
            view=self.view, resolution=self.resolution, extent=tuple(self.extent) or (-1.0, 1.0, -1.0, 1.0),
            label=self.label if self.conditional else None, arrows=self.arrows, examples=self.examples,
            slice_resolution=self.slice_resolution, latent_mode=self.latent_mode,
            latent_dims=tuple(self.latent_dims), latent_span=self.latent_span, latent_seed=self.latent_seed,
            latent_index=self.latent_index, thumbs=8)

    # ---- computing and sending frames --------------------------------------------------
    @property
    def frame(self) -> dict[str, Any] | None:
        """The newest frame (numpy arrays; see :func:`genwidgets.scores.frames.compute_frame`), or None."""
        return self._latest

    def compute(self) -> dict[str, Any]:
        """Compute a frame of the current view now (in the calling thread) and return it, without sending it."""
        return self._compute()[0]

    def _compute(self) -> tuple[dict[str, Any], Any]:
        """A frame of the current view, and its key: what it was computed on, and the settings."""
        settings = self.settings()
        with self._frames.view() as look:
            t0 = time.perf_counter()
            if self.model.runtime.num_threads and torch.get_num_threads() != self.model.runtime.num_threads:
                torch.set_num_threads(self.model.runtime.num_threads)  # per OS thread, like the run's loop
            frame = compute_frame(look.model, settings, self._real, step=look.step)
            self._compute_s = time.perf_counter() - t0
            return frame, (look.version, settings)

    def refresh(self) -> dict[str, Any]:
        """Recompute the frame now, send it to the front ends and return it (e.g. after changing a bare model)."""
        with self._send_lock:
            self._latest_key = None
            self._update()
            return self._latest  # type: ignore[return-value]

    def flush(self) -> None:
        """Send what changed (the coalescer calls this; a frame is recomputed only if the model or settings moved)."""
        with self._send_lock:
            self._update()

    def _update(self) -> None:
        with self._lock:
            changes, self._pending = self._pending, {}
        frame_ms, message, frame = self.frame_ms, "", None
        if (self._frames.version(), self.settings()) != self._latest_key:
            self._compute_s = 0.0
            key = None
            try:
                frame, key = self._compute()
            except GenwidgetsError as exc:
                message = str(exc)
            except Exception as exc:  # noqa: BLE001 - the kernel outlives a failing frame
                log.exception("genwidgets: the discriminator heatmap could not compute a frame")
                message = f"could not compute the frame: {type(exc).__name__}: {exc}"
            frame_ms = round(1000 * self._compute_s, 2)  # computing only, not waiting for a step to end
            self._coalescer.max_rate = min(self.max_rate, LIVE_COMPUTE_BUDGET / max(self._compute_s, 1e-4))
            if frame is not None:
                self._latest, self._latest_key = frame, key
        with self.hold_sync():
            for name, value in changes.items():
                setattr(self, name, value)
            self.frame_ms = frame_ms
            if frame is not None:
                self.step, self.message = int(frame["step"]), ""
            elif message:
                self.message = message
        if frame is not None:
            self._send_frame(frame)

    def _send_frame(self, frame: dict[str, Any]) -> None:
        content, buffers = wire.pack(frame)
        self.send(content, buffers)

    # ---- run -> widget -----------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if event.kind == "state":
            with self._lock:
                self._pending["state"] = event.data["new"]
        elif event.kind == "error":
            with self._lock:
                self._pending["state"] = "failed"
        self._coalescer.poke()

    def _settings_changed(self, _change: dict[str, Any]) -> None:
        self._coalescer.poke()

    @t.observe("max_rate")
    def _max_rate_changed(self, change: dict[str, Any]) -> None:
        coalescer = getattr(self, "_coalescer", None)
        if coalescer is not None:
            coalescer.max_rate = change["new"]

    # ---- front end -> widget -----------------------------------------------------------
    def _hello(self, nonce: str) -> None:
        with self._send_lock:
            if self._latest is not None:
                self._send_frame(self._latest)
        self._coalescer.poke()

    # ---- display -----------------------------------------------------------------------
    def to_png(self) -> bytes:
        """The newest frame as PNG bytes (the static fallback); computes one if there is none yet."""
        frame = self._latest
        if frame is None:
            with contextlib.suppress(GenwidgetsError):
                frame = self.compute()
        return render_frame_png(frame, title=self.title, sort=self.sort)


__all__ = ["DiscriminatorHeatmap"]
