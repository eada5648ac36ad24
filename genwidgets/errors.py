"""Exceptions raised by genwidgets.

Every error names the problem and, where there is one, the fix. All derive from
:class:`GenwidgetsError` so callers (the CLI, widgets) can catch ours apart from bugs.
"""

from __future__ import annotations


class GenwidgetsError(Exception):
    """Base class of every error genwidgets raises on purpose."""


class ConfigError(GenwidgetsError, ValueError):
    """A configuration value is out of range, of the wrong type, or unknown."""


class CapabilityError(GenwidgetsError, NotImplementedError):
    """A verb was called on a model whose family does not have that capability."""


class DeviceError(GenwidgetsError, RuntimeError):
    """The requested device or precision is not available on this machine."""


class DataError(GenwidgetsError, ValueError):
    """Data has the wrong shape, dtype or content for what was asked of it."""


class CheckpointError(GenwidgetsError, OSError):
    """A checkpoint could not be written, or is missing, corrupt or incompatible."""


class PluginError(GenwidgetsError, LookupError):
    """A plugin, model or dataset name is unknown, or a plugin handed over something invalid."""


class RunError(GenwidgetsError, RuntimeError):
    """A training run was used in a way its current state does not allow, or failed."""


class NonFiniteLossError(RunError):
    """A training step produced a NaN or infinite loss; the run stopped instead of training on it."""
