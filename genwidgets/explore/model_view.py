"""The model an explorer looks at: a model as given, or a frozen copy of a training run's model.

Looking must never change training. For a :class:`~genwidgets.runtime.run.Run`, the explorer
works on a *snapshot*: a deep copy of the model taken between two training steps, without its
optimizers, with parameters that do not require gradients. Decoding then never waits for a
training step and never touches the live model; :meth:`ModelView.refresh` takes a new snapshot.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Iterator
from typing import Any

import torch

from ..errors import CapabilityError
from ..model import GenerativeModel


def frozen_copy(model: GenerativeModel) -> GenerativeModel:
    """A frozen deep copy of ``model`` for looking at.

    Same weights and buffers, eval mode, no optimizers, no parameter gradients; it shares the
    model's runtime (device and precision).
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


class ModelView:
    """Gives the explorer a model to call, and says which training step it shows.

    Args:
        model_or_run: A :class:`GenerativeModel`, or a Run (anything with ``model``,
            ``between_steps()`` and ``step_count``).
    """

    def __init__(self, model_or_run: Any) -> None:
        if isinstance(model_or_run, GenerativeModel):
            self.run, self._model, self.step = None, model_or_run, None
        elif isinstance(getattr(model_or_run, "model", None), GenerativeModel):
            self.run, self._model, self.step = model_or_run, None, None
        else:
            raise TypeError(
                f"expected a genwidgets model or Run, got {type(model_or_run).__name__}; pass the result of "
                "genwidgets.train(...) or genwidgets.build_model(...)")
        self._lock = threading.Lock()
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
        """The model to call now: the newest snapshot of a run, or the given model."""
        with self._lock:
            assert self._model is not None
            return self._model

    def refresh(self) -> int | None:
        """Take a new snapshot of the run's model between two steps; returns the step it shows."""
        if self.run is None:
            return None
        between_steps = getattr(self.run, "between_steps", None)
        with between_steps() if between_steps else contextlib.nullcontext():
            frozen, step = frozen_copy(self.run.model), int(self.run.step_count)
        with self._lock:
            self._model, self.step = frozen, step
        return step

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
