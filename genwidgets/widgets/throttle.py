"""Coalesce many "something changed" pokes into at most ``max_rate`` flushes per second."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ..runtime.shutdown import close_at_exit

log = logging.getLogger(__name__)


#: Most of one CPU core's time that a live widget's recomputation (a heatmap frame, an explorer's map)
#: may take while a run trains: its refresh rate adapts to stay under it.
LIVE_COMPUTE_BUDGET = 0.25


class Coalescer:
    """Call ``flush()`` from one background thread, at most ``max_rate`` times per second.

    :meth:`poke` marks that there is something to send and returns at once; any number of pokes
    between two flushes make one flush. The first poke after a quiet spell is flushed
    immediately, later ones wait out the interval (a trailing flush always follows the last
    poke, so nothing is left unsent). A flush that raises is logged and does not stop the thread.

    Args:
        flush: Sends whatever is pending; runs only in the coalescer's thread.
        max_rate: Most flushes per second (> 0).
        name: Name of the thread, for debugging.
    """

    def __init__(
        self, flush: Callable[[], None], max_rate: float = 10.0, *, name: str = "genwidgets-coalescer"
    ) -> None:
        self._flush = flush
        self._cond = threading.Condition()
        self._dirty = False
        self._closed = False
        self._busy = False
        self._last = float("-inf")
        self.max_rate = max_rate
        #: Number of flushes done so far.
        self.flushes = 0
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()
        close_at_exit(self, lambda coalescer: coalescer.close(timeout=2.0))

    @property
    def max_rate(self) -> float:
        """Most flushes per second; may be changed while running."""
        return self._max_rate

    @max_rate.setter
    def max_rate(self, value: float) -> None:
        if not value > 0:
            raise ValueError(f"max_rate must be > 0 flushes per second, got {value!r}")
        self._max_rate = float(value)

    def poke(self) -> None:
        """Note that something is pending; never blocks on a flush in progress."""
        with self._cond:
            self._dirty = True
            self._cond.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until nothing is pending or being flushed; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._dirty and not self._busy, timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Flush what is pending (without waiting out the interval) and end the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._dirty or self._closed)
                if not self._dirty:
                    return
                delay = self._last + 1.0 / self._max_rate - time.monotonic()
                if delay > 0:
                    self._cond.wait_for(lambda: self._closed, delay)
                self._dirty, self._busy = False, True
            try:
                self._flush()
            except Exception:  # a failed send must not end the panel's updates
                log.exception("genwidgets: a panel update failed")
            with self._cond:
                self._last = time.monotonic()
                self.flushes += 1
                self._busy = False
                self._cond.notify_all()
