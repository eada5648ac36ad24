"""genwidgets: train, watch and explore generative models inside notebooks.

Quick start::

    import genwidgets as gw
    gw.list_models()                     # model families from every installed plugin
    run = gw.train("dcgan", data="mnist", steps=2000, out="runs/dcgan")
    run.wait()
    gw.load_model("runs/dcgan").sample(16)
    gw.studio("vae", data="mnist")       # in a notebook: panel, latent explorer (and heatmap for GANs)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import notebook_display
from ._lazy import lazy_exports
from ._version import __version__
from .config import ModelConfig, param
from .errors import (
    CapabilityError,
    CheckpointError,
    ConfigError,
    DataError,
    DeviceError,
    GenwidgetsError,
    NonFiniteLossError,
    PluginError,
    RunError,
)
from .hookspecs import hookimpl
from .registry import Registry, get_registry, reset_registry

if TYPE_CHECKING:
    from .model import GenerativeModel

# Names whose modules import torch load on first use: `import genwidgets` (and the pytest plugin
# that every pytest session loads once genwidgets is installed) stays light.
__getattr__, __dir__ = lazy_exports(__name__, {
    "build_model": ".api", "load_data": ".api", "load_model": ".api", "resume": ".api", "train": ".api",
    "Batch": ".data.base", "DataSpec": ".data.base", "GenData": ".data.base", "TensorData": ".data.base",
    "train_test_split": ".data.splits",
    "Capabilities": ".model", "GenerativeModel": ".model",
    "Event": ".runtime.events", "Run": ".runtime.run", "RunHandle": ".runtime.handle",
    "LaunchedRun": ".launcher", "launch": ".launcher",
    "Sweep": ".sweeps", "sweep": ".sweeps", "board": ".board_app",
    "Runtime": ".device", "available_devices": ".device", "select_device": ".device",
}, globals())


def studio(*args: object, **kwargs: object) -> object:
    """Train a model (or watch a Run) with every widget that fits it, as tabs.

    See :func:`genwidgets.api.studio` for the arguments.
    """
    from .api import studio as _studio

    return _studio(*args, **kwargs)


def _training_panel(run: Any) -> Any:
    """The widget a run displays as at the end of a notebook cell (see :mod:`genwidgets.notebook_display`)."""
    from .widgets import TrainingPanel

    return TrainingPanel(run)


notebook_display.set_panel_factory(_training_panel)


def list_plugins() -> list[dict]:
    """Every plugin found: name, distribution, version, what it registered, load error if any.

    Each entry is ``{"name", "distribution", "version", "models", "datasets", "metrics", "panels",
    "hooks", "error"}``, where what a plugin registered is listed by name (the key for
    :func:`list_models`, :func:`get_model`, :func:`list_datasets` details); ``genwidgets plugins
    --json`` prints exactly this.
    """
    return [p.to_dict() for p in get_registry().list_plugins()]


def list_models() -> list[dict]:
    """Every registered model family with its capabilities, data kinds, presets and config schema."""
    return get_registry().list_models()


def get_model(name: str) -> type[GenerativeModel]:
    """The model class registered under ``name``."""
    return get_registry().get_model(name)


def list_datasets() -> list[dict]:
    """Every registered data set: name, description, kind, shape, size, classes, plugin."""
    return [d.to_dict() for d in get_registry().list_datasets()]


__all__ = [
    "Batch", "Capabilities", "CapabilityError", "CheckpointError", "ConfigError", "DataError", "DataSpec",
    "DeviceError", "Event", "GenData", "GenerativeModel", "GenwidgetsError", "ModelConfig", "NonFiniteLossError",
    "LaunchedRun", "PluginError", "Registry", "Run", "RunError", "RunHandle", "Runtime", "TensorData", "__version__",
    "available_devices",
    "board", "build_model", "get_model", "get_registry", "hookimpl", "list_datasets", "list_models", "list_plugins",
    "Sweep", "launch", "load_data", "load_model", "param", "reset_registry", "resume", "select_device", "studio",
    "sweep", "train",
    "train_test_split",
]
