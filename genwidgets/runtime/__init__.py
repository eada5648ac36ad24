"""The shared PyTorch runtime: device, precision, seeds, threads, events, checkpoints, runs."""

from ..device import Runtime, available_devices, select_device

__all__ = ["Runtime", "available_devices", "select_device"]
