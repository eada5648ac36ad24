"""The shared PyTorch runtime: device, precision, seeds, threads, events, checkpoints, runs.

The device names load on first use, so that importing a light submodule (``runtime.interrupts``,
which the command line needs before it has parsed its arguments) does not import torch.
"""

from .._lazy import lazy_exports

__all__ = ["Runtime", "available_devices", "select_device"]

__getattr__, __dir__ = lazy_exports(__name__, {
    "Runtime": "..device", "available_devices": "..device", "select_device": "..device",
}, globals())
