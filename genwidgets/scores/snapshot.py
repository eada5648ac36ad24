"""The model a heatmap frame is computed on: the run's shared snapshot, or a model looked at in place.

Computing a 128 x 128 heatmap takes tens of milliseconds; doing it on the live model would make
the training loop wait that long at every refresh. Instead frames of a run are computed on the
run's snapshot (:mod:`genwidgets.runtime.model_snapshot`): a frozen copy taken between two steps,
at most once per samples event while the run trains, and shared with the run's other widgets.
The frame is computed on the copy while training goes on. The copy never trains, never touches
the global random stream, and leaves the live model's modes and statistics alone.

A bare model (no run), a run whose model cannot be deep-copied, and ``copy_model=False`` are
computed on in place: in eval mode, under the run's step lock (or a lock of the widget's own),
correct, only slower for the training loop.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Hashable, Iterator
from typing import Any

from ..model import GenerativeModel
from ..runtime.handle import RunHandle
from ..runtime.model_snapshot import RunSnapshot, shared_snapshot

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Look:
    """A model to compute one frame on, the training step it shows, and its version.

    A frame computed on the same ``version`` with the same settings is the same frame.
    """

    model: Any
    step: int
    version: Hashable


class FrameModel:
    """What a heatmap computes its frames on (see the module docstring).

    Args:
        model: The model (a run's model, or a bare one).
        run: The run training it, or None for a bare model.
        copy_model: Compute on the run's shared snapshot (default); False computes on the live
            model under the run's step lock (no extra memory; training waits longer).
    """

    def __init__(self, model: GenerativeModel, run: RunHandle | None = None, *, copy_model: bool = True) -> None:
        self.model = model
        self.run = run
        self._lock = threading.RLock()  # a bare model: one frame at a time (eval mode is per module)
        self.shared: RunSnapshot | None = None
        if run is not None and copy_model:
            shared = shared_snapshot(run)
            try:
                shared.get()
                self.shared = shared
            except Exception:  # noqa: BLE001 - a model that cannot be copied is looked at in place
                log.info("genwidgets: %s cannot be copied; frames are computed under the step lock",
                         type(model).__name__, exc_info=True)

    def version(self) -> Hashable:
        """What a new frame would be computed on: the snapshot's version, or the step (in place)."""
        if self.shared is not None:
            return self.shared.get().version
        return int(self.run.step_count) if self.run is not None else 0

    @contextlib.contextmanager
    def view(self) -> Iterator[Look]:
        """The model for one frame, under ``torch.no_grad``.

        With the shared snapshot, the block runs while training goes on. In place, the whole
        block holds the step lock (or the widget's lock), with the live model in eval mode.
        """
        import torch

        if self.shared is not None:
            snapshot = self.shared.get()
            with torch.no_grad():
                yield Look(snapshot.model, snapshot.step, snapshot.version)
            return
        lock = self.run.between_steps() if self.run is not None else self._lock
        with lock, self.model.evaluating(), torch.no_grad():
            step = int(self.run.step_count) if self.run is not None else 0
            yield Look(self.model, step, step)
