"""A bounded, thinned record of metric rows, kept identically in Python and in the front end."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np


class ThinnedSeries:
    """Metric rows ``(step, {name: value})`` kept to fewer than ``max_points`` rows.

    Rule (mirrored by ``js/src/lib/metric_store.ts`` so both sides hold the same rows): a row is
    kept when it is the ``stride``-th offered since the last kept one; after a kept row, if
    there are ``max_points`` rows, every other row is dropped, keeping the first and the newest
    (:func:`halve`), and ``stride`` doubles. Only Python applies the stride; the
    front end receives kept rows only and applies the same halving. Memory is therefore bounded
    by ``max_points * (1 + number of metrics)`` floats for a run of any length (80 KB per metric
    at the default of 10,000), and the curve keeps its shape from the first step to the last.

    Columns are the metric names in first-seen order; a metric that appears later reads NaN
    in earlier rows.
    """

    def __init__(self, max_points: int = 10_000) -> None:
        if max_points < 4:
            raise ValueError(f"max_points must be at least 4, got {max_points}")
        self.max_points = max_points
        self.steps: list[int] = []
        self.values: dict[str, list[float]] = {}
        self.stride = 1
        self._offered = 0

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def columns(self) -> list[str]:
        """Metric names, in the order the rows carry them."""
        return list(self.values)

    def offer(self, step: int, values: Mapping[str, float]) -> bool:
        """Offer one row; return True if it was kept (and so must reach the front ends)."""
        self._offered += 1
        if (self._offered - 1) % self.stride:
            return False
        for name in values:
            if name not in self.values:
                self.values[name] = [float("nan")] * len(self.steps)
        self.steps.append(int(step))
        for name, series in self.values.items():
            series.append(float(values.get(name, float("nan"))))
        if len(self.steps) >= self.max_points:
            self.steps = halve(self.steps)
            self.values = {k: halve(v) for k, v in self.values.items()}
            self.stride *= 2
            self._offered = 1  # the newest row counts as the last kept one
        return True

    def extend(self, rows: Iterable[tuple[int, Mapping[str, float]]]) -> None:
        """Offer many rows (e.g. a run's history when the panel opens)."""
        for step, values in rows:
            self.offer(step, values)

    def matrix(self) -> np.ndarray:
        """All rows as float32 ``(n, 1 + k)``: ``[step, metric_1, ..., metric_k]``."""
        out = np.empty((len(self.steps), 1 + len(self.values)), dtype=np.float32)
        out[:, 0] = self.steps
        for j, series in enumerate(self.values.values()):
            out[:, 1 + j] = series
        return out

    @property
    def last_step(self) -> int:
        """Step of the newest kept row (-1 when empty)."""
        return self.steps[-1] if self.steps else -1


def halve(items: list) -> list:
    """Every other item from the first, plus the last if that skipped it: ``[a, c, e] + [f]``."""
    kept = items[::2]
    if len(items) % 2 == 0 and items:
        kept.append(items[-1])
    return kept


def rows_matrix(rows: Iterable[tuple[int, Mapping[str, float]]], columns: list[str]) -> np.ndarray:
    """Rows of ``(step, {name: value})`` as float32 ``(n, 1 + len(columns))``; missing names read NaN."""
    rows = list(rows)
    out = np.full((len(rows), 1 + len(columns)), np.nan, dtype=np.float32)
    for i, (step, values) in enumerate(rows):
        out[i, 0] = step
        for j, name in enumerate(columns):
            if name in values:
                out[i, 1 + j] = values[name]
    return out
