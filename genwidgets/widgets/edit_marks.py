"""The hyperparameter changes a training panel marks on its curves: applied ones and planned ones.

A mark is ``{"step": int, "values": {field: value}, "planned": bool}``. Applied marks come from the
run's ``edit_log`` (live edits and scheduled ones, as the run applied them); planned marks are the
entries of the run's ``schedule`` still ahead. When the run announces an edit (an ``hparams``
event), :func:`after_edit` moves what it applied from planned to applied.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..runtime.handle import RunHandle

#: Most applied marks sent to the front end (the newest), so a run steered all day stays light.
MAX_MARKS = 200


def edit_marks(run: RunHandle) -> list[dict[str, Any]]:
    """Applied and planned marks of ``run`` (the newest :data:`MAX_MARKS` applied ones, then the planned ones)."""
    applied = [{"step": int(step), "values": dict(values), "planned": False}
               for step, values in list(run.edit_log)[-MAX_MARKS:]]
    planned = [{"step": int(step), "values": dict(values), "planned": True}
               for step, values in run.schedule.remaining()]
    return applied + planned


def after_edit(marks: Sequence[Mapping[str, Any]], step: int, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``marks`` once the run applied ``values`` at ``step``: planned marks up to ``step`` are done."""
    applied = [dict(m) for m in marks if not m["planned"]] + [{"step": int(step), "values": dict(values),
                                                                 "planned": False}]
    planned = [dict(m) for m in marks if m["planned"] and m["step"] > step]
    return applied[-MAX_MARKS:] + planned


def edit_label(values: Mapping[str, Any]) -> str:
    """``lr=0.0001, d_steps=2``: numbers to three significant digits (as the live plot labels them)."""
    return ", ".join(f"{k}={float(f'{v:.3g}'):g}" if isinstance(v, float) else f"{k}={v}" for k, v in values.items())
