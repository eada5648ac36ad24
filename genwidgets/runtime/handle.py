"""The one surface every widget, logger and panel uses of a run, and the state both kinds of run keep.

A :class:`~genwidgets.runtime.run.Run` trains in a thread of this process; a
:class:`~genwidgets.launcher.LaunchedRun` drives torchrun workers and mirrors rank 0. Both are
:class:`RunHandle` s: code typed against the protocol works with either, and never needs
``hasattr``/``isinstance`` probes.

:class:`RunBase` is what they share: the state kept from the run's own events (history, latest
metrics and samples, edit log, last checkpoint, error), publishing with that bookkeeping in one
place, :meth:`RunBase.subscribe` with *replay* (a panel opened on a running or finished run gets
the current state at once, not "waiting for the first metrics"), the live-edit check, the
Ctrl-C/SIGTERM-aware ``wait`` loop, ``repr`` and the notebook display.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from ..errors import ConfigError, RunError
from ..notebook_display import panel_bundle
from .events import Event, EventBus, Subscription
from .history import MetricHistory
from .schedule import EditLog, HparamSchedule

if TYPE_CHECKING:
    from ..data.base import GenData
    from ..model import GenerativeModel

RunState = Literal["created", "running", "paused", "stopped", "finished", "failed"]

#: States after which a run trains no more (until restarted, for a stopped Run).
ENDED_STATES = ("stopped", "finished", "failed")

#: Bound on :attr:`RunBase.edit_log` (a run steered every few steps for a million steps stays small).
MAX_EDIT_LOG = 1000


@runtime_checkable
class RunHandle(Protocol):
    """What widgets, loggers and plugin panels may rely on, for a Run and a LaunchedRun alike.

    Read state from the attributes, or better, :meth:`subscribe` with ``replay=True`` (the
    default): the subscriber first receives the current state as events marked
    ``event.data["replay"] = True``, then every new event, with nothing missed or doubled.
    """

    model: GenerativeModel
    data: GenData
    runtime: Any
    steps: int | None
    out_dir: Path | None
    log_every: int
    sample_every: int
    data_source: dict[str, Any]
    step_count: int
    history: MetricHistory
    events: EventBus
    error: BaseException | None
    error_message: str
    latest_metrics: dict[str, float]
    latest_samples: Event | None
    last_checkpoint: Path | None
    steps_per_sec: float
    train_seconds: float
    schedule: HparamSchedule
    edit_log: EditLog

    @property
    def state(self) -> RunState:
        """``created``, ``running``, ``paused``, ``stopped``, ``finished`` or ``failed``."""

    @property
    def is_alive(self) -> bool:
        """True while training can go on (a thread or worker processes exist)."""

    @property
    def hparams(self) -> dict[str, Any]:
        """Current values of the model's editable hyperparameters."""

    def subscribe(self, callback: Callable[[Event], Any], *, kinds: Iterable[str] | None = None,
                  max_queue: int = 1024, replay: bool = True) -> Subscription:
        """Receive the run's events in a delivery thread (the current state first, with ``replay``)."""

    def between_steps(self) -> contextlib.AbstractContextManager[None]:
        """Hold the model still (between two steps) for the block."""

    def start(self) -> RunHandle:
        """Start training in the background."""

    def pause(self, *, wait: bool = True, timeout: float = 30.0) -> None:
        """Pause after the current step."""

    def resume(self, steps: int | None = None) -> None:
        """Continue (for ``steps`` more, then pause again)."""

    def step(self, n: int = 1) -> dict[str, float]:
        """Train ``n`` steps now (paused runs); the last metrics."""

    def stop(self, *, wait: bool = True, timeout: float | None = 60.0) -> None:
        """Stop after the current step, writing a final checkpoint when there is an out folder."""

    def wait(self, timeout: float | None = None) -> RunHandle:
        """Block until training ends; raise the run's error if it failed."""

    def set_hparams(self, **changes: Any) -> None:
        """Change live hyperparameters at the next step."""

    def save(self, path: Any = None) -> Path:
        """Write a checkpoint now; its folder."""


class RunBase:
    """State and behaviour a Run and a LaunchedRun share (see the module docstring).

    Subclasses call :meth:`_init_run_state` in ``__init__``, publish every event of the run
    through :meth:`_publish` (which keeps the state below current), and implement the control
    methods of :class:`RunHandle`.
    """

    model: GenerativeModel
    data: GenData
    runtime: Any
    steps: int | None
    out_dir: Path | None
    log_every: int
    sample_every: int
    data_source: dict[str, Any]
    schedule: HparamSchedule
    _state: str

    def _init_run_state(self, *, history_points: int) -> None:
        """Create the per-event state: nothing seen yet."""
        self.step_count = 0
        self.history = MetricHistory(history_points)
        self.events = EventBus()
        self.error: BaseException | None = None
        #: The error as one readable line (names the plugin of a third party's model), or "".
        self.error_message = ""
        self.latest_metrics: dict[str, float] = {}
        self.latest_samples: Event | None = None
        self.last_checkpoint: Path | None = None
        self.steps_per_sec = 0.0
        self.train_seconds = 0.0
        #: Hyperparameter edits applied so far, live or scheduled, as ``(step, {field: value})`` (the newest
        #: ``MAX_EDIT_LOG``); the training panel marks them on its curves. Saved in checkpoints.
        self.edit_log: EditLog = []
        self._publish_lock = threading.RLock()
        self._display_panel: Any = None

    # ---- events ----------------------------------------------------------------------------
    def _publish(self, event: Event) -> Event:
        """Record what ``event`` says about the run, then offer it to every subscriber."""
        with self._publish_lock:
            self._record(event)
            self.events.publish(event)
        return event

    def _record(self, event: Event) -> None:
        data = event.data
        if event.kind == "metrics":
            self.latest_metrics = dict(data["values"])
            self.steps_per_sec = float(data.get("steps_per_sec", self.steps_per_sec))
            self.history.append(event.step, self.latest_metrics)
        elif event.kind == "samples":
            self.latest_samples = event
        elif event.kind == "checkpoint":
            self.last_checkpoint = Path(data["path"])
        elif event.kind == "hparams":
            self.edit_log.append((event.step, dict(data)))
            del self.edit_log[:-MAX_EDIT_LOG]
        elif event.kind == "error":
            self.error_message = str(data.get("message", "")) or "the run failed"
            error = data.get("error")
            self.error = error if isinstance(error, BaseException) else RunError(self.error_message)

    def subscribe(self, callback: Callable[[Event], Any], *, kinds: Iterable[str] | None = None,
                  max_queue: int = 1024, replay: bool = True) -> Subscription:
        """Receive this run's events in a delivery thread; see :meth:`EventBus.subscribe`.

        With ``replay`` (the default) a late subscriber first receives the run's current state as
        events whose data holds ``"replay": True``: when there are any, the latest ``metrics``
        (with ``steps_per_sec``), the latest ``samples``, the last ``checkpoint`` and the ``error``,
        then a ``state`` event (``old`` and ``new`` both the current state; none before the run
        starts), in the order a run's own events end.
        The full metric history is :attr:`history` (``history.snapshot()``). No event published
        meanwhile is missed or delivered twice.
        """
        with self._publish_lock:
            sub = self.events.subscribe(callback, kinds=kinds, max_queue=max_queue)
            if replay:
                for event in self._replay_events():
                    sub.offer(event)
        return sub

    def _replay_events(self) -> list[Event]:
        """The current state as events (see :meth:`subscribe`); called under the publish lock."""
        out: list[Event] = []
        if self.latest_metrics:
            last_step = self.history.snapshot()["steps"][-1] if len(self.history) else self.step_count
            out.append(Event("metrics", int(last_step), {"values": dict(self.latest_metrics),
                                                         "steps_per_sec": self.steps_per_sec, "replay": True}))
        if self.latest_samples is not None:
            out.append(Event("samples", self.latest_samples.step, {**self.latest_samples.data, "replay": True}))
        if self.last_checkpoint is not None:
            out.append(Event("checkpoint", self.step_count, {"path": str(self.last_checkpoint), "replay": True}))
        if self.error is not None:
            out.append(Event("error", self.step_count, {"message": self.error_message, "error": self.error,
                                                        "traceback": "", "replay": True}))
        if self._state != "created":  # last, as a run's own events end; before the start nothing was missed
            out.append(Event("state", self.step_count, {"old": self._state, "new": self._state, "replay": True}))
        return out

    # ---- live edits ------------------------------------------------------------------------
    @property
    def hparams(self) -> dict[str, Any]:
        """Current values of the editable hyperparameters."""
        return {k: getattr(self.model.config, k) for k in self.model.Config.editable_fields()}

    def _check_edits(self, changes: Mapping[str, Any], pending: Mapping[str, Any]) -> None:
        """Refuse fields that are not editable, and values out of range together with ``pending`` edits.

        Raises:
            ConfigError: naming the fields that may change, or the field and its allowed range.
        """
        editable = self.model.Config.editable_fields()
        wrong = sorted(set(changes) - set(editable))
        if wrong:
            raise ConfigError(
                f"{', '.join(wrong)} cannot change during training; editable for {self.model.name!r}: "
                f"{', '.join(editable) or 'none'}"
            )
        self.model.config.replace(**{**pending, **changes})  # validates

    # ---- waiting ---------------------------------------------------------------------------
    def _wait_for_end(self, ended: Callable[[], bool], stop: Callable[[], None], timeout: float | None) -> None:
        """Poll ``ended`` until true or ``timeout``; Ctrl-C or SIGTERM meanwhile calls ``stop``.

        The run is let finish its step (and final checkpoint) before KeyboardInterrupt, or
        ``SystemExit(143)`` for SIGTERM, propagates; further signals cannot interrupt that.
        """
        from .interrupts import StopOnSignals, exit_status

        if ended():  # nothing to wait for: leave the signal handlers alone (a caller may be ignoring them on
            return   # its way out, as the CLI does after its final save; one arriving here must not interrupt)
        with StopOnSignals(stop) as signals:
            deadline = None if timeout is None else time.monotonic() + timeout
            while not ended():
                remaining = None if deadline is None else deadline - time.monotonic()
                if signals.received is None and remaining is not None and remaining <= 0:
                    break
                # Short polls, not one long join: on CPython 3.11 an interrupt inside join() marks the
                # thread as done while it still runs.
                self._wait_a_little(0.2 if remaining is None or signals.received else min(0.2, remaining))
        if signals.received == signal.SIGINT:
            raise KeyboardInterrupt
        if signals.received is not None:
            raise SystemExit(exit_status(signals.received))

    def _wait_a_little(self, seconds: float) -> None:
        """Block for up to ``seconds`` or until the run's end is signalled."""
        time.sleep(seconds)

    def _raise_if_failed(self) -> None:
        """After waiting: deliver queued events, then re-raise the run's error if it failed."""
        self.events.flush(timeout=5.0)
        if self.error is not None:
            raise self.error

    # ---- display ---------------------------------------------------------------------------
    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict] | None:
        """In a Jupyter kernel, display as a live TrainingPanel (with a PNG fallback for static viewers)."""
        return panel_bundle(self, include, exclude)

    def _describe(self) -> str:
        """What the repr says after the model and data (e.g. the number of processes)."""
        return ""

    def __repr__(self) -> str:
        total = "∞" if self.steps is None else self.steps
        return (f"<{type(self).__name__} {self.model.name} on {self.data_source.get('name')}{self._describe()} "
                f"step {self.step_count}/{total} {self._state}>")
