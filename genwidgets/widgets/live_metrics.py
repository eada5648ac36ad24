"""Plugin metrics (``register_metrics``) computed while a run trains, for the training panel's curves.

A metric registered by a plugin is ordinarily run by :func:`genwidgets.metrics.evaluate` on a
checkpoint. A panel asked to show it live computes it at the run's logging steps (every
``every`` steps, by default the run's ``sample_every``) on the run's snapshot
(:mod:`genwidgets.runtime.model_snapshot`: a frozen copy of the model taken between two steps,
shared with the run's other widgets), so training waits at most for the copy; the metric's
numbers join that step's metric row as ``name.key`` columns.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ConfigError
from ..runtime.handle import RunHandle
from ..runtime.model_snapshot import shared_snapshot

log = logging.getLogger(__name__)


class LiveMetrics:
    """Compute registered plugin metrics on a run's model at a fixed interval.

    Args:
        run: The run whose model the metrics look at.
        names: Registered metric names (``register_metrics``); each must apply to the run's model and data.
        every: Steps between computations (a multiple of the run's ``log_every`` to line up with its rows).
        n: Examples each computation uses (small: it runs beside training).
    """

    def __init__(self, run: RunHandle, names: Sequence[str], *, every: int, n: int = 500) -> None:
        from ..registry import get_registry

        registry = get_registry()
        known = {m.name: m for m in registry.list_metrics()}
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ConfigError(f"unknown plugin metrics {unknown}; registered: {sorted(known) or 'none'}")
        self.entries = [known[name] for name in names]
        for entry in self.entries:
            reason = entry.reason_not_applicable(run.model, run.data)
            if reason is not None:
                raise ConfigError(f"metric {entry.name!r} (plugin {entry.plugin!r}) does not apply: {reason}")
        if every < 1:
            raise ConfigError(f"metric_every must be >= 1, got {every}")
        self.run, self.every, self.n = run, int(every), int(n)
        self.snapshots = shared_snapshot(run)
        #: The newest failure of each metric, naming its plugin (empty when none failed).
        self.errors: dict[str, str] = {}

    def due(self, step: int) -> bool:
        """Whether the metrics are computed for the row logged at ``step``."""
        return bool(self.entries) and (step % self.every == 0 or step == self.run.steps)

    def compute(self, step: int | None = None) -> dict[str, float]:
        """Every metric on the run's snapshot now: ``{"name.key": value}`` for numeric results.

        Args:
            step: The step the values are for: the snapshot is then at least that new (taken
                now if the shared one is older; at the default interval, the samples event of
                that step has already refreshed it).
        """
        model = self.snapshots.get(min_step=step).model
        values: dict[str, float] = {}
        for entry in self.entries:
            try:
                result = entry.compute(model, self.run.data, n=self.n, seed=0)
            except Exception as exc:  # noqa: BLE001 - a plugin's metric must not take the panel down
                self.errors[entry.name] = (f"metric {entry.name!r} of plugin {entry.plugin!r} failed: "
                                           f"{type(exc).__name__}: {exc}")
                log.warning("genwidgets: %s", self.errors[entry.name])
                continue
            self.errors.pop(entry.name, None)
            values.update(_numbers(entry.name, result))
        return values


def _numbers(prefix: str, result: Any) -> dict[str, float]:
    if isinstance(result, Mapping):
        return {f"{prefix}.{key}": float(value) for key, value in result.items()
                if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)}
    if isinstance(result, int | float) and not isinstance(result, bool):
        return {prefix: float(result)}
    return {}
