"""Turn names and checkpoints into objects: data sets, models, weights.

The one place below the entry points (:mod:`genwidgets.api`, the launcher, the widgets) where a data
set name, a model family name or a checkpoint folder becomes a :class:`GenData` or a
:class:`GenerativeModel`. Widgets and metrics that load something import it from here, not from
``api``, so that dependencies point one way (see ``docs/architecture.md``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..data.base import DataSpec, GenData
from ..device import Runtime
from ..errors import CheckpointError, ConfigError, DeviceError, GenwidgetsError, PluginError
from ..model import GenerativeModel
from ..registry import get_registry
from . import checkpoint as ckpt

#: What ``train(..., data=...)`` accepts besides a registered name.
DataLike = str | os.PathLike | GenData | Any


def load_data(data: DataLike, *, labels: Any = None, **options: Any) -> GenData:
    """Turn ``data`` into a :class:`GenData`.

    ``data`` may be a registered data set name (``"mnist"``, ``"ring"``; ``options`` go to its
    loader), a folder of images, a numpy array, a torch tensor, a torch ``Dataset`` or a
    ``GenData``. ``labels`` go with arrays and tensors. A registered name always means the data set,
    even beside a folder of that name; write a folder as a path (``"./ring"``, a ``Path``) — see
    :mod:`genwidgets.data.resolve`.
    """
    from ..data.resolve import data_set_name
    from ..data.user import from_user

    if data_set_name(data) is not None:
        entry = get_registry().get_dataset(data)
        loaded = entry.loader(**options)
        loaded.name = entry.name
        return loaded
    if options:
        raise ConfigError(f"data options {sorted(options)} apply only to registered data sets")
    return from_user(data, labels=labels)


def build_model(
    model: str | type[GenerativeModel],
    data_spec: Any,
    *,
    config: Mapping[str, Any] | None = None,
    preset: str | None = None,
    runtime: Runtime | None = None,
    compile: bool = False,
    channels_last: bool | str = "auto",
) -> GenerativeModel:
    """Build a model family by name (or class) for data of ``data_spec``.

    Args:
        model: A registered family name or a model class.
        data_spec: The :class:`DataSpec` of the data it will train on.
        config: Overrides of the family's Config fields (unknown or out-of-range values raise
            ConfigError naming the field).
        preset: A named preset to start from, such as ``"tiny"``.
        runtime: The runtime to place the model on (default: a new one, best device).
        compile: Compile the networks with ``torch.compile`` when a Run trains the model (see
            :class:`Runtime`); with ``runtime``, it must agree with ``runtime.compile``.
        channels_last: "auto" (on for CUDA), True or False (see :class:`Runtime`); with
            ``runtime``, "auto" keeps the runtime's setting.
    """
    cls = get_registry().get_model(model) if isinstance(model, str) else model
    cfg = cls.Config.from_dict(config, preset=preset)
    if runtime is not None:
        check_runtime_options(runtime, compile=compile, channels_last=channels_last, given="runtime=")
        rt = runtime
    else:
        rt = Runtime.create(seed=cfg.seed, compile=compile, channels_last=channels_last)
    return cls(cfg, data_spec=data_spec, runtime=rt)


def check_runtime_options(runtime: Runtime, *, compile: Any, channels_last: Any, given: str) -> None:
    """Refuse speed options that a runtime chosen elsewhere (``given``) would silently ignore.

    Raises:
        DeviceError: a value of the wrong kind (as :meth:`Runtime.create` would).
        ConfigError: a value that disagrees with the runtime's.
    """
    if not isinstance(compile, bool):
        raise DeviceError(f"compile must be True or False, got {compile!r}")
    if channels_last != "auto" and not isinstance(channels_last, bool):
        raise DeviceError(f"channels_last must be 'auto', True or False, got {channels_last!r}")
    if compile and not runtime.compile:
        raise ConfigError(f"compile=True does not apply to the {given} you passed, whose runtime has compile=False; "
                          "build its runtime with Runtime.create(compile=True), or pass the family name instead")
    if channels_last != "auto" and channels_last != runtime.channels_last:
        raise ConfigError(f"channels_last={channels_last} disagrees with the {given} you passed (its runtime has "
                          f"channels_last={runtime.channels_last}); build its runtime with "
                          f"Runtime.create(channels_last={channels_last}), or leave channels_last='auto'")


def load_checkpoint_data(checkpoint: str | os.PathLike) -> GenData:
    """The data set a checkpoint (or a run directory's newest) was trained on, reloaded by its registered name.

    Raises:
        ConfigError: it was trained on user data (an array, a Dataset...), which genwidgets cannot reload.
    """
    import json

    path = ckpt.resolve_checkpoint(checkpoint)
    state = json.loads((path / ckpt.STATE_FILE).read_text(encoding="utf-8"))
    source = state.get("data", {})
    if source.get("name") in (None, "data"):
        raise ConfigError(f"checkpoint {path} was trained on user data; pass the data with data=...")
    return load_data(source["name"], **source.get("options", {}))


def load_model(checkpoint: str | os.PathLike, *, device: str | None = None) -> GenerativeModel:
    """Load a trained model from a checkpoint (or a run directory's newest one), ready to sample."""
    path = ckpt.resolve_checkpoint(checkpoint)
    tensors, state = ckpt.read_checkpoint(path)
    with damaged_state(path):
        cls = model_class(state, path)
        cfg = cls.Config.from_dict(state["config"])
        runtime = Runtime.create(device=device, seed=cfg.seed)
        model = cls(cfg, data_spec=DataSpec.from_dict(state["data"]["spec"]), runtime=runtime)
        try:
            model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
        except RuntimeError as exc:
            raise misfit(path, state, exc) from None
    model.eval()
    return model


def load_weights(
    model: GenerativeModel, path: str | os.PathLike, *, allow_pickle: bool = False, strict: bool = True
) -> GenerativeModel:
    """Load a ``state_dict`` file into a model you built (for weights from elsewhere).

    ``path`` is a safetensors file, or a genwidgets checkpoint (its ``model.*`` tensors). A
    pickle-based file (``torch.save``: ``.pt``, ``.pth``, ...) is refused unless ``allow_pickle``
    is True, and even then is read with ``torch.load(weights_only=True)``, which cannot run code
    or build arbitrary objects. Only allow it for files you trust.

    Raises:
        CheckpointError: the file is missing, corrupt, refused, or its tensors do not fit the model.
    """
    p = Path(path)
    if p.is_dir():
        tensors, _ = ckpt.read_checkpoint(ckpt.resolve_checkpoint(p))
        tensors = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    else:
        tensors = ckpt.load_tensor_file(p, allow_pickle=allow_pickle)
    try:
        model.load_state_dict(tensors, strict=strict)
    except RuntimeError as exc:
        raise CheckpointError(f"the weights in {p} do not fit model {model.name!r}: {exc}") from None
    return model


@contextlib.contextmanager
def damaged_state(path: Path) -> Iterator[None]:
    """Turn a missing or mistyped field of a checkpoint's state.json into a CheckpointError naming the file."""
    try:
        yield
    except GenwidgetsError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise CheckpointError(
            f"checkpoint file {path / ckpt.STATE_FILE} is damaged or from an incompatible version "
            f"({type(exc).__name__}: {exc}); use another checkpoint of the run (genwidgets keeps several) or "
            "the genwidgets version that wrote it") from None


def misfit(path: Path, state: Mapping[str, Any], exc: BaseException) -> Exception:
    """The CheckpointError for tensors that do not fit the model the checkpoint names."""
    detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    return CheckpointError(
        f"checkpoint {path} does not fit model {state.get('model')!r} with its saved config and data: {detail}. "
        "It was written by another model family or version, or edited; load it with the genwidgets and plugin "
        "versions that wrote it (state.json names them), or pass the data it was trained on")


def model_class(state: Mapping[str, Any], path: Path) -> type[GenerativeModel]:
    """The installed model class a checkpoint's state names (PluginError naming the plugin if missing)."""
    try:
        return get_registry().get_model(state["model"])
    except PluginError as exc:
        plugin = state.get("plugin")
        raise PluginError(
            f"checkpoint {path} needs model {state['model']!r}"
            + (f" from plugin {plugin!r}" if plugin else "") + f", which is not installed: {exc}"
        ) from None
