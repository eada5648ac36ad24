"""What every genwidgets widget shares: a uid, the hello handshake, following a run, closing, a PNG fallback.

A live widget is an anywidget whose front end (``js/src/<name>.ts``) keeps its data in a store
keyed by the :attr:`LiveWidget.uid` trait, and asks for everything once with a ``hello``
message carrying a nonce; other messages are the widget's own requests. The Python side follows
a run through one subscription to its events (with replay: a widget opened late starts from the
run's current state, delivered once the widget has read the run), and sends from background
threads (coalescers, workers) that it owns: :meth:`LiveWidget.close` ends them with the
subscription, and :meth:`LiveWidget.wait_idle` waits for them. In a notebook the widget displays
as its live view plus a PNG of itself (:meth:`LiveWidget.to_png`) for viewers that cannot run
widgets.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

import anywidget
import traitlets as t

from ..runtime.events import Event, Subscription
from ..runtime.handle import RunHandle
from .bundle import library_message
from .png import with_png


class Part(Protocol):
    """A background thread a widget owns: a :class:`~.throttle.Coalescer` or a worker."""

    @property
    def closed(self) -> bool:
        """True once closed."""

    def close(self, timeout: float = ...) -> None:
        """End the thread (after what it must finish)."""

    def wait_idle(self, timeout: float = ...) -> bool:
        """Block until nothing is pending; False on timeout."""


P = TypeVar("P", bound=Part)


class LiveWidget(anywidget.AnyWidget):
    """Base of the genwidgets widgets (see the module docstring).

    Subclasses set ``_esm`` and implement :meth:`_hello`, :meth:`to_png` and, when the front end
    asks for more than the hello, :meth:`_request`.
    """

    uid = t.Unicode(help="Unique id of this widget; the front end keys its copy of the data by it.").tag(sync=True)

    #: The subscription to the run's events (None for a widget of a bare model, and before :meth:`_following`).
    _subscription: Subscription | None = None
    #: Owned threads with whether :meth:`wait_idle` waits for them, in the order :meth:`close` ends them.
    _parts: Sequence[tuple[Part, bool]] = ()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(uid=uuid.uuid4().hex, **kwargs)
        self._parts = []
        self.on_msg(self._on_front_end_msg)

    # ---- for subclasses ------------------------------------------------------------------------------
    def _own(self, part: P, *, idle: bool = True) -> P:
        """Keep ``part`` to be closed with the widget (and, with ``idle``, waited for by :meth:`wait_idle`)."""
        self._parts = [*self._parts, (part, idle)]
        return part

    @contextlib.contextmanager
    def _following(self, run: RunHandle, on_event: Callable[[Event], Any], *, kinds: Iterable[str] | None = None,
                   max_queue: int = 1024) -> Iterator[Subscription]:
        """Subscribe ``on_event`` to ``run``'s events, delivered from the end of the block on.

        The run's current state comes first, as replayed events. Inside the block the widget can
        read the run (its history, its newest samples) with no event racing the read: events
        published meanwhile wait in the queue, none is missed. Should the block raise, nothing
        is delivered and the subscription is closed.
        """
        opened, failed = threading.Event(), threading.Event()

        @functools.wraps(on_event)
        def deliver(event: Event) -> None:
            opened.wait()
            if not failed.is_set():
                on_event(event)

        subscription = run.subscribe(deliver, kinds=kinds, max_queue=max_queue)
        try:
            yield subscription
        except BaseException:
            failed.set()
            subscription.close()
            opened.set()
            raise
        self._subscription = subscription
        opened.set()

    def _follow(self, run: RunHandle, on_event: Callable[[Event], Any], *, kinds: Iterable[str] | None = None,
                max_queue: int = 1024) -> Subscription:
        """:meth:`_following` for a widget with nothing to read from the run first: deliveries start now."""
        with self._following(run, on_event, kinds=kinds, max_queue=max_queue) as subscription:
            return subscription

    def _hello(self, nonce: str) -> None:
        """A front end opened (``nonce`` is its own id): send it everything it needs to draw."""
        raise NotImplementedError

    def _request(self, op: Any, content: dict[str, Any]) -> None:
        """A front end's message other than the hello (``op`` is its ``"op"``); ignored by default."""

    def to_png(self) -> bytes:
        """What the widget shows, as PNG bytes (the static fallback)."""
        raise NotImplementedError

    # ---- front end -> widget -------------------------------------------------------------------------
    def _on_front_end_msg(self, _widget: Any, content: Any, _buffers: Sequence[bytes]) -> None:
        if not isinstance(content, dict):
            return
        op = content.get("op")
        if op == "library":  # the page's first widget asks for the front end (see bundle.py)
            message, buffers = library_message()
            self.send(message, buffers)
        elif op == "hello":
            self._hello(str(content.get("nonce", "")))
        else:
            self._request(op, content)

    # ---- lifecycle and display -----------------------------------------------------------------------
    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every run event so far is handled and what it caused is sent (for tests and scripts)."""
        deadline = time.monotonic() + timeout
        if self._subscription is not None:
            self._subscription.flush(timeout)
        idle = True
        for part, waited in self._parts:
            if waited:
                idle = part.wait_idle(max(0.0, deadline - time.monotonic())) and idle
        return idle

    def close(self) -> None:
        """Stop following the run (the run itself goes on), end the widget's threads, and close the widget."""
        if self._subscription is not None:
            self._subscription.close()
        for part, _ in self._parts:
            if not part.closed:
                part.close()
        super().close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self.comm is None

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict, dict] | None:
        """The live view, plus a PNG of the widget for viewers that cannot run widgets."""
        return with_png(super()._repr_mimebundle_(**kwargs), self.to_png)


__all__ = ["LiveWidget", "Part"]
