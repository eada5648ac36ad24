"""How a run shows itself at the end of a notebook cell, without the runtime importing the widgets.

A :class:`~genwidgets.runtime.run.Run` (or a launched run) displays as a live training panel in a
Jupyter kernel. The panel lives in a higher layer (:mod:`genwidgets.widgets`) than the run, so the
package installs the factory here when it is imported (``genwidgets/__init__.py``) and the run
asks this module for it. Light: no torch, no widgets at import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: Builds the display widget for a run; it must have ``closed`` and ``_repr_mimebundle_``.
PanelFactory = Callable[[Any], Any]

_panel_factory: PanelFactory | None = None


def set_panel_factory(factory: PanelFactory | None) -> None:
    """Install the widget a run displays as (None: runs display as plain text)."""
    global _panel_factory
    _panel_factory = factory


def panel_bundle(run: Any, include: Any = None, exclude: Any = None) -> tuple[dict, dict] | None:
    """A run's display bundle in a Jupyter kernel: its live panel (one per run); None elsewhere.

    The panel is kept on ``run._display_panel`` so that displaying a run twice shows the same
    widget; a closed panel is replaced.
    """
    if _panel_factory is None:
        return None
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None  # a terminal: plain repr, no widget
    panel = run._display_panel
    if panel is None or panel.closed:
        panel = run._display_panel = _panel_factory(run)
    data, metadata = panel._repr_mimebundle_(include=include, exclude=exclude)
    return {**data, "text/plain": repr(run)}, metadata
