"""A copy of a model's weights, taken between training steps, for widgets to compute on.

Computing a 128 x 128 heatmap takes tens of milliseconds; doing it on the live model would make
the training loop wait that long at every refresh. Instead the widget keeps a private copy of
the model (made once) and, under the run's step lock, copies the current weights into it
(``load_state_dict``: well under a millisecond for the 2-D GANs, a few for an image GAN). The
frame is then computed on the copy, in eval mode, while training goes on. The copy never trains,
never touches the global random stream, and leaves the live model's modes and statistics alone.

Models that cannot be deep-copied are computed on directly, under the step lock (correct, only
slower for the training loop).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

from ..explore.model_view import frozen_copy

log = logging.getLogger(__name__)


class ModelSnapshot:
    """The model to compute a frame on: a refreshed private copy, or the model itself.

    Args:
        model: The live model.
        lock: Holds training between steps for the ``with`` block (``run.between_steps``).
        copy_model: Keep a private copy (default); False computes on the live model under ``lock``.
    """

    def __init__(self, model: Any, lock: Callable[[], contextlib.AbstractContextManager[Any]],
                 *, copy_model: bool = True) -> None:
        self.model = model
        self.lock = lock
        self.shadow: Any = None
        if copy_model:
            try:
                with lock():
                    self.shadow = frozen_copy(model)  # eval mode, no optimizers, no gradients
            except Exception:  # noqa: BLE001 - a model that cannot be copied is looked at in place
                log.info("genwidgets: %s cannot be copied; frames are computed under the step lock",
                         type(model).__name__, exc_info=True)
                self.shadow = None

    @contextlib.contextmanager
    def view(self, read: Callable[[], Any] = lambda: None) -> Iterator[tuple[Any, Any]]:
        """Yield ``(model, read())`` with current weights; ``read`` runs under the step lock.

        With a copy, the lock is held only while the weights are copied and ``read`` runs; the
        block runs with training going on. Without one, the whole block holds the lock, with
        the live model in eval mode.
        """
        import torch

        if self.shadow is not None:
            with self.lock():
                self.shadow.load_state_dict(self.model.state_dict())
                self.shadow.config = self.model.config
                extra = read()
            with torch.no_grad():
                yield self.shadow, extra
            return
        with self.lock(), self.model.evaluating(), torch.no_grad():
            yield self.model, read()
