"""Testing helpers for model families and widgets, and the pytest plugin that ships them.

* :mod:`genwidgets.testing.contract`: the contract every registered model must pass.
* :mod:`genwidgets.testing.snapshots`: a syrupy serializer for widget state and a comm that
  records what a widget sends.
* :mod:`genwidgets.testing.images`: PNG snapshots with a pixel tolerance, and rendering a widget
  in headless Chromium.
* :mod:`genwidgets.testing.pytest_plugin`: fixtures and the ``--genwidgets-contract`` option,
  registered as a ``pytest11`` entry point (loaded by pytest once genwidgets is installed).

The names below are re-exported lazily: importing this package imports none of those modules
(so the pytest plugin, which lives in it, costs nothing extra at pytest start-up); the first
access to, say, ``genwidgets.testing.CHECKS`` imports the contract (and torch).
"""

from __future__ import annotations

import importlib
from typing import Any

#: Where each re-exported name lives (module relative to this package).
_EXPORTS: dict[str, str] = {
    **{name: ".contract" for name in (
        "CHECKS", "CONTRACT_DATA", "build", "check_capabilities", "check_checkpoint", "check_class",
        "check_determinism", "check_editable", "check_explorer", "check_model", "check_outputs",
        "check_train_step", "contract_cases", "contract_data", "contract_kinds", "contract_runtime",
    )},
    **{name: ".snapshots" for name in (
        "RecordingComm", "WidgetCapture", "WidgetSnapshot", "WidgetStateExtension", "WidgetStateSerializer",
        "capture_widget",
    )},
    **{name: ".images" for name in (
        "TolerantPNG", "chromium_path", "images_match", "render_widget",
    )},
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first access (PEP 562)."""
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
