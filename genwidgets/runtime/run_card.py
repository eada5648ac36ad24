"""The run card: ``out_dir/run.json``, what a run is and where it stands, rewritten at each state change.

A run folder's checkpoints hold everything needed to resume, but reading the newest ``state.json``
means reading the run's whole metric history, and says nothing of a run that is training now. The
card is the small summary a runs board lists a folder by, without opening anything else:

``{"genwidgets_run": 1, "model", "plugin", "data", "config", "steps", "state", "step", "error",
"pid", "host", "started", "updated", "resumed_from", "edits", "capabilities"}``; it is rewritten when a live edit
applies too, so ``edits`` (``[[step, {field: value}], ...]``) marks the curves of a board.

* ``state`` is the run's (``running``, ``paused``, ``stopped``, ``finished``, ``failed``) as of
  ``updated``; a reader on the same host tells a ``running`` card whose process is gone (a crash,
  ``kill -9``) by ``pid``.
* It is written atomically, only into a folder the run has claimed (see ``Run._claim_out_dir``),
  and only by rank 0 under torchrun. A card that cannot be written is skipped: training never fails
  for it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..data.cache import write_atomic
from .schedule import edit_log_to_state

FILENAME = "run.json"
#: The key that marks a card as written by genwidgets (and its format version).
MARK = "genwidgets_run"


def card_of(run: Any) -> dict[str, Any]:
    """The card of ``run`` as it stands now (JSON-ready)."""
    from .run_checkpoint import plugin_of  # torch: only where a run exists, not for readers of cards

    config = run.model.config
    return {
        MARK: 1,
        "model": run.model.name,
        "plugin": plugin_of(run.model.name),
        "capabilities": run.model.capabilities.names(),
        "data": run.data_source,
        "config": config.to_dict() if hasattr(config, "to_dict") else {},
        "steps": run.steps,
        "state": run.state,
        "step": run.step_count,
        "error": run.error_message or None,
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": run.started_at,
        "updated": time.time(),
        "resumed_from": str(run.resumed_from) if run.resumed_from is not None else None,
        "edits": edit_log_to_state(getattr(run, "edit_log", [])),
    }


def write_card(run: Any) -> Path | None:
    """Write ``run.out_dir/run.json`` (atomically); returns its path, or None when it could not be written."""
    path = Path(run.out_dir) / FILENAME
    try:
        text = json.dumps(card_of(run), indent=1, default=str, allow_nan=False) + "\n"
    except (TypeError, ValueError):  # a config value JSON cannot hold: keep the card without it
        card = {**card_of(run), "config": {}}
        text = json.dumps(card, indent=1, default=str) + "\n"
    with contextlib.suppress(OSError):
        write_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
        return path
    return None


def read_card(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The card in ``run_dir``, or None when there is none (or it is not genwidgets')."""
    try:
        card = json.loads((Path(run_dir) / FILENAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return card if isinstance(card, dict) and card.get(MARK) == 1 else None


def process_gone(card: Mapping[str, Any]) -> bool:
    """True when a card says running/paused but its process, on this host, no longer exists."""
    if card.get("state") not in ("running", "paused") or card.get("host") != socket.gethostname():
        return False
    pid = card.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


__all__ = ["FILENAME", "MARK", "card_of", "process_gone", "read_card", "write_card"]
