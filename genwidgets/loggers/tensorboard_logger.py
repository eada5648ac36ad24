"""TensorBoard logger: every run with an ``out_dir`` gets event files in ``out_dir/tensorboard/``.

A plugin like any other (entry point ``tensorboard`` in the ``genwidgets.plugins`` group), active
only when the optional ``tensorboard`` package is installed (``pip install genwidgets[tensorboard]``);
without it this module implements no hook and costs nothing. It writes

* each metric of a ``metrics`` event as a scalar (tag ``train/<metric>``) at its step, plus
  ``perf/steps_per_sec``;
* each ``samples`` event of an image model as an image grid (tag ``samples``);
* live hyperparameter edits and errors as text (tags ``hparams``, ``error``).

A run's writer is opened at its first event and closed when the run ends (finished, stopped
or failed), which flushes it. View with ``tensorboard --logdir runs/``.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path
from typing import Any

from ..hookspecs import hookimpl

SUBDIR = "tensorboard"
#: True when the optional ``tensorboard`` package is importable (checked without importing it).
AVAILABLE = importlib.util.find_spec("tensorboard") is not None

_lock = threading.Lock()
_writers: dict[int, Any] = {}


def _writer(run: Any) -> Any:
    from torch.utils.tensorboard import SummaryWriter  # imports tensorboard: only once a run logs

    with _lock:
        writer = _writers.get(id(run))
        if writer is None:
            writer = _writers[id(run)] = SummaryWriter(log_dir=str(Path(run.out_dir) / SUBDIR))
        return writer


def _close(run: Any) -> None:
    with _lock:
        writer = _writers.pop(id(run), None)
    if writer is not None:
        writer.close()


def log_event(run: Any, event: Any) -> None:
    """Write one event of ``run`` to its TensorBoard event file (no-op for runs without ``out_dir``)."""
    if getattr(run, "out_dir", None) is None:
        return
    kind, data = event.kind, event.data
    if kind == "state":
        if data.get("new") in ("finished", "stopped", "failed"):
            _close(run)
        return
    if kind == "metrics":
        writer = _writer(run)
        for key, value in data["values"].items():
            writer.add_scalar(f"train/{key}", value, event.step)
        writer.add_scalar("perf/steps_per_sec", data["steps_per_sec"], event.step)
    elif kind == "samples" and data.get("images") is not None:
        _writer(run).add_images("samples", data["images"], event.step, dataformats="NHWC")
    elif kind == "hparams":
        _writer(run).add_text("hparams", json.dumps(data, default=str), event.step)
    elif kind == "error":
        _writer(run).add_text("error", str(data.get("message", "")), event.step)


if AVAILABLE:

    @hookimpl
    def on_train_event(run: Any, event: Any) -> None:
        """Forward the event to :func:`log_event`."""
        log_event(run, event)
