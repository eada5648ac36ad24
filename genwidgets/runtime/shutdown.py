"""At interpreter exit, stop training runs and end widgets' background threads, in that order.

Runs, event deliveries, coalescers and widget workers live on daemon threads. If the interpreter
finalises while one of them is inside a torch call, the process can abort ("terminate called
without an active exception", exit status 134) instead of exiting cleanly: a script that trained
a model and displayed a widget would then fail at its very end. An ``atexit`` hook closes what
is still open first: runs (stage 0: stop after the current step), then everything that reacts to
their events (stage 1). Objects are held weakly; closing one twice is harmless.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: Stage 0: producers (runs); stage 1: consumers (deliveries, coalescers, widget workers).
RUNS, CONSUMERS = 0, 1
_open: dict[int, weakref.WeakKeyDictionary[Any, Callable[[Any], None]]] = {
    RUNS: weakref.WeakKeyDictionary(), CONSUMERS: weakref.WeakKeyDictionary()}
_lock = threading.Lock()


def close_at_exit(obj: Any, closer: Callable[[Any], None], *, stage: int = CONSUMERS) -> None:
    """Call ``closer(obj)`` at interpreter exit if ``obj`` is still alive then."""
    with _lock:
        _open[stage][obj] = closer


def close_all() -> None:
    """Close every registered object, runs first (what the ``atexit`` hook does)."""
    for stage in sorted(_open):
        with _lock:
            items = list(_open[stage].items())
            _open[stage].clear()
        for obj, closer in items:
            try:
                closer(obj)
            except Exception:  # noqa: BLE001 - exit must go on
                log.debug("genwidgets: closing %r at exit failed", obj, exc_info=True)


atexit.register(close_all)
