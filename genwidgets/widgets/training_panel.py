"""``TrainingPanel``: watch and steer a training run live inside a notebook.

Python side of ``js/src/widgets/training_panel.ts``. Durable state (run state, progress, errors,
hyperparameters, view settings) lives in synced traits; metric rows and sample images travel
as custom messages with binary buffers (see :mod:`.wire`). The panel subscribes to the run's
events; a coalescer thread sends at most ``max_rate`` updates per second, and the training loop
never waits on the panel.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Sequence
from typing import Any

import traitlets as t

from ..errors import GenwidgetsError
from ..runtime.events import Event
from ..runtime.handle import RunHandle
from . import wire
from .bundle import esm
from .edit_marks import after_edit, edit_label, edit_marks
from .feed import PanelFeed
from .live_metrics import LiveMetrics
from .live_widget import LiveWidget
from .png import render_panel_png
from .samples import SampleFrame, frame_from_event, plane_reference, wants_reconstructions
from .throttle import Coalescer

log = logging.getLogger(__name__)

#: Controls the front end may ask for, and the Run method each calls.
ACTIONS = ("start", "pause", "resume", "stop", "step", "save")


class TrainingPanel(LiveWidget):
    """A live panel for a run (a Run or a LaunchedRun): curves, samples, progress, controls.

    Shows a loss curve for every metric the model's ``train_step`` returns (x-axis in steps,
    with smoothing, a log-scale toggle and hover values), a sample grid from the model's fixed
    noise (one row per class for conditional models; reconstructions beside their inputs for
    models that encode and decode), progress, and controls that act on the run: start, pause,
    resume, stop, single step, save a checkpoint, and live edits of the editable
    hyperparameters. Every control calls the run; what the panel shows comes from the run's
    events, so a run paused from Python reads "paused" here too. An error in the run (an
    exception or a non-finite loss) shows as a banner; the run stops and the kernel lives on.

    Several panels may watch one run, and a panel may open mid-run or on a finished run: it
    starts from the run's history.

    Data and memory: each update sends only what is new (metric rows as float32, images as
    uint8 buffers); a front end that opens receives the full history once. The panel keeps at
    most ``max_points`` metric rows, thinning older ones by half whenever the bound is reached
    (so a run of a million steps keeps at most ``max_points * (1 + metrics)`` floats, 80 KB
    per metric at the default), plus the newest sample grid.

    Args:
        run: The run to show.
        max_rate: Most front-end updates per second (default 10).
        max_points: Bound on kept metric rows (default 10,000).
        reconstructions: Show fixed inputs and their reconstructions beside the samples; None
            (default) does so for autoencoders (see :func:`.samples.wants_reconstructions`).
        metrics: Names of plugin metrics (``register_metrics``) to compute while the run trains
            and plot beside the losses (as ``name.key`` curves; see :mod:`.live_metrics`).
        metric_every: Steps between those computations (default: the run's ``sample_every``).
    """

    _esm = esm("training_panel")

    title = t.Unicode("", help="What is training on what, e.g. 'dcgan on mnist'.").tag(sync=True)
    state = t.Unicode("created", help="The run's state, from its events: created, running, paused, "
                      "stopped, finished or failed.").tag(sync=True)
    progress = t.Dict(help="step, total (None: unbounded), steps_per_sec, elapsed and remaining "
                      "(seconds; remaining None when unknown).").tag(sync=True)
    device = t.Unicode("", help="Device the model trains on, e.g. 'cpu' or 'cuda:0'.").tag(sync=True)
    precision = t.Unicode("", help="Numeric precision of training: fp32, bf16 or fp16.").tag(sync=True)
    error = t.Unicode("", help="The run's error as one readable line (empty when none); shown as a "
                      "banner.").tag(sync=True)
    error_detail = t.Unicode("", help="Traceback of the run's error (empty when none).").tag(sync=True)
    notice = t.Unicode("", help="Outcome of the last control that did not change the run's state, "
                       "e.g. where a checkpoint was saved or why a step was refused.").tag(sync=True)
    hparams = t.Dict(help="Current values of the live-editable hyperparameters, as the run applied "
                     "them.").tag(sync=True)
    edits = t.List(help="Hyperparameter changes to mark on the curves: one dict per change with step, "
                   "values ({field: value}) and planned (False: applied, live or scheduled; True: in the "
                   "run's schedule, still ahead).").tag(sync=True)
    hparam_specs = t.List(help="One dict per editable hyperparameter: name, type ('int' or "
                          "'float'), low, high, low_inclusive, high_inclusive, help.").tag(sync=True)
    metric_names = t.List(t.Unicode(), help="Metrics the model reports, in column order.").tag(sync=True)
    sample_every = t.Int(0, help="Steps between sample-grid refreshes.").tag(sync=True)
    last_checkpoint = t.Unicode("", help="Path of the newest checkpoint (empty when none).").tag(sync=True)
    smoothing = t.Float(0.6, min=0.0, max=0.99, help="Exponential smoothing weight of the curves "
                        "(0: raw values only).").tag(sync=True)
    log_scale = t.Bool(False, help="Plot metric values on a log axis.").tag(sync=True)
    max_rate = t.Float(10.0, min=0.1, help="Most front-end updates per second.").tag(sync=True)
    max_points = t.Int(10_000, read_only=True, help="Bound on kept metric rows (older rows are "
                       "thinned by half when it is reached).").tag(sync=True)

    def __init__(self, run: RunHandle, *, max_rate: float = 10.0, max_points: int = 10_000,
                 reconstructions: bool | None = None, metrics: Sequence[str] = (),
                 metric_every: int | None = None, **kwargs: Any) -> None:
        live = LiveMetrics(run, list(metrics), every=metric_every or run.sample_every) if metrics else None
        super().__init__(max_rate=max_rate, **kwargs)
        self.live_metrics = live
        self.set_trait("max_points", max_points)
        self.run = run
        self._recon = wants_reconstructions(run.model) if reconstructions is None else reconstructions
        self.feed = PanelFeed(max_points)
        self._send_lock = threading.RLock()
        self._pending_traits: dict[str, Any] = {}
        self._traits_lock = threading.Lock()
        self._coalescer = self._own(Coalescer(self.flush, max_rate, name="genwidgets-training-panel"))
        # Subscribe first, then read the run: events published meanwhile wait, and are deduplicated after.
        with self._following(run, self._on_event, max_queue=4096):
            latest = run.latest_samples
            self.feed.seed(run.history.snapshot(),
                           None if latest is None else frame_from_event(run, latest.step, latest.data,
                                                                        recon=self._recon),
                           order=list(run.latest_metrics))
            self._init_traits()
        self._plane = plane_reference(run)

    # ---- run -> panel ------------------------------------------------------------------
    def _init_traits(self) -> None:
        run = self.run
        described = run.runtime.describe()
        editable = run.model.Config.editable_fields()
        fields = {f.name: f for f in dataclasses.fields(run.model.Config)}
        specs = []
        for name in editable:
            meta, value = fields[name].metadata, getattr(run.model.config, name)
            specs.append({"name": name, "type": "int" if isinstance(value, int) else "float",
                          "low": meta.get("low"), "high": meta.get("high"),
                          "low_inclusive": meta.get("low_inclusive", True),
                          "high_inclusive": meta.get("high_inclusive", True), "help": meta.get("help", "")})
        with self.hold_sync():
            self.title = f"{run.model.name} on {run.data_source.get('name') or 'data'}"
            self.device = str(described.get("device", ""))
            self.precision = str(described.get("precision", ""))
            self.hparam_specs = specs
            self.hparams = dict(run.hparams)
            self.edits = edit_marks(run)
            self.sample_every = int(run.sample_every)
            self.metric_names = self.feed.series.columns
            self.state = run.state
            self.last_checkpoint = str(run.last_checkpoint or "")
            if run.error is not None:
                self.error = run.error_message or _error_line(run.error)
            self.progress = self._progress()

    def _on_event(self, event: Event) -> None:
        """Record one run event (in the subscription's delivery thread) and schedule an update."""
        kind, data = event.kind, event.data
        if kind == "metrics":
            values = data["values"]
            if self.live_metrics is not None and self.live_metrics.due(event.step):
                values = {**values, **self.live_metrics.compute(event.step)}
                if self.live_metrics.errors:
                    with self._traits_lock:
                        self._pending_traits["notice"] = "; ".join(self.live_metrics.errors.values())
            self.feed.add_metrics(event.step, values)
        elif kind == "samples":
            self.feed.add_samples(frame_from_event(self.run, event.step, data, recon=self._recon))
        else:
            with self._traits_lock:
                if kind == "state":
                    self._pending_traits["state"] = data["new"]
                elif kind == "error":
                    self._pending_traits["error"] = str(data.get("message", "error"))
                    self._pending_traits["error_detail"] = str(data.get("traceback", ""))
                elif kind == "hparams":
                    current = self._pending_traits.get("hparams", self.hparams)
                    self._pending_traits["hparams"] = {**current, **data}
                    marks = self._pending_traits.get("edits", self.edits)
                    self._pending_traits["edits"] = after_edit(marks, event.step, data)
                elif kind == "checkpoint":
                    self._pending_traits["last_checkpoint"] = str(data["path"])
                elif kind == "warning":
                    self._pending_traits["notice"] = str(data.get("message", ""))
        self._coalescer.poke()

    def _progress(self) -> dict[str, Any]:
        run = self.run
        step, total, rate = int(run.step_count), run.steps, float(run.steps_per_sec or 0.0)
        known = total is not None and rate > 0 and run.state == "running"
        remaining = (total - step) / rate if known else None
        return {"step": step, "total": total, "steps_per_sec": round(rate, 3),
                "elapsed": round(float(run.train_seconds), 3),
                "remaining": None if remaining is None else round(max(0.0, remaining), 1)}

    def flush(self) -> None:
        """Send what changed since the last update now (the panel also does this by itself)."""
        with self._send_lock:
            messages = self.feed.take_messages()
            with self._traits_lock:
                changes, self._pending_traits = self._pending_traits, {}
            columns = self.feed.series.columns
            with self.hold_sync():
                for name, value in changes.items():
                    setattr(self, name, value)
                if columns != self.metric_names:
                    self.metric_names = columns
                self.progress = self._progress()
            for content, buffers in messages:
                self.send(content, buffers)

    # ---- front end -> panel ------------------------------------------------------------
    def _request(self, op: Any, content: dict[str, Any]) -> None:
        if op == "control":
            self.control(str(content.get("action", "")))
        elif op == "hparams":
            values = dict(content.get("values") or {})
            if "id" not in content:
                self.edit_hparams(values)
                return
            error = self.edit_hparams(values, quiet=True)  # the field that sent it shows the outcome
            self.send({"op": "edit", "id": content["id"], "ok": error is None, "message": error or ""})

    def _hello(self, nonce: str) -> None:
        with self._send_lock:
            self.flush()  # front ends already in sync get the rows they lack first
            for message, buffers in self.feed.reset_messages(nonce):
                self.send(message, buffers)
            if self._plane is not None:
                self.send(*wire.pack({"op": "plane", **self._plane}))

    def control(self, action: str) -> None:
        """Act on the run as the panel's buttons do: one of :data:`ACTIONS`.

        The shown state follows from the run's own events. A control the run refuses (stepping
        while it trains, saving without a directory) leaves its reason in :attr:`notice`.
        """
        run = self.run
        self.notice = ""
        try:
            if action == "start":
                run.start()
            elif action == "pause":
                run.pause(wait=False)
            elif action == "resume":
                run.resume()
            elif action == "stop":
                run.stop(wait=False)
            elif action == "step":
                run.step(1)
                self.notice = f"stepped to {run.step_count}"
            elif action == "save":
                self.notice = f"saved {run.save()}"
            else:
                self.notice = f"unknown control {action!r}; expected one of {', '.join(ACTIONS)}"
        except GenwidgetsError as exc:
            self.notice = str(exc)
        except Exception as exc:  # noqa: BLE001 - the kernel must outlive a failed control
            log.exception("genwidgets: control %r failed", action)
            self.notice = f"{action} failed: {type(exc).__name__}: {exc}"
        self._coalescer.poke()

    def edit_hparams(self, values: dict[str, Any], *, quiet: bool = False) -> str | None:
        """Change live hyperparameters; they apply at the run's next step (see ``Run.set_hparams``).

        Returns why the run refused them (None when it took them); unless ``quiet``, the reason also
        goes to :attr:`notice`.
        """
        error = None
        try:
            self.run.set_hparams(**values)
        except GenwidgetsError as exc:
            error = str(exc)
        except (TypeError, ValueError) as exc:
            error = f"invalid hyperparameters {values!r}: {exc}"
        if not quiet:
            self.notice = error or ""
        self._coalescer.poke()
        return error

    @t.observe("max_rate")
    def _max_rate_changed(self, change: dict[str, Any]) -> None:
        coalescer = getattr(self, "_coalescer", None)
        if coalescer is not None:
            coalescer.max_rate = change["new"]

    # ---- display -----------------------------------------------------------------------
    def to_png(self) -> bytes:
        """The panel's current curves, samples and status as PNG bytes (the static fallback)."""
        with self.feed.lock:
            steps = list(self.feed.series.steps)
            values = {k: list(v) for k, v in self.feed.series.values.items()}
            samples: SampleFrame | None = self.feed.samples
        p = self._progress()
        total = "∞" if p["total"] is None else p["total"]
        status = (f"{self.run.state} · step {p['step']}/{total} · {p['steps_per_sec']:.1f} steps/s · "
                  f"{self.device} {self.precision}")
        marks = [(m["step"], edit_label(m["values"])) for m in self.edits if not m["planned"]]
        return render_panel_png(steps, values, samples=samples, title=self.title, status=status,
                                error=self.error, log_scale=self.log_scale, marks=marks, plane=self._plane)


def _error_line(exc: BaseException) -> str:
    from ..errors import NonFiniteLossError

    return str(exc) if isinstance(exc, NonFiniteLossError) else f"{type(exc).__name__}: {exc}"


__all__ = ["ACTIONS", "TrainingPanel"]
