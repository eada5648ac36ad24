"""A panel for ``gaussian`` runs: the fitted spread, updated from the run's metrics events."""

from __future__ import annotations

from typing import Any

import ipywidgets


class GaussianPanel(ipywidgets.VBox):
    """Shows the step and the mean fitted sigma of a run; text only (Labels never render HTML)."""

    def __init__(self, run: Any) -> None:
        self.run = run
        self.status = ipywidgets.Label(value=f"{run.model.name}: waiting for the first metrics")
        super().__init__(children=[ipywidgets.Label(value="Fitted diagonal Gaussian"), self.status])
        self._sub = run.subscribe(self._on_metrics, kinds=["metrics"], max_queue=8)

    def _on_metrics(self, event: Any) -> None:
        values = event.data["values"]
        self.status.value = f"step {event.step}: loss {values['loss']:.4g}, mean sigma {values['mean_std']:.4g}"

    def close(self) -> None:
        """Stop listening to the run, then close the widget."""
        self._sub.close()
        super().close()
