"""A bounded record of a run's logged metrics, for plots that open mid-run or after it."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any


class MetricHistory:
    """Logged metric points, kept to at most ``max_points`` by thinning.

    When the record reaches ``max_points`` it drops every other stored point and doubles the
    stride at which new points are kept, so memory stays bounded (``max_points`` points of a
    few floats each, about 1 MB at the default of 10,000 for four metrics) for a run of any
    length while the curve keeps its shape from the first step to the last.
    """

    def __init__(self, max_points: int = 10_000) -> None:
        if max_points < 4:
            raise ValueError("max_points must be at least 4")
        self.max_points = max_points
        self.steps: list[int] = []
        self.values: dict[str, list[float]] = {}
        self.stride = 1
        self._seen = 0
        self._lock = threading.Lock()

    def append(self, step: int, values: Mapping[str, float]) -> bool:
        """Record the metrics logged at ``step``; returns False when thinned out."""
        with self._lock:
            self._seen += 1
            if (self._seen - 1) % self.stride:
                return False
            n = len(self.steps)
            for key in [k for k in values if k not in self.values]:  # keep the model's order
                self.values[key] = [float("nan")] * n
            self.steps.append(step)
            for key, series in self.values.items():
                series.append(float(values.get(key, float("nan"))))
            if len(self.steps) >= self.max_points:
                self.steps = self.steps[::2]
                self.values = {k: v[::2] for k, v in self.values.items()}
                self.stride *= 2
            return True

    def __len__(self) -> int:
        return len(self.steps)

    def snapshot(self) -> dict[str, Any]:
        """A copy: ``{"steps": [...], "values": {name: [...]}}``."""
        with self._lock:
            return {"steps": list(self.steps), "values": {k: list(v) for k, v in self.values.items()},
                    "stride": self.stride}

    def to_state(self) -> dict[str, Any]:
        """JSON-ready state for checkpoints (NaN gaps stored as None)."""
        snap = self.snapshot()
        snap["values"] = {k: [None if x != x else x for x in v] for k, v in snap["values"].items()}
        return {**snap, "seen": self._seen, "max_points": self.max_points}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> MetricHistory:
        """Inverse of :meth:`to_state`."""
        hist = cls(int(state.get("max_points", 10_000)))
        hist.steps = list(state["steps"])
        hist.values = {k: [float("nan") if x is None else float(x) for x in v] for k, v in state["values"].items()}
        hist.stride = int(state.get("stride", 1))
        hist._seen = int(state.get("seen", len(hist.steps)))
        return hist
