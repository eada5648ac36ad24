"""Hyperparameter edits planned for given steps: a learning-rate drop, a beta warm-up, ...

A run's schedule maps a step count to live-editable hyperparameter values, e.g.
``{45000: {"lr": 1e-4}}``: once 45,000 steps are trained, step 45,001 and later use lr 1e-4.
The edits go through the same path as :meth:`Run.set_hparams` (the model's ``apply_config``,
an ``hparams`` event for the panel and loggers), so a scheduled drop and a hand-made one are
the same thing, and a run with a schedule trains exactly like one resumed from its step-45000
checkpoint with the new value.

The schedule is saved in checkpoints; a resumed run applies the entries it has not reached
yet. Values already applied live in the checkpoint's config.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import ConfigError

ScheduleLike = Mapping[int, Mapping[str, Any]] | Iterable[tuple[int, Mapping[str, Any]]]


class HparamSchedule:
    """Live hyperparameter edits keyed by the step count after which they apply.

    Args:
        entries: ``{step: {field: value}}`` or ``[(step, {field: value}), ...]`` (as saved in a
            checkpoint); steps are integers >= 1, each with at least one field. The fields and
            values are checked against a model's config by :meth:`check`.
    """

    def __init__(self, entries: ScheduleLike | None = None) -> None:
        pairs = list(entries.items()) if isinstance(entries, Mapping) else list(entries or [])
        merged: dict[int, dict[str, Any]] = {}
        for pair in pairs:
            if not (isinstance(pair, tuple | list) and len(pair) == 2):
                raise ConfigError(f"a schedule entry is (step, {{field: value}}), got {pair!r}")
            step, edits = pair
            if isinstance(step, str) and step.isdigit():  # a JSON key
                step = int(step)
            if isinstance(step, bool) or not isinstance(step, int) or step < 1:
                raise ConfigError(f"a schedule step is the step count after which the edit applies, an integer "
                                  f">= 1; got {step!r} (step 0 is the config itself: pass the value there)")
            if not isinstance(edits, Mapping) or not edits:
                raise ConfigError(f"the schedule entry at step {step} needs at least one field=value, got {edits!r}")
            merged.setdefault(step, {}).update(edits)
        #: ``(step, edits)`` pairs in step order.
        self.entries: list[tuple[int, dict[str, Any]]] = sorted(merged.items())
        self._next = 0  # index of the first entry not applied yet

    def __repr__(self) -> str:
        return f"HparamSchedule({dict(self.entries)!r})"

    def check(self, config: Any) -> None:
        """Raise ConfigError unless every entry names editable fields with valid values.

        The entries are applied to ``config`` in step order, so each value is checked where the
        run will meet it (the config's own checks name the allowed range).
        """
        editable = type(config).editable_fields()
        for step, edits in self.entries:
            wrong = sorted(set(edits) - set(editable))
            if wrong:
                raise ConfigError(f"the schedule at step {step} edits {', '.join(wrong)}, which cannot change "
                                  f"during training; editable: {', '.join(editable) or 'none'}")
            try:
                config = config.replace(**edits)
            except ConfigError as exc:
                raise ConfigError(f"the schedule at step {step}: {exc}") from None

    def start_at(self, step: int) -> None:
        """Skip the entries a run resumed at ``step`` has already applied (those before it)."""
        self._next = next((i for i, (s, _) in enumerate(self.entries) if s >= step), len(self.entries))

    @property
    def next_step(self) -> int | None:
        """The step count at which the next edit is due (None when none is left)."""
        return self.entries[self._next][0] if self._next < len(self.entries) else None

    def remaining(self) -> list[tuple[int, dict[str, Any]]]:
        """The entries not applied yet, in step order."""
        return [(step, dict(edits)) for step, edits in self.entries[self._next:]]

    def due(self, step: int) -> dict[str, Any]:
        """The edits due once ``step`` steps are trained (merged in step order), marking them applied."""
        edits: dict[str, Any] = {}
        while self._next < len(self.entries) and self.entries[self._next][0] <= step:
            edits.update(self.entries[self._next][1])
            self._next += 1
        return edits

    def to_state(self) -> list[list[Any]]:
        """JSON-ready ``[[step, {field: value}], ...]`` (every entry, applied or not)."""
        return [[step, dict(edits)] for step, edits in self.entries]


#: A run's applied edits, ``(step, {field: value})`` in the order they applied.
EditLog = list[tuple[int, dict[str, Any]]]


def edit_log_to_state(log: EditLog) -> list[list[Any]]:
    """JSON-ready ``[[step, {field: value}], ...]``, as checkpoints keep it under ``run.edits``."""
    return [[step, dict(edits)] for step, edits in log]


def edit_log_from_state(run_state: Mapping[str, Any]) -> EditLog:
    """The edit log of a checkpoint's ``run`` section (empty for checkpoints written before it existed)."""
    return [(int(step), dict(edits)) for step, edits in run_state.get("edits", [])]
