"""Training data for genwidgets: the :class:`GenData` interface, built-in sets and user data.

Exports resolve lazily, so importing a submodule (e.g. the cheap ``genwidgets.data.plugin``)
does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
    from .base import Batch, DataSpec, GenData, TensorData
    from .user import from_user

__all__ = ["Batch", "DataSpec", "GenData", "TensorData", "from_user"]

_HOMES = {name: ".base" for name in ("Batch", "DataSpec", "GenData", "TensorData")} | {"from_user": ".user"}


__getattr__, __dir__ = lazy_exports(__name__, _HOMES, globals())
