"""Training data for genwidgets: the :class:`GenData` interface, built-in sets and user data.

Exports resolve lazily, so importing a submodule (e.g. the cheap ``genwidgets.data.plugin``)
does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import Batch, DataSpec, GenData, TensorData
    from .user import from_user

__all__ = ["Batch", "DataSpec", "GenData", "TensorData", "from_user"]

_HOMES = {name: ".base" for name in ("Batch", "DataSpec", "GenData", "TensorData")} | {"from_user": ".user"}


def __getattr__(name: str) -> Any:
    """Import an export on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
