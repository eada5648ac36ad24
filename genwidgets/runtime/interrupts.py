"""Stop a run cleanly on Ctrl-C or ``kill`` (SIGINT, SIGTERM), however many times the signal comes.

Python turns SIGINT into a KeyboardInterrupt wherever the main thread happens to be. Waiting for
a run's final checkpoint, that means a second Ctrl-C ends the process while the training thread
is still writing it, and the save is lost (the interpreter may even abort: ``FATAL: exception not
rethrown``). SIGTERM, what a job scheduler or ``docker stop`` sends, ends the process at once by
default and saves nothing.

:class:`StopOnSignals` replaces both handlers while a run is followed: the first signal asks the
run to stop (it finishes its step and writes its final checkpoint), every later one only says that
the save is under way. Its ``received`` attribute tells the caller which signal ended the run, so a
command can exit with the conventional status (130 for SIGINT, 143 for SIGTERM).
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

#: The signals that ask a run to stop and save.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _say(message: str) -> None:
    # os.write, not print: a signal handler may run while the main thread is inside a print to
    # the same stream, and a buffered stream refuses that reentrant call.
    with contextlib.suppress(OSError):
        os.write(2, (message.rstrip("\n") + "\n").encode("utf-8", "replace"))


def exit_status(signum: int | None) -> int:
    """The shell's exit status for a process ended by ``signum`` (128 + number; 0 for None)."""
    return 0 if signum is None else 128 + int(signum)


class StopOnSignals:
    """While active (a ``with`` block in the main thread), SIGINT and SIGTERM call ``stop`` once.

    Args:
        stop: Asks the run to stop after its current step (it then writes its final checkpoint);
            must not block.
        what: Names what is being saved in the messages (e.g. ``"the final checkpoint"``).
        say: Where the messages go (default: standard error, written signal-safely).
        exiting: The process exits once the run stopped on a signal (a command line): later stop
            signals are then ignored instead of interrupting its last steps (figures, exit
            handlers) with a traceback.

    Outside the main thread (where Python cannot install handlers) the block does nothing. The
    previous handlers come back when the block ends (unless ``exiting`` and a signal came).
    """

    def __init__(self, stop: Callable[[], Any], *, what: str = "a final checkpoint",
                 say: Callable[[str], None] = _say, exiting: bool = False) -> None:
        self._stop = stop
        self._what = what
        self._say = say
        self._exiting = exiting
        self._previous: dict[int, Any] = {}
        #: The first stop signal received (``signal.SIGINT`` or ``signal.SIGTERM``), or None.
        self.received: int | None = None
        #: How many stop signals arrived in all.
        self.count = 0

    def __enter__(self) -> StopOnSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._previous.items():
            if self._exiting and self.received is not None:
                handler = signal.SIG_IGN  # the run is saved and the process is on its way out
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        name = signal.Signals(signum).name
        if self.received is None:
            self.received = signum
            self._say(f"{name}: stopping after this step and writing {self._what}; a second Ctrl-C or SIGTERM "
                      "will not interrupt it")
            self._stop()
        else:
            self._say(f"{name}: still writing {self._what}; it finishes in a moment (kill -9 {os.getpid()} "
                      "would lose it)")
