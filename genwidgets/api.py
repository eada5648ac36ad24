"""The Python entry points: build a model, load data, train, resume, load a checkpoint."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .data.base import DataSpec, GenData
from .device import Runtime
from .errors import ConfigError
from .model import GenerativeModel
from .registry import get_registry
from .runtime import checkpoint as ckpt
from .runtime import distributed
from .runtime.loading import (
    DataLike,
    build_model,
    check_runtime_options,
    damaged_state,
    load_data,
    load_model,
    load_weights,
    misfit,
    model_class,
)
from .runtime.run import Run

if TYPE_CHECKING:
    from .launcher import LaunchedRun
    from .widgets.studio import Studio

__all__ = ["DataLike", "build_model", "load_data", "load_model", "load_weights", "resume", "studio", "train"]


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
        check_runtime_options(model.runtime, compile=compile, channels_last=channels_last, given="built model")
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
    with damaged_state(path):
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
    cls = model_class(state, path)
    source = state["data"]
    if data is None:
        if source.get("name") in (None, "data"):
            raise ConfigError(f"checkpoint {path} was trained on user data; pass it again with data=...")
        dataset = load_data(source["name"], **source.get("options", {}))
        if source.get("split"):  # trained on a train/test part: resume on the same part
            from .data.splits import rebuild_split

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
        raise misfit(path, state, exc) from None
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


def studio(model: str | type[GenerativeModel] | GenerativeModel | Run | LaunchedRun, data: Any = None, *,
           explorer: bool = True, heatmap: bool = True, plugin_panels: bool = True,
           explorer_options: dict[str, Any] | None = None, processes: int | None = None,
           **train_options: Any) -> Studio:
    """Train ``model`` on ``data`` (or watch an existing Run) with every widget that fits it.

    Args:
        model: A registered family name (``"dcgan"``), a model class, a built model, or a
            :class:`Run` or :class:`~genwidgets.launcher.LaunchedRun` (then ``data`` and
            ``train_options`` are not used).
        data: What to train on (see :func:`genwidgets.load_data`); default ``"mnist"`` for
            families that take images, ``"ring"`` for the others.
        explorer: Set False to leave the latent explorer out.
        heatmap: Set False to leave the discriminator heatmap out.
        plugin_panels: Set False to leave out panels that plugins registered for the model.
        explorer_options: Keyword arguments for the :class:`~genwidgets.widgets.LatentExplorer`.
        processes: Train in this many torchrun worker processes outside the kernel (see
            :func:`genwidgets.launch`; ``model`` must then be a registered name); None trains in
            the kernel.
        **train_options: ``steps``, ``preset``, ``config``, ``out``, ``log_every``, ... (see
            :func:`genwidgets.train`).
    """
    from .launcher import LaunchedRun, launch
    from .widgets.studio import Studio

    if isinstance(model, (Run, LaunchedRun)):
        if data is not None or train_options:
            raise TypeError("studio(run) watches an existing run; data and training options belong to "
                            "genwidgets.train(...)")
        run = model
    else:
        if data is None:
            if isinstance(model, GenerativeModel):
                raise TypeError("studio(model) needs the data to train it on: studio(model, data=...)")
            cls = get_registry().get_model(model) if isinstance(model, str) else model
            data = "mnist" if "images" in cls.data_kinds else "ring"
        run = (train(model, data, **train_options) if processes is None
               else launch(model, data, processes=processes, **train_options))
    return Studio(run, explorer=explorer, heatmap=heatmap, plugin_panels=plugin_panels,
                  explorer_options=explorer_options)
