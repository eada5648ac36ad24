"""The frozen copy of a run's model that every widget of the run looks at.

Looking must never change training, and must not make training wait longer than it takes to
copy the weights. So widgets (the latent explorer, the discriminator heatmap, a panel's live
plugin metrics) compute on a *snapshot*: a deep copy of the model taken between two training
steps, in eval mode, without optimizers, with parameters that need no gradients.

One snapshot serves every widget of a run (:func:`shared_snapshot`). While the run trains, it
is taken again at most once per ``samples`` event (the first time any widget asks after the
event), however many widgets ask; while the run does not train (created, paused, stopped,
finished), it is taken again when the run has moved since (a step by hand, a live edit), so
what the widgets show is never behind the model. A caller may ask for a snapshot no older than a
given step (:meth:`RunSnapshot.get`'s ``min_step``), which takes one at most when it asks. A
snapshot, once taken, never changes: a widget may keep computing on one while a newer one
replaces it.

The registry holds runs and snapshots weakly: the snapshot of a run goes away with the run,
or earlier, once no widget holds it.
"""

from __future__ import annotations

import copy
import dataclasses
import threading
import weakref
from typing import TYPE_CHECKING, Any

from ..errors import CapabilityError
from ..model import GenerativeModel
from .handle import RunHandle

if TYPE_CHECKING:
    from .events import Event


def frozen_copy(model: GenerativeModel) -> GenerativeModel:
    """A frozen deep copy of ``model`` for looking at.

    Same weights and buffers, eval mode, no optimizers, no parameter gradients; it shares the
    model's runtime (device and precision).

    Raises:
        CapabilityError: the model cannot be deep-copied (it holds a lock, an open file, ...).
    """
    memo: dict[int, Any] = {id(model.optimizers): {}, id(model.runtime): model.runtime}
    try:
        copied = copy.deepcopy(model, memo)
    except (TypeError, copy.Error) as exc:
        raise CapabilityError(
            f"model {model.name!r} cannot be copied ({exc}); widgets look at a frozen copy of a model that "
            "is training. Keep objects that cannot be deep-copied (locks, open files, sockets) off the model, "
            "or give the model a __deepcopy__") from exc
    copied.requires_grad_(False)
    for p in copied.parameters():
        p.grad = None
    return copied.eval()


def run_of(source: object) -> RunHandle | None:
    """The run ``source`` is, or None for a bare model (or anything else, which the caller refuses).

    Widgets take a run or a model; this is the one place that tells them apart.
    """
    if isinstance(source, GenerativeModel):
        return None
    return source if isinstance(source, RunHandle) else None


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """One frozen copy of a run's model.

    Attributes:
        model: The copy (see :func:`frozen_copy`); never train it or change it.
        step: The run's step count when it was taken.
        version: 1 for the first snapshot of a run, one more for each later one.
    """

    model: GenerativeModel
    step: int
    version: int
    # What the run looked like when the copy was taken (decides when the next one is due).
    samples: Event | None = dataclasses.field(default=None, repr=False, compare=False)
    config: Any = dataclasses.field(default=None, repr=False, compare=False)


class RunSnapshot:
    """The snapshot every widget of one run shares; get it with :func:`shared_snapshot`.

    Args:
        run: The run (held weakly).
    """

    def __init__(self, run: RunHandle) -> None:
        self._run = weakref.ref(run)
        self._lock = threading.Lock()
        self._current: Snapshot | None = None
        #: Snapshots taken so far (deep copies of the model).
        self.copies = 0

    def get(self, *, min_step: int | None = None) -> Snapshot:
        """The current snapshot, taken now (between two steps) if there is none or one is due.

        Args:
            min_step: Also take one if the current one is older than this step (a caller that
                must see the model of a given step, e.g. metrics computed at their own interval).

        Raises:
            CapabilityError: the model cannot be deep-copied.
            ReferenceError: the run is gone and no snapshot was ever taken.
        """
        run = self._run()
        with self._lock:  # one copier at a time: widgets asking together share one copy
            if run is None:
                if self._current is None:
                    raise ReferenceError("the run of this snapshot no longer exists")
                return self._current
            with run.between_steps():
                current = self._current
                if current is None or _due(run, current) or (min_step is not None and current.step < min_step):
                    self._current = Snapshot(frozen_copy(run.model), int(run.step_count), self.copies + 1,
                                             samples=run.latest_samples, config=run.model.config)
                    self.copies += 1
                return self._current

    @property
    def current(self) -> Snapshot | None:
        """The newest snapshot taken, without taking one (None before the first)."""
        return self._current


def _due(run: RunHandle, snapshot: Snapshot) -> bool:
    """A new snapshot is due: a samples event since, or (when not training) the model moved since."""
    if run.latest_samples is not snapshot.samples:
        return True
    return run.state != "running" and (int(run.step_count) != snapshot.step or run.model.config is not snapshot.config)


_REGISTRY: weakref.WeakKeyDictionary[Any, weakref.ref[RunSnapshot]] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def shared_snapshot(run: RunHandle) -> RunSnapshot:
    """The :class:`RunSnapshot` of ``run``, shared by every caller that holds it (made on first use)."""
    with _REGISTRY_LOCK:
        ref = _REGISTRY.get(run)
        snapshot = ref() if ref is not None else None
        if snapshot is None:
            snapshot = RunSnapshot(run)
            _REGISTRY[run] = weakref.ref(snapshot)
        return snapshot


__all__ = ["RunSnapshot", "Snapshot", "frozen_copy", "run_of", "shared_snapshot"]
