"""Events a training run publishes, and a bus that never lets a slow subscriber stall training.

Each subscriber gets its own bounded queue and delivery thread. Publishing appends to every
queue and returns at once; when a queue is full its oldest event is dropped (and counted),
so the training loop never waits on a widget or a logger. Subscribers may filter by kind.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Literal

import numpy as np

from .shutdown import close_at_exit

log = logging.getLogger(__name__)

EventKind = Literal["state", "metrics", "samples", "checkpoint", "error", "hparams", "warning"]


@dataclasses.dataclass(frozen=True)
class Event:
    """Something that happened in a run.

    Attributes:
        kind: ``"state"`` (data: ``old``, ``new``), ``"metrics"`` (data: ``values`` dict of
            floats averaged over the interval, ``steps_per_sec``), ``"samples"`` (data:
            ``images`` uint8 (N, H, W, C) or ``points`` float32 (N, D), ``labels``),
            ``"checkpoint"`` (data: ``path``), ``"error"`` (data: ``message``, ``error``
            (the exception), ``traceback``), ``"hparams"`` (data: the changed fields),
            ``"warning"`` (data: ``message``; e.g. a checkpoint that could not be written while
            ``on_checkpoint_error="continue"``).
        step: Number of completed training steps when the event was made.
        time: ``time.time()`` at publication.
        data: Kind-specific payload, described above.
    """

    kind: EventKind
    step: int
    data: dict[str, Any]
    time: float = dataclasses.field(default_factory=time.time)

    def summary(self) -> dict[str, Any]:
        """JSON-ready form without arrays or exceptions (for loggers)."""
        out: dict[str, Any] = {"kind": self.kind, "step": self.step, "time": self.time}
        for key, value in self.data.items():
            if isinstance(value, np.ndarray):
                out[key] = {"shape": list(value.shape), "dtype": str(value.dtype)}
            elif isinstance(value, BaseException):
                out[key] = repr(value)
            else:
                out[key] = value
        return out


class Subscription:
    """A subscriber's queue and delivery thread; :meth:`close` ends it."""

    def __init__(self, callback: Callable[[Event], Any], kinds: Iterable[str] | None, max_queue: int) -> None:
        self.callback = callback
        self.kinds = frozenset(kinds) if kinds is not None else None
        self.dropped = 0
        self.delivered = 0
        self._queue: collections.deque[Event] = collections.deque(maxlen=max_queue)
        self._cond = threading.Condition()
        self._closed = False
        self._idle = threading.Event()
        self._idle.set()
        name = getattr(callback, "__qualname__", type(callback).__name__)
        self._thread = threading.Thread(target=self._deliver, name=f"genwidgets-events-{name}", daemon=True)
        self._thread.start()
        close_at_exit(self, lambda sub: sub.close(join=2.0))

    def offer(self, event: Event) -> None:
        """Queue ``event`` without blocking (dropping the oldest if the queue is full)."""
        if self._closed or (self.kinds is not None and event.kind not in self.kinds):
            return
        with self._cond:
            if len(self._queue) == self._queue.maxlen:
                self.dropped += 1
            self._queue.append(event)
            self._idle.clear()
            self._cond.notify()

    def _deliver(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._idle.set()
                    self._cond.wait()
                if self._closed and not self._queue:
                    self._idle.set()
                    return
                event = self._queue.popleft()
            try:
                self.callback(event)
            except Exception:  # a broken subscriber must not take the others (or the run) down
                log.exception("genwidgets event subscriber %r raised on a %s event", self.callback, event.kind)
            self.delivered += 1

    def flush(self, timeout: float | None = 5.0) -> bool:
        """Wait until every queued event has been delivered; False on timeout."""
        return self._idle.wait(timeout)

    def close(self, *, join: float | None = None) -> None:
        """Stop delivering; events already queued are still delivered (within ``join`` seconds, if given)."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if join is not None and self._thread is not threading.current_thread():
            self._thread.join(join)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed


class EventBus:
    """Fan events out to subscribers without ever blocking the publisher."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._lock = threading.Lock()

    def subscribe(
        self, callback: Callable[[Event], Any], *, kinds: Iterable[str] | None = None, max_queue: int = 1024
    ) -> Subscription:
        """Call ``callback(event)`` from a delivery thread for each event (of ``kinds``, if given).

        ``max_queue`` bounds the events waiting for a slow subscriber; beyond it the oldest are
        dropped (``Subscription.dropped`` counts them).
        """
        sub = Subscription(callback, kinds, max_queue)
        with self._lock:
            self._subs.append(sub)
        return sub

    def publish(self, event: Event) -> None:
        """Offer ``event`` to every open subscription; returns without waiting on any."""
        with self._lock:
            self._subs = [s for s in self._subs if not s.closed]
            subs = list(self._subs)
        for sub in subs:
            sub.offer(event)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait for every subscriber to drain its queue (used by ``Run.wait``)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            subs = list(self._subs)
        return all(s.flush(max(0.0, deadline - time.monotonic())) for s in subs)
