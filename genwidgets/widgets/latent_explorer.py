"""``LatentExplorer``: see a model's latent space, touch it, and watch the decoder answer.

Python side of ``js/src/widgets/latent_explorer.ts``. The computations live in
:class:`~genwidgets.explore.session.LatentSession`; this class wires them to the front end:

* durable state (current code ``z``, class label, projection, fill rule, slider dimensions,
  what the map shows) lives in synced traits;
* requests (decode at this map point, set this slider, interpolate, traverse) arrive as custom
  messages and run on one worker thread where the newest request of a kind replaces a waiting
  one, so a fast drag never builds a queue and the kernel never blocks;
* answers travel as custom messages with binary buffers (uint8 images, float32 points and codes).

Attached to a run, it looks at the run's snapshot of the model (a frozen copy shared with the
run's other widgets, see :mod:`genwidgets.runtime.model_snapshot`), and moves to the newest one
(re-encoding the map) at the run's checkpoint and sample events, at most once per
``refresh_interval`` seconds, and less often when a map is expensive: re-encoding takes at most a
quarter of one core (``LIVE_COMPUTE_BUDGET``) while the run trains.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import traitlets as t

from ..errors import GenwidgetsError
from ..explore.coalesce import LatestWins
from ..explore.output_map import OutputProjection
from ..explore.paths import MODES
from ..explore.session import LatentSession, MapState
from ..model import GenerativeModel
from ..runtime.events import Event
from ..runtime.handle import RunHandle
from .bundle import esm
from .live_widget import LiveWidget
from .png import render_explorer_png
from .throttle import LIVE_COMPUTE_BUDGET, Coalescer
from .wire import pack

log = logging.getLogger(__name__)

#: Run events after which a live explorer re-encodes its map.
REFRESH_EVENTS = ("checkpoint", "samples")


class LatentExplorer(LiveWidget):
    """Explore the latent space of any model that can decode: map, probe, sliders, paths.

    * **Map**: codes of ``n`` examples (posterior means for models that encode with a network,
      prior codes with their outputs for the others) projected to 2-D by PCA or onto two latent
      dimensions, coloured by label, with hover thumbnails. Prior codes (a GAN's) are laid out by
      what the model makes of them (:mod:`genwidgets.explore.output_map`): at their 2-D outputs,
      or by the data's classifier features (coloured by predicted class) or pixels for images.
    * **Probe**: click or drag on the map; the point is lifted back to a full code (the other
      components from the nearest map point or from the map's centre: :attr:`fill`; on a map laid
      out by output, a blend of the nearest points' codes) and decoded.
    * **Sliders**: one per top-ranked latent dimension (by KL to the prior where the model has a
      Gaussian posterior, else by how much the output changes along it), each moving the current code.
    * **Interpolation** between two stored codes (linear or spherical) and **traversals** (each
      top dimension swept over ±``span`` with the others fixed, one row per dimension).
    * **Conditioning**: a class selector for conditional models.

    Args:
        model_or_run: A model with the ``can_decode`` capability, or a run (a Run or a LaunchedRun)
            training one.
        data: What to encode for the map (a data set name, array, tensor, Dataset, folder or
            GenData; default: the run's data).
        n: Points on the map (10,000 stay smooth: the map is drawn with WebGL).
        source: ``"auto"``, ``"encode"`` or ``"prior"`` (see :mod:`genwidgets.explore.latent_map`).
        dims: Two latent dimensions as the map's axes; None (default) for the layout's default.
        map_layout: ``"auto"``, ``"outputs"`` (prior codes placed by their outputs) or ``"codes"`` (PCA
            of the codes); ``"auto"`` lays prior codes out by output and encoded data by code.
        fill: ``"nearest"`` or ``"zero"``: where a map point's other components come from.
        sliders: How many dimensions get a slider (the top-ranked ones).
        live: Re-encode at the run's checkpoint and sample events (runs only).
        refresh_interval: Fewest seconds between two live re-encodings (more when one takes long: see above).
        seed: Seed of the examples (or prior codes) on the map.

    Raises:
        CapabilityError: the model cannot decode (there is nothing to explore).
    """

    _esm = esm("latent_explorer")

    title = t.Unicode("", help="Which model, and what the map shows.").tag(sync=True)
    kind = t.Unicode("images", help="What the model outputs: 'images' or 'points'.").tag(sync=True)
    latent_dim = t.Int(0, help="Size of the latent code.").tag(sync=True)
    z = t.List(t.Float(), help="The current latent code; set it to decode it. Probes and sliders "
               "change it.").tag(sync=True)
    label = t.Int(-1, help="Class label decodes use (conditional models; -1 when the model has "
                  "none).").tag(sync=True)
    class_names = t.List(t.Unicode(), help="Names of the classes a conditional model takes (empty "
                         "for unconditional models).").tag(sync=True)
    dims = t.List(t.Int(), help="Two latent dimensions shown as the map's axes; empty for the layout's "
                  "default.").tag(sync=True)
    map_layout = t.Unicode("auto", help="How the map lays codes out when `dims` is empty: 'auto', 'outputs' (by "
                       "what the model makes of them; prior codes only) or 'codes' (PCA).").tag(sync=True)
    fill = t.Unicode("nearest", help="Where a map point's other components come from: 'nearest' "
                     "(the nearest map point) or 'zero' (the map's centre).").tag(sync=True)
    fill_note = t.Unicode("", help="What `fill` does, in words (shown under the map).").tag(sync=True)
    map_info = t.Dict(help="What the map shows: n, source, description, projection, axis titles, the "
                      "layouts it offers and the one shown, what its colours are (label_kind, label_names), "
                      "and the training step of the model it shows.").tag(sync=True)
    slider_dims = t.List(t.Int(), help="Dimensions with a slider, most informative first.").tag(sync=True)
    slider_scores = t.List(t.Float(), help="The ranking measure of each slider dimension.").tag(sync=True)
    slider_measure = t.Unicode("", help="What the slider scores are: 'KL (nats)', 'output change per unit' "
                               "or 'variance'.").tag(sync=True)
    span = t.Float(3.0, min=0.1, help="Sliders and traversals cover [-span, span] (the prior's "
                   "scale).").tag(sync=True)
    traversal_steps = t.Int(9, min=2, max=32, help="Columns of the traversal grid.").tag(sync=True)
    interp_steps = t.Int(10, min=2, max=64, help="Codes on an interpolation path.").tag(sync=True)
    interp_mode = t.Unicode("linear", help="Interpolation: 'linear' or 'spherical'.").tag(sync=True)
    endpoints = t.Dict(help="The stored interpolation ends: {'a': description, 'b': description, 'a_point': "
                       "[x, y] on the map, 'b_point': [x, y]}.").tag(sync=True)
    notice = t.Unicode("", help="Why the last request failed (empty when it did not).").tag(sync=True)
    live = t.Bool(False, help="Whether the map follows a training run.").tag(sync=True)

    def __init__(self, model_or_run: RunHandle | GenerativeModel, data: Any = None, *, n: int = 2000,
                 source: str = "auto", dims: Sequence[int] | None = None, map_layout: str = "auto",
                 fill: str = "nearest", sliders: int = 10, live: bool = True, refresh_interval: float = 2.0,
                 seed: int = 0, **kwargs: Any) -> None:
        session = LatentSession(model_or_run, data, n=n, source=source, dims=None if dims is None else list(dims),
                                layout=map_layout, fill=fill, seed=seed)
        super().__init__(**kwargs)
        self.session = session
        self._sliders = int(sliders)
        self._ends: dict[str, np.ndarray] = {}
        # The current code's place on the map, as last sent (the session starts at the map's first code).
        self._point = np.asarray(session.state.points[0], dtype=np.float32)
        self._syncing = threading.local()
        #: Images (or point outputs) sent for probes, slider moves and ``z`` edits.
        self.decoded = 0
        # Highest request number received: answers acknowledge it, so requests the worker replaced by
        # newer ones (and never answers) do not hold up the front end's request window.
        self._received_seq = 0
        self._ready = False  # trait observers act only once the constructor has set everything
        self._worker = LatestWins("genwidgets-latent-explorer", on_error=self._on_job_error,
                                  setup=self._worker_threads)
        with self.hold_sync():
            model = session.view.model
            self.kind = session.kind
            self.latent_dim = session.latent_dim
            self.class_names = _class_names(session) if session.conditional else []
            self.label = -1 if session.label is None else session.label
            self.dims = [] if session.dims is None else list(session.dims)
            self.map_layout = session.layout
            self.fill = session.fill
            self.live = bool(live and session.view.live)
            self._set_map_traits(session.state)
            self._set_z(session.z)
            self.title = f"{model.name} latent space ({session.latent_dim}-D)"
        # The z trait follows the newest decoded code at most 10 times a second: the output message
        # already carries z to the front end, and a trait update per decode would double the traffic.
        self._z_sync = Coalescer(lambda: self._set_z(self.session.z), 10.0, name="genwidgets-explorer-z")
        self._own(self._worker)
        self._own(self._z_sync)
        self._refresher: Coalescer | None = None
        run = session.view.run
        self._refresh_rate = 1.0 / max(refresh_interval, 0.05)
        if self.live and run is not None:
            self._refresher = self._own(Coalescer(lambda: self._worker.submit("refresh", self._refresh),
                                                  self._refresh_rate,
                                                  name="genwidgets-explorer-refresh"), idle=False)
            self._follow(run, self._on_run_event, max_queue=64)
        self._ready = True

    # ---- front end -> kernel ------------------------------------------------------------------------
    def _hello(self, nonce: str) -> None:
        self._worker.submit(f"hello:{nonce}", lambda: self._send_everything(nonce))

    def _request(self, op: Any, content: dict[str, Any]) -> None:
        """Dispatch a request; everything that computes runs on the worker, so this returns at once."""
        seq = int(content.get("seq", 0) or 0)
        self._received_seq = max(self._received_seq, seq)
        try:
            if op == "probe":
                x, y = float(content["x"]), float(content["y"])
                final = bool(content.get("final"))
                self._worker.submit("decode", lambda: self._probe(x, y, seq, final))
            elif op == "slide":
                dim, value = int(content["dim"]), float(content["value"])
                final = bool(content.get("final"))
                self._worker.submit("decode", lambda: self._slide(dim, value, seq, final))
            elif op == "pick":
                index = int(content["index"])
                self._worker.submit("decode", lambda: self._pick(index, seq))
            elif op == "endpoint":
                self.set_endpoint(str(content.get("which", "")))
            elif op == "interpolate":
                self._worker.submit("interpolate", self._send_interpolation)
            elif op == "traverse":
                self._worker.submit("traverse", self._send_traversal)
        except (KeyError, TypeError, ValueError) as exc:
            self.notice = f"malformed {op!r} request from the front end: {exc}"

    # ---- jobs (on the worker thread) ----------------------------------------------------------------
    def _probe(self, x: float, y: float, seq: int, final: bool) -> None:
        z, index = self.session.lift(x, y)
        self._decode_and_send(z, seq, base_index=index)
        if final:
            self._worker.submit("traverse", self._send_traversal)

    def _slide(self, dim: int, value: float, seq: int, final: bool) -> None:
        if not 0 <= dim < self.session.latent_dim:
            raise GenwidgetsError(f"slider dimension {dim} is outside the latent space [0, {self.session.latent_dim})")
        z = self.session.z.copy()
        z[dim] = value
        self._decode_and_send(z, seq)
        if final:
            self._worker.submit("traverse", self._send_traversal)

    def _pick(self, index: int, seq: int) -> None:
        codes = self.session.state.latent_map.codes
        if not 0 <= index < len(codes):
            raise GenwidgetsError(f"map point {index} does not exist (the map has {len(codes)})")
        self._decode_and_send(codes[index].copy(), seq, base_index=index, picked=True)
        self._worker.submit("traverse", self._send_traversal)

    def _decode_and_send(self, z: np.ndarray, seq: int, *, base_index: int | None = None,
                         picked: bool = False) -> None:
        floats = self.session.decode_floats(z[None])
        output = self.session.for_wire(floats)
        self.session.z = z
        state = self.session.state
        point = state.points[base_index] if picked and base_index is not None else self.session.place(z, floats)
        self._point = np.asarray(point, dtype=np.float32)
        content, buffers = pack({"op": "output", "seq": seq, "ack": self._received_seq,
                                 "output": output, "z": z.astype(np.float32), "point": self._point,
                                 "base_index": base_index, "picked": picked})
        self.send(content, buffers)
        self.decoded += 1
        self._z_sync.poke()

    def _send_traversal(self) -> None:
        result = self.session.traversal(self.session.z, k=min(self._sliders, self.session.latent_dim),
                                        steps=self.traversal_steps, span=self.span)
        content, buffers = pack({"op": "traversal", **result})
        self.send(content, buffers)

    def _send_interpolation(self) -> None:
        missing = [k for k in ("a", "b") if k not in self._ends]
        if missing:
            raise GenwidgetsError(f"set both interpolation ends first (missing: {', '.join(missing)}); "
                                  "probe a point and press 'A ← current', then another and 'B ← current'")
        outputs = self.session.interpolation(self._ends["a"], self._ends["b"], steps=self.interp_steps,
                                             mode=self.interp_mode)
        content, buffers = pack({"op": "interpolation", "outputs": outputs, "mode": self.interp_mode})
        self.send(content, buffers)

    def _send_map(self, nonce: str = "") -> None:
        state = self.session.state
        lm = state.latent_map
        content, buffers = pack({
            "op": "map", "nonce": nonce, "points": state.points,
            "labels": lm.labels, "thumbs": lm.thumbs,
            "data_points": None if lm.points is None else lm.points[:, :2].copy(),
        })
        self.send(content, buffers)

    def _send_everything(self, nonce: str) -> None:
        self._send_map(nonce)
        self._decode_and_send(self.session.z, 0)
        self._send_traversal()

    def _refresh(self) -> None:
        started = time.perf_counter()
        state = self.session.rebuild()
        if self._refresher is not None:  # a live map takes at most LIVE_COMPUTE_BUDGET of a core
            took = time.perf_counter() - started
            self._refresher.max_rate = min(self._refresh_rate, LIVE_COMPUTE_BUDGET / max(took, 1e-4))
        with self.hold_sync():
            self._set_map_traits(state)
        self._send_map()
        self._decode_and_send(self.session.z, 0)
        self._send_traversal()

    def _worker_threads(self) -> None:
        # torch's intra-op thread count is per OS thread: the worker follows the runtime's choice
        # (as the Run's loop thread does), instead of torch's default of every core.
        threads = self.session.view.model.runtime.num_threads
        if threads:
            torch.set_num_threads(int(threads))

    def _on_job_error(self, kind: str, exc: BaseException) -> None:
        if isinstance(exc, GenwidgetsError):
            self.notice = str(exc)
        else:
            log.warning("genwidgets: latent explorer %s failed", kind, exc_info=exc)
            self.notice = f"{kind} failed: {type(exc).__name__}: {exc}"

    # ---- run -> explorer ------------------------------------------------------------------------------
    def _on_run_event(self, event: Event) -> None:
        if event.data.get("replay"):
            return  # the run's state when the explorer opened: its map was just built from that
        if self._refresher is None or self._refresher.closed:
            return
        if event.kind == "state" and event.data.get("new") in ("finished", "stopped"):
            # The run's last map is built now, not after the refresh interval (which a costly map lengthens):
            # so wait_idle() after the run ends covers it.
            self._worker.submit("refresh", self._refresh)
        elif event.kind in REFRESH_EVENTS:
            self._refresher.poke()

    # ---- Python API -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-encode the map now (from a new snapshot when following a run)."""
        self._worker.submit("refresh", self._refresh)

    def set_endpoint(self, which: str) -> None:
        """Store the current code as interpolation end ``'a'`` or ``'b'``."""
        if which not in ("a", "b"):
            self.notice = f"interpolation end must be 'a' or 'b', got {which!r}"
            return
        self._ends[which] = self.session.z.copy()
        values = ", ".join(f"{v:.2f}" for v in self.session.z[:4])
        more = ", …" if self.session.latent_dim > 4 else ""
        point = self._point
        self.endpoints = {**self.endpoints, which: f"z = [{values}{more}]",
                          f"{which}_point": [float(point[0]), float(point[1])]}

    # ---- traits -> session ----------------------------------------------------------------------------
    @t.observe("z")
    def _z_changed(self, change: dict[str, Any]) -> None:
        if not self._ready or getattr(self._syncing, "on", False):
            return
        try:
            z = self.session.check_z(change["new"])
        except GenwidgetsError as exc:
            self.notice = str(exc)
            return
        self._worker.submit("decode", lambda: self._decode_and_send(z, 0))

    @t.observe("label")
    def _label_changed(self, change: dict[str, Any]) -> None:
        if not self._ready:
            return
        if not self.session.conditional or change["new"] == self.session.label:
            return
        try:
            self.session.set_label(change["new"])
        except GenwidgetsError as exc:
            self.notice = str(exc)
            return
        self._worker.submit("decode", lambda: self._decode_and_send(self.session.z, 0))
        self._worker.submit("traverse", self._send_traversal)

    @t.observe("dims", "map_layout")
    def _dims_changed(self, _change: dict[str, Any]) -> None:
        if not self._ready:
            return
        dims, layout = list(self.dims), self.map_layout

        def job() -> None:
            state = self.session.set_projection(dims or None, layout)
            with self.hold_sync():
                self._set_map_traits(state)
            self._send_map()
            self._decode_and_send(self.session.z, 0)

        self._worker.submit("projection", job)

    @t.observe("fill")
    def _fill_changed(self, change: dict[str, Any]) -> None:
        if not self._ready:
            return
        try:
            self.session.set_fill(change["new"])
        except GenwidgetsError as exc:
            self.notice = str(exc)
            return
        self.fill_note = self.session.describe_fill()

    @t.observe("interp_mode")
    def _mode_changed(self, change: dict[str, Any]) -> None:
        if change["new"] not in MODES:
            self.notice = f"interpolation mode must be one of {', '.join(MODES)}, got {change['new']!r}"

    @t.observe("span", "traversal_steps")
    def _traversal_settings_changed(self, _change: dict[str, Any]) -> None:
        if not self._ready:
            return
        self._worker.submit("traverse", self._send_traversal)

    def _set_z(self, z: np.ndarray) -> None:
        self._syncing.on = True
        try:
            self.z = [float(v) for v in z]
        finally:
            self._syncing.on = False

    def _set_map_traits(self, state: MapState) -> None:
        lm, projection, ranking = state.latent_map, state.projection, state.ranking
        top = ranking.top(min(self._sliders, self.session.latent_dim))
        self.slider_dims = top
        self.slider_scores = [float(f"{s:.3g}") for s in ranking.scores[: len(top)]]
        self.slider_measure = ranking.measure
        self.fill_note = self.session.describe_fill()
        by_output = isinstance(projection, OutputProjection)
        self.map_info = {"n": len(lm), "source": lm.source, "description": lm.description,
                         "projection": projection.describe(), "axis_titles": list(projection.axis_titles()),
                         "layouts": self.session.layouts, "layout": "outputs" if by_output else "codes",
                         "fill_applies": not by_output, "label_kind": lm.label_kind,
                         "label_names": list(lm.label_names), "step": state.step, "updated": time.time()}

    # ---- display --------------------------------------------------------------------------------------
    def to_png(self) -> bytes:
        """The map, the current output and a traversal as PNG bytes (the static fallback)."""
        session = self.session
        state = session.state
        traversal = session.traversal(session.z, k=min(self._sliders, session.latent_dim, 6), steps=7, span=self.span)
        return render_explorer_png(state.points, state.latent_map.labels, session.decode(session.z[None]),
                                   traversal, title=self.title, caption=state.latent_map.description,
                                   axis_titles=state.projection.axis_titles(),
                                   point=state.projection.project(session.z[None])[0],
                                   data_points=state.latent_map.points, label_kind=state.latent_map.label_kind)


def _class_names(session: LatentSession) -> list[str]:
    names = session.class_names
    return [str(names[i]) if i < len(names) else str(i) for i in range(session.num_classes)]


__all__ = ["LatentExplorer"]
