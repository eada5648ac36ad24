"""Where the tensors live: device, precision, seeds and threads, decided in one place.

This package sits below the model protocol: a model asks its :class:`Runtime` for a device and
an autocast context; the training loop (:mod:`genwidgets.runtime`) builds on both.
"""

from .runtime import Runtime, available_devices, select_device

__all__ = ["Runtime", "available_devices", "select_device"]
