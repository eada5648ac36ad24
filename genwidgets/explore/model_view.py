"""The model an explorer looks at: a model as given, or the shared snapshot of a training run's model.

Looking must never change training. For a run, the explorer works on the run's snapshot
(:mod:`genwidgets.runtime.model_snapshot`): a frozen copy of the model taken between two
training steps, shared with every other widget of the run. Decoding then never waits for a
training step and never touches the live model; :meth:`ModelView.refresh` moves to the run's
newest snapshot (taking one if a samples event came since the last).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch

from ..errors import CapabilityError
from ..model import GenerativeModel
from ..runtime.handle import RunHandle
from ..runtime.model_snapshot import frozen_copy, run_of, shared_snapshot

__all__ = ["ModelView", "frozen_copy", "require_decoder"]


class ModelView:
    """Gives the explorer a model to call, and says which training step it shows.

    Args:
        model_or_run: A :class:`GenerativeModel`, or a run (a :class:`RunHandle`: a Run or a LaunchedRun).

    Raises:
        TypeError: ``model_or_run`` is neither.
        CapabilityError: the run's model cannot be copied.
    """

    def __init__(self, model_or_run: RunHandle | GenerativeModel) -> None:
        self.run: RunHandle | None = run_of(model_or_run)
        self.step: int | None = None
        self._model: GenerativeModel | None = None
        if self.run is None:
            if not isinstance(model_or_run, GenerativeModel):
                raise TypeError(
                    f"expected a genwidgets model or Run, got {type(model_or_run).__name__}; pass the result of "
                    "genwidgets.train(...) or genwidgets.build_model(...)")
            self._model = model_or_run
        self._lock = threading.Lock()
        self._snapshots = None if self.run is None else shared_snapshot(self.run)
        if self.run is not None:
            self.refresh()

    @property
    def live(self) -> bool:
        """True when the view follows a training run."""
        return self.run is not None

    @property
    def cls(self) -> type[GenerativeModel]:
        """The model's family class (for capabilities and names)."""
        return type(self.run.model if self.run is not None else self._model)

    @property
    def model(self) -> GenerativeModel:
        """The model to call now: the run's snapshot this view moved to last, or the given model."""
        with self._lock:
            assert self._model is not None
            return self._model

    def refresh(self) -> int | None:
        """Move to the run's newest snapshot (shared with the run's other widgets); returns its step."""
        if self._snapshots is None:
            return None
        snapshot = self._snapshots.get()
        with self._lock:
            self._model, self.step = snapshot.model, snapshot.step
        return snapshot.step

    @contextlib.contextmanager
    def calling(self) -> Iterator[GenerativeModel]:
        """The model in eval mode under ``torch.no_grad`` (a snapshot is always in eval mode)."""
        model = self.model
        with model.evaluating(), torch.no_grad():
            yield model


def require_decoder(cls: type[GenerativeModel]) -> None:
    """Raise CapabilityError unless models of ``cls`` can decode codes of a latent space."""
    caps = cls.capabilities
    if not caps.can_decode:
        raise CapabilityError(
            f"model {cls.name!r} cannot decode latent codes (it has: {', '.join(caps.names()) or 'none'}), so "
            "there is no latent space to explore; the latent explorer needs the 'can_decode' capability "
            "(VAE, beta-VAE, GAN, DCGAN, cGAN, WGAN-GP have it)")
