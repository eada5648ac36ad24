"""What a run's checkpoint holds: assembled from a Run, and restored into one.

The files themselves (atomic writes, safetensors, pruning, refusing what genwidgets did not
write) are :mod:`.checkpoint`; reading ``state.json`` within bounds is :mod:`.checkpoint_state`.
This module decides the content: the model's plain (unwrapped) weights, every optimizer, the RNG
streams, the data order, the counters, the metric history, live and planned edits, and enough
about the model, plugin, data and runtime to rebuild it all (:func:`genwidgets.resume`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch

from .._version import __version__
from . import checkpoint as ckpt
from . import distributed
from .history import MetricHistory
from .rng import capture_rng, restore_rng
from .schedule import edit_log_from_state, edit_log_to_state

if TYPE_CHECKING:
    from .run import Run


def plugin_of(model_name: str) -> str | None:
    """The plugin that registered ``model_name``, or None (a model built outside the registry)."""
    from ..registry import get_registry

    try:
        return get_registry().model_plugin(model_name)
    except Exception:  # noqa: BLE001 - a model built outside the registry
        return None


def assemble(run: Run) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Everything needed to resume ``run`` exactly: (tensors, JSON-ready state). Call between steps."""
    tensors = {f"model.{k}": v for k, v in distributed.plain_state_dict(run.model).items()}
    optim_meta = {}
    for name, opt in run.model.optimizers.items():
        t, meta = ckpt.optimizer_to_flat(name, opt)
        tensors.update(t)
        optim_meta[name] = meta
    rng_t, rng_meta = capture_rng()
    tensors.update(rng_t)
    sampler_t, sampler_meta = run.sampler.state_dict()
    tensors.update(sampler_t)
    state = {
        "genwidgets_version": __version__,
        "model": run.model.name,
        "plugin": plugin_of(run.model.name),
        "config": run.model.config.to_dict(),
        "data": {**run.data_source, "spec": run.model.data_spec.to_dict()},
        "step": run.step_count,
        "train_seconds": run.train_seconds,
        "optimizers": optim_meta,
        "rng": rng_meta,
        "sampler": sampler_meta,
        "run": {"steps": run.steps, "log_every": run.log_every, "sample_every": run.sample_every,
                "checkpoint_every": run.checkpoint_every, "schedule": run.schedule.to_state(),
                "edits": edit_log_to_state(run.edit_log)},
        "runtime": run.runtime.describe(),
        "history": run.history.to_state(),
    }
    return tensors, state


def restore(run: Run, tensors: Mapping[str, torch.Tensor], state: Mapping[str, Any]) -> None:
    """Restore ``run``'s model, optimizers, counters, data order, RNG, edits and history (between steps)."""
    model_sd = {k[len("model."):]: v for k, v in tensors.items() if k.startswith("model.")}
    distributed.load_plain_state_dict(run.model, model_sd)
    for name, opt in run.model.optimizers.items():
        ckpt.optimizer_from_flat(name, opt, tensors, state["optimizers"][name])
    run.sampler.load_state_dict(dict(tensors), state["sampler"])
    restore_rng(dict(tensors), state["rng"])
    run.step_count = int(state["step"])
    run.schedule.start_at(run.step_count)
    run.edit_log = edit_log_from_state(state["run"])
    run.train_seconds = float(state.get("train_seconds", 0.0))
    if "history" in state:
        run.history = MetricHistory.from_state(state["history"])
