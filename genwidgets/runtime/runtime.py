"""The import path ``genwidgets.runtime.runtime`` that plugins written before 0.2 use.

Device, precision, seed and thread selection lives in :mod:`genwidgets.device.runtime`, below the
model protocol; import :class:`genwidgets.Runtime` in new code.
"""

from ..device.runtime import (
    DEFAULT_MAX_THREADS,
    Precision,
    Runtime,
    available_devices,
    compile_network,
    has_conv2d,
    select_device,
)

__all__ = ["DEFAULT_MAX_THREADS", "Precision", "Runtime", "available_devices", "compile_network", "has_conv2d",
           "select_device"]
