"""The Python entry points: build a model, load data, train, resume, load a checkpoint."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .data.base import DataSpec, GenData
from .errors import CheckpointError, ConfigError, DeviceError, GenwidgetsError, PluginError
from .model import GenerativeModel
from .registry import get_registry
from .runtime import checkpoint as ckpt
from .runtime import distributed
from .runtime.run import Run
from .runtime.runtime import Runtime

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
    from .data.resolve import data_set_name
    from .data.user import from_user

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
        _check_runtime_options(runtime, compile=compile, channels_last=channels_last, given="runtime=")
        rt = runtime
    else:
        rt = Runtime.create(seed=cfg.seed, compile=compile, channels_last=channels_last)
    return cls(cfg, data_spec=data_spec, runtime=rt)


def _check_runtime_options(runtime: Runtime, *, compile: Any, channels_last: Any, given: str) -> None:
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


def train(
    model: str | type[GenerativeModel] | GenerativeModel,
    data: DataLike = "mnist",
    *,
    steps: int | None = 2000,
    config: Mapping[str, Any] | None = None,
    preset: str | None = None,
    out: str | os.PathLike | None = None,
    device: str | None = None,
    precision: str = "auto",
    compile: bool = False,
    channels_last: bool | str = "auto",
    labels: Any = None,
    data_options: Mapping[str, Any] | None = None,
    start: bool = True,
    **run_options: Any,
) -> Run:
    """Train a model on data in the background and return the :class:`Run`.

    Example::

        run = genwidgets.train("dcgan", data="mnist", steps=2000, out="runs/dcgan")
        run.pause(); run.set_hparams(lr_g=1e-4); run.resume()
        run.wait()

    Args:
        model: A registered family name, a model class, or a built model.
        data: See :func:`load_data`.
        steps: Steps to train (None: until ``run.stop()``).
        config: Config overrides (ignored when ``model`` is already built).
        preset: Config preset to start from, e.g. ``"tiny"`` (ignored when ``model`` is built).
        out: Run directory for checkpoints; None keeps the run in memory.
        device: "cpu", "cuda", "mps", ... (see :meth:`Runtime.create`).
        precision: "auto", "fp32", "bf16" or "fp16" (see :meth:`Runtime.create`).
        compile: Compile the model's networks with ``torch.compile`` before training (the
            first steps take longer while it compiles; see :class:`Runtime`).
        channels_last: "auto" (on for CUDA), True or False: convolutional models and image
            batches in the ``torch.channels_last`` memory format (see :class:`Runtime`).
        labels: Labels for array or tensor data.
        data_options: Options for a registered data set's loader (e.g. ``{"n": 5000}``).
        start: Start training at once (False: call ``run.start()`` or ``run.step()`` later).
        **run_options: ``log_every``, ``sample_every``, ``checkpoint_every``, ``schedule`` (live
            hyperparameter edits planned by step, e.g. ``schedule={45000: {"lr": 1e-4}}``), ...
            (see Run).
    """
    dataset = load_data(data, labels=labels, **dict(data_options or {}))
    dist_info = distributed.from_env()
    if device is None and dist_info is not None:  # under torchrun: this rank's GPU (or the CPU)
        device = distributed.device_for(dist_info)
    if isinstance(model, GenerativeModel):
        _check_runtime_options(model.runtime, compile=compile, channels_last=channels_last, given="built model")
        built = model
    else:
        cls = get_registry().get_model(model) if isinstance(model, str) else model
        cfg = cls.Config.from_dict(config, preset=preset)
        runtime = Runtime.create(device=device, precision=precision, seed=cfg.seed, compile=compile,
                                 channels_last=channels_last)
        built = cls(cfg, data_spec=dataset.spec, runtime=runtime)
    if built.runtime.device.type != "cpu":
        dataset.to(built.runtime.device)  # in-memory data goes to the accelerator once
    source = ({"name": dataset.name, "options": dict(data_options or {})} if isinstance(data, str)
              else getattr(dataset, "source", None))  # a train/test part records how to cut it again
    run = Run(built, dataset, steps=steps, out_dir=out, data_source=source, **run_options)
    if start:
        run.start()
    return run


def load_model(checkpoint: str | os.PathLike, *, device: str | None = None) -> GenerativeModel:
    """Load a trained model from a checkpoint (or a run directory's newest one), ready to sample."""
    path = ckpt.resolve_checkpoint(checkpoint)
    tensors, state = ckpt.read_checkpoint(path)
    with _damaged_state(path):
        cls = _model_class(state, path)
        cfg = cls.Config.from_dict(state["config"])
        runtime = Runtime.create(device=device, seed=cfg.seed)
        model = cls(cfg, data_spec=DataSpec.from_dict(state["data"]["spec"]), runtime=runtime)
        try:
            model.load_state_dict({k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")})
        except RuntimeError as exc:
            raise _misfit(path, state, exc) from None
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


def resume(
    checkpoint: str | os.PathLike,
    *,
    data: DataLike | None = None,
    steps: int | None = None,
    out: str | os.PathLike | None = None,
    device: str | None = None,
    compile: bool = False,
    channels_last: bool | str = "auto",
    start: bool = True,
    **run_options: Any,
) -> Run:
    """Continue training from a checkpoint exactly where it stopped.

    The data set is reloaded by name when it was a registered one; pass ``data=`` for user
    data. ``steps`` (the run's total, not the steps to add) defaults to the original total; with
    ``start``, a checkpoint that already reached it raises ConfigError. ``out`` defaults to the
    checkpoint's run directory.
    ``compile`` and ``channels_last`` are chosen anew (see :func:`train`): they change speed,
    not the checkpoint, whose tensors are always saved in the plain layout.
    The run's ``schedule`` of planned edits carries on (its entries past the checkpoint's step
    still apply); ``schedule=`` replaces it.
    """
    path = ckpt.resolve_checkpoint(checkpoint)
    tensors, state = ckpt.read_checkpoint(path)
    runtime_options = {"compile": compile, "channels_last": channels_last}
    with _damaged_state(path):
        total = steps if steps is not None else state["run"]["steps"]
        if start and isinstance(total, int) and int(state["step"]) >= total:  # before anything is built or written
            raise steps_reached_error(path, int(state["step"]), total, option="steps={}")
        run = _resume(path, tensors, state, data=data, steps=steps, out=out, device=device,
                      runtime_options=runtime_options, **run_options)
    if start:
        run.start()
    return run


def steps_reached_error(path: str | os.PathLike, done: int, total: int, *, option: str) -> ConfigError:
    """The error for resuming checkpoint ``path`` (at step ``done``) with a total of ``total`` steps it already reached.

    ``option`` names the setting that raises the total, with ``{}`` for the number: ``"steps={}"`` in
    Python, ``"--steps {}"`` on the command line.
    """
    return ConfigError(f"checkpoint {path} is at step {done}, already the run's total of {total} steps; to train "
                       f"more, pass a larger total, e.g. {option.format(done + max(done, 1))}")


def _resume(path: Path, tensors: Mapping[str, Any], state: Mapping[str, Any], *, data: DataLike | None,
            steps: int | None, out: str | os.PathLike | None, device: str | None,
            runtime_options: Mapping[str, Any], **run_options: Any) -> Run:
    cls = _model_class(state, path)
    source = state["data"]
    if data is None:
        if source.get("name") in (None, "data"):
            raise ConfigError(f"checkpoint {path} was trained on user data; pass it again with data=...")
        dataset = load_data(source["name"], **source.get("options", {}))
        if source.get("split"):  # trained on a train/test part: resume on the same part
            from .metrics.splits import rebuild_split

            dataset = rebuild_split(dataset, source["split"])
    else:
        dataset = load_data(data)
        _check_same_spec(path, source, dataset)
    cfg = cls.Config.from_dict(state["config"])
    runtime = Runtime.create(device=device, seed=cfg.seed, **runtime_options)
    model = cls(cfg, data_spec=dataset.spec, runtime=runtime)
    saved = state["run"]
    opts = {"log_every": saved["log_every"], "sample_every": saved["sample_every"],
            "checkpoint_every": saved["checkpoint_every"], "schedule": saved.get("schedule"), **run_options}
    loose = out is None and path.parent.name != "checkpoints"  # not inside a run folder: no folder to continue in
    run_dir = Path(out) if out is not None else None if loose else path.parent.parent
    run = Run(model, dataset, steps=steps if steps is not None else saved["steps"], out_dir=run_dir,
              data_source={k: v for k, v in source.items() if k != "spec"} if data is None
              else {"name": getattr(dataset, "name", "data"), "options": {}}, **opts)
    try:
        run.load_state(tensors, state)
    except (RuntimeError, KeyError, ValueError) as exc:
        raise _misfit(path, state, exc) from None
    if loose:
        raise ConfigError(f"checkpoint {path} is not inside a run folder (…/checkpoints/step-N); pass out= (CLI: "
                          "--out) to say where the resumed run writes its checkpoints")
    run.resumed_from = path  # writing into this checkpoint's own run folder is continuing it, not mixing runs
    return run


def _check_same_spec(path: Path, source: Mapping[str, Any], dataset: GenData) -> None:
    """Refuse data whose examples differ (kind, shape, classes) from those the checkpoint was trained on."""
    saved = source.get("spec")
    if saved is None or DataSpec.from_dict(saved) == dataset.spec:
        return
    trained = DataSpec.from_dict(saved)
    name = source.get("name") or "user data"
    raise ConfigError(
        f"checkpoint {path} was trained on {name!r}: {trained.kind} shaped {trained.shape} with "
        f"{trained.num_classes or 'no'} classes; the data given is {dataset.spec.kind} shaped {dataset.spec.shape} "
        f"with {dataset.spec.num_classes or 'no'} classes. Resume on the data it was trained on (or data of the "
        "same shape), or train a new model on this data")


@contextlib.contextmanager
def _damaged_state(path: Path) -> Iterator[None]:
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


def _misfit(path: Path, state: Mapping[str, Any], exc: BaseException) -> Exception:
    detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    return CheckpointError(
        f"checkpoint {path} does not fit model {state.get('model')!r} with its saved config and data: {detail}. "
        "It was written by another model family or version, or edited; load it with the genwidgets and plugin "
        "versions that wrote it (state.json names them), or pass the data it was trained on")


def _model_class(state: Mapping[str, Any], path: Path) -> type[GenerativeModel]:
    try:
        return get_registry().get_model(state["model"])
    except PluginError as exc:
        plugin = state.get("plugin")
        raise PluginError(
            f"checkpoint {path} needs model {state['model']!r}"
            + (f" from plugin {plugin!r}" if plugin else "") + f", which is not installed: {exc}"
        ) from None
