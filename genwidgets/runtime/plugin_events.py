"""Forward a run's events to the plugins' ``on_train_event`` hooks, and report their failures.

A failing hook (a logger on a full disk, say) never stops the run or the other plugins, and is
never silent: its first failure on a run, and the first of each new kind of failure after that,
is published on the run as a ``warning`` event, which the training panel and the command line
show. The registry does the pluggy dispatch (:meth:`genwidgets.registry.Registry.emit_event`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..registry import Registry
from .events import Event


class PluginEventForwarder:
    """The event-bus subscriber that calls the plugins' hooks for one run."""

    def __init__(self, run: Any, publish: Callable[[Event], Any], registry: Registry) -> None:
        """Forward ``run``'s events through ``registry``; ``publish`` puts a warning on the run."""
        self._run = run
        self._publish = publish
        self._registry = registry
        self._warned: set[tuple[str, str, Any]] = set()  # (plugin, error type, errno) already reported

    def __call__(self, event: Event) -> None:
        """Call every plugin's hook with ``event``; publish a warning for each new kind of failure."""
        for plugin, exc in self._registry.emit_event(self._run, event):
            if event.kind == "warning":  # a warning about a warning would loop
                continue
            key = (plugin, type(exc).__name__, getattr(exc, "errno", None))
            if key in self._warned:
                continue
            self._warned.add(key)
            self._publish(Event("warning", event.step, {
                "message": f"plugin {plugin!r} failed on a {event.kind} event at step {event.step} and skipped it: "
                           f"{type(exc).__name__}: {exc}", "plugin": plugin}))
