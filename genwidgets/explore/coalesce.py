"""A worker thread where the newest request of each kind wins.

Dragging a pointer over the map asks for a decode at every pointer event. Handling each in
turn would build a queue that lags further behind the pointer the faster it moves. Here, a
request replaces the pending request of the same kind (the newest pointer position wins), so
at most one request per kind ever waits, and the caller (the kernel's message handler) never
blocks.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from ..runtime.shutdown import close_at_exit

log = logging.getLogger(__name__)


class LatestWins:
    """Runs submitted jobs on one daemon thread; a pending job is replaced by a newer one of its kind.

    Args:
        name: Thread name.
        on_error: Called with (kind, exception) when a job raises; the worker goes on.
        setup: Called once on the worker thread before its first job (e.g. torch thread counts).
    """

    def __init__(self, name: str, *, on_error: Callable[[str, BaseException], None] | None = None,
                 setup: Callable[[], None] | None = None) -> None:
        self._pending: OrderedDict[str, Callable[[], None]] = OrderedDict()
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self._on_error = on_error
        self._setup = setup
        #: Jobs submitted, run, and replaced before they ran (by kind).
        self.submitted: dict[str, int] = {}
        self.ran: dict[str, int] = {}
        self.replaced: dict[str, int] = {}
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()
        close_at_exit(self, lambda worker: worker.close(timeout=2.0))

    def submit(self, kind: str, job: Callable[[], None]) -> None:
        """Queue ``job`` under ``kind``, replacing a pending job of that kind; returns at once."""
        with self._cond:
            if self._closed:
                return
            self.submitted[kind] = self.submitted.get(kind, 0) + 1
            if kind in self._pending:
                self.replaced[kind] = self.replaced.get(kind, 0) + 1
            self._pending[kind] = job  # keeps its place in line: no kind starves another
            self._cond.notify()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until no job is pending or running; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Drop pending jobs, let a running one finish, and stop the thread."""
        with self._cond:
            self._closed = True
            self._pending.clear()
            self._cond.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def _loop(self) -> None:
        if self._setup is not None:
            self._setup()
        while True:
            with self._cond:
                while not self._pending and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                kind, job = self._pending.popitem(last=False)
                self._busy = True
            try:
                job()
            except Exception as exc:  # noqa: BLE001 - one failed request must not end the worker
                log.debug("genwidgets: %s job failed", kind, exc_info=True)
                if self._on_error is not None:
                    self._on_error(kind, exc)
            finally:
                with self._cond:
                    self._busy = False
                    self.ran[kind] = self.ran.get(kind, 0) + 1
                    self._cond.notify_all()
